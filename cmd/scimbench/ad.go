package main

// The Active Directory benchmark: examples/activedirectory.hcl served by a
// real scimbridge against raw go-ldap doing the equivalent directory
// operations, on the same Samba AD DC (sambatest) over LDAPS in the same
// run. Seeding goes through raw adds as the Administrator; Samba adds a
// few dozen users a second, so the full run takes several minutes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends/ldap/sambatest"
)

type adSizes struct {
	concurrency int // clients of the single-entry operations
	ops         int // operations per single-entry measurement
	users       int // users of the import (also the group's members)
	groupSize   int // members of the big group
	memberAdds  int // timed single-member additions per side
}

func adSizesFor(quick bool) adSizes {
	if quick {
		return adSizes{concurrency: 4, ops: 100, users: 2000, groupSize: 1600, memberAdds: 10}
	}
	return adSizes{concurrency: 4, ops: 300, users: 10000, groupSize: 5000, memberAdds: 20}
}

const adBenchToken = "sb_bench_ad_Q8vJrN2kXw5TzLm4PcY7hGd9sAeB3uF6"

// adUserAttrs are the attributes examples/activedirectory.hcl reads for a
// user: what a raw client that wants the same data asks for.
var adUserAttrs = []string{"objectGUID", "userPrincipalName", "givenName", "sn", "displayName", "mail", "telephoneNumber",
	"mobile", "title", "userAccountControl", "employeeID", "department", "company", "manager", "memberOf", "whenCreated", "whenChanged"}

type adBench struct {
	sz     adSizes
	out    io.Writer
	config string
	srv    *sambatest.Server
	conns  []*goldap.Conn
}

func (b *adBench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// runAD starts a Samba AD DC, seeds it and compares the bridge with raw
// go-ldap; main registers it as -backend ad.
func runAD(ctx context.Context, w io.Writer, quick bool) error {
	ldapCfg, err := findLDAPExample()
	if err != nil {
		return err
	}
	cfg := filepath.Join(filepath.Dir(ldapCfg), "activedirectory.hcl")
	if _, err := os.Stat(cfg); err != nil {
		return err
	}
	b := &adBench{sz: adSizesFor(quick), out: w, config: cfg}
	start := time.Now()
	b.printf("starting a Samba AD DC (sambatest: provisioned once, copied, LDAPS) ...\n")
	if b.srv, err = sambatest.Start(); err != nil {
		return err
	}
	defer b.srv.Stop()
	serverPID.Store(int64(b.srv.PID()))
	defer serverPID.Store(0)
	for range b.sz.concurrency {
		c, err := b.srv.DialAdmin()
		if err != nil {
			return err
		}
		defer c.Close()
		b.conns = append(b.conns, c)
	}
	if err := b.run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "\npeak RSS of scimbench (bridge + HTTP client + raw client; samba is a separate process): %s\n", processPeakRSS())
	fmt.Fprintf(w, "AD benchmark took %s\n", time.Since(start).Round(time.Second))
	return nil
}

func adName(prefix string, i int) string { return fmt.Sprintf("%s%07d", prefix, i) }

// adRawUser is the object the bridge writes for the same SCIM user.
func adRawUser(base, name string) *goldap.AddRequest {
	req := goldap.NewAddRequest("CN="+goldap.EscapeDN("Given "+name)+","+base, nil)
	req.Attribute("objectClass", []string{"user"})
	req.Attribute("userPrincipalName", []string{name + "@" + sambatest.UPNSuffix})
	req.Attribute("sAMAccountName", []string{name})
	req.Attribute("givenName", []string{"Given"})
	req.Attribute("sn", []string{name})
	req.Attribute("mail", []string{name + "@example.org"})
	req.Attribute("userAccountControl", []string{"512"})
	return req
}

func (b *adBench) env(ou sambatest.OU) map[string]string {
	return map[string]string{
		"LDAP_URL": b.srv.URL, "LDAP_CA_FILE": b.srv.CAFile, "LDAP_TLS_SERVER_NAME": sambatest.ServerName,
		"LDAP_BIND_DN": sambatest.ServiceDN, "LDAP_BIND_PASSWORD": sambatest.ServicePassword,
		"LDAP_BASE_DN": sambatest.BaseDN, "AD_UPN_SUFFIX": "", "AD_USERS_DN": ou.People, "AD_GROUPS_DN": ou.Groups,
	}
}

