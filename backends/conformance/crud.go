package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// badIDs are ids that no backend may resolve: unknown, malformed, or
// shaped to trip a naive lookup (path traversal, wildcard, empty).
var badIDs = []string{
	"010101001010101011001010101011",
	"../x",
	"*",
	"",
	"00000000-0000-0000-0000-000000000000",
	"1 OR 1=1",
	"-1",
}

func crudCases() []testCase {
	return []testCase{
		{"CreateGet", testCreateGet},
		{"CreateStableIDs", testCreateStableIDs},
		{"DuplicateUserName", testDuplicateUserName},
		{"DuplicateGroupName", testDuplicateGroupName},
		{"UnknownIDs", testUnknownIDs},
		{"ModifyReplace", testModifyReplace},
		{"ModifySemantics", testModifySemantics},
		{"ModifyAtomic", testModifyAtomic},
		{"Delete", testDelete},
		{"AttrsProjection", testAttrsProjection},
		{"Rename", testRename},
	}
}

func testCreateGet(t *testing.T, s *suite) {
	u := s.simpleUser("jdoe")
	created := s.createUser(t, u)
	for _, rec := range []backends.Record{created, s.get(t, backends.User, created.ID)} {
		wantValues(t, rec, s.f.UserName, u.name)
		wantValues(t, rec, s.f.GivenName, u.given)
		wantValues(t, rec, s.f.FamilyName, u.family)
		wantValues(t, rec, s.f.DisplayName, u.display)
		wantValues(t, rec, s.f.Email, u.email)
		if s.f.Active != "" {
			wantValues(t, rec, s.f.Active, s.f.ActiveTrue)
		}
	}
	g := s.createGroup(t, "Engineering", created.ID)
	rec := s.get(t, backends.Group, g.ID)
	wantValues(t, rec, s.f.GroupName, "Engineering")
	wantValues(t, rec, s.f.GroupMembers, created.ID)
}

func testCreateStableIDs(t *testing.T, s *suite) {
	users := s.createUsers(t, "first", "second", "third")
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.ID] {
			t.Fatalf("id %q returned for two records", u.ID)
		}
		seen[u.ID] = true
	}
	for i := range 2 {
		for _, u := range users {
			rec := s.get(t, backends.User, u.ID)
			if got, want := rec.Attrs.First(s.f.UserName), u.Attrs.First(s.f.UserName); got != want {
				t.Fatalf("pass %d: Get(%q) userName = %q, want %q", i, u.ID, got, want)
			}
		}
	}
	// Modifying a record keeps its id.
	rec := s.modify(t, backends.User, users[1].ID, backends.Modification{Op: backends.ModReplace, Attr: s.f.GivenName, Values: []string{"Changed"}})
	if rec.ID != users[1].ID {
		t.Fatalf("id changed on modify: %q -> %q", users[1].ID, rec.ID)
	}
}

func testDuplicateUserName(t *testing.T, s *suite) {
	s.createUser(t, s.simpleUser("dup.user"))
	for _, name := range []string{"dup.user", "DUP.User"} {
		_, err := s.b.Create(s.ctx, backends.User, s.userAttrs(s.simpleUser(name)))
		wantErr(t, err, backends.ErrAlreadyExists, "Create(User "+name+") after dup.user")
	}
	p := s.search(t, backends.User, backends.Query{CountOnly: true})
	if p.Total != 1 {
		t.Fatalf("after refused duplicates: Total = %d, want 1", p.Total)
	}
}

func testDuplicateGroupName(t *testing.T, s *suite) {
	s.createGroup(t, "Admins")
	for _, name := range []string{"Admins", "ADMINS"} {
		_, err := s.b.Create(s.ctx, backends.Group, backends.Attrs{s.f.GroupName: {name}})
		wantErr(t, err, backends.ErrAlreadyExists, "Create(Group "+name+") after Admins")
	}
	p := s.search(t, backends.Group, backends.Query{CountOnly: true})
	if p.Total != 1 {
		t.Fatalf("after refused duplicates: Total = %d, want 1", p.Total)
	}
}

