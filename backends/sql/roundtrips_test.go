package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

// stmtCounter counts the statements (each one round trip: pgx caches the
// prepared statements per connection) that a pgx connection sends,
// BEGIN and COMMIT included.
type stmtCounter struct {
	n   atomic.Int64
	mu  sync.Mutex
	log []string
}

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	c.mu.Lock()
	c.log = append(c.log, d.SQL)
	c.mu.Unlock()
	return ctx
}

func (c *stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// since returns the statements sent since the mark m and a new mark.
func (c *stmtCounter) since(m int) ([]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log[m:]...), len(c.log)
}

// legacyPG opens the backend on the shipped HRPortal schema
// (examples/postgres-legacy-schema.sql) configured as examples/postgres.hcl
// does, with its pool behind a statement counter. raw is a plain pool on
// the same database.
func legacyPG(tb testing.TB) (b *Backend, c *stmtCounter, raw *dbsql.DB) {
	tb.Helper()
	schema, err := os.ReadFile("../../examples/postgres-legacy-schema.sql")
	if err != nil {
		tb.Fatal(err)
	}
	dsn := pgtest.Shared(tb).NewDatabase(tb)
	raw, err = dbsql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = raw.Close() })
	if _, err := raw.Exec(string(schema)); err != nil {
		tb.Fatal(err)
	}
	cfg := &Config{
		Driver: "postgres",
		DSN:    dsn,
		Resources: []*ResourceConfig{
			{Type: backends.User, Table: "hr_person", IDColumn: "person_no",
				Columns: []string{"logon_nm", "frst_nm", "lst_nm", "full_nm", "email_addr_txt", "email_alt_txt",
					"tel_wrk", "tel_cell", "job_ttl", "stat_cd", "emp_nbr", "dept_nm", "mgr_person_no", "ext_src_id", "pwd_hash"},
				CreatedColumn: "crt_ts", ModifiedColumn: "upd_ts", VersionColumn: "rec_ver",
				SoftDelete: &SoftDeleteConfig{Column: "del_ts"},
				References: []*ReferenceConfig{{Name: "teams", JoinTable: "hr_team_member", ThisColumn: "person_no",
					OtherColumn: "team_id", Target: backends.Group, ReadOnly: true}}},
			{Type: backends.Group, Table: "hr_team", IDColumn: "team_id", Columns: []string{"team_nm", "ext_src_id"},
				CreatedColumn: "crt_ts", ModifiedColumn: "upd_ts",
				References: []*ReferenceConfig{{Name: "members", JoinTable: "hr_team_member", ThisColumn: "team_id",
					OtherColumn: "person_no", Target: backends.User}}},
		},
	}
	b, err = New(context.Background(), cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	full, err := b.d.dsn(dsn, connOptions{connectTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	pc, err := pgx.ParseConfig(full)
	if err != nil {
		tb.Fatal(err)
	}
	c = &stmtCounter{}
	pc.Tracer = c
	_ = b.db.Close()
	b.db = stdlib.OpenDB(*pc)
	b.db.SetMaxOpenConns(8)
	return b, c, raw
}

// TestPostgresRoundTrips pins the number of statements (round trips) of
// each operation on PostgreSQL, and what they return.
func TestPostgresRoundTrips(t *testing.T) {
	b, c, _ := legacyPG(t)
	ctx := context.Background()
	mark := 0
	expect := func(what string, want int) {
		t.Helper()
		var stmts []string
		stmts, mark = c.since(mark)
		t.Logf("%s:\n  %s", what, strings.Join(stmts, "\n  "))
		if len(stmts) != want {
			t.Errorf("%s: %d statements, want %d:\n  %s", what, len(stmts), want, strings.Join(stmts, "\n  "))
		}
	}
	u, err := b.Create(ctx, backends.User, backends.Attrs{"logon_nm": {"ann@example.com"}, "stat_cd": {"A"}})
	if err != nil {
		t.Fatal(err)
	}
	expect("create user", 1)
	if u.Attrs.First("rec_ver") != "0" || u.Attrs.First("crt_ts") == "" || u.Attrs.First("upd_ts") == "" || u.Attrs.First("stat_cd") != "A" {
		t.Errorf("created user: %v", u.Attrs)
	}
	u2, err := b.Create(ctx, backends.User, backends.Attrs{"logon_nm": {"bob@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	expect("create user", 1)
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"logon_nm": {"ANN@example.com"}}); !errors.Is(err, backends.ErrAlreadyExists) {
		t.Errorf("duplicate create: %v", err)
	}
	expect("duplicate create", 1)

	g, err := b.Create(ctx, backends.Group, backends.Attrs{"team_nm": {"ops"}, "members": {u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	expect("create group with a member", 5) // BEGIN, INSERT, WITH … INSERT, SELECT members, COMMIT
	if got := g.Attrs.Get("members"); len(got) != 1 || got[0] != u.ID {
		t.Errorf("created group members: %v", got)
	}
	if _, err := b.Create(ctx, backends.Group, backends.Attrs{"team_nm": {"bad"}, "members": {u.ID, "999999"}}); !errors.Is(err, backends.ErrInvalidReference) {
		t.Errorf("create with unknown member: %v", err)
	}
	mark = int(c.n.Load())
	if p, _ := b.Search(ctx, backends.Group, backends.Query{Filter: backends.Compare{Attr: "team_nm", Op: backends.Eq, Value: "bad"}}); p.Total != 0 {
		t.Errorf("group of a failed create exists: %v", p)
	}
	expect("empty search", 1)

	rec, err := b.Get(ctx, backends.User, u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	expect("get user with teams", 1)
	if got := rec.Attrs.Get("teams"); len(got) != 1 || got[0] != g.ID {
		t.Errorf("user teams: %v", got)
	}
	if _, err := b.Get(ctx, backends.Group, g.ID, []string{"team_nm"}); err != nil {
		t.Fatal(err)
	}
	expect("get group without members", 1)

	p, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "logon_nm", Op: backends.Eq, Value: "ANN@example.com", IgnoreCase: true}, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.log[len(c.log)-1], "COUNT(") {
		t.Errorf("a first page that ends within its count counted its rows: %s", c.log[len(c.log)-1])
	}
	expect("filter userName eq", 1)
	if p.Total != 1 || len(p.Records) != 1 || p.Records[0].ID != u.ID || len(p.Records[0].Attrs.Get("teams")) != 1 {
		t.Errorf("filter: %+v", p)
	}
	for i := range 5 {
		if _, err := b.Create(ctx, backends.User, backends.Attrs{"logon_nm": {fmt.Sprintf("p%d@example.com", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	_, mark = c.since(int(c.n.Load()))
	for start := 1; start <= 7; start += 3 {
		p, err := b.Search(ctx, backends.User, backends.Query{StartIndex: start, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 7 || len(p.Records) != min(3, 8-start) {
			t.Errorf("page %d: total %d, %d records", start, p.Total, len(p.Records))
		}
		if start > 1 && strings.Contains(c.log[len(c.log)-1], "COUNT(") {
			t.Errorf("page at %d counted again with a fresh cached total", start)
		}
		if start == 1 {
			// The page's rows go on: one SELECT of a row more than the
			// page, then the COUNT, once for the whole listing.
			if !strings.Contains(c.log[len(c.log)-1], "COUNT(") {
				t.Errorf("first page of a longer listing: no count after it")
			}
			expect("first page of a longer listing", 2)
			continue
		}
		expect(fmt.Sprintf("page at %d", start), 1)
	}

	// Writes return what the bridge asks for: the user with its teams,
	// the group without its members.
	userAttrs := []string{"logon_nm", "frst_nm", "stat_cd", "rec_ver", "crt_ts", "upd_ts", "teams"}
	groupAttrs := []string{"team_nm", "crt_ts", "upd_ts"}
	m, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "stat_cd", Values: []string{"D"}}}, userAttrs)
	if err != nil {
		t.Fatal(err)
	}
	expect("PATCH active", 1) // UPDATE … RETURNING, the teams too
	if m.Attrs.First("stat_cd") != "D" || m.Attrs.First("rec_ver") != "1" || m.Attrs.First("logon_nm") != "ann@example.com" ||
		len(m.Attrs.Get("teams")) != 1 || m.Attrs.First("teams") != g.ID {
		t.Errorf("modified user: %v", m.Attrs)
	}
	if _, err := b.Modify(ctx, backends.User, "424242", []backends.Modification{{Op: backends.ModReplace, Attr: "stat_cd", Values: []string{"D"}}}, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("modify unknown: %v", err)
	}
	expect("modify unknown", 1)
	if _, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModDelete, Attr: "frst_nm", Values: []string{"x"}}}, userAttrs); err != nil {
		t.Fatal(err)
	}
	expect("delete a value", 4) // BEGIN, SELECT … FOR UPDATE, UPDATE … RETURNING, COMMIT

	gm, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{u2.ID}}}, groupAttrs)
	if err != nil {
		t.Fatal(err)
	}
	expect("add member", 4) // BEGIN, UPDATE … RETURNING, WITH … INSERT, COMMIT
	if gm.Attrs.First("team_nm") != "ops" || gm.Attrs.Get("members") != nil {
		t.Errorf("modified group: %v", gm.Attrs)
	}
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{u2.ID, "777777"}}}, nil); !errors.Is(err, backends.ErrInvalidReference) {
		t.Errorf("add unknown member: %v", err)
	}
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModDelete, Attr: "members", Values: []string{u.ID}}}, nil); err != nil {
		t.Fatal(err)
	}
	_, mark = c.since(int(c.n.Load()))
	got, err := b.Get(ctx, backends.Group, g.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	expect("get group with members", 1)
	if m := got.Attrs.Get("members"); len(m) != 1 || m[0] != u2.ID {
		t.Errorf("members after add and remove: %v", m)
	}
	if _, err := b.Modify(ctx, backends.Group, "313131", []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{u2.ID}}}, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("add member to unknown group: %v", err)
	}

	// Soft-deleted users: invisible to Modify's single statement too.
	if err := b.Delete(ctx, backends.User, u2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Modify(ctx, backends.User, u2.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "stat_cd", Values: []string{"A"}}}, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("modify soft-deleted: %v", err)
	}
	if got, err := b.Get(ctx, backends.Group, g.ID, nil); err != nil || got.Attrs.Get("members") != nil {
		t.Errorf("members after the member's deletion: %v %v", got.Attrs, err)
	}
}