// adGUID formats a binary objectGUID as the bridge shows it.
func adGUID(raw []byte) string {
	if len(raw) != 16 {
		return ""
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15])
}

// ids maps sAMAccountName to the id (GUID string) and to the raw GUID
// filter value of every user below base.
func (b *adBench) ids(base string) (map[string]string, map[string]string, error) {
	ids, filters := map[string]string{}, map[string]string{}
	err := pagedEach(b.conns[0], base, "(objectClass=user)", []string{"sAMAccountName", "objectGUID"}, 10000, func(e *goldap.Entry) {
		raw := e.GetRawAttributeValue("objectGUID")
		name := e.GetAttributeValue("sAMAccountName")
		ids[name] = adGUID(raw)
		var f []byte
		for _, c := range raw {
			f = append(f, fmt.Sprintf("\\%02x", c)...)
		}
		filters[name] = string(f)
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, filters, nil
}

func (b *adBench) run(ctx context.Context) error {
	sz := b.sz
	ops, err := b.srv.CreateOU("ops")
	if err != nil {
		return err
	}
	big, err := b.srv.CreateOU("big")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := measureParallel(ctx, len(b.conns), sz.users, func(_ context.Context, w, i int) error {
		return b.conns[w].Add(adRawUser(big.People, adName("u", i)))
	}); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	b.printf("Samba AD DC at %s; seeded %d users with raw adds (concurrency %d) in %s\n",
		b.srv.URL, sz.users, len(b.conns), time.Since(t0).Round(time.Millisecond))
	ids, filters, err := b.ids(big.People)
	if err != nil {
		return err
	}

	// --- single entries ---
	rep := newThroughputReport(b.out, fmt.Sprintf("single entries, %d concurrent clients, %d users in the OU; bridge and raw in %d alternating rounds", sz.concurrency, sz.users, pairRounds))
	ob, err := serveExample(ctx, b.config, adBenchToken, b.env(ops), 64)
	if err != nil {
		return err
	}
	defer ob.close()
	br, rw, err := measurePairs(ctx, sz.concurrency, sz.ops, func(ctx context.Context, _, i int) error {
		name := adName("bc", i)
		return postUser(ctx, ob, name+"@"+sambatest.UPNSuffix, name, name+"@example.org")
	}, func(_ context.Context, w, i int) error {
		return b.conns[w].Add(adRawUser(ops.People, adName("rc", i)))
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	rep.pair("create user", br, rw)

	bb, err := serveExample(ctx, b.config, adBenchToken, b.env(big), 64)
	if err != nil {
		return err
	}
	defer bb.close()
	names := make([]string, sz.ops)
	for i := range names {
		names[i] = adName("u", (i*7919)%sz.users)
	}
	rawOne := func(w int, filter string) error { return searchOne(b.conns[w], big.People, filter, adUserAttrs) }
	getByID := func(ctx context.Context, _, i int) error { return bb.do(ctx, "GET", "/Users/"+ids[names[i]], nil, nil) }
	rawByID := func(_ context.Context, w, i int) error {
		return rawOne(w, "(&(objectClass=user)(objectGUID="+filters[names[i]]+"))")
	}
	for _, label := range []string{"get by id, cold cache", "get by id, cached"} {
		if br, rw, err = measurePairs(ctx, sz.concurrency, sz.ops, getByID, rawByID); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		rep.pair(label, br, rw)
	}
	br, rw, err = measurePairs(ctx, sz.concurrency, sz.ops, func(ctx context.Context, _, i int) error {
		return filterOne(ctx, bb, "/Users?filter="+url.QueryEscape(`userName eq "`+names[i]+"@"+sambatest.UPNSuffix+`"`), names[i])
	}, func(_ context.Context, w, i int) error {
		return rawOne(w, "(&(objectClass=user)(userPrincipalName="+goldap.EscapeFilter(names[i]+"@"+sambatest.UPNSuffix)+"))")
	})
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	rep.pair("filter userName eq", br, rw)

	// PATCH active=false: the bridge on the users it read above, raw on
	// others, each a read of userAccountControl and a delete-old/add-new
	// modify, as the bridge does.
	rawNames := otherNames(names, sz.users, sz.ops, func(i int) string { return adName("u", i) })
	if len(rawNames) < sz.ops {
		return errors.New("too few users for the PATCH active measurement")
	}
	br, rw, err = measurePairs(ctx, sz.concurrency, sz.ops, func(ctx context.Context, _, i int) error {
		return patchInactive(ctx, bb, ids[names[i]])
	}, func(_ context.Context, w, i int) error {
		dn := "CN=" + goldap.EscapeDN("Given "+rawNames[i]) + "," + big.People
		res, err := b.conns[w].Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"userAccountControl"}, nil))
		if err != nil || len(res.Entries) != 1 {
			return fmt.Errorf("read %s: %v", dn, err)
		}
		old := res.Entries[0].GetAttributeValue("userAccountControl")
		v, _ := strconv.Atoi(old)
		req := goldap.NewModifyRequest(dn, nil)
		req.Delete("userAccountControl", []string{old})
		req.Add("userAccountControl", []string{strconv.Itoa(v | 2)})
		return b.conns[w].Modify(req)
	})
	if err != nil {
		return fmt.Errorf("PATCH active: %w", err)
	}
	rep.pair("PATCH active=false", br, rw)
	rep.flush()

	// --- one member into a big group (ranged retrieval in play) ---
	groupDN := "CN=big," + big.Groups
	dn := func(i int) string { return "CN=" + goldap.EscapeDN("Given "+adName("u", i)) + "," + big.People }
	add := goldap.NewAddRequest(groupDN, nil)
	add.Attribute("objectClass", []string{"group"})
	add.Attribute("member", []string{dn(0)})
	if err := b.conns[0].Add(add); err != nil {
		return err
	}
	if err := addMembers(b.conns[0], groupDN, dn, 1, sz.groupSize, 1000); err != nil {
		return err
	}
	gid, err := groupID(ctx, bb, "big")
	if err != nil {
		return err
	}
	m := sz.memberAdds
	mrep := newReport(b.out, fmt.Sprintf("membership: add 1 member to a %d-member group (value_range 1500), one client", sz.groupSize))
	bm, err := measure(ctx, m, func(i int) error {
		return patchAddMember(ctx, bb, gid, "big", ids[adName("u", sz.groupSize+i)])
	})
	if err != nil {
		return fmt.Errorf("bridge add 1 member: %w", err)
	}
	rm, err := rawAddMembers(ctx, b.conns[0], groupDN, dn, sz.groupSize+m, m)
	if err != nil {
		return fmt.Errorf("raw add 1 member: %w", err)
	}
	mrep.pair(fmt.Sprintf("add 1 member to %d", sz.groupSize), bm, rm)
	mrep.flush()

	// --- import: pages of 100 ---
	const count = 100
	irep := newReport(b.out, fmt.Sprintf("full import of %d users, count=%d, one client (each op is one page)", sz.users, count))
	ib, err := serveExample(ctx, b.config, adBenchToken, b.env(big), 8)
	if err != nil {
		return err
	}
	defer ib.close()
	bi, seen, err := bridgePagedImport(ctx, ib, sz.users, count)
	if err != nil {
		return fmt.Errorf("bridge import: %w", err)
	}
	if seen != sz.users {
		return fmt.Errorf("bridge import of %d users saw %d", sz.users, seen)
	}
	ri, rseen, err := rawPagedImport(ctx, b.conns[0], big.People, "(&(objectCategory=person)(objectClass=user))", adUserAttrs, sz.users, count)
	if err != nil {
		return fmt.Errorf("raw import: %w", err)
	}
	if rseen != sz.users {
		return fmt.Errorf("raw import of %d users saw %d", sz.users, rseen)
	}
	irep.pair(fmt.Sprintf("import %d users", sz.users), bi, ri)
	irep.flush()
	return nil
}
