package ldap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

func mustCreate(t *testing.T, b *Backend, typ string, attrs backends.Attrs) backends.Record {
	t.Helper()
	rec, err := b.Create(ctxT(t), typ, attrs)
	if err != nil {
		t.Fatalf("Create(%s %v): %v", typ, attrs, err)
	}
	return rec
}

func user(name string) backends.Attrs {
	return backends.Attrs{"uid": {name}, "cn": {name}, "sn": {"Family " + name}}
}

func mustModify(t *testing.T, b *Backend, typ, id string, mods ...backends.Modification) backends.Record {
	t.Helper()
	return mustModifyAs(t, b, typ, id, nil, mods...)
}

// mustModifyAs is mustModify returning attrs only, as a bridge asks.
func mustModifyAs(t *testing.T, b *Backend, typ, id string, attrs []string, mods ...backends.Modification) backends.Record {
	t.Helper()
	rec, err := b.Modify(ctxT(t), typ, id, mods, attrs)
	if err != nil {
		t.Fatalf("Modify(%s %s): %v", typ, id, err)
	}
	return rec
}

func mustGet(t *testing.T, b *Backend, typ, id string, attrs ...string) backends.Record {
	t.Helper()
	rec, err := b.Get(ctxT(t), typ, id, attrs)
	if err != nil {
		t.Fatalf("Get(%s %s): %v", typ, id, err)
	}
	return rec
}

func sortedCopy(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}

func equalSet(a, b []string) bool { return slices.Equal(sortedCopy(a), sortedCopy(b)) }

func normAll(dns []string) []string {
	out := make([]string, len(dns))
	for i, d := range dns {
		out[i] = normDN(d)
	}
	return out
}

// TestDirectoryState checks what the backend wrote, by reading slapd itself.
func TestDirectoryState(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	ctx := ctxT(t)

	boss := mustCreate(t, b, "User", user("boss"))
	a := user("alice")
	a["mail"] = []string{"alice@example.org"}
	a["manager"] = []string{boss.ID}
	a["userPassword"] = []string{"s3cret-pw"}
	alice := mustCreate(t, b, "User", a)
	if got := alice.Attrs.Get("manager"); !slices.Equal(got, []string{boss.ID}) {
		t.Fatalf("manager = %q, want [%q]", got, boss.ID)
	}
	if alice.Attrs.Get("userPassword") != nil {
		t.Fatal("password read back")
	}
	e := srv.Entry(t, "uid=alice,"+s.ou.People, "*", "entryUUID")
	if e == nil {
		t.Fatal("uid=alice not in the directory")
	}
	if e.GetAttributeValue("entryUUID") != alice.ID {
		t.Fatalf("entryUUID %q, id %q", e.GetAttributeValue("entryUUID"), alice.ID)
	}
	if normDN(e.GetAttributeValue("manager")) != normDN("uid=boss,"+s.ou.People) {
		t.Fatalf("manager stored as %q", e.GetAttributeValue("manager"))
	}
	if pw := e.GetAttributeValue("userPassword"); !strings.HasPrefix(pw, "{SSHA}") {
		t.Fatalf("userPassword %q: want a server-side hash from the Password Modify operation", pw)
	}
	// The password works for a bind.
	c, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(e.DN, "s3cret-pw"); err != nil {
		t.Fatalf("bind with the new password: %v", err)
	}

	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"devs"}, "member": {alice.ID, boss.ID}})
	ge := srv.Entry(t, "cn=devs,"+s.ou.Groups, "member")
	if !equalSet(normAll(ge.GetAttributeValues("member")), normAll([]string{e.DN, "uid=boss," + s.ou.People})) {
		t.Fatalf("member values %q", ge.GetAttributeValues("member"))
	}
	// Reading without member reads no member values; memberOf comes from the overlay.
	if rec := mustGet(t, b, "Group", g.ID, "cn"); rec.Attrs.Get("member") != nil {
		t.Fatalf("member returned without being asked: %v", rec.Attrs)
	}
	if got := mustGet(t, b, "User", alice.ID).Attrs.Get("memberOf"); !slices.Equal(got, []string{g.ID}) {
		t.Fatalf("memberOf %q", got)
	}
	// An empty group holds the placeholder, which is never shown.
	mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModReplace, Attr: "member"})
	ge = srv.Entry(t, "cn=devs,"+s.ou.Groups, "member")
	if got := ge.GetAttributeValues("member"); len(got) != 1 || normDN(got[0]) != normDN("cn=nobody,dc=example,dc=org") {
		t.Fatalf("empty group stored %q", got)
	}
	if got := mustGet(t, b, "Group", g.ID).Attrs.Get("member"); got != nil {
		t.Fatalf("placeholder shown: %q", got)
	}

	// Errors map to sentinels.
	_, err = b.Create(ctx, "User", backends.Attrs{"uid": {"nosn"}, "cn": {"x"}})
	if !errors.Is(err, backends.ErrInvalid) || !strings.Contains(err.Error(), "sn") {
		t.Fatalf("missing sn: %v, want ErrInvalid naming sn", err)
	}
	// Only the mapping names attributes: one the directory does not define
	// is the configuration's fault.
	_, err = b.Create(ctx, "User", backends.Attrs{"uid": {"badattr"}, "cn": {"x"}, "sn": {"x"}, "noSuchAttr": {"x"}})
	if !errors.Is(err, backends.ErrConfig) {
		t.Fatalf("unknown attribute: %v, want ErrConfig", err)
	}
	_, err = b.Create(ctx, "User", user("alice"))
	if !errors.Is(err, backends.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = b.Modify(ctx, "User", alice.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "manager", Values: []string{"00000000-0000-0000-0000-000000000000"}}}, nil)
	if !errors.Is(err, backends.ErrInvalidReference) {
		t.Fatalf("unknown manager: %v", err)
	}
}

