package ldap

import (
	"reflect"
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// directoryCalls counts the backend's directory calls so far, whatever
// their result.
func directoryCalls(t *testing.T, b *Backend) int {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.metrics.calls)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return int(n)
}

// TestMemberAddOneModify: adding a member to a group whose DN is cached is
// one search for the member's id and one modify of the group, on slapd
// with the memberof overlay: no search to verify the group's DN, no
// compare for the placeholder. The placeholder goes exactly when it is
// there, the memberof overlay still updates the member (and the one
// removed), and the answer equals a Get after it.
func TestMemberAddOneModify(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	ctx := ctxT(t)
	var ids, dns []string
	for _, n := range []string{"ma", "mb", "mc"} {
		ids = append(ids, mustCreate(t, b, "User", user(n)).ID)
		dns = append(dns, "uid="+n+","+s.ou.People)
	}
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"team"}})
	gdn := "cn=team," + s.ou.Groups
	groupAttrs := []string{"cn", "description"}
	members := func() []string {
		return normAll(srv.Entry(t, gdn, "member").GetAttributeValues("member"))
	}
	memberOf := func(i int) []string {
		return normAll(srv.Entry(t, dns[i], "memberOf").GetAttributeValues("memberOf"))
	}
	if got := members(); !slices.Equal(got, []string{normDN(placeholderDN)}) {
		t.Fatalf("empty group holds %v, want the placeholder", got)
	}
	add := func(op backends.ModOp, i int) (backends.Record, int, int) {
		t.Helper()
		calls, mods := directoryCalls(t, b), int(b.modifies.Load())
		// As Okta pushes an assignment: the group's name to itself, and
		// the member.
		rec, err := b.Modify(ctx, "Group", g.ID, []backends.Modification{
			{Op: backends.ModReplace, Attr: "cn", Values: []string{"team"}},
			{Op: op, Attr: "member", Values: []string{ids[i]}}}, groupAttrs)
		if err != nil {
			t.Fatalf("Modify %v %d: %v", op, i, err)
		}
		calls, mods = directoryCalls(t, b)-calls, int(b.modifies.Load())-mods
		if got := mustGet(t, b, "Group", g.ID, groupAttrs...); !reflect.DeepEqual(rec, got) {
			t.Errorf("the answer of %v %d is %+v, the Get after it %+v", op, i, rec, got)
		}
		return rec, calls, mods
	}

	// Into the empty group: the placeholder goes.
	add(backends.ModAdd, 0)
	if got := members(); !slices.Equal(got, []string{normDN(dns[0])}) {
		t.Fatalf("after the first add the group holds %v, want only %s", got, dns[0])
	}
	// Into a group with members: one search for the member's id (a write
	// verifies it), one modify.
	_, calls, mods := add(backends.ModAdd, 1)
	if calls != 2 || mods != 1 {
		t.Errorf("adding a member took %d directory calls (%d modifies), want 2 (1)", calls, mods)
	}
	if got, want := members(), normAll([]string{dns[0], dns[1]}); !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Fatalf("group holds %v, want %v", got, want)
	}
	for i := range 2 {
		if got := memberOf(i); !slices.Equal(got, []string{normDN(gdn)}) {
			t.Errorf("member %d: memberOf %v, want the group (the memberof overlay's update was refused?)", i, got)
		}
	}
	// Removing: memberOf goes too; removing the last puts the placeholder
	// back, and the next add takes it out again.
	_, calls, _ = add(backends.ModDelete, 1)
	if calls != 1 {
		t.Errorf("removing a member took %d directory calls, want 1", calls)
	}
	if got := memberOf(1); len(got) != 0 {
		t.Errorf("removed member: memberOf %v, want none", got)
	}
	add(backends.ModDelete, 0)
	if got := members(); !slices.Equal(got, []string{normDN(placeholderDN)}) {
		t.Fatalf("emptied group holds %v, want the placeholder", got)
	}
	add(backends.ModAdd, 2)
	if got := members(); !slices.Equal(got, []string{normDN(dns[2])}) {
		t.Fatalf("group holds %v, want only %s", got, dns[2])
	}
	if got := memberOf(2); !slices.Equal(got, []string{normDN(gdn)}) {
		t.Errorf("member 2: memberOf %v, want the group", got)
	}
}

