package config

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

// describer is a fake opened backend that describes its store as told.
type describer struct {
	backends.Backend
	desc *backends.Description
	err  error
}

func (d describer) DescribeNative(_ context.Context, rt string) (*backends.Description, error) {
	if d.err != nil {
		return nil, d.err
	}
	if rt != backends.User {
		return nil, fmt.Errorf("no %s: %w", rt, backends.ErrUnsupported)
	}
	return d.desc, nil
}

const twoMappings = `
backend "noop" "b" {}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "b"
  auth {
    token "t" { value = "sb_fallback_Zp3kWq8NtR5xLv2McB7yHd4Gs9Jf6Ue" }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
    attribute "title"    { native = "titel" }
  }
  mapping "Group" {
    attribute "displayName" { native = "cn" }
  }
}
`

func TestCheckBackends(t *testing.T) {
	cfg, diags := load(t, twoMappings, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	uid := &backends.NativeAttr{Name: "uid", Required: "it names new entries"}
	desc := &backends.Description{Where: "the User entries", Attrs: map[string]*backends.NativeAttr{
		"uid": uid, "title": {Name: "title"}, "sn": {Name: "sn", Required: "a MUST attribute of object class person"}}}
	line := func(d *hcl.Diagnostic) int { return d.Subject.Start.Line }

	got := CheckBackends(context.Background(), cfg, map[string]backends.Backend{"b": describer{desc: desc}})
	var summaries []string
	for _, d := range got {
		summaries = append(summaries, fmt.Sprintf("%d %s", line(d), d.Summary))
	}
	want := []string{
		"11 Native attribute not in the store",   // titel
		"9 Required native attribute not mapped", // sn, at the mapping block
		"13 Resource type not in the backend",    // the Group mapping
	}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") || !got.HasErrors() {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(summaries, "\n"), strings.Join(want, "\n"))
	}

	// A store that cannot tell now: warnings, served unchecked.
	got = CheckBackends(context.Background(), cfg, map[string]backends.Backend{"b": describer{err: fmt.Errorf("down: %w", backends.ErrUnavailable)}})
	if len(got) != 2 || got.HasErrors() || got[0].Summary != "Mapping not checked against the store" {
		t.Fatalf("unavailable: %v", got)
	}
	// The backend's own configuration does not fit: once, at the backend.
	got = CheckBackends(context.Background(), cfg, map[string]backends.Backend{"b": describer{err: fmt.Errorf("%w: object_classes names inetOrgPersn", backends.ErrConfig)}})
	if len(got) != 1 || !got.HasErrors() || line(got[0]) != 2 || !strings.Contains(got[0].Detail, "inetOrgPersn") {
		t.Fatalf("backend config: %v", got)
	}
	// A backend that cannot describe its store is not checked.
	if got = CheckBackends(context.Background(), cfg, map[string]backends.Backend{"b": nil}); len(got) != 0 {
		t.Fatalf("no describer: %v", got)
	}
}
