package ldap

import (
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// TestModifyIf: a second backend (another bridge) changes an entry; a
// conditional modify that expects the old values writes nothing and
// answers ErrPrecondition, one that expects the new values writes, on the
// asserted path (an own attribute) and on the general one (a rename).
func TestModifyIf(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b1, b2 := newBackend(t, s), newBackend(t, s)
	ctx := ctxT(t)
	u := mustCreate(t, b1, "User", user("casuser"))
	expect := backends.Attrs{"uid": {"casuser"}, "sn": {"Family casuser"}, "mail": nil}
	mustModify(t, b2, "User", u.ID, backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Other"}})
	for _, mods := range [][]backends.Modification{
		{{Op: backends.ModReplace, Attr: "mail", Values: []string{"cas@example.org"}}},
		{{Op: backends.ModReplace, Attr: "uid", Values: []string{"casrenamed"}}},
	} {
		if _, err := b1.ModifyIf(ctx, "User", u.ID, expect, mods, nil); !errors.Is(err, backends.ErrPrecondition) {
			t.Fatalf("ModifyIf %v over a changed sn: %v, want ErrPrecondition", mods, err)
		}
	}
	got := mustGet(t, b2, "User", u.ID)
	if got.Attrs.First("uid") != "casuser" || len(got.Attrs.Get("mail")) != 0 || got.Attrs.First("sn") != "Other" {
		t.Fatalf("stored %v after refused writes", got.Attrs)
	}
	expect["sn"] = []string{"Other"}
	rec, err := b1.ModifyIf(ctx, "User", u.ID, expect,
		[]backends.Modification{{Op: backends.ModReplace, Attr: "mail", Values: []string{"cas@example.org"}}}, []string{"mail", "sn"})
	if err != nil || rec.Attrs.First("mail") != "cas@example.org" {
		t.Fatalf("ModifyIf with the stored values: %v, %v", rec.Attrs, err)
	}
	expect["mail"] = []string{"cas@example.org"}
	rec, err = b1.ModifyIf(ctx, "User", u.ID, expect,
		[]backends.Modification{{Op: backends.ModReplace, Attr: "uid", Values: []string{"casrenamed"}}}, []string{"uid"})
	if err != nil || rec.Attrs.First("uid") != "casrenamed" {
		t.Fatalf("ModifyIf renaming: %v, %v", rec.Attrs, err)
	}
	if _, err := b1.ModifyIf(ctx, "User", "00000000-0000-0000-0000-000000000000", expect, nil, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("ModifyIf of a missing id: %v, want ErrNotFound", err)
	}
}

// TestModifySwapped: the path for servers without the assertion control
// (389 DS), run on slapd: a replacement deletes the values read, so a
// value another backend replaced since makes it fail with
// ErrPrecondition and write nothing.
func TestModifySwapped(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b1, b2 := newBackend(t, s), newBackend(t, s)
	ctx := ctxT(t)
	r, err := b1.resource("User")
	if err != nil {
		t.Fatal(err)
	}
	u := mustCreate(t, b1, "User", user("swapuser"))
	swap := func(expect backends.Attrs, mods ...backends.Modification) (backends.Record, bool, error) {
		pl, err := b1.planModify(ctx, r, mods)
		if err != nil {
			t.Fatal(err)
		}
		return b1.modifySwapped(ctx, r, u.ID, expect, pl, b1.planRead(r, []string{"sn", "mail"}))
	}
	mustModify(t, b2, "User", u.ID, backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Other"}})
	_, done, err := swap(backends.Attrs{"sn": {"Family swapuser"}}, backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Mine"}})
	if !done || !errors.Is(err, backends.ErrPrecondition) {
		t.Fatalf("swap over a replaced sn: done %v, %v; want ErrPrecondition", done, err)
	}
	if got := mustGet(t, b2, "User", u.ID); got.Attrs.First("sn") != "Other" {
		t.Fatalf("sn %q after the refused write, want Other", got.Attrs.First("sn"))
	}
	rec, done, err := swap(backends.Attrs{"sn": {"Other"}, "mail": nil},
		backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Mine"}},
		backends.Modification{Op: backends.ModReplace, Attr: "mail", Values: []string{"swap@example.org"}})
	if !done || err != nil || rec.Attrs.First("sn") != "Mine" || rec.Attrs.First("mail") != "swap@example.org" {
		t.Fatalf("swap with the stored values: done %v, %v, %v", done, rec.Attrs, err)
	}
	// An add is not a replacement: it takes the general path.
	if _, done, _ := swap(backends.Attrs{}, backends.Modification{Op: backends.ModAdd, Attr: "mail", Values: []string{"x@example.org"}}); done {
		t.Fatal("an add took the swapped path")
	}
}