// TestMemberAddStaleGroupDN: the group is renamed outside the bridge and
// another group takes its old DN, which the bridge still has cached. A
// member add goes to the renamed group; the one at the old DN is left
// alone, with or without its placeholder.
func TestMemberAddStaleGroupDN(t *testing.T) {
	srv := ldaptest.Shared(t)
	for _, impostorEmpty := range []bool{true, false} {
		s := setup{srv: srv, ou: srv.NewOU(t)}
		b := newBackend(t, s)
		u1 := mustCreate(t, b, "User", user("sa"))
		u2 := mustCreate(t, b, "User", user("sb"))
		g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"old"}, "member": {u1.ID}})
		c := srv.Conn(t)
		oldDN, newDN := "cn=old,"+s.ou.Groups, "cn=new,"+s.ou.Groups
		if err := c.ModifyDN(goldap.NewModifyDNRequest(oldDN, "cn=new", true, "")); err != nil {
			t.Fatal(err)
		}
		impostor := goldap.NewAddRequest(oldDN, nil)
		impostor.Attribute("objectClass", []string{"groupOfNames"})
		impostor.Attribute("cn", []string{"old"})
		want := []string{placeholderDN}
		if !impostorEmpty {
			want = []string{"uid=sa," + s.ou.People}
		}
		impostor.Attribute("member", want)
		if err := c.Add(impostor); err != nil {
			t.Fatal(err)
		}
		rec := mustModifyAs(t, b, "Group", g.ID, []string{"cn"}, backends.Modification{Op: backends.ModAdd, Attr: "member", Values: []string{u2.ID}})
		if rec.ID != g.ID || !slices.Equal(rec.Attrs.Get("cn"), []string{"new"}) {
			t.Errorf("answer %+v, want the renamed group", rec)
		}
		if got := normAll(srv.Entry(t, oldDN, "member").GetAttributeValues("member")); !slices.Equal(got, normAll(want)) {
			t.Errorf("the entry at the stale DN holds %v, want %v untouched", got, want)
		}
		got := normAll(srv.Entry(t, newDN, "member").GetAttributeValues("member"))
		if wantNew := normAll([]string{"uid=sa," + s.ou.People, "uid=sb," + s.ou.People}); !slices.Equal(sortedCopy(got), sortedCopy(wantNew)) {
			t.Errorf("the renamed group holds %v, want %v", got, wantNew)
		}
	}
}

// TestManyMembersAnswer: a change of more members than one assertion
// names takes the general path, without the post-read control (slapd's
// memberof overlay would build a post-read entry for every member it
// updates); the answer still equals the Get after it and every member's
// memberOf follows.
func TestManyMembersAnswer(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	var ids []string
	n := 2*memberControlValues + idChunk + 1 // more than one chunk of ids too
	srv.AddUsers(t, s.ou.People, "mm", n)
	page, err := b.Search(ctxT(t), "User", backends.Query{Attrs: []string{"uid"}})
	if err != nil || len(page.Records) != n {
		t.Fatalf("Search: %d users, %v", len(page.Records), err)
	}
	for _, r := range page.Records {
		ids = append(ids, r.ID)
	}
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"many"}})
	attrs := []string{"cn", "description"}
	rec := mustModifyAs(t, b, "Group", g.ID, attrs, backends.Modification{Op: backends.ModAdd, Attr: "member", Values: ids})
	if got := mustGet(t, b, "Group", g.ID, attrs...); !reflect.DeepEqual(rec, got) {
		t.Errorf("the answer is %+v, the Get after it %+v", rec, got)
	}
	gdn := "cn=many," + s.ou.Groups
	vals := srv.Entry(t, gdn, "member").GetAttributeValues("member")
	if len(vals) != n || slices.ContainsFunc(vals, func(v string) bool { return normDN(v) == normDN(placeholderDN) }) {
		t.Fatalf("group holds %d values (placeholder: %v), want the %d members", len(vals), len(vals) != n, n)
	}
	for _, e := range srv.Search(t, s.ou.People, "(objectClass=inetOrgPerson)", "memberOf") {
		if got := normAll(e.GetAttributeValues("memberOf")); !slices.Equal(got, []string{normDN(gdn)}) {
			t.Fatalf("%s: memberOf %v, want the group", e.DN, got)
		}
	}
}
