package conformance

import (
	"errors"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

func membershipCases() []testCase {
	return []testCase{
		{"Membership", testMembership},
		{"EmptyGroup", testEmptyGroup},
		{"InvalidMember", testInvalidMember},
		{"DeleteUserRemovesMembership", testDeleteUserRemovesMembership},
		{"UserGroups", testUserGroups},
		{"GroupModifyResult", testGroupModifyResult},
		{"MemberFilter", testMemberFilter},
	}
}

// needMultiGroup skips a subtest that puts one user in several groups
// when the fixture says a user has at most one.
func (s *suite) needMultiGroup(t *testing.T) {
	t.Helper()
	if s.f.SingleGroupPerUser {
		t.Skip("skipped: this subtest puts one user in two groups; the fixture sets SingleGroupPerUser (at most one group per user)")
	}
}

func (s *suite) memberMod(op backends.ModOp, ids ...string) backends.Modification {
	return backends.Modification{Op: op, Attr: s.f.GroupMembers, Values: ids}
}

func testMembership(t *testing.T, s *suite) {
	u := ids(s.createUsers(t, "m1", "m2", "m3", "m4"))
	g := s.createGroup(t, "team", u[0], u[1])
	s.wantMembers(t, g.ID, u[0], u[1])

	steps := []struct {
		what string
		mod  backends.Modification
		want []string
	}{
		{"add one (others kept)", s.memberMod(backends.ModAdd, u[2]), []string{u[0], u[1], u[2]}},
		{"add an existing member again", s.memberMod(backends.ModAdd, u[2]), []string{u[0], u[1], u[2]}},
		{"add an existing and a new member", s.memberMod(backends.ModAdd, u[0], u[3]), []string{u[0], u[1], u[2], u[3]}},
		{"delete one", s.memberMod(backends.ModDelete, u[1]), []string{u[0], u[2], u[3]}},
		{"delete a non-member", s.memberMod(backends.ModDelete, u[1]), []string{u[0], u[2], u[3]}},
		{"replace the whole list", s.memberMod(backends.ModReplace, u[1], u[3]), []string{u[1], u[3]}},
		{"replace with the same list", s.memberMod(backends.ModReplace, u[3], u[1]), []string{u[1], u[3]}},
		{"replace with nothing", s.memberMod(backends.ModReplace), nil},
		{"add two", s.memberMod(backends.ModAdd, u[0], u[2]), []string{u[0], u[2]}},
		{"delete all (no values)", s.memberMod(backends.ModDelete), nil},
	}
	for _, st := range steps {
		if _, err := s.b.Modify(s.ctx, backends.Group, g.ID, []backends.Modification{st.mod}, nil); err != nil {
			t.Fatalf("%s: Modify(%s): %v", st.what, describeMods([]backends.Modification{st.mod}), err)
		}
		if got := s.members(t, g.ID); !slices.Equal(got, sorted(st.want)) {
			t.Fatalf("%s: members %q, want %q", st.what, got, sorted(st.want))
		}
	}
	// Several membership changes in one batch.
	s.modify(t, backends.Group, g.ID, s.memberMod(backends.ModAdd, u[0], u[1], u[2]), s.memberMod(backends.ModDelete, u[1]))
	s.wantMembers(t, g.ID, u[0], u[2])
	// The users themselves are untouched.
	for i, id := range u {
		wantValues(t, s.get(t, backends.User, id), s.f.UserName, []string{"m1", "m2", "m3", "m4"}[i])
	}
}

func testEmptyGroup(t *testing.T, s *suite) {
	u := s.createUser(t, s.simpleUser("lonely"))
	g := s.createGroup(t, "empty")
	s.wantMembers(t, g.ID)
	s.modify(t, backends.Group, g.ID, s.memberMod(backends.ModAdd, u.ID))
	s.wantMembers(t, g.ID, u.ID)
	s.modify(t, backends.Group, g.ID, s.memberMod(backends.ModDelete, u.ID))
	s.wantMembers(t, g.ID)
	wantValues(t, s.get(t, backends.Group, g.ID), s.f.GroupName, "empty")
	// Create with an explicitly empty list.
	rec, err := s.b.Create(s.ctx, backends.Group, backends.Attrs{s.f.GroupName: {"empty-too"}, s.f.GroupMembers: {}})
	if err != nil {
		t.Fatalf("Create(Group) with an empty member list: %v", err)
	}
	s.wantMembers(t, rec.ID)
	p := s.search(t, backends.Group, backends.Query{})
	if p.Total != 2 {
		t.Fatalf("groups: Total %d, want 2", p.Total)
	}
}

func testInvalidMember(t *testing.T, s *suite) {
	u := ids(s.createUsers(t, "valid1", "valid2", "deleted"))
	if err := s.b.Delete(s.ctx, backends.User, u[2]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	g := s.createGroup(t, "strict", u[0])
	for _, bad := range [][]string{{u[2]}, {u[1], u[2]}, {"not-an-id"}, {"010101001010101011001010101011"}} {
		for _, op := range []backends.ModOp{backends.ModAdd, backends.ModReplace} {
			mod := s.memberMod(op, bad...)
			_, err := s.b.Modify(s.ctx, backends.Group, g.ID, []backends.Modification{mod}, nil)
			wantErr(t, err, backends.ErrInvalidReference, "Modify("+describeMods([]backends.Modification{mod})+")")
			s.wantMembers(t, g.ID, u[0])
		}
	}
	// A group id is not a user id.
	other := s.createGroup(t, "other")
	_, err := s.b.Modify(s.ctx, backends.Group, g.ID, []backends.Modification{s.memberMod(backends.ModAdd, other.ID)}, nil)
	if err == nil {
		// Backends whose group and user ids share a key space may accept a
		// group id that happens to be a user id too; only fail when it is not.
		if _, gerr := s.b.Get(s.ctx, backends.User, other.ID, nil); errors.Is(gerr, backends.ErrNotFound) {
			t.Fatalf("ModAdd of a group id as a member succeeded")
		}
	} else {
		wantErr(t, err, backends.ErrInvalidReference, "ModAdd of a group id as a member")
	}
	// Create with a bad member creates nothing.
	_, err = s.b.Create(s.ctx, backends.Group, backends.Attrs{s.f.GroupName: {"never"}, s.f.GroupMembers: {u[0], u[2]}})
	wantErr(t, err, backends.ErrInvalidReference, "Create(Group) with a deleted member")
	p := s.search(t, backends.Group, backends.Query{Filter: backends.Compare{Attr: s.f.GroupName, Op: backends.Eq, Value: "never"}})
	if p.Total != 0 {
		t.Fatalf("the refused group was created anyway: %d records", p.Total)
	}
	s.createGroup(t, "never", u[0])
}

func testDeleteUserRemovesMembership(t *testing.T, s *suite) {
	s.needMultiGroup(t)
	u := ids(s.createUsers(t, "leaver", "stayer"))
	g1 := s.createGroup(t, "g1", u[0], u[1])
	g2 := s.createGroup(t, "g2", u[0])
	if err := s.b.Delete(s.ctx, backends.User, u[0]); err != nil {
		t.Fatalf("Delete(User): %v", err)
	}
	s.wantMembers(t, g1.ID, u[1])
	s.wantMembers(t, g2.ID)
	// Searching by the removed member finds nothing.
	p, err := s.b.Search(s.ctx, backends.Group, backends.Query{Filter: backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: u[0]}})
	switch {
	case errors.Is(err, backends.ErrUnsupported):
		t.Logf("filter on %s unsupported, allowed: %v", s.f.GroupMembers, err)
	case err != nil:
		t.Fatalf("Search(Group, members eq deleted user): %v", err)
	case p.Total != 0:
		t.Fatalf("Search(Group, members eq deleted user): %q", ids(p.Records))
	}
}

func testUserGroups(t *testing.T, s *suite) {
	s.needMultiGroup(t)
	if s.f.UserGroups == "" {
		t.Skip("fixture has no UserGroups attribute")
	}
	u := ids(s.createUsers(t, "ug1", "ug2", "ug3"))
	g1 := s.createGroup(t, "ug-g1", u[0], u[1])
	g2 := s.createGroup(t, "ug-g2", u[0])
	wantValues(t, s.get(t, backends.User, u[0]), s.f.UserGroups, g1.ID, g2.ID)
	wantValues(t, s.get(t, backends.User, u[1]), s.f.UserGroups, g1.ID)
	wantValues(t, s.get(t, backends.User, u[2]), s.f.UserGroups)
	rec := s.get(t, backends.User, u[0], s.f.UserGroups)
	onlyAttrs(t, rec, s.f.UserGroups)
	wantValues(t, rec, s.f.UserGroups, g1.ID, g2.ID)

	s.modify(t, backends.Group, g2.ID, s.memberMod(backends.ModDelete, u[0]))
	s.modify(t, backends.Group, g2.ID, s.memberMod(backends.ModAdd, u[2]))
	wantValues(t, s.get(t, backends.User, u[0]), s.f.UserGroups, g1.ID)
	wantValues(t, s.get(t, backends.User, u[2]), s.f.UserGroups, g2.ID)

	// Search returns it too.
	p := s.search(t, backends.User, backends.Query{SortBy: s.f.UserName, Attrs: []string{s.f.UserName, s.f.UserGroups}})
	want := [][]string{{g1.ID}, {g1.ID}, {g2.ID}}
	for i, r := range p.Records {
		onlyAttrs(t, r, s.f.UserName, s.f.UserGroups)
		wantValues(t, r, s.f.UserGroups, want[i]...)
	}
	// Deleting a group removes it from its members' lists.
	if err := s.b.Delete(s.ctx, backends.Group, g1.ID); err != nil {
		t.Fatalf("Delete(Group): %v", err)
	}
	wantValues(t, s.get(t, backends.User, u[0]), s.f.UserGroups)
	// Filtering on it (may be unsupported).
	p, err := s.b.Search(s.ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: s.f.UserGroups, Op: backends.Eq, Value: g2.ID}})
	switch {
	case errors.Is(err, backends.ErrUnsupported):
		t.Logf("filter on %s unsupported, allowed: %v", s.f.UserGroups, err)
	case err != nil:
		t.Fatalf("Search(User, groups eq g2): %v", err)
	default:
		if got := ids(p.Records); !slices.Equal(got, []string{u[2]}) {
			t.Fatalf("Search(User, groups eq g2): %q, want [%q]", got, u[2])
		}
	}
}

