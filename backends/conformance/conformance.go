// Package conformance is the one test suite every backend runs, in the
// style of dex's storage/conformance: a backend's own test file builds a
// Fixture describing how the backend names things natively and calls Run.
//
// Every subtest gets a fresh, empty backend from Fixture.New, writes its
// own data and compares what the backend answers with the expected set of
// ids or values, so a backend that is wrong fails.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
)

// Fixture tells the suite how a backend names things natively.
type Fixture struct {
	// New returns a fresh, empty backend for one subtest (its own OU /
	// tables / db); it registers cleanup with t.Cleanup.
	New func(t *testing.T) backends.Backend

	// Native attribute names for Users. Email may be multi-valued; the
	// suite writes at most one value.
	UserName, GivenName, FamilyName, DisplayName, Email string

	// Optional: "" skips the subtests that need it.

	// Active is an attribute whose two stored values are ActiveTrue and ActiveFalse.
	Active, ActiveTrue, ActiveFalse string
	// Ordered is an attribute with ordered values for gt/ge/lt/le (e.g. a
	// numeric column); OrderedKind says how (KindNumber, KindTime or KindString).
	Ordered     string
	OrderedKind backends.ValueKind
	// UserGroups is a read-only reverse reference on users: the ids of the
	// groups the user is a member of.
	UserGroups string
	// Manager is a reference on users holding one user id (a manager).
	Manager string
	// MultiValued is a multi-valued attribute of users holding plain
	// values (phone numbers): a multi-valued LDAP attribute, a SQL
	// multi_value child table.
	MultiValued string

	// Groups: GroupMembers is a reference attribute holding user ids.
	GroupName, GroupMembers string
	// SingleGroupPerUser says a user can be a member of at most one group
	// (e.g. a foreign key on the user row): adding a user to a group moves
	// it out of any other. The subtests that put one user in two groups
	// are skipped, with a log line saying so.
	SingleGroupPerUser bool

	// ExtraUserAttrs, if set, returns attributes a backend needs on every
	// created user (may return nil). The suite's own values win.
	ExtraUserAttrs func(i int) backends.Attrs
}

type testCase struct {
	name string
	run  func(t *testing.T, s *suite)
}

// suite is the state of one subtest: the fixture and its fresh backend.
type suite struct {
	f   Fixture
	b   backends.Backend
	ctx context.Context
	seq int // numbers the users a subtest creates, for ExtraUserAttrs
}

// Run runs the whole suite against the backend described by f.
func Run(t *testing.T, f Fixture) {
	t.Helper()
	if err := f.validate(); err != nil {
		t.Fatalf("conformance: bad fixture: %v", err)
	}
	var cases []testCase
	cases = append(cases, crudCases()...)
	cases = append(cases, filterCases()...)
	cases = append(cases, pagingCases()...)
	cases = append(cases, membershipCases()...)
	cases = append(cases, concurrencyCases()...)
	cases = append(cases, answerCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := f.New(t)
			if b == nil {
				t.Fatal("Fixture.New returned nil")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			tc.run(t, &suite{f: f, b: b, ctx: ctx})
		})
	}
}

