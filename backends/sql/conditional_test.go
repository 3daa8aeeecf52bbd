package sql_test

import (
	"context"
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// TestModifyIf: a conditional modify writes when the stored values are the
// expected ones (child-table values compared as sets) and otherwise writes
// nothing and answers ErrPrecondition.
func TestModifyIf(t *testing.T) {
	b, _ := open(t, legacyConfig, legacySchema)
	ctx := context.Background()
	rec, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"cas"}, "first_name": {"Ann"}, "phones": {"1", "2"}})
	if err != nil {
		t.Fatal(err)
	}
	expect := backends.Attrs{"first_name": {"Ann"}, "last_name": nil, "phones": {"2", "1"}}
	got, err := b.ModifyIf(ctx, backends.User, rec.ID, expect,
		[]backends.Modification{{Op: backends.ModReplace, Attr: "first_name", Values: []string{"Bea"}}}, []string{"first_name"})
	if err != nil {
		t.Fatalf("ModifyIf with the stored values: %v", err)
	}
	if got.Attrs.First("first_name") != "Bea" {
		t.Fatalf("answer %v, want first_name Bea", got.Attrs)
	}
	// The same expectation again: first_name is now Bea.
	for _, stale := range []backends.Attrs{expect, {"first_name": {"Bea"}, "last_name": {"X"}}, {"phones": {"1"}}} {
		_, err = b.ModifyIf(ctx, backends.User, rec.ID, stale,
			[]backends.Modification{{Op: backends.ModReplace, Attr: "last_name", Values: []string{"Changed"}}}, nil)
		if !errors.Is(err, backends.ErrPrecondition) {
			t.Fatalf("ModifyIf expecting %v: %v, want ErrPrecondition", stale, err)
		}
	}
	cur, err := b.Get(ctx, backends.User, rec.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Attrs.First("last_name") != "" || cur.Attrs.First("first_name") != "Bea" {
		t.Fatalf("stored %v after refused writes", cur.Attrs)
	}
	if _, err := b.ModifyIf(ctx, backends.User, "999999", expect, nil, nil); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("ModifyIf of a missing id: %v, want ErrNotFound", err)
	}
}