// BenchmarkPostgresOps compares single-record operations through the
// backend with the raw SQL an application would run for the same effect,
// 8 concurrent callers (go test -run - -bench PostgresOps ./backends/sql/).
func BenchmarkPostgresOps(bm *testing.B) {
	b, _, raw := legacyPG(bm)
	ctx := context.Background()
	raw.SetMaxOpenConns(8)
	if _, err := raw.Exec(`INSERT INTO hr_person (logon_nm, frst_nm, lst_nm, email_addr_txt, stat_cd)
SELECT 'u' || i || '@example.com', 'Given', 'Family', 'u' || i || '@example.com', 'A' FROM generate_series(1, 10000) AS i;
ANALYZE hr_person`); err != nil {
		bm.Fatal(err)
	}
	var seq atomic.Int64
	login := func() string { return fmt.Sprintf("u%d@example.com", seq.Add(7919)%10000+1) }
	id := func() string { return fmt.Sprint(seq.Add(7919)%10000 + 1) }
	cols := "person_no, logon_nm, frst_nm, lst_nm, full_nm, email_addr_txt, email_alt_txt, tel_wrk, tel_cell, job_ttl, stat_cd, emp_nbr, dept_nm, mgr_person_no, ext_src_id, pwd_hash, crt_ts, upd_ts, rec_ver"
	scan := func(rows *dbsql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		names, err := rows.Columns()
		if err != nil {
			return err
		}
		_, ptrs := scanDest(len(names))
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	ops := []struct {
		name         string
		backend, raw func() error
	}{
		{"create",
			func() error {
				_, err := b.Create(ctx, backends.User, backends.Attrs{"logon_nm": {fmt.Sprintf("b%d", seq.Add(1))}, "stat_cd": {"A"}})
				return err
			},
			func() error {
				now := time.Now().UTC()
				return scan(raw.QueryContext(ctx, "INSERT INTO hr_person (logon_nm, stat_cd, crt_ts, upd_ts, rec_ver) VALUES ($1, $2, $3, $4, 1) RETURNING "+cols,
					fmt.Sprintf("r%d", seq.Add(1)), "A", now, now))
			}},
		{"get",
			func() error { _, err := b.Get(ctx, backends.User, id(), nil); return err },
			func() error {
				return scan(raw.QueryContext(ctx, "SELECT "+strings.Replace(cols, "rec_ver", "ARRAY(SELECT team_id FROM hr_team_member m WHERE m.person_no = p.person_no ORDER BY team_id)", 1)+
					" FROM hr_person p WHERE person_no = $1 AND del_ts IS NULL", id()))
			}},
		{"filter",
			func() error {
				_, err := b.Search(ctx, backends.User, backends.Query{Count: 100,
					Filter: backends.Compare{Attr: "logon_nm", Op: backends.Eq, Value: login(), IgnoreCase: true}})
				return err
			},
			func() error {
				return scan(raw.QueryContext(ctx, "SELECT "+cols+", COUNT(*) OVER () FROM hr_person WHERE del_ts IS NULL AND lower(logon_nm) = lower($1) ORDER BY person_no LIMIT 100", login()))
			}},
		{"patch",
			func() error {
				_, err := b.Modify(ctx, backends.User, id(), []backends.Modification{{Op: backends.ModReplace, Attr: "stat_cd", Values: []string{"D"}}}, nil)
				return err
			},
			func() error {
				return scan(raw.QueryContext(ctx, "UPDATE hr_person SET stat_cd = $1, upd_ts = $2, rec_ver = rec_ver + 1 WHERE person_no = $3 AND del_ts IS NULL RETURNING "+cols,
					"D", time.Now().UTC(), id()))
			}},
	}
	for _, op := range ops {
		for _, side := range []struct {
			name string
			fn   func() error
		}{{"backend", op.backend}, {"raw", op.raw}} {
			bm.Run(op.name+"/"+side.name, func(bm *testing.B) {
				bm.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				bm.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := side.fn(); err != nil {
							bm.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