func testUnknownIDs(t *testing.T, s *suite) {
	u := s.createUser(t, s.simpleUser("gone"))
	g := s.createGroup(t, "gone-group")
	if err := s.b.Delete(s.ctx, backends.User, u.ID); err != nil {
		t.Fatalf("Delete(User): %v", err)
	}
	if err := s.b.Delete(s.ctx, backends.Group, g.ID); err != nil {
		t.Fatalf("Delete(Group): %v", err)
	}
	// One live record of each type, so that a lookup that ignores its id
	// would find something.
	live := s.createUser(t, s.simpleUser("live"))
	liveGroup := s.createGroup(t, "live-group", live.ID)

	check := func(typ, id, attr string) {
		t.Helper()
		_, err := s.b.Get(s.ctx, typ, id, nil)
		wantErr(t, err, backends.ErrNotFound, "Get("+typ+" "+quote(id)+")")
		_, err = s.b.Modify(s.ctx, typ, id, []backends.Modification{{Op: backends.ModReplace, Attr: attr, Values: []string{"x-" + typ}}}, nil)
		wantErr(t, err, backends.ErrNotFound, "Modify("+typ+" "+quote(id)+")")
		err = s.b.Delete(s.ctx, typ, id)
		wantErr(t, err, backends.ErrNotFound, "Delete("+typ+" "+quote(id)+")")
	}
	for _, id := range append(slices.Clone(badIDs), u.ID) {
		check(backends.User, id, s.f.GivenName)
	}
	for _, id := range append(slices.Clone(badIDs), g.ID) {
		check(backends.Group, id, s.f.GroupName)
	}
	// The live records are untouched.
	wantValues(t, s.get(t, backends.User, live.ID), s.f.UserName, "live")
	wantValues(t, s.get(t, backends.Group, liveGroup.ID), s.f.GroupName, "live-group")
	s.wantMembers(t, liveGroup.ID, live.ID)
}

func testModifyReplace(t *testing.T, s *suite) {
	u := s.createUser(t, s.simpleUser("mod.user"))
	rec := s.modify(t, backends.User, u.ID,
		backends.Modification{Op: backends.ModReplace, Attr: s.f.GivenName, Values: []string{"Janet"}},
		backends.Modification{Op: backends.ModReplace, Attr: s.f.FamilyName, Values: []string{"Doe-Smith"}},
	)
	for _, r := range []backends.Record{rec, s.get(t, backends.User, u.ID)} {
		wantValues(t, r, s.f.GivenName, "Janet")
		wantValues(t, r, s.f.FamilyName, "Doe-Smith")
		wantValues(t, r, s.f.UserName, "mod.user")
		wantValues(t, r, s.f.Email, "mod.user@example.com")
	}
	if s.f.Active != "" {
		s.modify(t, backends.User, u.ID, backends.Modification{Op: backends.ModReplace, Attr: s.f.Active, Values: []string{s.f.ActiveFalse}})
		wantValues(t, s.get(t, backends.User, u.ID), s.f.Active, s.f.ActiveFalse)
	}
}

// testModifySemantics checks ModAdd / ModDelete / ModReplace on an
// optional single-valued attribute (multi-valued ones are covered by the
// membership tests).
func testModifySemantics(t *testing.T, s *suite) {
	u := s.simpleUser("sem.user")
	u.display = ""
	rec := s.createUser(t, u)
	attr := s.f.DisplayName
	steps := []struct {
		what string
		mod  backends.Modification
		want []string
	}{
		{"add to an absent attribute", backends.Modification{Op: backends.ModAdd, Attr: attr, Values: []string{"Alpha"}}, []string{"Alpha"}},
		{"add a value already there", backends.Modification{Op: backends.ModAdd, Attr: attr, Values: []string{"Alpha"}}, []string{"Alpha"}},
		{"delete a value not there", backends.Modification{Op: backends.ModDelete, Attr: attr, Values: []string{"Zulu"}}, []string{"Alpha"}},
		{"delete the value", backends.Modification{Op: backends.ModDelete, Attr: attr, Values: []string{"Alpha"}}, nil},
		{"delete an absent attribute", backends.Modification{Op: backends.ModDelete, Attr: attr}, nil},
		{"replace an absent attribute", backends.Modification{Op: backends.ModReplace, Attr: attr, Values: []string{"Bravo"}}, []string{"Bravo"}},
		{"replace a value", backends.Modification{Op: backends.ModReplace, Attr: attr, Values: []string{"Charlie"}}, []string{"Charlie"}},
		{"delete without values", backends.Modification{Op: backends.ModDelete, Attr: attr}, nil},
		{"add again", backends.Modification{Op: backends.ModAdd, Attr: attr, Values: []string{"Delta"}}, []string{"Delta"}},
		{"replace with nothing", backends.Modification{Op: backends.ModReplace, Attr: attr}, nil},
	}
	for _, st := range steps {
		got, err := s.b.Modify(s.ctx, backends.User, rec.ID, []backends.Modification{st.mod}, nil)
		if err != nil {
			t.Fatalf("%s: Modify(%s): %v", st.what, describeMods([]backends.Modification{st.mod}), err)
		}
		for _, r := range []backends.Record{got, s.get(t, backends.User, rec.ID)} {
			if v := sorted(r.Attrs.Get(attr)); !slices.Equal(v, sorted(st.want)) {
				t.Fatalf("%s: %s = %q, want %q", st.what, attr, v, st.want)
			}
			wantValues(t, r, s.f.UserName, "sem.user")
		}
	}
}

