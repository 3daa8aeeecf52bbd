package sql

import (
	"fmt"
	"strings"
)

// This file splits the SQL of a statement block (create, update, delete,
// add, remove) into text and :name parameters. It knows just enough of
// each dialect's lexical rules to skip what is not SQL code: string
// literals, quoted identifiers and comments, where a ":name" is data.

// lexRules are the lexical rules of one dialect that matter for finding
// parameters.
type lexRules struct {
	// backslash: a backslash escapes the next character inside '...' and
	// "..." (MySQL, MariaDB without NO_BACKSLASH_ESCAPES).
	backslash bool
	// hashComments: # starts a comment to the end of the line (MySQL).
	hashComments bool
	// postgres: $tag$...$tag$ strings, E'...' strings with backslash
	// escapes, nested /* */ comments, $1 placeholders.
	postgres bool
	// brackets: [identifier] (SQLite).
	brackets bool
	// question: ? is a placeholder (MySQL, SQLite), so it may not appear
	// outside literals.
	question bool
	// sqliteNames: @name and $name are SQLite's own named parameters.
	sqliteNames bool
}

// lexRulesFor returns the rules of the configuration's driver name.
func lexRulesFor(driver string) (lexRules, bool) {
	newDialect, ok := lookupDialect(driver)
	if !ok {
		return lexRules{}, false
	}
	switch newDialect().(type) {
	case postgresDialect:
		return lexRules{postgres: true}, true
	case mysqlDialect:
		return lexRules{backslash: true, hashComments: true, question: true}, true
	default: // SQLite
		return lexRules{brackets: true, question: true, sqliteNames: true}, true
	}
}

// stmtPart is a piece of a statement: SQL text, or a parameter.
type stmtPart struct {
	text  string
	param string // the name after the colon, as written
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

// excerpt is the text at i, shortened, for messages.
func excerpt(s string, i int) string {
	e := s[i:]
	if len(e) > 20 {
		e = e[:20] + "..."
	}
	return fmt.Sprintf("%q", e)
}

// parseStatement splits sql into text and parameters. It refuses
// placeholders of the database's own, unterminated literals and comments,
// and more than one statement; a trailing semicolon is dropped.
func parseStatement(sql string, lr lexRules) ([]stmtPart, error) {
	var parts []stmtPart
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			parts = append(parts, stmtPart{text: text.String()})
			text.Reset()
		}
	}
	n := len(sql)
	end := -1 // offset of the semicolon that ends the statement
	for i := 0; i < n; {
		c := sql[i]
		next := byte(0)
		if i+1 < n {
			next = sql[i+1]
		}
		// j is the end of a token to copy as it is.
		j := i + 1
		var err error
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
		case c == '-' && next == '-', c == '#' && lr.hashComments:
			if j = strings.IndexByte(sql[i:], '\n'); j < 0 {
				j = n
			} else {
				j += i
			}
		case c == '/' && next == '*':
			j, err = skipBlockComment(sql, i, lr.postgres)
		case end >= 0:
			return nil, fmt.Errorf("more than one statement: %s follows the semicolon; call a procedure to run several", excerpt(sql, i))
		case c == '\'':
			escapes := lr.backslash
			if lr.postgres && i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i == 1 || !isIdentChar(sql[i-2])) {
				escapes = true // E'...'
			}
			j, err = skipQuoted(sql, i, '\'', escapes, "string literal")
		case c == '"':
			j, err = skipQuoted(sql, i, '"', lr.backslash, "quoted identifier")
		case c == '`':
			j, err = skipQuoted(sql, i, '`', false, "quoted identifier")
		case c == '[' && lr.brackets:
			if k := strings.IndexByte(sql[i:], ']'); k < 0 {
				err = fmt.Errorf("unterminated [identifier] at %s", excerpt(sql, i))
			} else {
				j = i + k + 1
			}
		case c == '$' && lr.postgres && (i == 0 || !isIdentChar(sql[i-1])):
			switch {
			case '0' <= next && next <= '9':
				err = fmt.Errorf("%s is a placeholder of the database; write :name parameters", excerpt(sql, i))
			default:
				j, err = skipDollarQuoted(sql, i)
			}
		case c == '?' && lr.question:
			err = fmt.Errorf("%s: ? is a placeholder of the database; write :name parameters", excerpt(sql, i))
		case (c == '@' || c == '$') && lr.sqliteNames && isIdentStart(next):
			err = fmt.Errorf("%s is a parameter of SQLite's own; write :name parameters", excerpt(sql, i))
		case c == ':' && (next == ':' || next == '='):
			j = i + 2 // a cast (::) or an assignment (:=)
		case c == ':' && isIdentStart(next):
			j = i + 2
			for j < n && isIdentChar(sql[j]) {
				j++
			}
			flush()
			parts = append(parts, stmtPart{param: sql[i+1 : j]})
			i = j
			continue
		case c == ';':
			end = i
			flush()
		}
		if err != nil {
			return nil, err
		}
		if end < 0 {
			text.WriteString(sql[i:j])
		}
		i = j
	}
	flush()
	if len(parts) == 0 || strings.TrimSpace(joinParts(parts)) == "" {
		return nil, fmt.Errorf("the statement is empty")
	}
	return parts, nil
}

// joinParts renders parts with the parameters as written (for checks).
func joinParts(parts []stmtPart) string {
	var sb strings.Builder
	for _, p := range parts {
		if p.param != "" {
			sb.WriteString(":" + p.param)
		} else {
			sb.WriteString(p.text)
		}
	}
	return sb.String()
}

// skipQuoted returns the offset after the literal or identifier that
// starts with quote q at i; a doubled quote stands for itself, and with
// escapes a backslash escapes the next character.
func skipQuoted(s string, i int, q byte, escapes bool, what string) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if escapes {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated %s at %s", what, excerpt(s, i))
}

// skipBlockComment returns the offset after the /* */ comment at i
// (nested ones inside, on PostgreSQL).
func skipBlockComment(s string, i int, nested bool) (int, error) {
	depth := 0
	for j := i; j+1 < len(s); j++ {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			if depth == 0 || nested {
				depth++
			}
			j++
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unterminated comment at %s", excerpt(s, i))
}

// skipDollarQuoted returns the offset after the PostgreSQL $tag$...$tag$
// string at i, or i+1 when the $ starts none.
func skipDollarQuoted(s string, i int) (int, error) {
	k := i + 1
	for k < len(s) && isIdentChar(s[k]) {
		k++
	}
	if k >= len(s) || s[k] != '$' || (k > i+1 && !isIdentStart(s[i+1])) {
		return i + 1, nil
	}
	tag := s[i : k+1]
	if e := strings.Index(s[k+1:], tag); e >= 0 {
		return k + 1 + e + len(tag), nil
	}
	return 0, fmt.Errorf("unterminated dollar-quoted string at %s", excerpt(s, i))
}
