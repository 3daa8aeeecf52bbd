package sql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

// TestServerErrors: values the columns cannot hold are 400 / 409 with a
// message naming the problem, and leave no rows behind.
func TestServerErrors(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, serverLegacyConfig, legacySchemas[srv.name])
			ctx := withTimeout(t)
			u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"taken"}})
			if err != nil {
				t.Fatal(err)
			}
			rows := func(table string) int {
				t.Helper()
				var n int
				if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			for _, tc := range []struct {
				name  string
				err   error
				want  error
				words []string
			}{
				{"too long", create(ctx, b, backends.Attrs{"login": {strings.Repeat("x", 65)}}), backends.ErrInvalid, []string{"login", "65 characters", "at most 64"}},
				{"too long, multibyte", create(ctx, b, backends.Attrs{"login": {"ok", "no"}}), backends.ErrInvalid, []string{"single-valued"}},
				{"wrong type", create(ctx, b, backends.Attrs{"login": {"w"}, "employee_no": {"12abc"}}), backends.ErrInvalid, []string{"employee_no", "not an integer"}},
				{"out of range", create(ctx, b, backends.Attrs{"login": {"r"}, "employee_no": {"99999999999"}}), backends.ErrInvalid, []string{"range"}},
				{"check constraint", create(ctx, b, backends.Attrs{"login": {"c"}, "active": {"7"}}), backends.ErrInvalid, nil},
				{"not null", modify(ctx, b, backends.User, u.ID, backends.Modification{Op: backends.ModDelete, Attr: "login"}), backends.ErrInvalid, []string{"login"}},
				{"unique", create(ctx, b, backends.Attrs{"login": {"TAKEN"}}), backends.ErrAlreadyExists, []string{"taken"}},
				{"unknown member", create(ctx, b, backends.Attrs{"name": {"g"}, "members": {u.ID, "987654"}}, backends.Group), backends.ErrInvalidReference, []string{"987654"}},
				{"malformed member id", create(ctx, b, backends.Attrs{"name": {"g2"}, "members": {"1; DROP TABLE app_users"}}, backends.Group), backends.ErrInvalidReference, nil},
				{"NUL", create(ctx, b, backends.Attrs{"login": {"nul\x00"}}), backends.ErrInvalid, []string{"NUL"}},
			} {
				if !errors.Is(tc.err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
					continue
				}
				for _, w := range tc.words {
					if !strings.Contains(strings.ToLower(tc.err.Error()), strings.ToLower(w)) {
						t.Errorf("%s: message %q does not mention %q", tc.name, tc.err, w)
					}
				}
				if strings.Contains(tc.err.Error(), "127.0.0.1") || strings.Contains(tc.err.Error(), "Failing row") {
					t.Errorf("%s: message leaks an address or a whole row: %v", tc.name, tc.err)
				}
			}
			// Nothing half-written.
			if n := rows("app_users"); n != 1 {
				t.Errorf("app_users has %d rows after refused writes, want 1", n)
			}
			if n := rows("app_groups"); n != 0 {
				t.Errorf("app_groups has %d rows after refused writes, want 0", n)
			}
			if n := rows("app_group_members"); n != 0 {
				t.Errorf("app_group_members has %d rows after refused writes, want 0", n)
			}
			// A modify that fails half-way changes nothing.
			g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"ok"}, "members": {u.ID}})
			if err != nil {
				t.Fatal(err)
			}
			err = modify(ctx, b, backends.Group, g.ID,
				backends.Modification{Op: backends.ModReplace, Attr: "name", Values: []string{"renamed"}},
				backends.Modification{Op: backends.ModDelete, Attr: "members"},
				backends.Modification{Op: backends.ModAdd, Attr: "members", Values: []string{"424242"}})
			if !errors.Is(err, backends.ErrInvalidReference) {
				t.Fatalf("modify with a bad member: %v", err)
			}
			got, err := b.Get(ctx, backends.Group, g.ID, nil)
			if err != nil || got.Attrs.First("name") != "ok" || got.Attrs.First("members") != u.ID {
				t.Errorf("after a refused modify: %v %v", got.Attrs, err)
			}
		})
	}
}

func create(ctx context.Context, b backends.Backend, a backends.Attrs, typ ...string) error {
	rt := backends.User
	if len(typ) > 0 {
		rt = typ[0]
	}
	_, err := b.Create(ctx, rt, a)
	return err
}

func modify(ctx context.Context, b backends.Backend, rt, id string, mods ...backends.Modification) error {
	_, err := b.Modify(ctx, rt, id, mods, nil)
	return err
}

