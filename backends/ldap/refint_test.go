package ldap

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// TestMoveBackWithRefint deactivates and reactivates users (a move out to
// the disabled container and back) while other clients rename and delete
// entries on the same slapd, whose refint overlay rewrites member values
// in a background task: a task of the move out that runs after the move
// back rewrites the group's member value to the disabled DN (and memberof
// drops the user's memberOf) until the task of the move back undoes it.
// The backend's answers and reads must not show that interval: every read
// of a user has its group, and so does every read of the group.
// refintLab is a slapd of its own with users mb<i>, each the member of a
// group mbg<i>, and a backend that deactivates by moving them into
// ou=disabled; while the test runs, other clients rename entries there
// all the time, so that refint's background task lags behind.
type refintLab struct {
	srv         *ldaptest.Server
	s           setup
	b           *Backend
	ids, groups []string
}

func newRefintLab(t *testing.T) *refintLab {
	if testing.Short() {
		t.Skip("starts a slapd of its own")
	}
	// A server of its own: the load below would slow refint's task, a
	// search of the whole database per rename, for every other test.
	srv := ldaptest.Own(t, ldaptest.Options{})
	s := setup{srv: srv, ou: srv.NewOU(t)}
	dis := "ou=disabled," + s.ou.People
	srv.AddOU(t, dis)
	s.user = `disabled_base_dn = "` + dis + `"
    reference "memberOf" {
      target = "Group"
      read_only = true
    }`
	cfg, diags := decode(t, strings.Replace(s.hcl(), `env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.URL), 1))
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	b := startBackend(t, cfg)
	const users = 4
	var ids, groups []string
	for i := range users {
		u := mustCreate(t, b, "User", user(fmt.Sprintf("mb%d", i)))
		g := mustCreate(t, b, "Group", backends.Attrs{"cn": {fmt.Sprintf("mbg%d", i)}, "member": {u.ID}})
		ids, groups = append(ids, u.ID), append(groups, g.ID)
	}

	// Load: renames elsewhere queue work for refint's task, each item a
	// search of the whole database (dnSubtreeMatch has no index), so the
	// task lags behind the backend's writes.
	c := srv.Conn(t)
	for i := range 1500 {
		req := goldap.NewAddRequest(fmt.Sprintf("cn=filler%d,%s", i, s.ou.DN), nil)
		req.Attribute("objectClass", []string{"organizationalRole"})
		req.Attribute("cn", []string{fmt.Sprintf("filler%d", i)})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for l := range 2 {
		c, err := srv.DialAdmin()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer c.Close()
			dn, other := fmt.Sprintf("cn=filler%d,%s", l, s.ou.DN), fmt.Sprintf("cn=moved%d", l)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := c.ModifyDN(goldap.NewModifyDNRequest(dn, other, true, "")); err != nil {
					t.Error(err)
					return
				}
				rdn, _ := splitRDN(dn)
				dn, other = other+","+s.ou.DN, rdn
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
	return &refintLab{srv: srv, s: s, b: b, ids: ids, groups: groups}

}

// directoryAt reports whether the directory itself has user i where a
// reactivation left it: the group's one member value the user's DN, and
// the user's memberOf the group.
func (l *refintLab) directoryAt(t *testing.T, i int) (bool, []string, []string) {
	dn := fmt.Sprintf("uid=mb%d,%s", i, l.s.ou.People)
	member := l.srv.Entry(t, fmt.Sprintf("cn=mbg%d,%s", i, l.s.ou.Groups), "member").GetAttributeValues("member")
	memberOf := l.srv.Entry(t, dn, "memberOf").GetAttributeValues("memberOf")
	return len(member) == 1 && normDN(member[0]) == normDN(dn) && len(memberOf) == 1, member, memberOf
}

func (l *refintLab) moveOutAndBack(t *testing.T, i int, attrs []string) backends.Record {
	mustModifyAs(t, l.b, "User", l.ids[i], attrs, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"FALSE"}})
	return mustModifyAs(t, l.b, "User", l.ids[i], attrs, backends.Modification{Op: backends.ModReplace, Attr: activeAttr, Values: []string{"TRUE"}})
}

func TestMoveBackWithRefint(t *testing.T) {
	l := newRefintLab(t)
	b, ids, groups := l.b, l.ids, l.groups
	ctx := ctxT(t)
	attrs := []string{"uid", "memberOf", activeAttr}
	// windows counts the reads at which the directory itself showed the
	// interval (the group's member value not the user's DN, or the user
	// without memberOf): the backend's reads right after must not.
	windows, bad := 0, 0
	for cycle := 0; cycle < 100 && windows < 5 && bad < 5; cycle++ {
		for i, id := range ids {
			rec := l.moveOutAndBack(t, i, attrs)
			if got := rec.Attrs.Get("memberOf"); len(got) != 1 || got[0] != groups[i] {
				bad++
				t.Errorf("cycle %d user %d: reactivation answered memberOf = %v, want [%s]", cycle, i, got, groups[i])
			}
			for k := 0; k < 4; k++ {
				if ok, member, memberOf := l.directoryAt(t, i); !ok {
					windows++
					t.Logf("cycle %d user %d: the directory holds member %v, memberOf %v", cycle, i, member, memberOf)
				}
				rec, err := b.Get(ctx, "User", id, attrs)
				if err != nil {
					t.Fatal(err)
				}
				if got := rec.Attrs.Get("memberOf"); len(got) != 1 || got[0] != groups[i] {
					bad++
					t.Errorf("cycle %d user %d read %d: memberOf = %v, want [%s]", cycle, i, k, got, groups[i])
				}
				g, err := b.Get(ctx, "Group", groups[i], []string{"member"})
				if err != nil {
					t.Fatal(err)
				}
				if got := g.Attrs.Get("member"); len(got) != 1 || got[0] != id {
					bad++
					t.Errorf("cycle %d user %d read %d: group member = %v, want [%s]", cycle, i, k, got, id)
				}
			}
		}
	}
	if windows == 0 {
		t.Skip("refint's task never lagged behind a move back here: nothing was checked")
	}
}

// TestRemoveMovedMemberWithRefint removes a user from its group while
// refint's late rewrite has the group name the user's disabled DN: the
// rewrite of the move back would put the user back under its DN later, so
// the removal takes the earlier DN out too, and the user stays removed
// once refint has caught up.
func TestRemoveMovedMemberWithRefint(t *testing.T) {
	memberChangeInInterval(t, backends.ModDelete)
}

// TestAddMovedMemberWithRefint adds a user to its group again in the same
// interval (a client that saw it missing): refint's rewrite of the move
// back then fails (the value it would add is there), which would leave
// the disabled DN in the group for good; the add takes it out.
func TestAddMovedMemberWithRefint(t *testing.T) {
	memberChangeInInterval(t, backends.ModAdd)
}

// placeholderDN is the group's empty_placeholder in setup's configuration.
const placeholderDN = "cn=nobody,dc=example,dc=org"

// memberChangeInInterval changes the membership of a user with op while
// the directory's group names the user's disabled DN after a move back,
// waits (bounded) for refint's task to pass the move back, and checks the
// group: without the user (delete) or with exactly the user's DN (add).
func memberChangeInInterval(t *testing.T, op backends.ModOp) {
	l := newRefintLab(t)
	caught := 0
	for cycle := 0; cycle < 100 && caught < 2; cycle++ {
		for i, id := range l.ids {
			l.moveOutAndBack(t, i, []string{"uid"})
			disabledDN := normDN(fmt.Sprintf("uid=mb%d,ou=disabled,%s", i, l.s.ou.People))
			userDN := normDN(fmt.Sprintf("uid=mb%d,%s", i, l.s.ou.People))
			_, member, _ := l.directoryAt(t, i)
			if len(member) != 1 || normDN(member[0]) != disabledDN {
				continue // not in the interval: nothing to check
			}
			caught++
			mustModify(t, l.b, "Group", l.groups[i], backends.Modification{Op: op, Attr: "member", Values: []string{id}})
			// Wait (bounded) for refint's task to reach the move back: the
			// disabled DN leaves the group, rewritten or removed.
			gdn := fmt.Sprintf("cn=mbg%d,%s", i, l.s.ou.Groups)
			var vals []string
			for w := 0; w < 100; w++ {
				vals = l.srv.Entry(t, gdn, "member").GetAttributeValues("member")
				if !slices.ContainsFunc(vals, func(v string) bool { return normDN(v) == disabledDN }) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			want := []string{userDN}
			if op == backends.ModDelete {
				want = nil
			}
			vals = slices.DeleteFunc(vals, func(v string) bool { return normDN(v) == normDN(placeholderDN) })
			if !slices.Equal(normAll(vals), want) {
				t.Errorf("cycle %d user %d: after %v of the member, the group holds %v, want %v", cycle, i, op, vals, want)
			}
			wantIDs := []string{id}
			if op == backends.ModDelete {
				wantIDs = nil
			}
			if got := mustGet(t, l.b, "Group", l.groups[i], "member").Attrs.Get("member"); !slices.Equal(got, wantIDs) {
				t.Errorf("cycle %d user %d: after %v of the member, the group reads %v, want %v", cycle, i, op, got, wantIDs)
			}
			if op == backends.ModDelete {
				mustModify(t, l.b, "Group", l.groups[i], backends.Modification{Op: backends.ModAdd, Attr: "member", Values: []string{id}})
			}
		}
	}
	if caught == 0 {
		t.Skip("refint's task never lagged behind a move back here: nothing was checked")
	}
}
