package main

// The group-membership benchmark at scale (-backend groups, `make
// bench-groups`; goal 4 of issue 15): on slapd with the memberof overlay,
// a 50,000-member group, then a 100,000-member group, each time adding
// one member at a time and then 10,000 members in one PATCH, end to end
// (the memberof overlay's writes included), bridge next to raw go-ldap.
// The users are bulk-loaded with slapadd and the groups built with raw
// modifies, never through SCIM. `make bench` runs the 50,000 case within
// -backend ldap; this one adds 100,000 and takes a few minutes.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

func runGroups(ctx context.Context, o options) error {
	cfg, err := findLDAPExample()
	if err != nil {
		return err
	}
	sizes := []int{50000, 100000}
	sz := ldapSizes{memberAdds: 50, patchMembers: 10000, patchReps: 3}
	if o.quick {
		sizes = []int{5000, 10000}
		sz = ldapSizes{memberAdds: 20, patchMembers: 2000, patchReps: 2}
	}
	start := time.Now()
	fmt.Fprintf(o.out, "starting slapd (mdb; memberof, refint and ppolicy overlays) ...\n")
	srv, err := ldaptest.Start(ldaptest.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	ou, err := srv.CreateOU("big")
	if err != nil {
		return err
	}
	// The biggest run's group, its single additions and its PATCH users.
	n := sizes[len(sizes)-1] + 2*sz.memberAdds + 1 + sz.patchMembers
	t0 := time.Now()
	ldif := filepath.Join(srv.Dir, "groups.ldif")
	if err := writeUsersLDIF(ldif, ou.People, "b", n); err != nil {
		return err
	}
	if err := srv.Load(ldif); err != nil {
		return err
	}
	_ = os.Remove(ldif)
	serverPID.Store(int64(srv.PID()))
	defer serverPID.Store(0)
	fmt.Fprintf(o.out, "slapd at %s; %d users loaded with slapadd in %s\n", srv.URL, n, time.Since(t0).Round(time.Millisecond))
	pool, err := newLDAPPool(srv, 1)
	if err != nil {
		return err
	}
	defer pool.close()
	for _, g := range sizes {
		s := sz
		s.groupSize = g
		b := &ldapBench{sz: s, out: o.out, config: cfg}
		if err := b.membership(ctx, srv, pool, ou, "memberof overlay", false); err != nil {
			return fmt.Errorf("%d members: %w", g, err)
		}
	}
	fmt.Fprintf(o.out, "\ngroup benchmark took %s\n", time.Since(start).Round(time.Second))
	return nil
}
