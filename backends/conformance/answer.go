package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// A bridge answers a write with the record the backend returns, and its
// ETag is a hash of that record: Create and Modify must return exactly
// what a Get right after them returns, references (a user's groups, a
// manager) and multi-valued attributes included.

func answerCases() []testCase {
	return []testCase{
		{"CreateAnswer", testCreateAnswer},
		{"ModifyAnswerUser", testModifyAnswerUser},
		{"ModifyAnswerGroup", testModifyAnswerGroup},
	}
}

// userAttrNames lists the fixture's user attributes, references and
// multi-valued ones included: what a bridge asks a write to return.
func (s *suite) userAttrNames() []string {
	var out []string
	for _, a := range []string{s.f.UserName, s.f.GivenName, s.f.FamilyName, s.f.DisplayName, s.f.Email,
		s.f.Active, s.f.Ordered, s.f.UserGroups, s.f.Manager, s.f.MultiValued} {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// sameRecord fails unless got and want hold the same id and attributes
// (names compared case-insensitively, values in order: an ETag hashes
// them in order).
func sameRecord(t *testing.T, what string, got, want backends.Record) {
	t.Helper()
	if got.ID != want.ID {
		t.Fatalf("%s: id %q, Get says %q", what, got.ID, want.ID)
	}
	norm := func(a backends.Attrs) map[string][]string {
		out := map[string][]string{}
		for k, v := range a {
			if len(v) > 0 {
				out[strings.ToLower(k)] = v
			}
		}
		return out
	}
	g, w := norm(got.Attrs), norm(want.Attrs)
	for k, wv := range w {
		if gv, ok := g[k]; !ok || !slices.Equal(gv, wv) {
			t.Fatalf("%s: %s = %q, a Get right after says %q\nreturned: %v\nGet:      %v", what, k, gv, wv, got.Attrs, want.Attrs)
		}
	}
	for k, gv := range g {
		if _, ok := w[k]; !ok {
			t.Fatalf("%s: returned %s = %q, which a Get right after does not hold\nreturned: %v\nGet:      %v", what, k, gv, got.Attrs, want.Attrs)
		}
	}
}

// modifyAnswer runs Modify with attrs and checks its answer against a Get
// with the same attrs.
func (s *suite) modifyAnswer(t *testing.T, what, typ, id string, attrs []string, mods ...backends.Modification) backends.Record {
	t.Helper()
	rec, err := s.b.Modify(s.ctx, typ, id, mods, attrs)
	if err != nil {
		t.Fatalf("%s: Modify(%s %q, %s): %v", what, typ, id, describeMods(mods), err)
	}
	got, err := s.b.Get(s.ctx, typ, id, attrs)
	if err != nil {
		t.Fatalf("%s: Get(%s %q, %q): %v", what, typ, id, attrs, err)
	}
	sameRecord(t, what+" (attrs "+strings.Join(attrs, ",")+")", rec, got)
	return rec
}

func testCreateAnswer(t *testing.T, s *suite) {
	boss := s.createUser(t, s.simpleUser("answer.boss"))
	a := s.userAttrs(s.simpleUser("answer.user"))
	if s.f.Manager != "" {
		a[s.f.Manager] = []string{boss.ID}
	}
	if s.f.MultiValued != "" {
		a[s.f.MultiValued] = []string{"+1 555 0100", "+1 555 0199"}
	}
	u, err := s.b.Create(s.ctx, backends.User, a)
	if err != nil {
		t.Fatalf("Create(User): %v", err)
	}
	sameRecord(t, "Create(User)", u, s.get(t, backends.User, u.ID))
	if s.f.Manager != "" {
		wantValues(t, u, s.f.Manager, boss.ID)
	}
	if s.f.MultiValued != "" {
		wantValues(t, u, s.f.MultiValued, "+1 555 0100", "+1 555 0199")
	}
	g := s.createGroup(t, "answer-group", boss.ID, u.ID)
	sameRecord(t, "Create(Group)", g, s.get(t, backends.Group, g.ID))
}

func testModifyAnswerUser(t *testing.T, s *suite) {
	users := s.createUsers(t, "boss.one", "boss.two")
	one, two := users[0].ID, users[1].ID
	a := s.userAttrs(s.simpleUser("report"))
	if s.f.Manager != "" {
		a[s.f.Manager] = []string{one}
	}
	if s.f.MultiValued != "" {
		a[s.f.MultiValued] = []string{"+1 555 0101", "+1 555 0102"}
	}
	u, err := s.b.Create(s.ctx, backends.User, a)
	if err != nil {
		t.Fatalf("Create(User): %v", err)
	}
	g := s.createGroup(t, "reports", u.ID)
	attrs := s.userAttrNames()
	mod := func(op backends.ModOp, attr string, vals ...string) backends.Modification {
		return backends.Modification{Op: op, Attr: attr, Values: vals}
	}

	// A change of one attribute, as most IdP PATCHes are: the answer
	// carries the references and multi-valued attributes it did not touch.
	rec := s.modifyAnswer(t, "replace a name", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.GivenName, "Renée"))
	wantValues(t, rec, s.f.GivenName, "Renée")
	if s.f.UserGroups != "" {
		wantValues(t, rec, s.f.UserGroups, g.ID)
	}
	if s.f.Manager != "" {
		wantValues(t, rec, s.f.Manager, one)
	}
	if s.f.MultiValued != "" {
		wantValues(t, rec, s.f.MultiValued, "+1 555 0101", "+1 555 0102")
	}
	if s.f.Active != "" {
		rec = s.modifyAnswer(t, "deactivate", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.Active, s.f.ActiveFalse))
		wantValues(t, rec, s.f.Active, s.f.ActiveFalse)
		s.modifyAnswer(t, "reactivate", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.Active, s.f.ActiveTrue))
	}
	if s.f.Manager != "" {
		rec = s.modifyAnswer(t, "change the manager", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.Manager, two))
		wantValues(t, rec, s.f.Manager, two)
	}
	if s.f.MultiValued != "" {
		rec = s.modifyAnswer(t, "add and remove values", backends.User, u.ID, attrs,
			mod(backends.ModAdd, s.f.MultiValued, "+1 555 0103"), mod(backends.ModDelete, s.f.MultiValued, "+1 555 0101"))
		wantValues(t, rec, s.f.MultiValued, "+1 555 0102", "+1 555 0103")
		// A delete of a given value needs the current ones first.
		s.modifyAnswer(t, "remove a value and rename", backends.User, u.ID, attrs,
			mod(backends.ModDelete, s.f.MultiValued, "+1 555 0102"), mod(backends.ModReplace, s.f.FamilyName, "Other"))
	}
	if s.f.Manager != "" {
		rec = s.modifyAnswer(t, "remove the manager", backends.User, u.ID, attrs,
			mod(backends.ModDelete, s.f.Manager), mod(backends.ModReplace, s.f.DisplayName, "No Boss"))
		wantValues(t, rec, s.f.Manager)
	}
	// The attribute that names an entry (an LDAP RDN): a rename.
	rec = s.modifyAnswer(t, "rename", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.UserName, "report.renamed"))
	wantValues(t, rec, s.f.UserName, "report.renamed")
	// Only what is asked for comes back.
	rec = s.modifyAnswer(t, "a projection", backends.User, u.ID, []string{s.f.UserName, s.f.GivenName},
		mod(backends.ModReplace, s.f.GivenName, "Projected"))
	onlyAttrs(t, rec, s.f.UserName, s.f.GivenName)
	// nil asks for everything, as for Get.
	s.modifyAnswer(t, "everything", backends.User, u.ID, nil, mod(backends.ModReplace, s.f.DisplayName, "Everything"))
	// Nothing to change still answers the record.
	s.modifyAnswer(t, "a no-op", backends.User, u.ID, attrs, mod(backends.ModReplace, s.f.DisplayName, "Everything"))
}

