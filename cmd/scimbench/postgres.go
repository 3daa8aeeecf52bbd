package main

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

// pgSizes are the operation counts and data set sizes of one run.
type pgSizes struct {
	create, get, filter, patch, member int
	groupMembers                       int
	importSmall, importLarge, pageSize int
}

func pgSizesFor(quick bool) pgSizes {
	if quick {
		return pgSizes{create: 300, get: 1000, filter: 1000, patch: 300, member: 200,
			groupMembers: 5000, importSmall: 1000, importLarge: 10000, pageSize: 100}
	}
	return pgSizes{create: 2000, get: 5000, filter: 5000, patch: 2000, member: 1000,
		groupMembers: 50000, importSmall: 10000, importLarge: 100000, pageSize: 100}
}

// runPostgres starts a PostgreSQL, loads the shipped legacy schema
// (examples/postgres-legacy-schema.sql), serves examples/postgres.hcl on
// loopback and compares each operation with its raw SQL through pgx.
func runPostgres(ctx context.Context, o options) error {
	sz := pgSizesFor(o.quick)
	pg, err := startPostgresExample(ctx, o, "bench")
	if err != nil {
		return err
	}
	defer pg.close()
	serverPID.Store(int64(pg.srv.PID()))
	defer serverPID.Store(0)
	srv, url, base, c := pg.srv, pg.url, pg.bb.base, pg.c
	raw, err := dbsql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(16)
	// As the example's max_idle_conns: with database/sql's default of 2
	// idle connections, 8 concurrent raw clients would open and close a
	// PostgreSQL connection (a server process) on most queries.
	raw.SetMaxIdleConns(8)

	var version string
	_ = raw.QueryRowContext(ctx, "SHOW server_version").Scan(&version)
	fmt.Fprintf(o.out, "PostgreSQL %s on %s; bridge at %s; one client, sequential requests\n", version, srv.Host, base)

	// 1. Import (paging) at two sizes, to show that the cost per page does
	// not grow with the offset.
	imp := newReport(o.out, fmt.Sprintf("full import, count=%d (each op is one page)", sz.pageSize))
	if err := bulkUsers(ctx, raw, "imp", 0, sz.importSmall); err != nil {
		return err
	}
	for _, n := range []int{sz.importSmall, sz.importLarge} {
		if n > sz.importSmall {
			if err := bulkUsers(ctx, raw, "imp", sz.importSmall, n); err != nil {
				return err
			}
		}
		b, err := measure(ctx, n/sz.pageSize, func(i int) error {
			return c.listPage(i*sz.pageSize+1, sz.pageSize, n)
		})
		if err != nil {
			return fmt.Errorf("bridge import of %d: %w", n, err)
		}
		var last int64
		r, err := measure(ctx, n/sz.pageSize, func(int) error {
			var err error
			last, err = rawPage(ctx, raw, last, sz.pageSize)
			return err
		})
		if err != nil {
			return fmt.Errorf("raw import of %d: %w", n, err)
		}
		imp.pair(fmt.Sprintf("import %d users", n), b, r)
	}
	imp.flush()
	fmt.Fprintf(o.out, "(a linear import keeps the per-page p50 flat from %d to %d users)\n", sz.importSmall, sz.importLarge)
	if err := pg.bb.preview(ctx, o.out, fmt.Sprintf("%d users on PostgreSQL", sz.importLarge)); err != nil {
		return err
	}

	// 2. Single-record operations on the large table.
	ops := newReport(o.out, fmt.Sprintf("single operations on a table of %d users", sz.importLarge))
	b, err := measure(ctx, sz.create, func(i int) error { _, err := c.createUser(fmt.Sprintf("bc%06d@example.com", i)); return err })
	if err != nil {
		return fmt.Errorf("bridge create: %w", err)
	}
	r, err := measure(ctx, sz.create, func(i int) error { _, err := rawCreate(ctx, raw, fmt.Sprintf("rc%06d@example.com", i)); return err })
	if err != nil {
		return fmt.Errorf("raw create: %w", err)
	}
	ops.pair("create user", b, r)

	ids, err := sampleIDs(ctx, raw, sz.get)
	if err != nil {
		return err
	}
	b, err = measure(ctx, sz.get, func(i int) error { return c.get("/Users/" + ids[i%len(ids)]) })
	if err != nil {
		return fmt.Errorf("bridge get: %w", err)
	}
	r, err = measure(ctx, sz.get, func(i int) error { return rawGet(ctx, raw, ids[i%len(ids)]) })
	if err != nil {
		return fmt.Errorf("raw get: %w", err)
	}
	ops.pair("get user by id", b, r)

	b, err = measure(ctx, sz.filter, func(i int) error {
		return c.filterUserName(fmt.Sprintf("IMP%07d@example.com", (i*7919)%sz.importLarge))
	})
	if err != nil {
		return fmt.Errorf("bridge filter: %w", err)
	}
	r, err = measure(ctx, sz.filter, func(i int) error {
		return rawFilter(ctx, raw, fmt.Sprintf("IMP%07d@example.com", (i*7919)%sz.importLarge))
	})
	if err != nil {
		return fmt.Errorf("raw filter: %w", err)
	}
	ops.pair("filter userName eq", b, r)

	b, err = measure(ctx, sz.patch, func(i int) error { return c.patchActive(ids[i%len(ids)], i%2 == 1) })
	if err != nil {
		return fmt.Errorf("bridge patch: %w", err)
	}
	r, err = measure(ctx, sz.patch, func(i int) error { return rawPatchActive(ctx, raw, ids[i%len(ids)], i%2 == 1) })
	if err != nil {
		return fmt.Errorf("raw patch: %w", err)
	}
	ops.pair("PATCH active", b, r)

	// 3. Adding one member to a large group.
	gid, err := bigGroup(ctx, raw, sz.groupMembers)
	if err != nil {
		return err
	}
	outside, err := nonMembers(ctx, raw, gid, 2*sz.member)
	if err != nil {
		return err
	}
	b, err = measure(ctx, sz.member, func(i int) error { return c.addMember(gid, outside[i]) })
	if err != nil {
		return fmt.Errorf("bridge member add: %w", err)
	}
	r, err = measure(ctx, sz.member, func(i int) error { return rawAddMember(ctx, raw, gid, outside[sz.member+i]) })
	if err != nil {
		return fmt.Errorf("raw member add: %w", err)
	}
	ops.pair(fmt.Sprintf("add 1 member to %d", sz.groupMembers), b, r)
	ops.flush()

	var members int
	if err := raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM hr_team_member WHERE team_id = $1", gid).Scan(&members); err != nil {
		return err
	}
	if want := sz.groupMembers + 2*sz.member; members != want {
		return fmt.Errorf("the group has %d members, want %d", members, want)
	}
	// 4. Throughput of single-record operations at concurrency 8.
	if err := pgThroughput(ctx, o, sz, c, raw, url, ids); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "\npeak RSS of scimbench (bridge + clients): %s\n", processPeakRSS())
	return nil
}