func testModifyAtomic(t *testing.T, s *suite) {
	users := s.createUsers(t, "atomic.a", "atomic.b")
	a, b := users[0], users[1]
	_, err := s.b.Modify(s.ctx, backends.User, a.ID, []backends.Modification{
		{Op: backends.ModReplace, Attr: s.f.GivenName, Values: []string{"ShouldNotStick"}},
		{Op: backends.ModReplace, Attr: s.f.DisplayName, Values: []string{"ShouldNotStick"}},
		{Op: backends.ModReplace, Attr: s.f.UserName, Values: []string{"ATOMIC.B"}},
	}, nil)
	wantErr(t, err, backends.ErrAlreadyExists, "Modify renaming atomic.a to a taken userName")
	got := s.get(t, backends.User, a.ID)
	wantValues(t, got, s.f.UserName, "atomic.a")
	wantValues(t, got, s.f.GivenName, "Given atomic.a")
	wantValues(t, got, s.f.DisplayName, "Display atomic.a")
	wantValues(t, s.get(t, backends.User, b.ID), s.f.UserName, "atomic.b")

	// A group batch where the member change fails leaves the name alone too.
	gone := s.createUser(t, s.simpleUser("atomic.gone"))
	if err := s.b.Delete(s.ctx, backends.User, gone.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	g := s.createGroup(t, "atomic-group", a.ID)
	_, err = s.b.Modify(s.ctx, backends.Group, g.ID, []backends.Modification{
		{Op: backends.ModReplace, Attr: s.f.GroupName, Values: []string{"renamed-group"}},
		{Op: backends.ModAdd, Attr: s.f.GroupMembers, Values: []string{b.ID}},
		{Op: backends.ModAdd, Attr: s.f.GroupMembers, Values: []string{gone.ID}},
	}, nil)
	wantErr(t, err, backends.ErrInvalidReference, "Modify group adding a deleted user")
	wantValues(t, s.get(t, backends.Group, g.ID), s.f.GroupName, "atomic-group")
	s.wantMembers(t, g.ID, a.ID)
}

func testDelete(t *testing.T, s *suite) {
	users := s.createUsers(t, "del.a", "del.b")
	if err := s.b.Delete(s.ctx, backends.User, users[0].ID); err != nil {
		t.Fatalf("Delete(User): %v", err)
	}
	_, err := s.b.Get(s.ctx, backends.User, users[0].ID, nil)
	wantErr(t, err, backends.ErrNotFound, "Get after Delete")
	wantErr(t, s.b.Delete(s.ctx, backends.User, users[0].ID), backends.ErrNotFound, "second Delete")
	p := s.search(t, backends.User, backends.Query{})
	if got := ids(p.Records); !slices.Equal(got, []string{users[1].ID}) || p.Total != 1 {
		t.Fatalf("Search after Delete: ids %q total %d, want [%q] total 1", got, p.Total, users[1].ID)
	}
	g := s.createGroup(t, "del-group", users[1].ID)
	if err := s.b.Delete(s.ctx, backends.Group, g.ID); err != nil {
		t.Fatalf("Delete(Group): %v", err)
	}
	_, err = s.b.Get(s.ctx, backends.Group, g.ID, nil)
	wantErr(t, err, backends.ErrNotFound, "Get(Group) after Delete")
	// Deleting a group leaves its members alone.
	s.get(t, backends.User, users[1].ID)
	// The name is free again.
	s.createUser(t, s.simpleUser("del.a"))
	s.createGroup(t, "del-group")
}

// onlyAttrs fails when rec holds an attribute outside allowed (names
// compared case-insensitively).
func onlyAttrs(t *testing.T, rec backends.Record, allowed ...string) {
	t.Helper()
	for k := range rec.Attrs {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, k) }) {
			t.Fatalf("record %q has attribute %q, asked only for %q", rec.ID, k, allowed)
		}
	}
}

