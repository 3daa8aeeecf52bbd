package sql

import (
	"strings"
	"testing"
)

// render shows parts with parameters as <name>.
func render(parts []stmtPart) string {
	var sb strings.Builder
	for _, p := range parts {
		if p.param != "" {
			sb.WriteString("<" + p.param + ">")
		} else {
			sb.WriteString(p.text)
		}
	}
	return sb.String()
}

func TestParseStatement(t *testing.T) {
	tests := []struct {
		driver, sql string
		want        string // rendered, or "error: <substring>"
	}{
		// Parameters and what is not one.
		{"postgres", "CALL p(:id, :login)", "CALL p(<id>, <login>)"},
		{"postgres", "CALL p(:id::int, :login::text, x::regclass)", "CALL p(<id>::int, <login>::text, x::regclass)"},
		{"postgres", "SELECT f(a := :x)", "SELECT f(a := <x>)"},
		{"postgres", "SELECT ':id', \":login\", 'it''s :x', 1", "SELECT ':id', \":login\", 'it''s :x', 1"},
		{"postgres", "SELECT $$ :a ; $$, $q$ :b $q$, :c", "SELECT $$ :a ; $$, $q$ :b $q$, <c>"},
		{"postgres", "SELECT E'it\\'s :a', :b", "SELECT E'it\\'s :a', <b>"},
		{"postgres", "SELECT 'back\\', :b", "SELECT 'back\\', <b>"}, // standard strings: \ is a character
		{"postgres", "SELECT /* :a /* :b */ :c */ :d -- :e\n, :f", "SELECT /* :a /* :b */ :c */ <d> -- :e\n, <f>"},
		{"postgres", "SELECT a$1, :x", "SELECT a$1, <x>"},
		{"postgres", "SELECT jsonb '{}' ? 'k', :x", "SELECT jsonb '{}' ? 'k', <x>"},
		{"postgres", "CALL p(:first_name2,:b);  \n -- done\n", "CALL p(<first_name2>,<b>)"},
		{"postgres", "SELECT :x:", "SELECT <x>:"},
		{"postgres", "SELECT ':'||:x||':'", "SELECT ':'||<x>||':'"},
		{"mysql", "CALL p(:id, 'it\\'s :x', \"q\\\" :y\", `c :z`) # :w", "CALL p(<id>, 'it\\'s :x', \"q\\\" :y\", `c :z`) # :w"},
		{"mysql", "SELECT @v := :x", "SELECT @v := <x>"},
		{"mysql", "CALL p(:a, @out)", "CALL p(<a>, @out)"},
		{"sqlite", "INSERT INTO [a :b] (`c :d`) VALUES (:e) RETURNING id;", "INSERT INTO [a :b] (`c :d`) VALUES (<e>) RETURNING id"},
		{"sqlite", "SELECT 'a\\', :b", "SELECT 'a\\', <b>"},

		// Refused.
		{"postgres", "CALL p($1, :a)", "error: placeholder of the database"},
		{"mysql", "CALL p(?, :a)", "error: placeholder of the database"},
		{"sqlite", "SELECT ?1", "error: placeholder of the database"},
		{"sqlite", "SELECT @a", "error: SQLite's own"},
		{"sqlite", "SELECT $a", "error: SQLite's own"},
		{"postgres", "SELECT 'x", "error: unterminated string literal"},
		{"postgres", "SELECT \"x", "error: unterminated quoted identifier"},
		{"postgres", "SELECT $a$ x $b$", "error: unterminated dollar-quoted"},
		{"postgres", "SELECT /* /* */", "error: unterminated comment"},
		{"mysql", "SELECT 'it\\'s", "error: unterminated string literal"},
		{"sqlite", "SELECT [x", "error: unterminated [identifier]"},
		{"postgres", "SELECT 1; SELECT :a", "error: more than one statement"},
		{"mysql", "CALL a(:x); -- ok\n CALL b()", "error: more than one statement"},
		{"postgres", "  ; ", "error: empty"},
		{"postgres", "", "error: empty"},
	}
	for _, tc := range tests {
		lr, ok := lexRulesFor(tc.driver)
		if !ok {
			t.Fatalf("no rules for %q", tc.driver)
		}
		parts, err := parseStatement(tc.sql, lr)
		got := render(parts)
		if err != nil {
			got = "error: " + err.Error()
		}
		if strings.HasPrefix(tc.want, "error: ") {
			if err == nil || !strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("%s %q: got %q, want %s", tc.driver, tc.sql, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s %q:\n got  %q\n want %q", tc.driver, tc.sql, got, tc.want)
		}
	}
}

// FuzzParseStatement: whatever the text, the rendered parts give it back
// up to the end of the statement, and parameters are names.
func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{"CALL p(:a, ':b', $$:c$$)", "SELECT :x::int -- :y", "a'b", "/* :a */ :b;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, driver := range []string{"postgres", "mysql", "sqlite"} {
			lr, _ := lexRulesFor(driver)
			parts, err := parseStatement(sql, lr)
			if err != nil {
				continue
			}
			var sb strings.Builder
			for _, p := range parts {
				if p.param != "" {
					if !identRE.MatchString(p.param) {
						t.Fatalf("%s: parameter %q in %q", driver, p.param, sql)
					}
					sb.WriteString(":" + p.param)
				} else {
					sb.WriteString(p.text)
				}
			}
			if !strings.HasPrefix(sql, sb.String()) {
				t.Fatalf("%s: %q rendered as %q", driver, sql, sb.String())
			}
		}
	})
}