// TestServerVersionColumn: every modify increments the version column,
// which clients cannot write.
func TestServerVersionColumn(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, serverLegacyConfig, legacySchemas[srv.name])
			ctx := withTimeout(t)
			u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"v"}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := modify(ctx, b, backends.User, u.ID, backends.Modification{Op: backends.ModReplace, Attr: "first_name", Values: []string{fmt.Sprint(i)}}); err != nil {
					t.Fatal(err)
				}
			}
			var v int
			if err := db.QueryRow("SELECT row_version FROM app_users").Scan(&v); err != nil || v != 3 {
				t.Fatalf("row_version = %d (%v), want 3", v, err)
			}
			if err := modify(ctx, b, backends.User, u.ID, backends.Modification{Op: backends.ModReplace, Attr: "row_version", Values: []string{"1"}}); !errors.Is(err, backends.ErrConfig) {
				t.Errorf("writing the version column: %v, want ErrConfig", err)
			}
		})
	}
}

// TestServerInjection stores and searches a hostile corpus through every
// input that reaches SQL: values, filter values, ids, sort attributes,
// attribute names. Nothing is widened or executed; the tables survive.
func TestServerInjection(t *testing.T) {
	corpus := []string{
		`'; DROP TABLE app_users; --`,
		`"; DROP TABLE app_groups; --`,
		"`; DROP TABLE app_groups; --",
		`x' OR '1'='1`,
		`x" OR "1"="1`,
		`%`, `_`, `!`, `\`, `\'`, `\\'; --`,
		`a%b_c!d\e`,
		`) OR 1=1 --`,
		`$1`, `?`, `$$; DROP TABLE app_users; $$`,
		`'/**/OR/**/1=1#`,
		`1; SELECT pg_sleep(5)`,
		`1' AND SLEEP(5)='`,
		"é'ß\u2019", `Ω%`,
	}
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, serverLegacyConfig, legacySchemas[srv.name])
			ctx := withTimeout(t)
			ids := map[string]string{}
			for i, v := range corpus {
				rec, err := b.Create(ctx, backends.User, backends.Attrs{
					"login": {fmt.Sprintf("user%d", i)}, "display_name": {v}, "first_name": {v},
				})
				if err != nil {
					t.Fatalf("Create with %q: %v", v, err)
				}
				ids[v] = rec.ID
			}
			evil, err := b.Create(ctx, backends.User, backends.Attrs{"login": {`admin'--`}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {`'); DELETE FROM app_group_members; --`}, "members": {evil.ID}}); err != nil {
				t.Fatal(err)
			}
			for _, v := range corpus {
				for _, op := range []backends.Op{backends.Eq, backends.Ne, backends.Co, backends.Sw, backends.Ew, backends.Gt, backends.Le} {
					for _, ic := range []bool{false, true} {
						start := time.Now()
						p, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "display_name", Op: op, Value: v, IgnoreCase: ic}})
						if err != nil {
							t.Fatalf("Search %s %q: %v", op, v, err)
						}
						if time.Since(start) > 3*time.Second {
							t.Errorf("Search %s %q took %v: something was executed", op, v, time.Since(start))
						}
						for _, r := range p.Records {
							if g := r.Attrs.First("display_name"); !matchesOp(op, g, v, ic) {
								t.Errorf("Search display_name %s %q (ignoreCase=%v) returned %q", op, v, ic, g)
							}
						}
						if op == backends.Eq && (len(p.Records) != 1 || p.Records[0].ID != ids[v]) {
							t.Errorf("Search display_name eq %q (ignoreCase=%v): %d records, want exactly user %s", v, ic, len(p.Records), ids[v])
						}
					}
				}
				rec, err := b.Get(ctx, backends.User, ids[v], nil)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Attrs.First("display_name") != v || rec.Attrs.First("first_name") != v {
					t.Errorf("stored %q, read back %q / %q", v, rec.Attrs.First("display_name"), rec.Attrs.First("first_name"))
				}
				// As an id, a member id, a sort attribute, an attribute name.
				if _, err := b.Get(ctx, backends.User, v, nil); !errors.Is(err, backends.ErrNotFound) {
					t.Errorf("Get(%q): %v, want ErrNotFound", v, err)
				}
				if err := b.Delete(ctx, backends.User, v); !errors.Is(err, backends.ErrNotFound) {
					t.Errorf("Delete(%q): %v, want ErrNotFound", v, err)
				}
				if _, err := b.Search(ctx, backends.User, backends.Query{SortBy: v}); !errors.Is(err, backends.ErrUnsupported) {
					t.Errorf("Search sorted by %q: %v, want ErrUnsupported", v, err)
				}
				if _, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Present{Attr: v}}); !errors.Is(err, backends.ErrUnsupported) {
					t.Errorf("Search with attribute %q: %v, want ErrUnsupported", v, err)
				}
				if _, err := b.Search(ctx, backends.Group, backends.Query{Filter: backends.Compare{Attr: "members", Op: backends.Eq, Value: v}}); err != nil {
					t.Errorf("Search members eq %q: %v", v, err)
				}
				if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"z"}, v: {"y"}}); !errors.Is(err, backends.ErrConfig) {
					t.Errorf("Create with attribute name %q: %v, want ErrConfig", v, err)
				}
				if _, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "employee_no", Op: backends.Gt, Value: v, Kind: backends.KindNumber}}); !errors.Is(err, backends.ErrInvalid) {
					t.Errorf("number filter with %q: %v, want ErrInvalid", v, err)
				}
			}
			// A sorted, paged read over the hostile values.
			seen := 0
			for start := 1; start <= len(corpus)+1; start += 5 {
				p, err := b.Search(ctx, backends.User, backends.Query{SortBy: "display_name", StartIndex: start, Count: 5})
				if err != nil {
					t.Fatal(err)
				}
				seen += len(p.Records)
			}
			if seen != len(corpus)+1 {
				t.Errorf("paged read saw %d users, want %d", seen, len(corpus)+1)
			}
			wantRowCounts(t, db, map[string]int{"app_users": len(corpus) + 1, "app_groups": 1, "app_group_members": 1})
		})
	}
}

