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
