package mapping

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

const deptMapping = `
attribute "userName" { native = "login" }
attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" {
  native        = "dept"
  to_native     = lookup_key("departments", value)
  from_native   = lookup_value("departments", value)
  filter_values = lookup_keys("departments", value)
}
`

func deptLookups(t *testing.T) *Lookups {
	t.Helper()
	l := NewLookups([]backends.LookupSpec{{Name: "departments"}, {Name: "levels"}})
	if err := l.Set("departments", [][2]string{{"ENG", "Engineering"}, {"OPS", "Operations"}, {"OPS2", "operations"}, {"ENG", "dup"}}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLookupFunctions(t *testing.T) {
	m, diags := decode(t, deptMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	l := deptLookups(t)
	if d := m.BindLookups(l); d.HasErrors() {
		t.Fatal(d)
	}
	ext := func(v string) scim.Doc {
		return scim.Doc{"userName": "u", scim.EnterpriseSchema: map[string]any{"department": v}}
	}
	attrs, err := m.ToNative(ext("Engineering"))
	if err != nil || attrs["dept"][0] != "ENG" {
		t.Fatalf("to_native: %v %v", attrs, err)
	}
	attrs, err = m.ToNative(ext("engineering"))
	if err != nil || attrs["dept"][0] != "ENG" {
		t.Fatalf("to_native, other case: %v %v", attrs, err)
	}
	// Two codes spelt "operations" in some case: the exact one wins;
	// otherwise it is ambiguous.
	attrs, err = m.ToNative(ext("Operations"))
	if err != nil || attrs["dept"][0] != "OPS" {
		t.Fatalf("exact spelling: %v %v", attrs, err)
	}
	for v, reason := range map[string]string{"Marketing": `"Marketing": it is not one of`, "OPERATIONS": "several"} {
		_, err = m.ToNative(ext(v))
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 400 || !strings.Contains(se.Detail, "department") || !strings.Contains(se.Detail, reason) {
			t.Errorf("%s: %v", v, err)
		}
	}
	doc, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"u"}, "dept": {"OPS"}}})
	if err != nil || doc[scim.EnterpriseSchema].(map[string]any)["department"] != "Operations" {
		t.Fatalf("from_native: %v %v", doc, err)
	}
	doc, err = m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"u"}, "dept": {"XXX"}}})
	var problems ReadProblems
	if !errors.As(err, &problems) || doc[scim.EnterpriseSchema] != nil {
		t.Errorf("unknown code: %v %v", doc, err)
	}
	// Results are not memoized: a refreshed table reads at once.
	if err := l.Set("departments", [][2]string{{"OPS", "Operations & Facilities"}}); err != nil {
		t.Fatal(err)
	}
	doc, _ = m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"u"}, "dept": {"OPS"}}})
	if got := doc[scim.EnterpriseSchema].(map[string]any)["department"]; got != "Operations & Facilities" {
		t.Errorf("after a refresh: %v", got)
	}
	l.Set("departments", [][2]string{{"OPS", "Operations"}, {"OPS2", "operations"}})
	for filter, want := range map[string]backends.Filter{
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "OPERATIONS"`: backends.Or{Filters: []backends.Filter{
			backends.Compare{Attr: "dept", Op: backends.Eq, Value: "OPS"}, backends.Compare{Attr: "dept", Op: backends.Eq, Value: "OPS2"}}},
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Nope"`: backends.And{Filters: []backends.Filter{
			backends.Present{Attr: "dept"}, backends.Not{Filter: backends.Present{Attr: "dept"}}}},
	} {
		expr, err := scim.ParseFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		got, exact := m.Compile(expr)
		if !exact || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v %v\nwant %#v", filter, got, exact, want)
		}
	}
}

// TestLookupNotLoaded: until a table has been read, a write that needs it
// is unavailable (503, retry), not the client's fault.
func TestLookupNotLoaded(t *testing.T) {
	m, _ := decode(t, deptMapping)
	m.BindLookups(NewLookups([]backends.LookupSpec{{Name: "departments"}}))
	_, err := m.ToNative(scim.Doc{"userName": "u", scim.EnterpriseSchema: map[string]any{"department": "Engineering"}})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("not loaded: %v", err)
	}
}

func TestBindLookupsDiagnostics(t *testing.T) {
	m, diags := decode(t, `
attribute "userName" { native = "login" }
attribute "title" {
  native      = "job"
  to_native   = lookup_key("titles", value)
  from_native = lookup_value(value, value)
}
computed "lvl" { value = lookup_value("levels", resource.userName) }
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got []string
	for _, d := range m.BindLookups(deptLookups(t)) {
		got = append(got, d.Summary+"@"+d.Subject.String())
	}
	want := []string{"Unknown lookup table@m.hcl:5,28-36", "Lookup table not literal@m.hcl:6,30-35"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %v\nwant %v", got, want)
	}
	if d := m.BindLookups(nil); len(d) != 3 || !strings.Contains(d[0].Detail, "declares none") {
		t.Errorf("no tables: %v", d)
	}
}

// flaky serves a table that changes on every read and fails on reads 2
// and 3.
type flaky struct {
	mu    sync.Mutex
	reads int
}

func (f *flaky) LookupTable(_ context.Context, name string) ([][2]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.reads == 2 || f.reads == 3 {
		return nil, fmt.Errorf("down: %w", backends.ErrUnavailable)
	}
	return [][2]string{{"K", fmt.Sprint("v", f.reads)}}, nil
}

// TestLookupsRun: the refresh loop reads tables again; a failed read
// keeps the last good copy.
func TestLookupsRun(t *testing.T) {
	l := NewLookups([]backends.LookupSpec{{Name: "t", Refresh: 20 * time.Millisecond}})
	src := &flaky{}
	if err := l.Load(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	value := func() string {
		tb, err := l.table("t")
		if err != nil {
			t.Fatal(err)
		}
		tb.mu.RLock()
		defer tb.mu.RUnlock()
		return tb.byKey["K"]
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx, src, hclog.NewNullLogger()); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	seen := map[string]bool{}
	for time.Now().Before(deadline) && !seen["v4"] {
		v := value()
		seen[v] = true
		if v == "v2" || v == "v3" {
			t.Fatalf("a failed read replaced the table: %s", v)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	if !seen["v1"] || !seen["v4"] {
		t.Errorf("values seen: %v", seen)
	}
}
