package memory_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/memory"
)

func TestTypedFilters(t *testing.T) {
	ctx := context.Background()
	b := memory.New(testConfig())
	names := map[string]string{}
	for _, u := range []backends.Attrs{
		{"uid": {"a"}, "flag": {"TRUE"}, "n": {"9"}, "at": {"2021-01-01T00:00:00Z"}},
		{"uid": {"b"}, "flag": {"false"}, "n": {"10", "1e1"}, "at": {"2021-01-01T01:00:00+02:00"}},
		{"uid": {"c"}, "flag": {"yes"}, "n": {"x"}, "at": {"0"}},
	} {
		rec, err := b.Create(ctx, backends.User, u)
		if err != nil {
			t.Fatal(err)
		}
		names[rec.ID] = u.First("uid")
	}
	for _, tc := range []struct {
		f    backends.Filter
		want []string
	}{
		{backends.Compare{Attr: "n", Op: backends.Gt, Value: "9.5", Kind: backends.KindNumber}, []string{"b"}},
		{backends.Compare{Attr: "n", Op: backends.Eq, Value: "9.0", Kind: backends.KindNumber}, []string{"a"}},
		{backends.Compare{Attr: "n", Op: backends.Ne, Value: "10", Kind: backends.KindNumber}, []string{"a", "c"}},
		{backends.Compare{Attr: "flag", Op: backends.Eq, Value: "true", Kind: backends.KindBool}, []string{"a"}},
		{backends.Compare{Attr: "flag", Op: backends.Eq, Value: "FALSE", Kind: backends.KindBool}, []string{"b"}},
		{backends.Compare{Attr: "at", Op: backends.Lt, Value: "2021-01-01T00:00:00Z", Kind: backends.KindTime}, []string{"b"}},
		{backends.Compare{Attr: "at", Op: backends.Eq, Value: "2020-12-31T23:00:00Z", Kind: backends.KindTime}, []string{"b"}},
		{backends.Compare{Attr: "UID", Op: backends.Eq, Value: "A", IgnoreCase: true}, []string{"a"}},
	} {
		p, err := b.Search(ctx, backends.User, backends.Query{Filter: tc.f})
		if err != nil {
			t.Fatalf("%#v: %v", tc.f, err)
		}
		var got []string
		for _, r := range p.Records {
			got = append(got, names[r.ID])
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%#v: %v, want %v", tc.f, got, tc.want)
		}
	}
	_, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "n", Op: backends.Gt, Value: "many", Kind: backends.KindNumber}})
	if !errors.Is(err, backends.ErrInvalid) {
		t.Errorf("number filter with a non-number: %v, want ErrInvalid", err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	b := memory.New(testConfig())
	u, err := b.Create(ctx, backends.User, backends.Attrs{"uid": {"u"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := b.Create(ctx, backends.Group, backends.Attrs{"cn": {"g"}, "member": {u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "memberOf", Values: []string{g.ID}}}, nil); !errors.Is(err, backends.ErrInvalid) {
		t.Errorf("write to a reverse attribute: %v, want ErrInvalid", err)
	}
	if _, err := b.Create(ctx, "Device", backends.Attrs{}); !errors.Is(err, backends.ErrUnsupported) {
		t.Errorf("unknown resource type: %v, want ErrUnsupported", err)
	}
	// Modify returns the attributes asked for, as Get does.
	rec, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "description", Values: []string{"d"}}}, []string{"cn", "description"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Attrs.Get("member") != nil || rec.Attrs.First("description") != "d" {
		t.Errorf("Modify result %v: want description and no member", rec.Attrs)
	}
	// Returned records are copies.
	got, _ := b.Get(ctx, backends.Group, g.ID, nil)
	got.Attrs["member"][0] = "tampered"
	again, _ := b.Get(ctx, backends.Group, g.ID, nil)
	if again.Attrs.First("member") != u.ID {
		t.Errorf("a caller's change leaked into the store: %v", again.Attrs)
	}
}