// pgThroughput compares throughput with 8 concurrent clients, bridge and
// raw in alternating rounds: the target is a bridge/raw ratio of at least
// 0.7 for single-record operations.
func pgThroughput(ctx context.Context, o options, sz pgSizes, c *scimClient, raw *dbsql.DB, dbURL string, ids []string) error {
	const workers = 8
	tp := newThroughputReport(o.out, fmt.Sprintf("throughput at concurrency %d; bridge and raw in %d alternating rounds (rows with the ceiling proxy: %dx the operations in %d rounds)", workers, pairRounds, ceilingOps, ceilingRounds))
	var goal3 patchGoal
	// The ceiling proxy (ceiling_pg.go) with the example's max_open_conns
	// and the bridge's client connections, for the reads of goal 2.
	cp, err := startPGCeiling(ctx, dbURL, pgBenchToken, 16, 16)
	if err != nil {
		return err
	}
	defer cp.close()
	// Warm its pool up as the bridge's and raw's are (not measured).
	if _, err := measureParallel(ctx, workers, 10*workers, func(_ context.Context, _, i int) error {
		return cp.get(ctx, ids[i%len(ids)])
	}); err != nil {
		return fmt.Errorf("ceiling proxy: %w", err)
	}
	var goals []goalRatio
	type op struct {
		name        string
		n           int
		bridge, raw func(i int) error
		ceiling     func(i int) error
	}
	for _, x := range []op{
		{"create user", sz.create,
			func(i int) error { _, err := c.createUser(fmt.Sprintf("tc%06d@example.com", i)); return err },
			func(i int) error { _, err := rawCreate(ctx, raw, fmt.Sprintf("tr%06d@example.com", i)); return err }, nil},
		{"get user by id", sz.get,
			func(i int) error { return c.get("/Users/" + ids[i%len(ids)]) },
			func(i int) error { return rawGet(ctx, raw, ids[i%len(ids)]) },
			func(i int) error { return cp.get(ctx, ids[i%len(ids)]) }},
		{"filter userName eq", sz.filter,
			func(i int) error {
				return c.filterUserName(fmt.Sprintf("IMP%07d@example.com", (i*7919)%sz.importLarge))
			},
			func(i int) error {
				return rawFilter(ctx, raw, fmt.Sprintf("IMP%07d@example.com", (i*7919)%sz.importLarge))
			},
			func(i int) error {
				return cp.filterOne(ctx, "/Users?filter="+strings.ReplaceAll(fmt.Sprintf(`userName eq "IMP%07d@example.com"`, (i*7919)%sz.importLarge), " ", "%20"))
			}},
		{"PATCH active", sz.patch,
			func(i int) error { return c.patchActive(ids[i%len(ids)], i%2 == 1) },
			func(i int) error { return rawPatchActive(ctx, raw, ids[i%len(ids)], i%2 == 1) },
			func(i int) error { return cp.patchOne(ctx, ids[i%len(ids)], "active", i%2 == 1) }},
	} {
		sides := []side{{"bridge", func(_ context.Context, _, i int) error { return x.bridge(i) }},
			{"raw", func(_ context.Context, _, i int) error { return x.raw(i) }}}
		if x.ceiling != nil {
			sides = append(sides, side{"ceiling", func(_ context.Context, _, i int) error { return x.ceiling(i) }})
		}
		if x.name == "PATCH active" {
			// What returning the row costs: the ceiling's UPDATE ... RETURNING
			// (the row and its teams, as the bridge answers) without HTTP.
			sides = append(sides, side{"raw returning", func(_ context.Context, _, i int) error {
				return rawPatchActiveReturning(ctx, raw, ids[i%len(ids)], i%2 == 1)
			}})
		}
		n, rounds := x.n, pairRounds
		if x.ceiling != nil {
			n, rounds = ceilingOps*x.n, ceilingRounds
		}
		s, err := measureRounds(ctx, workers, n, rounds, sides)
		if err != nil {
			return fmt.Errorf("%s: %w", x.name, err)
		}
		b, r := s[0], s[1]
		tp.pair(x.name, b, r)
		if x.ceiling != nil {
			tp.pair("ceiling proxy: "+x.name, s[2], r)
		}
		if x.name == "PATCH active" {
			tp.pair("raw UPDATE ... RETURNING row and teams: "+x.name, s[3], r)
			goal3 = patchGoal{what: "PATCH active (one column; raw: one UPDATE)", bridge: b, ceiling: s[2], raw: r}
		} else if x.ceiling != nil {
			goals = append(goals, goalRatio{x.name + ": bridge/ceiling throughput", 1 / timeRatio(b, s[2]), 0.95})
		}
	}
	tp.flush()
	for _, g := range goals {
		g.print(o.out, "2")
	}
	goal3.print(o.out)
	return nil
}