// TestPermission uses the read-only account.
func TestPermission(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	admin := newBackend(t, s)
	u := mustCreate(t, admin, "User", user("ro"))
	cfg, diags := decode(t, strings.NewReplacer(`env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.URL),
		`env("TEST_LDAP_BIND_DN")`, fmt.Sprintf("%q", ldaptest.ReaderDN),
		`env("TEST_LDAP_BIND_PASSWORD", "")`, fmt.Sprintf("%q", ldaptest.ReaderPassword)).Replace(s.hcl()))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	reader := startBackend(t, cfg)
	if got := mustGet(t, reader, "User", u.ID); got.Attrs.First("uid") != "ro" {
		t.Fatalf("reader Get: %v", got)
	}
	_, err := reader.Modify(ctxT(t), "User", u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "sn", Values: []string{"x"}}}, nil)
	if !errors.Is(err, backends.ErrPermission) {
		t.Fatalf("reader Modify: %v, want ErrPermission", err)
	}
	_, err = reader.Create(ctxT(t), "User", user("nope"))
	if !errors.Is(err, backends.ErrPermission) {
		t.Fatalf("reader Create: %v, want ErrPermission", err)
	}
}

// TestRenameKeepsIDAndMembership renames through the backend, with the
// bridge keeping references and with the server's overlays keeping them.
func TestRenameKeepsIDAndMembership(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	for _, mode := range []string{"bridge", "server"} {
		t.Run(mode, func(t *testing.T) {
			s := setup{srv: srv, ou: srv.NewOU(t), top: fmt.Sprintf("referential_integrity = %q", mode)}
			b := newBackend(t, s)
			u := mustCreate(t, b, "User", user("before"))
			g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"team"}, "member": {u.ID}})
			rec := mustModify(t, b, "User", u.ID, backends.Modification{Op: backends.ModReplace, Attr: "uid", Values: []string{"after,cn=admin"}})
			if rec.ID != u.ID || rec.Attrs.First("uid") != "after,cn=admin" {
				t.Fatalf("after rename: %+v", rec)
			}
			newDN := `uid=after\,cn=admin,` + s.ou.People
			if srv.Entry(t, newDN) == nil || srv.Entry(t, "uid=before,"+s.ou.People) != nil {
				t.Fatal("the entry was not renamed in the directory")
			}
			// refint may run after the response: poll briefly.
			deadline := time.Now().Add(5 * time.Second)
			for {
				got := srv.Entry(t, "cn=team,"+s.ou.Groups, "member").GetAttributeValues("member")
				if len(got) == 1 && normDN(got[0]) == normDN(newDN) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("group member after rename: %q", got)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := mustGet(t, b, "Group", g.ID).Attrs.Get("member"); !slices.Equal(got, []string{u.ID}) {
				t.Fatalf("members %q", got)
			}
		})
	}
}

// TestExternalRenameHeals renames behind the backend's back: the cached DN
// is stale, the backend finds the entry again by id.
func TestExternalRenameHeals(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	u := mustCreate(t, b, "User", user("ext"))
	mustGet(t, b, "User", u.ID) // cached
	b.cache.wait()
	if dn, ok := b.cache.dnOf("User", u.ID); !ok || normDN(dn) != normDN("uid=ext,"+s.ou.People) {
		t.Fatalf("cache holds %q %v", dn, ok)
	}
	c := srv.Conn(t)
	if err := c.ModifyDN(goldap.NewModifyDNRequest("uid=ext,"+s.ou.People, "uid=moved", true, "")); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, b, "User", u.ID).Attrs.First("uid"); got != "moved" {
		t.Fatalf("after external rename uid = %q", got)
	}
	b.cache.wait()
	if dn, _ := b.cache.dnOf("User", u.ID); normDN(dn) != normDN("uid=moved,"+s.ou.People) {
		t.Fatalf("cache not healed: %q", dn)
	}
	// Writes heal too: rename again outside, then modify.
	if err := c.ModifyDN(goldap.NewModifyDNRequest("uid=moved,"+s.ou.People, "uid=moved2", true, "")); err != nil {
		t.Fatal(err)
	}
	mustModify(t, b, "User", u.ID, backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Healed"}})
	if got := srv.Entry(t, "uid=moved2,"+s.ou.People, "sn").GetAttributeValue("sn"); got != "Healed" {
		t.Fatalf("sn = %q", got)
	}
	// A replaced entry (same DN, new entryUUID) is not the old record.
	if err := c.Del(goldap.NewDelRequest("uid=moved2,"+s.ou.People, nil)); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "User", user("moved2"))
	if _, err := b.Get(ctxT(t), "User", u.ID, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of the deleted id: %v", err)
	}
	// The metrics count the healed DNs (a read, a write, the replaced entry).
	if n := testutil.ToFloat64(b.metrics.stale); n != 3 {
		t.Fatalf("scimbridge_ldap_stale_dns_total = %v, want 3", n)
	}
}

// TestInjection writes and searches with hostile values and ids.
func TestInjection(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	ctx := ctxT(t)
	victim := mustCreate(t, b, "User", user("victim"))
	payloads := []string{"*", ")(", "x)(uid=*", `\00`, "a\x00b", ",cn=admin", "x,cn=admin,dc=example,dc=org",
		"+uid=y", "uid=z,ou=people", "#hash", " lead", "trail ", `back\slash`, `"quoted"`, "<angle>", "semi;colon", "x=y"}
	for _, p := range payloads {
		rec, err := b.Create(ctx, "User", user(p))
		if err != nil {
			if errors.Is(err, backends.ErrInvalid) {
				t.Logf("Create(%q) refused: %v", p, err)
				continue
			}
			t.Fatalf("Create(%q): %v", p, err)
		}
		got := mustGet(t, b, "User", rec.ID)
		if got.Attrs.First("uid") != p {
			t.Fatalf("uid %q stored as %q", p, got.Attrs.First("uid"))
		}
		// Exactly one entry, directly below the people OU.
		es := srv.Search(t, ldaptest.BaseDN, fmt.Sprintf("(entryUUID=%s)", rec.ID))
		if len(es) != 1 {
			t.Fatalf("%q: %d entries", p, len(es))
		}
		parsed, _ := goldap.ParseDN(es[0].DN)
		people, _ := goldap.ParseDN(s.ou.People)
		if len(parsed.RDNs) != len(people.RDNs)+1 || !people.AncestorOfFold(parsed) {
			t.Fatalf("%q created at %s", p, es[0].DN)
		}
		// Searching for the value finds exactly that record.
		page, err := b.Search(ctx, "User", backends.Query{Filter: backends.Compare{Attr: "uid", Op: backends.Eq, Value: p, IgnoreCase: true}})
		if err != nil || len(page.Records) != 1 || page.Records[0].ID != rec.ID {
			t.Fatalf("Search uid eq %q: %v %v", p, page, err)
		}
		for _, op := range []backends.Op{backends.Co, backends.Sw, backends.Ew} {
			page, err := b.Search(ctx, "User", backends.Query{Filter: backends.Compare{Attr: "uid", Op: op, Value: p}})
			if err != nil {
				t.Fatalf("Search uid %s %q: %v", op, p, err)
			}
			for _, r := range page.Records {
				if r.ID == victim.ID {
					t.Fatalf("uid %s %q matched the victim", op, p)
				}
			}
		}
	}
	// Hostile ids and member ids find nothing and write nothing.
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"guarded"}})
	for _, id := range append(payloads, "*", victim.ID+")(uid=*", "00000000-0000-0000-0000-000000000000") {
		if _, err := b.Get(ctx, "User", id, nil); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Get(%q): %v", id, err)
		}
		if err := b.Delete(ctx, "User", id); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Delete(%q): %v", id, err)
		}
		_, err := b.Modify(ctx, "Group", g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "member", Values: []string{id}}}, nil)
		if !errors.Is(err, backends.ErrInvalidReference) {
			t.Fatalf("ModAdd member %q: %v", id, err)
		}
		page, err := b.Search(ctx, "Group", backends.Query{Filter: backends.Compare{Attr: "member", Op: backends.Eq, Value: id}})
		if err != nil || page.Total != 0 {
			t.Fatalf("Search member eq %q: %v %v", id, page, err)
		}
	}
	if got := srv.Entry(t, "cn=guarded,"+s.ou.Groups, "member").GetAttributeValues("member"); len(got) != 1 || !strings.HasPrefix(got[0], "cn=nobody") {
		t.Fatalf("guarded group members %q", got)
	}
	// Filter attribute names are checked, not pasted.
	_, err := b.Search(ctx, "User", backends.Query{Filter: backends.Present{Attr: "uid=*)(objectClass"}})
	if !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("bad attribute name: %v", err)
	}
	// Nothing outside the OU was touched.
	if srv.Entry(t, ldaptest.AdminDN) != nil {
		t.Fatal("an entry appeared at the admin DN")
	}
	for _, e := range srv.Search(t, ldaptest.BaseDN, "(objectClass=inetOrgPerson)", "1.1") {
		p, err := goldap.ParseDN(e.DN)
		inPeople := err == nil && len(p.RDNs) == 5 && strings.EqualFold(p.RDNs[1].String(), "ou=people")
		// TestDisabledContainer's disabled users (ou=disabled,ou=people).
		inDisabled := err == nil && len(p.RDNs) == 6 && strings.EqualFold(p.RDNs[1].String(), "ou=disabled") &&
			strings.EqualFold(p.RDNs[2].String(), "ou=people")
		if !inPeople && !inDisabled {
			t.Fatalf("user entry outside a people OU: %s", e.DN)
		}
	}
}

// TestBigMemberAdd adds 10,000 members in one Modify: one LDAP modify.
func TestBigMemberAdd(t *testing.T) {
	srv := ldaptest.Shared(t)
	// The memberof overlay updates each new member inside the one modify
	// (about 7s for 10,000 here), hence the longer operation timeout.
	s := setup{srv: srv, ou: srv.NewOU(t), timeout: "90s"}
	b := newBackend(t, s)
	ctx := ctxT(t)
	const n = 10000
	// Bulk-load the users directly; the backend is measured, not the setup.
	srv.AddUsers(t, s.ou.People, "bulk", n)
	page, err := b.Search(ctx, "User", backends.Query{Attrs: []string{"uid"}})
	if err != nil || page.Total != n {
		t.Fatalf("Search: total %d, %v", page.Total, err)
	}
	ids := make([]string, 0, n)
	for _, r := range page.Records {
		ids = append(ids, r.ID)
	}
	one := mustCreate(t, b, "User", user("first"))
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"big"}, "member": {one.ID}})

	// As a bridge asks: the group without its member list.
	groupAttrs := []string{"cn", "description"}
	before := b.modifies.Load()
	start := time.Now()
	rec := mustModifyAs(t, b, "Group", g.ID, groupAttrs, backends.Modification{Op: backends.ModAdd, Attr: "member", Values: ids})
	took := time.Since(start)
	if got := b.modifies.Load() - before; got != 1 {
		t.Fatalf("%d LDAP modify requests for one ModAdd of %d members, want 1", got, n)
	}
	t.Logf("ModAdd of %d members: %v", n, took)
	if took > 30*time.Second {
		t.Fatalf("ModAdd of %d members took %v", n, took)
	}
	if rec.Attrs.Get("member") != nil {
		t.Fatal("Modify read the member list back")
	}
	if got, err := b.Get(context.Background(), "Group", g.ID, []string{"member"}); err != nil || len(got.Attrs.Get("member")) != n+1 {
		t.Fatalf("Get after ModAdd: %d members (%v), want %d", len(got.Attrs.Get("member")), err, n+1)
	}
	if got := len(srv.Entry(t, "cn=big,"+s.ou.Groups, "member").GetAttributeValues("member")); got != n+1 {
		t.Fatalf("directory holds %d members, want %d", got, n+1)
	}
	// Removing one member is one modify with one value, and the result
	// of a name change does not carry the member list.
	before = b.modifies.Load()
	mustModifyAs(t, b, "Group", g.ID, groupAttrs, backends.Modification{Op: backends.ModDelete, Attr: "member", Values: []string{ids[17]}})
	rec = mustModifyAs(t, b, "Group", g.ID, groupAttrs, backends.Modification{Op: backends.ModReplace, Attr: "description", Values: []string{"large"}})
	if got := b.modifies.Load() - before; got != 2 {
		t.Fatalf("%d modify requests for two small changes", got)
	}
	if rec.Attrs.Get("member") != nil {
		t.Fatal("Modify result carries the unmodified member list")
	}
	if got := len(srv.Entry(t, "cn=big,"+s.ou.Groups, "member").GetAttributeValues("member")); got != n {
		t.Fatalf("directory holds %d members, want %d", got, n)
	}
}

// TestGroupKinds runs membership on groupOfUniqueNames and posixGroup.
func TestGroupKinds(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	cases := []struct {
		name, classes, ref, attr string
		stored                   func(ou ldaptest.OU, uid string) string
		extra                    backends.Attrs
	}{
		{"groupOfUniqueNames", `["groupOfUniqueNames"]`, `reference "uniqueMember" {
      target = "User"
      empty_placeholder = "cn=nobody,dc=example,dc=org"
    }`, "uniqueMember", func(ou ldaptest.OU, uid string) string { return normDN("uid=" + uid + "," + ou.People) }, nil},
		{"posixGroup", `["posixGroup"]`, `reference "memberUid" {
      target = "User"
      value_kind = "rdn"
    }`, "memberUid", func(_ ldaptest.OU, uid string) string { return strings.ToLower(uid) }, backends.Attrs{"gidNumber": {"5000"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup{srv: srv, ou: srv.NewOU(t), groupClasses: tc.classes, group: tc.ref,
				user: `reference "groups" {
      target = "Group"
      inverse_of = "` + tc.attr + `"
    }`}
			b := newBackend(t, s)
			u1 := mustCreate(t, b, "User", user("one"))
			u2 := mustCreate(t, b, "User", user("two"))
			attrs := backends.Attrs{"cn": {"kind"}, tc.attr: {u1.ID}}
			for k, v := range tc.extra {
				attrs[k] = v
			}
			g := mustCreate(t, b, "Group", attrs)
			stored := func() []string {
				var out []string
				for _, v := range srv.Entry(t, "cn=kind,"+s.ou.Groups, tc.attr).GetAttributeValues(tc.attr) {
					if strings.HasPrefix(v, "cn=nobody,") {
						continue // the placeholder of an empty groupOfUniqueNames
					}
					if tc.attr == "memberUid" {
						out = append(out, strings.ToLower(v))
					} else {
						out = append(out, normDN(v))
					}
				}
				return out
			}
			want := func(uids ...string) {
				t.Helper()
				var w []string
				for _, u := range uids {
					w = append(w, tc.stored(s.ou, u))
				}
				if got := stored(); !equalSet(got, w) {
					t.Fatalf("stored %s = %q, want %q", tc.attr, got, w)
				}
			}
			want("one")
			mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModAdd, Attr: tc.attr, Values: []string{u2.ID, u1.ID}})
			want("one", "two")
			if got := mustGet(t, b, "Group", g.ID).Attrs.Get(tc.attr); !equalSet(got, []string{u1.ID, u2.ID}) {
				t.Fatalf("members %q", got)
			}
			if got := mustGet(t, b, "User", u2.ID).Attrs.Get("groups"); !slices.Equal(got, []string{g.ID}) {
				t.Fatalf("computed groups %q", got)
			}
			page, err := b.Search(ctxT(t), "Group", backends.Query{Filter: backends.Compare{Attr: tc.attr, Op: backends.Eq, Value: u2.ID}})
			if err != nil || len(page.Records) != 1 {
				t.Fatalf("member filter: %v %v", page, err)
			}
			// Renaming a user keeps the membership (memberUid rewritten by the bridge).
			mustModify(t, b, "User", u2.ID, backends.Modification{Op: backends.ModReplace, Attr: "uid", Values: []string{"deux"}})
			want("one", "deux")
			if got := mustGet(t, b, "Group", g.ID).Attrs.Get(tc.attr); !equalSet(got, []string{u1.ID, u2.ID}) {
				t.Fatalf("members after rename %q", got)
			}
			// Deleting a user removes it.
			if err := b.Delete(ctxT(t), "User", u1.ID); err != nil {
				t.Fatal(err)
			}
			want("deux")
			mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModDelete, Attr: tc.attr, Values: []string{u2.ID}})
			want()
			if got := mustGet(t, b, "Group", g.ID).Attrs.Get(tc.attr); got != nil {
				t.Fatalf("members of the empty group %q", got)
			}
		})
	}
}

// TestPagingLinear reads all users page by page and counts the entries the
// server sent (cn=Monitor) and the backend read: O(N), not O(N²).
func TestPagingLinear(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	ctx := ctxT(t)
	const n, pageSize = 600, 20
	srv.AddUsers(t, s.ou.People, "p", n)
	settle(b) // the users were added behind the backend's back
	sentBefore := srv.MonitorCounter(t, "cn=Entries,cn=Statistics", "monitorCounter")
	readBefore := b.entriesRead.Load()
	var all []string
	for start := 1; start <= n; start += pageSize {
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: pageSize})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != n || len(p.Records) != pageSize {
			t.Fatalf("page %d: %d records, total %d", start, len(p.Records), p.Total)
		}
		for _, r := range p.Records {
			all = append(all, r.ID)
		}
	}
	read := b.entriesRead.Load() - readBefore
	sent := srv.MonitorCounter(t, "cn=Entries,cn=Statistics", "monitorCounter") - sentBefore
	t.Logf("%d users in pages of %d: backend read %d entries, server sent %d", n, pageSize, read, sent)
	if len(slices.Compact(sortedCopy(all))) != n {
		t.Fatal("pages repeated or skipped records")
	}
	// One count of DNs plus one read of the entries: 2N, plus the first
	// page read once more by the single-search attempt that answers small
	// results without a cursor (and the monitor's own entry); a rescan per
	// page would be ~N²/(2*pageSize) = 9000.
	if read > 2*n+pageSize+10 || sent > 2*n+pageSize+50 {
		t.Fatalf("paging is not linear: read %d, sent %d for %d users", read, sent, n)
	}
	// The order is stable: read again with another page size.
	var again []string
	for start := 1; start <= n; start += 33 {
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: 33})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			again = append(again, r.ID)
		}
	}
	if !slices.Equal(all, again) {
		t.Fatal("order differs between page sizes")
	}
	// Sorted paging goes through a snapshot: also linear.
	readBefore = b.entriesRead.Load()
	var sorted []string
	for start := 1; start <= n; start += pageSize {
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: pageSize, SortBy: "uid", Attrs: []string{"uid"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			sorted = append(sorted, r.Attrs.First("uid"))
		}
	}
	if !slices.IsSorted(sorted) || len(sorted) != n {
		t.Fatalf("sorted paging returned %d, sorted=%v", len(sorted), slices.IsSorted(sorted))
	}
	if read := b.entriesRead.Load() - readBefore; read > 2*n+10 {
		t.Fatalf("sorted paging read %d entries for %d users", read, n)
	}
}

// TestUnknownIDs: by default a member id that names no entry refuses the
// whole write; with unknown_ids = "ignore" it is left out and the rest is
// written. Neither writes a dangling DN.
func TestUnknownIDs(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	const ghost = "00000000-0000-0000-0000-000000000000"
	members := func(t *testing.T, ou ldaptest.OU, cn string) []string {
		var out []string
		for _, v := range srv.Entry(t, "cn="+cn+","+ou.Groups, "member").GetAttributeValues("member") {
			if !strings.HasPrefix(v, "cn=nobody,") {
				out = append(out, normDN(v))
			}
		}
		return out
	}

	t.Run("reject", func(t *testing.T) {
		t.Parallel()
		s := setup{srv: srv, ou: srv.NewOU(t)}
		b := newBackend(t, s)
		ctx := ctxT(t)
		u := mustCreate(t, b, "User", user("real"))
		if _, err := b.Create(ctx, "Group", backends.Attrs{"cn": {"g"}, "member": {u.ID, ghost}}); !errors.Is(err, backends.ErrInvalidReference) {
			t.Fatalf("create with an unknown member: %v, want ErrInvalidReference", err)
		}
		if e := srv.Entry(t, "cn=g,"+s.ou.Groups, "member"); e != nil {
			t.Fatalf("refused create left an entry: %v", e.GetAttributeValues("member"))
		}
		g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"g"}})
		_, err := b.Modify(ctx, "Group", g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "member", Values: []string{u.ID, ghost}}}, nil)
		if !errors.Is(err, backends.ErrInvalidReference) || !strings.Contains(err.Error(), ghost) {
			t.Fatalf("add of an unknown member: %v, want ErrInvalidReference naming the id", err)
		}
		if got := members(t, s.ou, "g"); len(got) != 0 {
			t.Fatalf("refused add wrote %q", got)
		}
	})

	t.Run("ignore", func(t *testing.T) {
		t.Parallel()
		s := setup{srv: srv, ou: srv.NewOU(t), group: `reference "member" {
      target = "User"
      empty_placeholder = "cn=nobody,dc=example,dc=org"
      unknown_ids = "ignore"
    }`}
		b := newBackend(t, s)
		u1 := mustCreate(t, b, "User", user("one"))
		u2 := mustCreate(t, b, "User", user("two"))
		want1 := normDN("uid=one," + s.ou.People)
		want2 := normDN("uid=two," + s.ou.People)
		g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"g"}, "member": {ghost, u1.ID}})
		if got := members(t, s.ou, "g"); !equalSet(got, []string{want1}) {
			t.Fatalf("create stored %q, want only %q", got, want1)
		}
		mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModAdd, Attr: "member", Values: []string{ghost, u2.ID}})
		if got := members(t, s.ou, "g"); !equalSet(got, []string{want1, want2}) {
			t.Fatalf("add stored %q", got)
		}
		// Only unknown ids: nothing to add, nothing changes.
		mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModAdd, Attr: "member", Values: []string{ghost}})
		mustModify(t, b, "Group", g.ID, backends.Modification{Op: backends.ModReplace, Attr: "member", Values: []string{u2.ID, ghost}})
		if got := members(t, s.ou, "g"); !equalSet(got, []string{want2}) {
			t.Fatalf("replace stored %q, want only %q", got, want2)
		}
		if got := mustGet(t, b, "Group", g.ID).Attrs.Get("member"); !slices.Equal(got, []string{u2.ID}) {
			t.Fatalf("read back %q", got)
		}
	})
}

// TestDisabledContainer: with disabled_base_dn, deactivating moves the entry
// into the container and reactivating moves it back; the id, the group
// memberships (refint) and the other attributes stay, and the virtual
// attribute reads and filters by where the entry lies.
func TestDisabledContainer(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	disabled := "ou=disabled," + ou.People
	srv.AddOU(t, disabled)
	s := setup{srv: srv, ou: ou, user: `disabled_base_dn = "` + disabled + `"
    reference "memberOf" {
      target = "Group"
      read_only = true
    }`}
	b := newBackend(t, s)
	ctx := ctxT(t)
	active := func(t *testing.T, id string) string {
		t.Helper()
		return strings.Join(mustGet(t, b, "User", id, activeAttr).Attrs.Get(activeAttr), ",")
	}

	alice := mustCreate(t, b, "User", user("alice"))
	if got := alice.Attrs.Get(activeAttr); !slices.Equal(got, []string{"TRUE"}) {
		t.Fatalf("new user %s = %q, want TRUE", activeAttr, got)
	}
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"staff"}, "member": {alice.ID}})

	// Deactivate: the entry moves; its id, attributes and membership stay.
	rec := mustModify(t, b, "User", alice.ID, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"FALSE"}})
	if got := rec.Attrs.Get(activeAttr); !slices.Equal(got, []string{"FALSE"}) {
		t.Fatalf("after deactivation %s = %q", activeAttr, got)
	}
	if srv.Entry(t, "uid=alice,"+ou.People) != nil {
		t.Fatal("uid=alice still in the active container")
	}
	e := srv.Entry(t, "uid=alice,"+disabled, "entryUUID", "sn", "memberOf")
	if e == nil || e.GetAttributeValue("entryUUID") != alice.ID || e.GetAttributeValue("sn") != "Family alice" {
		t.Fatalf("disabled entry %+v", e)
	}
	members := srv.Entry(t, "cn=staff,"+ou.Groups, "member").GetAttributeValues("member")
	if !equalSet(normAll(members), []string{normDN("uid=alice," + disabled)}) {
		t.Fatalf("group member after the move %q", members)
	}
	if got := mustGet(t, b, "Group", g.ID).Attrs.Get("member"); !slices.Equal(got, []string{alice.ID}) {
		t.Fatalf("group read back %q", got)
	}
	if got := active(t, alice.ID); got != "FALSE" {
		t.Fatalf("read %s = %q", activeAttr, got)
	}
	// Deactivating again changes nothing.
	mustModify(t, b, "User", alice.ID, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"false"}})
	if srv.Entry(t, "uid=alice,"+disabled) == nil {
		t.Fatal("second deactivation moved the entry")
	}

	// Filters see where entries lie.
	bob := mustCreate(t, b, "User", user("bob"))
	for _, tc := range []struct {
		f    backends.Filter
		want []string
	}{
		{backends.Compare{Attr: activeAttr, Op: backends.Eq, Value: "false", Kind: backends.KindBool, IgnoreCase: true}, []string{alice.ID}},
		{backends.Compare{Attr: activeAttr, Op: backends.Eq, Value: "true", Kind: backends.KindBool, IgnoreCase: true}, []string{bob.ID}},
		{backends.Not{Filter: backends.Compare{Attr: activeAttr, Op: backends.Eq, Value: "true", Kind: backends.KindBool, IgnoreCase: true}}, []string{alice.ID}},
		{backends.And{Filters: []backends.Filter{backends.Present{Attr: activeAttr}, backends.Compare{Attr: "uid", Op: backends.Eq, Value: "ALICE", IgnoreCase: true}}}, []string{alice.ID}},
	} {
		page, err := b.Search(ctx, "User", backends.Query{Filter: tc.f, Count: 10, Attrs: []string{"uid", activeAttr}})
		if err != nil {
			t.Fatalf("%v: %v", tc.f, err)
		}
		var got []string
		for _, r := range page.Records {
			got = append(got, r.ID)
		}
		if !equalSet(got, tc.want) || page.Total != len(tc.want) {
			t.Fatalf("%v: %q (total %d), want %q", tc.f, got, page.Total, tc.want)
		}
	}

	// A name is unique across both containers.
	if _, err := b.Create(ctx, "User", user("alice")); !errors.Is(err, backends.ErrAlreadyExists) {
		t.Fatalf("creating a name a disabled user has: %v, want ErrAlreadyExists", err)
	}
	if _, err := b.Modify(ctx, "User", bob.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "uid", Values: []string{"alice"}}}, nil); !errors.Is(err, backends.ErrAlreadyExists) {
		t.Fatalf("renaming to a disabled user's name: %v, want ErrAlreadyExists", err)
	}
	if srv.Entry(t, "uid=bob,"+ou.People) == nil {
		t.Fatal("refused rename moved bob")
	}
	if _, err := b.Modify(ctx, "User", bob.ID, []backends.Modification{{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"maybe"}}}, nil); !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("active = maybe: %v, want ErrInvalid", err)
	}

	// Rename and reactivate in one change: one ModifyDN with a new superior.
	mustModify(t, b, "User", alice.ID,
		backends.Modification{Op: backends.ModReplace, Attr: "uid", Values: []string{"alice2"}},
		backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"TRUE"}},
		backends.Modification{Op: backends.ModReplace, Attr: "title", Values: []string{"back"}})
	e = srv.Entry(t, "uid=alice2,"+ou.People, "entryUUID", "title")
	if e == nil || e.GetAttributeValue("entryUUID") != alice.ID || e.GetAttributeValue("title") != "back" {
		t.Fatalf("reactivated entry %+v", e)
	}
	if srv.Entry(t, "uid=alice,"+disabled) != nil || srv.Entry(t, "uid=alice2,"+disabled) != nil {
		t.Fatal("entry left in the disabled container")
	}
	members = srv.Entry(t, "cn=staff,"+ou.Groups, "member").GetAttributeValues("member")
	if !equalSet(normAll(members), []string{normDN("uid=alice2," + ou.People)}) {
		t.Fatalf("group member after reactivation %q", members)
	}

	// A user created inactive is placed in the container at once.
	c := user("carol")
	c[activeAttr] = []string{"FALSE"}
	carol := mustCreate(t, b, "User", c)
	if srv.Entry(t, "uid=carol,"+disabled) == nil || active(t, carol.ID) != "FALSE" {
		t.Fatal("inactive create not placed in the disabled container")
	}
	// A failed modify after a move puts the entry back where it was.
	_, err := b.Modify(ctx, "User", carol.ID, []backends.Modification{
		{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"TRUE"}},
		{Op: backends.ModReplace, Attr: "noSuchAttribute", Values: []string{"x"}}}, nil)
	if !errors.Is(err, backends.ErrConfig) {
		t.Fatalf("modify with an unknown attribute: %v, want ErrConfig", err)
	}
	if srv.Entry(t, "uid=carol,"+disabled) == nil || srv.Entry(t, "uid=carol,"+ou.People) != nil {
		t.Fatal("failed modify left the entry moved")
	}
}

// TestDisabledContainerCreated: with create_disabled_container the bridge
// adds the container at start, and again when it was removed; without it
// a missing container is an error that names it (never a 404 for the
// user); an account that may not add it stops the backend from starting.
func TestDisabledContainerCreated(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	ctx := ctxT(t)
	withContainer := func(ou ldaptest.OU, create bool) setup {
		return setup{srv: srv, ou: ou, user: fmt.Sprintf(`disabled_base_dn = "ou=disabled,%s"
    create_disabled_container = %v`, ou.People, create)}
	}
	deactivate := backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"FALSE"}}

	t.Run("missing", func(t *testing.T) {
		ou := srv.NewOU(t)
		b := newBackend(t, withContainer(ou, false))
		alice := mustCreate(t, b, "User", user("alice"))
		_, err := b.Modify(ctx, "User", alice.ID, []backends.Modification{deactivate}, nil)
		if !errors.Is(err, errNoContainer) || errors.Is(err, backends.ErrNotFound) || !strings.Contains(err.Error(), "ou=disabled,"+ou.People) {
			t.Fatalf("deactivating without the container: %v", err)
		}
		c := user("carol")
		c[activeAttr] = []string{"FALSE"}
		if _, err := b.Create(ctx, "User", c); !errors.Is(err, errNoContainer) {
			t.Fatalf("creating an inactive user without the container: %v", err)
		}
		if srv.Entry(t, "uid=alice,"+ou.People) == nil || srv.Entry(t, "ou=disabled,"+ou.People) != nil {
			t.Fatal("the failed deactivation changed the tree")
		}
	})

	t.Run("created", func(t *testing.T) {
		ou := srv.NewOU(t)
		b := newBackend(t, withContainer(ou, true))
		e := srv.Entry(t, "ou=disabled,"+ou.People, "objectClass", "ou")
		if e == nil || !slices.Contains(e.GetAttributeValues("objectClass"), "organizationalUnit") || e.GetAttributeValue("ou") != "disabled" {
			t.Fatalf("container after start: %+v", e)
		}
		// A second backend finds it there.
		newBackend(t, withContainer(ou, true))
		alice := mustCreate(t, b, "User", user("alice"))
		mustModify(t, b, "User", alice.ID, deactivate)
		if srv.Entry(t, "uid=alice,ou=disabled,"+ou.People) == nil {
			t.Fatal("not moved into the created container")
		}
		mustModify(t, b, "User", alice.ID, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"TRUE"}})
		// Removed behind the bridge's back: created again on the next
		// move, and on the next inactive create.
		if err := srv.Conn(t).Del(goldap.NewDelRequest("ou=disabled,"+ou.People, nil)); err != nil {
			t.Fatal(err)
		}
		rec := mustModify(t, b, "User", alice.ID, deactivate)
		if got := rec.Attrs.Get(activeAttr); !slices.Equal(got, []string{"FALSE"}) || srv.Entry(t, "uid=alice,ou=disabled,"+ou.People) == nil {
			t.Fatalf("deactivation after the container was removed: %q", got)
		}
		mustModify(t, b, "User", alice.ID, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"TRUE"}})
		if err := srv.Conn(t).Del(goldap.NewDelRequest("ou=disabled,"+ou.People, nil)); err != nil {
			t.Fatal(err)
		}
		c := user("carol")
		c[activeAttr] = []string{"FALSE"}
		carol := mustCreate(t, b, "User", c)
		if srv.Entry(t, "uid=carol,ou=disabled,"+ou.People) == nil || carol.Attrs.First(activeAttr) != "FALSE" {
			t.Fatal("inactive create after the container was removed")
		}
	})

	t.Run("refused", func(t *testing.T) {
		ou := srv.NewOU(t)
		s := withContainer(ou, true)
		text := strings.NewReplacer(`env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.URL),
			`env("TEST_LDAP_BIND_DN")`, fmt.Sprintf("%q", ldaptest.ReaderDN),
			`env("TEST_LDAP_BIND_PASSWORD", "")`, fmt.Sprintf("%q", ldaptest.ReaderPassword)).Replace(s.hcl())
		cfg, diags := decode(t, text)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		b, err := New(ctx, cfg, nil)
		if err == nil {
			b.Close()
			t.Fatal("New succeeded with an account that cannot add the container")
		}
		if !errors.Is(err, backends.ErrPermission) || !strings.Contains(err.Error(), "creating the disabled container ou=disabled,"+ou.People) {
			t.Fatalf("New: %v", err)
		}
		if srv.Entry(t, "ou=disabled,"+ou.People) != nil {
			t.Fatal("the container exists")
		}
	})
}
