package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"

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
// examples/pocketbase.hcl and measures the raw side: PocketBase's records
// API called directly with a superuser token. The bridge side (the REST
// backend serving examples/pocketbase.hcl) is not measured yet, so this
// table has no ratios.
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
	fmt.Fprintf(o.out, "PocketBase %s at %s (collection %s); raw records API only, one client, sequential requests\n",
		pbtest.Version, srv.URL, cols.Users)

	rep := newRawReport(o.out, "PocketBase raw: single operations")
	ids := make([]string, sz.create)
	r, err := measure(ctx, sz.create, func(i int) error {
		var err error
		ids[i], err = raw.create(ctx, pbUserName(i))
		return err
	})
	if err != nil {
		return fmt.Errorf("raw create: %w", err)
	}
	rep.row("create user", r)
	r, err = measure(ctx, sz.get, func(i int) error { return raw.get(ctx, ids[(i*7919)%len(ids)]) })
	if err != nil {
		return fmt.Errorf("raw get: %w", err)
	}
	rep.row("get user by id", r)
	r, err = measure(ctx, sz.filter, func(i int) error { return raw.filterUserName(ctx, pbUserName((i*7919)%len(ids))) })
	if err != nil {
		return fmt.Errorf("raw filter: %w", err)
	}
	rep.row("filter userName eq", r)
	r, err = measure(ctx, sz.patch, func(i int) error { return raw.patchActive(ctx, ids[i%len(ids)], i%2 == 1) })
	if err != nil {
		return fmt.Errorf("raw patch: %w", err)
	}
	rep.row("PATCH active", r)
	rep.flush()
	fmt.Fprintf(o.out, "\npeak RSS of scimbench (clients): %s\n", processPeakRSS())
	return nil
}

func pbUserName(i int) string { return fmt.Sprintf("pb%07d@example.com", i) }

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

// rawReport is a table of raw-only rows, for a backend whose bridge side
// is not measured yet.
type rawReport struct{ tw *tabwriter.Writer }

func newRawReport(w io.Writer, title string) *rawReport {
	fmt.Fprintf(w, "\n== %s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "operation\tn\traw ops/s\tp50\tp99\tcpu/op\t\n")
	return &rawReport{tw: tw}
}

func (r *rawReport) row(op string, s sample) {
	fmt.Fprintf(r.tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t\n", op, len(s.lat), s.opsPerSec(),
		short(s.percentile(0.50)), short(s.percentile(0.99)), s.cpuPerOp())
}

func (r *rawReport) flush() { _ = r.tw.Flush() }