func testModifyAnswerGroup(t *testing.T, s *suite) {
	users := s.createUsers(t, "member.one", "member.two", "member.three")
	g := s.createGroup(t, "answer-team", users[0].ID, users[1].ID)
	mod := func(op backends.ModOp, attr string, vals ...string) backends.Modification {
		return backends.Modification{Op: op, Attr: attr, Values: vals}
	}
	// A bridge asks for the group without its member list: adding one
	// member must not read the list back.
	rec := s.modifyAnswer(t, "add a member", backends.Group, g.ID, []string{s.f.GroupName}, mod(backends.ModAdd, s.f.GroupMembers, users[2].ID))
	onlyAttrs(t, rec, s.f.GroupName)
	wantValues(t, rec, s.f.GroupName, "answer-team")
	s.wantMembers(t, g.ID, ids(users)...)
	if s.f.UserGroups != "" {
		s.modifyAnswer(t, "the new member's groups", backends.User, users[2].ID, s.userAttrNames(),
			mod(backends.ModReplace, s.f.GivenName, "Member"))
	}
	rec = s.modifyAnswer(t, "rename and remove a member", backends.Group, g.ID, []string{s.f.GroupName},
		mod(backends.ModReplace, s.f.GroupName, "answer-team-2"), mod(backends.ModDelete, s.f.GroupMembers, users[0].ID))
	wantValues(t, rec, s.f.GroupName, "answer-team-2")
	rec = s.modifyAnswer(t, "with members", backends.Group, g.ID, []string{s.f.GroupName, s.f.GroupMembers},
		mod(backends.ModAdd, s.f.GroupMembers, users[0].ID))
	wantValues(t, rec, s.f.GroupMembers, ids(users)...)
	s.modifyAnswer(t, "everything", backends.Group, g.ID, nil, mod(backends.ModReplace, s.f.GroupName, "answer-team-3"))
}