func testGroupModifyResult(t *testing.T, s *suite) {
	u := ids(s.createUsers(t, "r1", "r2"))
	g := s.createGroup(t, "result", u[0])
	// The result of a membership change need not carry the member list;
	// it must carry the id and the other attributes.
	rec := s.modify(t, backends.Group, g.ID, s.memberMod(backends.ModAdd, u[1]))
	wantValues(t, rec, s.f.GroupName, "result")
	rec = s.modify(t, backends.Group, g.ID,
		backends.Modification{Op: backends.ModReplace, Attr: s.f.GroupName, Values: []string{"result2"}},
		s.memberMod(backends.ModDelete, u[0]))
	wantValues(t, rec, s.f.GroupName, "result2")
	s.wantMembers(t, g.ID, u[1])
}

func testMemberFilter(t *testing.T, s *suite) {
	s.needMultiGroup(t)
	u := ids(s.createUsers(t, "f1", "f2", "f3"))
	g1 := s.createGroup(t, "fg1", u[0], u[1])
	g2 := s.createGroup(t, "fg2", u[0])
	g3 := s.createGroup(t, "fg3")
	type tc struct {
		f    backends.Filter
		want []string
	}
	for _, c := range []tc{
		{backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: u[0]}, []string{g1.ID, g2.ID}},
		{backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: u[1]}, []string{g1.ID}},
		{backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: u[2]}, nil},
		{backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: "not-an-id"}, nil},
		{backends.Present{Attr: s.f.GroupMembers}, []string{g1.ID, g2.ID}},
		{backends.Not{Filter: backends.Present{Attr: s.f.GroupMembers}}, []string{g3.ID}},
		{backends.And{Filters: []backends.Filter{
			backends.Compare{Attr: s.f.GroupMembers, Op: backends.Eq, Value: u[0]},
			backends.Compare{Attr: s.f.GroupName, Op: backends.Eq, Value: "FG2", IgnoreCase: true},
		}}, []string{g2.ID}},
	} {
		p, err := s.b.Search(s.ctx, backends.Group, backends.Query{Filter: c.f})
		if errors.Is(err, backends.ErrUnsupported) {
			t.Logf("Search(Group, %s) unsupported, allowed: %v", describeFilter(c.f), err)
			continue
		}
		if err != nil {
			t.Fatalf("Search(Group, %s): %v", describeFilter(c.f), err)
		}
		if got := sorted(ids(p.Records)); !slices.Equal(got, sorted(c.want)) || p.Total != len(c.want) {
			t.Fatalf("Search(Group, %s): %q total %d, want %q", describeFilter(c.f), got, p.Total, sorted(c.want))
		}
	}
}