func testAttrsProjection(t *testing.T, s *suite) {
	u := s.createUser(t, s.simpleUser("proj.user"))
	rec := s.get(t, backends.User, u.ID, s.f.UserName)
	onlyAttrs(t, rec, s.f.UserName)
	wantValues(t, rec, s.f.UserName, "proj.user")

	rec = s.get(t, backends.User, u.ID, s.f.GivenName, s.f.Email)
	onlyAttrs(t, rec, s.f.GivenName, s.f.Email)
	wantValues(t, rec, s.f.GivenName, "Given proj.user")
	wantValues(t, rec, s.f.Email, "proj.user@example.com")

	// Names are matched case-insensitively.
	rec = s.get(t, backends.User, u.ID, strings.ToUpper(s.f.FamilyName))
	onlyAttrs(t, rec, s.f.FamilyName)
	wantValues(t, rec, s.f.FamilyName, "Family proj.user")

	s.createUsers(t, "proj.other")
	p := s.search(t, backends.User, backends.Query{Attrs: []string{s.f.UserName}})
	if len(p.Records) != 2 {
		t.Fatalf("Search returned %d records, want 2", len(p.Records))
	}
	for _, r := range p.Records {
		onlyAttrs(t, r, s.f.UserName)
		if r.Attrs.First(s.f.UserName) == "" {
			t.Fatalf("Search with Attrs: record %q lacks %s", r.ID, s.f.UserName)
		}
	}

	g := s.createGroup(t, "proj-group", u.ID)
	rec = s.get(t, backends.Group, g.ID, s.f.GroupName)
	onlyAttrs(t, rec, s.f.GroupName)
	wantValues(t, rec, s.f.GroupName, "proj-group")
	rec = s.get(t, backends.Group, g.ID, s.f.GroupMembers)
	onlyAttrs(t, rec, s.f.GroupMembers)
	wantValues(t, rec, s.f.GroupMembers, u.ID)
	// nil means everything, including references.
	rec = s.get(t, backends.Group, g.ID)
	wantValues(t, rec, s.f.GroupName, "proj-group")
	wantValues(t, rec, s.f.GroupMembers, u.ID)
	p = s.search(t, backends.Group, backends.Query{Attrs: []string{s.f.GroupName}})
	if len(p.Records) != 1 {
		t.Fatalf("Search(Group) returned %d records, want 1", len(p.Records))
	}
	onlyAttrs(t, p.Records[0], s.f.GroupName)
}

func testRename(t *testing.T, s *suite) {
	users := s.createUsers(t, "old.name", "bystander")
	g := s.createGroup(t, "old-group", users[0].ID, users[1].ID)
	rec := s.modify(t, backends.User, users[0].ID, backends.Modification{Op: backends.ModReplace, Attr: s.f.UserName, Values: []string{"new.name"}})
	if rec.ID != users[0].ID {
		t.Fatalf("rename changed the id: %q -> %q", users[0].ID, rec.ID)
	}
	wantValues(t, rec, s.f.UserName, "new.name")
	got := s.get(t, backends.User, users[0].ID)
	wantValues(t, got, s.f.UserName, "new.name")
	wantValues(t, got, s.f.GivenName, "Given old.name")
	s.wantMembers(t, g.ID, users[0].ID, users[1].ID)
	expectIDs(t, s, backends.User, backends.Compare{Attr: s.f.UserName, Op: backends.Eq, Value: "new.name"}, users[0].ID)
	expectIDs(t, s, backends.User, backends.Compare{Attr: s.f.UserName, Op: backends.Eq, Value: "old.name"})

	// A change of case only is a rename too, not a conflict with itself.
	s.modify(t, backends.User, users[0].ID, backends.Modification{Op: backends.ModReplace, Attr: s.f.UserName, Values: []string{"New.Name"}})
	wantValues(t, s.get(t, backends.User, users[0].ID), s.f.UserName, "New.Name")

	grec := s.modify(t, backends.Group, g.ID, backends.Modification{Op: backends.ModReplace, Attr: s.f.GroupName, Values: []string{"new-group"}})
	wantValues(t, grec, s.f.GroupName, "new-group")
	got = s.get(t, backends.Group, g.ID)
	wantValues(t, got, s.f.GroupName, "new-group")
	wantValues(t, got, s.f.GroupMembers, users[0].ID, users[1].ID)
	if s.f.UserGroups != "" {
		wantValues(t, s.get(t, backends.User, users[0].ID), s.f.UserGroups, g.ID)
	}
	// The old name is free.
	s.createGroup(t, "old-group")
	s.createUser(t, s.simpleUser("old.name"))
}

func quote(s string) string { return "\"" + s + "\"" }
