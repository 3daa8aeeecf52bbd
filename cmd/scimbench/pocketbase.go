package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
)

// pbSizes are the operation counts of one PocketBase run. Every create
// hashes a password (bcrypt, in PocketBase), so creates are few.
type pbSizes struct{ create, get, filter, patch int }

func pbSizesFor(quick bool) pbSizes {
	if quick {
		return pbSizes{create: 200, get: 1000, filter: 1000, patch: 300}
	}
	return pbSizes{create: 1000, get: 5000, filter: 5000, patch: 2000}
}

// runPocketBase starts a PocketBase (pbtest: built into the user cache
// dir on first use), creates the users and groups collections of
// examples/pocketbase.hcl, serves that example (the REST backend) on
// loopback and compares each operation with PocketBase's records API
// called directly with a superuser token, in the same run.
func runPocketBase(ctx context.Context, o options) error {
	sz := pbSizesFor(o.quick)
	srv, err := pbtest.Start()
	if err != nil {
		return err
	}
	defer srv.Stop()
	serverPID.Store(int64(srv.PID()))
	defer serverPID.Store(0)
	cols, err := srv.CreateCollections()
	if err != nil {
		return err
	}
	defer func() { _ = srv.DropCollections(cols) }()
	raw, err := newPBRaw(srv, cols.Users, 8)
	if err != nil {
		return err
	}
	defer raw.c.close()
	bb, err := serveExample(ctx, filepath.Join(o.examples, "pocketbase.hcl"), pbBenchToken, srv.Env(cols), 8)
	if err != nil {
		return err
	}
	defer bb.close()
	c := &scimClient{lc: bb.http}
	fmt.Fprintf(o.out, "PocketBase %s at %s (collection %s); bridge at %s; one client, sequential requests\n",
		pbtest.Version, srv.URL, cols.Users, bb.base)

	rep := newReport(o.out, "PocketBase: single operations, bridge (examples/pocketbase.hcl) vs the records API")
	bids, rids := make([]string, sz.create), make([]string, sz.create)
	b, err := measure(ctx, sz.create, func(i int) error {
		var err error
		bids[i], err = c.createUser(pbUserName("b", i))
		return err
	})
	if err != nil {
		return fmt.Errorf("bridge create: %w", err)
	}
	r, err := measure(ctx, sz.create, func(i int) error {
		var err error
		rids[i], err = raw.create(ctx, pbUserName("r", i))
		return err
	})
	if err != nil {
		return fmt.Errorf("raw create: %w", err)
	}
	rep.pair("create user", b, r)
	for _, op := range []struct {
		name        string
		n           int
		bridge, raw func(i int) error
	}{
		{"get user by id", sz.get,
			func(i int) error { return c.get("/Users/" + bids[(i*7919)%len(bids)]) },
			func(i int) error { return raw.get(ctx, rids[(i*7919)%len(rids)]) }},
		{"filter userName eq", sz.filter,
			func(i int) error { return c.filterUserName(pbUserName("b", (i*7919)%len(bids))) },
			func(i int) error { return raw.filterUserName(ctx, pbUserName("r", (i*7919)%len(rids))) }},
		{"PATCH active", sz.patch,
			func(i int) error { return c.patchActive(bids[i%len(bids)], i%2 == 1) },
			func(i int) error { return raw.patchActive(ctx, rids[i%len(rids)], i%2 == 1) }},
	} {
		b, err := measure(ctx, op.n, op.bridge)
		if err != nil {
			return fmt.Errorf("bridge %s: %w", op.name, err)
		}
		r, err := measure(ctx, op.n, op.raw)
		if err != nil {
			return fmt.Errorf("raw %s: %w", op.name, err)
		}
		rep.pair(op.name, b, r)
	}
	rep.flush()
	fmt.Fprintf(o.out, "\npeak RSS of scimbench (bridge + clients): %s\n", processPeakRSS())
	return nil
}

const pbBenchToken = "sb_bench_pb_Tz7Qm2Xw9Lk4Vr8Nc3Hs6Jd5Fb1Gy0Pa"

func pbUserName(side string, i int) string { return fmt.Sprintf("pb%s%07d@example.com", side, i) }

// pbRaw calls PocketBase's records API of one users collection directly.
type pbRaw struct {
	c    *loadClient
	path string // /api/collections/<users>/records
}

func newPBRaw(srv *pbtest.Server, users string, conns int) (*pbRaw, error) {
	tok, err := srv.Token()
	if err != nil {
		return nil, err
	}
	c, err := newLoadClient(srv.URL, tok, conns) // PocketBase takes "Bearer <token>" too
	if err != nil {
		return nil, err
	}
	c.contentType = "application/json"
	return &pbRaw{c: c, path: "/api/collections/" + url.PathEscape(users) + "/records"}, nil
}

// create adds an active user with a password (PocketBase requires one,
// with passwordConfirm) and returns its id.
func (p *pbRaw) create(ctx context.Context, userName string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	pw := "sb_bench_" + userName
	err := p.c.call(ctx, "POST", p.path, map[string]any{
		"userName": userName, "givenName": "Bench", "familyName": "User", "active": true,
		"password": pw, "passwordConfirm": pw,
	}, &out)
	if err == nil && out.ID == "" {
		err = fmt.Errorf("create %s: no id in the answer", userName)
	}
	return out.ID, err
}

func (p *pbRaw) get(ctx context.Context, id string) error {
	return p.c.call(ctx, "GET", p.path+"/"+id, nil, nil)
}

// filterUserName lists the users whose userName is name (the collection's
// unique index is COLLATE NOCASE; = in a filter compares as stored) and
// checks that exactly one is found.
func (p *pbRaw) filterUserName(ctx context.Context, name string) error {
	var out struct {
		TotalItems int `json:"totalItems"`
	}
	q := url.Values{"filter": {fmt.Sprintf("userName = %q", name)}, "perPage": {"100"}}
	if err := p.c.call(ctx, "GET", p.path+"?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if out.TotalItems != 1 {
		return fmt.Errorf("filter userName %s: %d records", name, out.TotalItems)
	}
	return nil
}

func (p *pbRaw) patchActive(ctx context.Context, id string, active bool) error {
	return p.c.call(ctx, "PATCH", p.path+"/"+id, map[string]any{"active": active}, nil)
}