func matchesOp(op backends.Op, got, want string, ic bool) bool {
	if ic {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	switch op {
	case backends.Ne:
		return got != want
	case backends.Gt:
		return got > want
	case backends.Le:
		return got <= want
	}
	return matches(op, got, want, ic)
}

// TestServerDownAndBack: a database that is down or restarting gives
// ErrUnavailable promptly, and the pool recovers by itself once it is back.
func TestServerDownAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the servers")
	}
	type restarter interface {
		Shutdown()
		Kill()
		Restart() error
	}
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, _ := openServer(t, srv, serverLegacyConfig, legacySchemas[srv.name])
			var s restarter
			if srv.name == "Postgres" {
				s = pgtest.Shared(t)
			} else {
				s = mariadbtest.Shared(t)
			}
			ctx := withTimeout(t)
			u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"survivor"}})
			if err != nil {
				t.Fatal(err)
			}
			// Warm the pool so that it holds connections that will die.
			for range 4 {
				if _, err := b.Get(ctx, backends.User, u.ID, nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, stop := range []struct {
				name string
				fn   func()
			}{{"clean shutdown", s.Shutdown}, {"crash", s.Kill}} {
				stop.fn()
				for i := range 3 {
					start := time.Now()
					_, err := b.Get(ctx, backends.User, u.ID, nil)
					if !errors.Is(err, backends.ErrUnavailable) {
						t.Fatalf("%s, attempt %d: Get: %v, want ErrUnavailable", stop.name, i, err)
					}
					if d := time.Since(start); d > 10*time.Second {
						t.Errorf("%s: Get took %v while the server was down", stop.name, d)
					}
					if err := create(ctx, b, backends.Attrs{"login": {fmt.Sprintf("lost%d", i)}}); !errors.Is(err, backends.ErrUnavailable) {
						t.Fatalf("%s: Create: %v, want ErrUnavailable", stop.name, err)
					}
					if err := b.Ping(ctx); !errors.Is(err, backends.ErrUnavailable) {
						t.Fatalf("%s: Ping: %v, want ErrUnavailable", stop.name, err)
					}
				}
				if err := s.Restart(); err != nil {
					t.Fatalf("restart: %v", err)
				}
				// Back: at most one stale connection may still fail.
				deadline := time.Now().Add(20 * time.Second)
				for {
					_, err := b.Get(ctx, backends.User, u.ID, nil)
					if err == nil {
						break
					}
					if !errors.Is(err, backends.ErrUnavailable) || time.Now().After(deadline) {
						t.Fatalf("%s: after restart: %v", stop.name, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err := create(ctx, b, backends.Attrs{"login": {"after-" + strings.Fields(stop.name)[0]}}); err != nil {
					t.Fatalf("%s: Create after restart: %v", stop.name, err)
				}
			}
		})
	}
}