func (f Fixture) validate() error {
	var missing []string
	if f.New == nil {
		missing = append(missing, "New")
	}
	for name, v := range map[string]string{
		"UserName": f.UserName, "GivenName": f.GivenName, "FamilyName": f.FamilyName,
		"DisplayName": f.DisplayName, "Email": f.Email, "GroupName": f.GroupName,
		"GroupMembers": f.GroupMembers,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if f.Active != "" && (f.ActiveTrue == "" || f.ActiveFalse == "" || f.ActiveTrue == f.ActiveFalse) {
		missing = append(missing, "ActiveTrue/ActiveFalse (two distinct values)")
	}
	if f.Ordered != "" && f.OrderedKind == backends.KindBool {
		return errors.New("OrderedKind cannot be KindBool")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// user describes one test user in terms of the fixture's attributes; empty
// fields are not written.
type user struct {
	name, given, family, display, email string
	active                              *bool
	ordered                             string
}

func (s *suite) userAttrs(u user) backends.Attrs {
	s.seq++
	a := backends.Attrs{}
	if s.f.ExtraUserAttrs != nil {
		for k, v := range s.f.ExtraUserAttrs(s.seq) {
			a[k] = append([]string(nil), v...)
		}
	}
	set := func(attr, v string) {
		if attr == "" || v == "" {
			return
		}
		for k := range a {
			if strings.EqualFold(k, attr) {
				delete(a, k)
			}
		}
		a[attr] = []string{v}
	}
	set(s.f.UserName, u.name)
	set(s.f.GivenName, u.given)
	set(s.f.FamilyName, u.family)
	set(s.f.DisplayName, u.display)
	set(s.f.Email, u.email)
	set(s.f.Ordered, u.ordered)
	if u.active != nil && s.f.Active != "" {
		if *u.active {
			set(s.f.Active, s.f.ActiveTrue)
		} else {
			set(s.f.Active, s.f.ActiveFalse)
		}
	}
	return a
}

// simpleUser returns a complete user named name.
func (s *suite) simpleUser(name string) user {
	active := true
	return user{
		name:    name,
		given:   "Given " + name,
		family:  "Family " + name,
		display: "Display " + name,
		email:   name + "@example.com",
		active:  &active,
	}
}

func (s *suite) createUser(t *testing.T, u user) backends.Record {
	t.Helper()
	rec, err := s.b.Create(s.ctx, backends.User, s.userAttrs(u))
	if err != nil {
		t.Fatalf("Create(User %q): %v", u.name, err)
	}
	if rec.ID == "" {
		t.Fatalf("Create(User %q) returned an empty id", u.name)
	}
	return rec
}

func (s *suite) createUsers(t *testing.T, names ...string) []backends.Record {
	t.Helper()
	out := make([]backends.Record, len(names))
	for i, n := range names {
		out[i] = s.createUser(t, s.simpleUser(n))
	}
	return out
}

func (s *suite) createGroup(t *testing.T, name string, members ...string) backends.Record {
	t.Helper()
	a := backends.Attrs{s.f.GroupName: {name}}
	if len(members) > 0 {
		a[s.f.GroupMembers] = members
	}
	rec, err := s.b.Create(s.ctx, backends.Group, a)
	if err != nil {
		t.Fatalf("Create(Group %q): %v", name, err)
	}
	if rec.ID == "" {
		t.Fatalf("Create(Group %q) returned an empty id", name)
	}
	return rec
}

func (s *suite) get(t *testing.T, typ, id string, attrs ...string) backends.Record {
	t.Helper()
	rec, err := s.b.Get(s.ctx, typ, id, attrs)
	if err != nil {
		t.Fatalf("Get(%s %q, %q): %v", typ, id, attrs, err)
	}
	if rec.ID != id {
		t.Fatalf("Get(%s %q) returned id %q", typ, id, rec.ID)
	}
	return rec
}

func (s *suite) modify(t *testing.T, typ, id string, mods ...backends.Modification) backends.Record {
	t.Helper()
	rec, err := s.b.Modify(s.ctx, typ, id, mods, nil)
	if err != nil {
		t.Fatalf("Modify(%s %q, %s): %v", typ, id, describeMods(mods), err)
	}
	if rec.ID != id {
		t.Fatalf("Modify(%s %q) returned id %q", typ, id, rec.ID)
	}
	return rec
}

// members returns the sorted member ids of group id, read with Get.
func (s *suite) members(t *testing.T, id string) []string {
	t.Helper()
	return sorted(s.get(t, backends.Group, id).Attrs.Get(s.f.GroupMembers))
}

func (s *suite) wantMembers(t *testing.T, groupID string, want ...string) {
	t.Helper()
	got := s.members(t, groupID)
	if !slices.Equal(got, sorted(want)) {
		t.Fatalf("members of group %q = %q, want %q", groupID, got, sorted(want))
	}
}

func (s *suite) search(t *testing.T, typ string, q backends.Query) backends.Page {
	t.Helper()
	p, err := s.b.Search(s.ctx, typ, q)
	if err != nil {
		t.Fatalf("Search(%s, %s): %v", typ, describeQuery(q), err)
	}
	return p
}

// wantValues checks the values of attr in rec (order ignored).
func wantValues(t *testing.T, rec backends.Record, attr string, want ...string) {
	t.Helper()
	got := sorted(rec.Attrs.Get(attr))
	if !slices.Equal(got, sorted(want)) {
		t.Fatalf("record %q: %s = %q, want %q", rec.ID, attr, got, sorted(want))
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want errors.Is(err, %v)", what, err, target)
	}
}

func ids(recs []backends.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func sorted(v []string) []string {
	out := append([]string{}, v...)
	slices.Sort(out)
	return out
}

func describeMods(mods []backends.Modification) string {
	parts := make([]string, len(mods))
	for i, m := range mods {
		vals := m.Values
		if len(vals) > 4 {
			vals = append(vals[:4:4], fmt.Sprintf("... (%d values)", len(m.Values)))
		}
		parts[i] = fmt.Sprintf("%s %s %q", m.Op, m.Attr, vals)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func describeQuery(q backends.Query) string {
	return fmt.Sprintf("filter=%s sort=%q desc=%v start=%d count=%d countOnly=%v attrs=%q",
		describeFilter(q.Filter), q.SortBy, q.Descending, q.StartIndex, q.Count, q.CountOnly, q.Attrs)
}

func describeFilter(f backends.Filter) string {
	switch f := f.(type) {
	case nil:
		return "<nil>"
	case backends.And:
		return "(" + joinFilters(f.Filters, " and ") + ")"
	case backends.Or:
		return "(" + joinFilters(f.Filters, " or ") + ")"
	case backends.Not:
		return "not(" + describeFilter(f.Filter) + ")"
	case backends.Present:
		return f.Attr + " pr"
	case backends.Compare:
		ic := ""
		if f.IgnoreCase {
			ic = "/i"
		}
		return fmt.Sprintf("%s %s%s %q", f.Attr, f.Op, ic, f.Value)
	}
	return fmt.Sprintf("%#v", f)
}

func joinFilters(fs []backends.Filter, sep string) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = describeFilter(f)
	}
	return strings.Join(parts, sep)
}
