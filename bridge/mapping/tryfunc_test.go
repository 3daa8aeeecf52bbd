package mapping

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// TestTryAndCan: try() gives its first argument that evaluates, can()
// whether one does; both work in every kind of mapping expression.
func TestTryAndCan(t *testing.T) {
	m, diags := decode(t, `
attribute "userName" { native = "login" }
attribute "title" {
  native      = "job"
  to_native   = try(lower(value), "")
  from_native = try(upper(value), null)
  filter_values = [try(lower(value), "x")]
}
attribute "nickName" {
  native      = "nick"
  to_native   = can(regex("^[a-z]+$", value)) ? value : "invalid"
  from_native = can(tonumber(value)) ? "#${value}" : value
}
attribute "profileUrl" {
  native      = "url"
  from_native = try(record.homepage, "none")
}
computed "display" {
  value = try(format("%s (%s)", resource.userName, resource.title), resource.userName)
}`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attrs, err := m.ToNative(scim.Doc{"userName": "jd", "nickName": "Bad Nick"})
	if err != nil {
		t.Fatal(err)
	}
	want := backends.Attrs{"login": {"jd"}, "job": {}, "nick": {"invalid"}, "url": {}, "display": {"jd"}}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("ToNative:\n got %v\nwant %v", attrs, want)
	}
	attrs, _ = m.ToNative(scim.Doc{"userName": "jd", "title": "Boss", "nickName": "jo"})
	if got := attrs["display"]; len(got) != 1 || got[0] != "jd (Boss)" || attrs["job"][0] != "boss" || attrs["nick"][0] != "jo" {
		t.Errorf("ToNative with title: %v", attrs)
	}
	doc, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"jd"}, "nick": {"42"}}})
	if err != nil {
		t.Fatal(err)
	}
	if doc["nickName"] != "#42" || doc["profileUrl"] != "none" || doc["title"] != nil {
		t.Errorf("FromNative: %v", doc)
	}
	expr, _ := scim.ParseFilter(`title eq "Boss"`)
	if f, exact := m.Compile(expr); !exact || !reflect.DeepEqual(f, backends.Compare{Attr: "job", Op: backends.Eq, Value: "boss"}) {
		t.Errorf("filter_values with try: %#v %v", f, exact)
	}
	// Arguments are still checked at load.
	_, diags = decode(t, `attribute "title" {
  native    = "job"
  to_native = try(nosuch(value), value)
}`)
	if !diags.HasErrors() || diags[0].Summary != "Call to unknown function" {
		t.Errorf("unknown function inside try: %v", diags)
	}
}