// pgExample is a PostgreSQL holding the shipped legacy schema
// (examples/postgres-legacy-schema.sql) and a bridge serving
// examples/postgres.hcl on it.
type pgExample struct {
	srv *pgtest.Server
	url string // the database's URL
	bb  *benchBridge
	c   *scimClient
}

func startPostgresExample(ctx context.Context, o options, db string) (*pgExample, error) {
	schema, err := os.ReadFile(filepath.Join(o.examples, "postgres-legacy-schema.sql"))
	if err != nil {
		return nil, fmt.Errorf("%w (run from the repository root or set -examples)", err)
	}
	fmt.Fprintln(o.out, "starting PostgreSQL ...")
	pg := &pgExample{}
	if pg.srv, err = pgtest.Start(); err != nil {
		return nil, err
	}
	if pg.url, err = pg.srv.CreateDatabase(ctx, db); err == nil {
		if err = pg.srv.Exec(ctx, db, string(schema)); err != nil {
			err = fmt.Errorf("loading the schema: %w", err)
		}
	}
	if err == nil {
		pg.bb, err = serveExample(ctx, filepath.Join(o.examples, "postgres.hcl"), pgBenchToken,
			map[string]string{"DATABASE_URL": pg.url}, 16)
	}
	if err != nil {
		pg.close()
		return nil, err
	}
	pg.c = &scimClient{lc: pg.bb.http}
	return pg, nil
}

func (pg *pgExample) close() {
	if pg.bb != nil {
		pg.bb.close()
	}
	pg.srv.Stop()
}

const pgBenchToken = "sb_bench_YpNJIrRQCi11yo56DYGWneD5WrKKfN8w"

// Raw SQL: what an application would run for the same operation, through
// the same driver. Reads include the user's teams as the bridge's do.

const rawUserCols = "person_no, logon_nm, frst_nm, lst_nm, full_nm, email_addr_txt, email_alt_txt, tel_wrk, tel_cell, job_ttl, stat_cd, emp_nbr, dept_nm, mgr_person_no, ext_src_id, crt_ts, upd_ts"

func bulkUsers(ctx context.Context, db *dbsql.DB, prefix string, from, to int) error {
	_, err := db.ExecContext(ctx, `INSERT INTO hr_person (logon_nm, frst_nm, lst_nm, full_nm, email_addr_txt, stat_cd, crt_ts)
SELECT $1 || lpad(i::text, 7, '0') || '@example.com', 'Given' || i, 'Family' || i, 'Person ' || i,
       $1 || lpad(i::text, 7, '0') || '@example.com', CASE WHEN i % 10 = 0 THEN 'D' ELSE 'A' END, now()
FROM generate_series($2::int, $3::int - 1) AS i`, prefix, from, to)
	if err == nil {
		_, err = db.ExecContext(ctx, "ANALYZE hr_person")
	}
	return err
}

func scanRows(rows *dbsql.Rows) (int, error) {
	defer rows.Close()
	n := 0
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	dest := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func rawPage(ctx context.Context, db *dbsql.DB, after int64, count int) (int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT "+rawUserCols+" FROM hr_person WHERE del_ts IS NULL AND person_no > $1 ORDER BY person_no LIMIT $2", after, count)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		dest := make([]any, 17)
		ptrs := make([]any, 17)
		for i := range dest {
			ptrs[i] = &dest[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, dest[0].(int64))
	}
	rows.Close()
	if len(ids) == 0 {
		return 0, fmt.Errorf("empty page after %d", after)
	}
	teams, err := db.QueryContext(ctx, "SELECT person_no, team_id FROM hr_team_member WHERE person_no = ANY($1) ORDER BY person_no, team_id", ids)
	if err != nil {
		return 0, err
	}
	if _, err := scanRows(teams); err != nil {
		return 0, err
	}
	return ids[len(ids)-1], nil
}

func rawCreate(ctx context.Context, db *dbsql.DB, login string) (int64, error) {
	var id int64
	now := time.Now().UTC()
	err := db.QueryRowContext(ctx, `INSERT INTO hr_person (logon_nm, frst_nm, lst_nm, email_addr_txt, stat_cd, crt_ts, upd_ts)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING person_no`, login, "Bench", "User", login, "A", now, now).Scan(&id)
	return id, err
}

func rawGet(ctx context.Context, db *dbsql.DB, id string) error {
	rows, err := db.QueryContext(ctx, "SELECT "+rawUserCols+" FROM hr_person WHERE person_no = $1 AND del_ts IS NULL", id)
	if err != nil {
		return err
	}
	if n, err := scanRows(rows); err != nil || n != 1 {
		return fmt.Errorf("get %s: %d rows, %v", id, n, err)
	}
	rows, err = db.QueryContext(ctx, "SELECT team_id FROM hr_team_member WHERE person_no = $1 ORDER BY team_id", id)
	if err != nil {
		return err
	}
	_, err = scanRows(rows)
	return err
}

func rawFilter(ctx context.Context, db *dbsql.DB, login string) error {
	var total int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM hr_person WHERE del_ts IS NULL AND lower(logon_nm) = lower($1)", login).Scan(&total); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT "+rawUserCols+" FROM hr_person WHERE del_ts IS NULL AND lower(logon_nm) = lower($1) ORDER BY person_no LIMIT 100", login)
	if err != nil {
		return err
	}
	if n, err := scanRows(rows); err != nil || n != 1 {
		return fmt.Errorf("filter %s: %d rows, %v", login, n, err)
	}
	return nil
}

func rawPatchActive(ctx context.Context, db *dbsql.DB, id string, active bool) error {
	code := "D"
	if active {
		code = "A"
	}
	res, err := db.ExecContext(ctx, "UPDATE hr_person SET stat_cd = $1, upd_ts = $2, rec_ver = rec_ver + 1 WHERE person_no = $3 AND del_ts IS NULL", code, time.Now().UTC(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("patch %s: %d rows", id, n)
	}
	return nil
}

// rawPatchActiveReturning is rawPatchActive returning the row and its
// teams, as the ceiling proxy's UPDATE does.
func rawPatchActiveReturning(ctx context.Context, db *dbsql.DB, id string, active bool) error {
	code := "D"
	if active {
		code = "A"
	}
	rows, err := db.QueryContext(ctx, "UPDATE hr_person AS p SET stat_cd = $1, upd_ts = $2, rec_ver = COALESCE(rec_ver, 0) + 1 WHERE p.person_no = $3 AND p.del_ts IS NULL RETURNING "+pgCeilingCols,
		code, time.Now().UTC(), id)
	if err != nil {
		return err
	}
	if n, err := scanRows(rows); err != nil || n != 1 {
		return fmt.Errorf("patch %s: %d rows, %v", id, n, err)
	}
	return nil
}

func rawAddMember(ctx context.Context, db *dbsql.DB, gid, uid string) error {
	_, err := db.ExecContext(ctx, "INSERT INTO hr_team_member (team_id, person_no) VALUES ($1, $2) ON CONFLICT DO NOTHING", gid, uid)
	return err
}

func sampleIDs(ctx context.Context, db *dbsql.DB, n int) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT person_no::text FROM hr_person WHERE del_ts IS NULL ORDER BY md5(person_no::text) LIMIT $1", n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// bigGroup creates a team with the first n people as members, directly.
func bigGroup(ctx context.Context, db *dbsql.DB, n int) (string, error) {
	var gid string
	if err := db.QueryRowContext(ctx, "INSERT INTO hr_team (team_nm) VALUES ('Everyone') RETURNING team_id::text").Scan(&gid); err != nil {
		return "", err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO hr_team_member (team_id, person_no)
SELECT $1::int, person_no FROM hr_person WHERE del_ts IS NULL ORDER BY person_no LIMIT $2`, gid, n)
	if err == nil {
		_, err = db.ExecContext(ctx, "ANALYZE hr_team_member")
	}
	return gid, err
}

func nonMembers(ctx context.Context, db *dbsql.DB, gid string, n int) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT p.person_no::text FROM hr_person p
WHERE p.del_ts IS NULL AND NOT EXISTS (SELECT 1 FROM hr_team_member m WHERE m.team_id = $1 AND m.person_no = p.person_no)
ORDER BY p.person_no DESC LIMIT $2`, gid, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) < n {
		return nil, fmt.Errorf("only %d people outside the group, want %d", len(out), n)
	}
	return out, rows.Err()
}

// scimClient drives the bridge over HTTP with keep-alive connections.
type scimClient struct{ lc *loadClient }

func (c *scimClient) do(method, path string, body any, want ...int) ([]byte, error) {
	status, out, err := c.lc.do(context.Background(), method, path, body)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, status) {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func (c *scimClient) get(path string) error {
	_, err := c.do("GET", path, nil, 200)
	return err
}

func (c *scimClient) createUser(login string) (string, error) {
	out, err := c.do("POST", "/Users", map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": login,
		"name":     map[string]any{"givenName": "Bench", "familyName": "User"},
		"emails":   []any{map[string]any{"type": "work", "value": login, "primary": true}},
		"active":   true,
	}, 201)
	if err != nil {
		return "", err
	}
	var r struct {
		ID string `json:"id"`
	}
	err = json.Unmarshal(out, &r)
	return r.ID, err
}

func (c *scimClient) listPage(start, count, total int) error {
	out, err := c.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, count), nil, 200)
	if err != nil {
		return err
	}
	var r struct {
		TotalResults int   `json:"totalResults"`
		Resources    []any `json:"Resources"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return err
	}
	if len(r.Resources) == 0 || r.TotalResults < total*8/10 {
		return fmt.Errorf("page %d: %d resources of %d", start, len(r.Resources), r.TotalResults)
	}
	return nil
}

func (c *scimClient) filterUserName(login string) error {
	out, err := c.do("GET", "/Users?filter="+strings.ReplaceAll(fmt.Sprintf(`userName eq "%s"`, login), " ", "%20"), nil, 200)
	if err != nil {
		return err
	}
	if !oneResult(out) {
		return fmt.Errorf("filter %s: %s", login, out)
	}
	return nil
}

func (c *scimClient) patchActive(id string, active bool) error {
	_, err := c.do("PATCH", "/Users/"+id, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": active}},
	}, 200)
	return err
}

func (c *scimClient) addMember(gid, uid string) error {
	req := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}}},
	}
	_, err := c.do("PATCH", "/Groups/"+gid, req, 200, 204)
	return err
}
