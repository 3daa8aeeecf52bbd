package mapping

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/scimbridge/scimbridge/backends"
)

// Lookup tables are key/value pairs kept in the store (department codes
// and names) that mapping expressions read through three functions:
//
//	lookup_value("departments", "ENG")          // "Engineering": the value of a key
//	lookup_key("departments", "Engineering")    // "ENG": the key of a value
//	lookup_keys("departments", "engineering")   // ["ENG"]: every key whose value equals, ignoring case
//
// The bridge keeps a copy of each table in memory and reads it again every
// refresh interval (Lookups.Run); a failed read keeps the last good copy.
// A key or value not in the table is an error of the expression: on a write
// a 400 naming the SCIM attribute and the value, on a read the attribute is
// left out of that resource and logged (see ReadProblems). Results are
// never memoized, since the table changes.

// lookupFuncs are the names of the lookup functions; their first argument
// names a table and must be a literal, checked at load.
var lookupFuncs = map[string]bool{"lookup_value": true, "lookup_key": true, "lookup_keys": true}

// Lookups holds the lookup tables of one backend.
type Lookups struct {
	tables map[string]*lookupTable
}

type lookupTable struct {
	spec backends.LookupSpec
	mu   sync.RWMutex
	// byKey maps a key to its value; byValue a value to its keys, and
	// byFold a lower-cased value to its keys. loaded is false until the
	// first successful read.
	byKey   map[string]string
	byValue map[string][]string
	byFold  map[string][]string
	loaded  bool
}

// NewLookups declares the tables a backend's configuration lists; they
// are empty until loaded.
func NewLookups(specs []backends.LookupSpec) *Lookups {
	l := &Lookups{tables: map[string]*lookupTable{}}
	for _, s := range specs {
		l.tables[s.Name] = &lookupTable{spec: s}
	}
	return l
}

// Names lists the declared tables, sorted.
func (l *Lookups) Names() []string {
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.tables))
	for n := range l.tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Set replaces the contents of a table. Later rows with a key already seen
// are ignored.
func (l *Lookups) Set(name string, rows [][2]string) error {
	t := l.tables[name]
	if t == nil {
		return fmt.Errorf("no lookup table %q", name)
	}
	byKey := make(map[string]string, len(rows))
	byValue := make(map[string][]string, len(rows))
	byFold := make(map[string][]string, len(rows))
	for _, r := range rows {
		if _, dup := byKey[r[0]]; dup {
			continue
		}
		byKey[r[0]] = r[1]
		byValue[r[1]] = append(byValue[r[1]], r[0])
		f := strings.ToLower(r[1])
		byFold[f] = append(byFold[f], r[0])
	}
	t.mu.Lock()
	t.byKey, t.byValue, t.byFold, t.loaded = byKey, byValue, byFold, true
	t.mu.Unlock()
	return nil
}

// Load reads every table once from src. Tables that fail keep what they
// had; the errors are returned together.
func (l *Lookups) Load(ctx context.Context, src backends.Lookuper) error {
	var errs []error
	for _, name := range l.Names() {
		if err := l.load(ctx, src, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (l *Lookups) load(ctx context.Context, src backends.Lookuper, name string) error {
	rows, err := src.LookupTable(ctx, name)
	if err != nil {
		return fmt.Errorf("lookup %q: %w", name, err)
	}
	return l.Set(name, rows)
}

// Run reads each table again every refresh interval until ctx ends. A
// failed read keeps the last good copy, is logged, and is retried sooner
// (after a tenth of the interval, at least 5 seconds or the interval).
func (l *Lookups) Run(ctx context.Context, src backends.Lookuper, log hclog.Logger) {
	var wg sync.WaitGroup
	for _, name := range l.Names() {
		t := l.tables[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry := max(t.spec.Refresh/10, min(5*time.Second, t.spec.Refresh))
			wait := t.spec.Refresh
			if !t.isLoaded() {
				wait = retry // the first read failed
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				wait = t.spec.Refresh
				if err := l.load(ctx, src, name); err != nil && ctx.Err() == nil {
					wait = retry
					log.Warn("lookup table not refreshed; keeping the last copy", "lookup", name, "retry_in", wait, "error", err)
				}
			}
		}()
	}
	wg.Wait()
}

func (l *Lookups) table(name string) (*lookupTable, error) {
	if l == nil || l.tables[name] == nil {
		return nil, fmt.Errorf("there is no lookup table %q", name)
	}
	t := l.tables[name]
	if !t.isLoaded() {
		return nil, fmt.Errorf("lookup table %q has not been read from the directory yet: %w", name, backends.ErrUnavailable)
	}
	return t, nil
}

func (t *lookupTable) isLoaded() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.loaded
}

// notKnown is the reason a write fails on a value the table lacks.
func notKnown(v string) error {
	return &ValueError{Reason: fmt.Sprintf("cannot be %q: it is not one of the values the directory knows", v)}
}

// functions returns the lookup functions over l.
func (l *Lookups) functions() map[string]function.Function {
	params := []function.Parameter{{Name: "table", Type: cty.String}, {Name: "v", Type: cty.String}}
	return map[string]function.Function{
		"lookup_value": function.New(&function.Spec{
			Params: params, Type: function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				t, err := l.table(args[0].AsString())
				if err != nil {
					return cty.NilVal, err
				}
				k := args[1].AsString()
				t.mu.RLock()
				v, ok := t.byKey[k]
				t.mu.RUnlock()
				if !ok {
					return cty.NilVal, notKnown(k)
				}
				return cty.StringVal(v), nil
			},
		}),
		"lookup_key": function.New(&function.Spec{
			Params: params, Type: function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				t, err := l.table(args[0].AsString())
				if err != nil {
					return cty.NilVal, err
				}
				v := args[1].AsString()
				t.mu.RLock()
				keys := t.byValue[v]
				if len(keys) == 0 {
					keys = t.byFold[strings.ToLower(v)]
				}
				t.mu.RUnlock()
				switch len(keys) {
				case 0:
					return cty.NilVal, notKnown(v)
				case 1:
					return cty.StringVal(keys[0]), nil
				}
				return cty.NilVal, &ValueError{Reason: fmt.Sprintf("cannot be %q: several of the directory's values are spelt so", v)}
			},
		}),
		"lookup_keys": function.New(&function.Spec{
			Params: params, Type: function.StaticReturnType(cty.List(cty.String)),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				t, err := l.table(args[0].AsString())
				if err != nil {
					return cty.NilVal, err
				}
				t.mu.RLock()
				keys := t.byFold[strings.ToLower(args[1].AsString())]
				t.mu.RUnlock()
				if len(keys) == 0 {
					return cty.ListValEmpty(cty.String), nil
				}
				vals := make([]cty.Value, len(keys))
				for i, k := range keys {
					vals[i] = cty.StringVal(k)
				}
				return cty.ListVal(vals), nil
			},
		}),
	}
}

// BindLookups gives the mapping's expressions the lookup tables of its
// backend (nil: none) and checks that every lookup call names one of
// them with a literal, reporting each that does not at its range.
func (m *Mapping) BindLookups(l *Lookups) hcl.Diagnostics {
	fns := make(map[string]function.Function, len(functions)+3)
	for k, v := range functions {
		fns[k] = v
	}
	for k, v := range l.functions() {
		fns[k] = v
	}
	m.fns = fns
	var diags hcl.Diagnostics
	check := func(expr hcl.Expression) {
		sx, ok := expr.(hclsyntax.Expression)
		if !ok {
			return
		}
		diags = append(diags, hclsyntax.VisitAll(sx, func(n hclsyntax.Node) hcl.Diagnostics {
			fc, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || !lookupFuncs[fc.Name] || len(fc.Args) == 0 {
				return nil
			}
			arg := fc.Args[0]
			v, d := arg.Value(nil)
			if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
				return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Lookup table not literal",
					Detail: fmt.Sprintf("The first argument of %s names a lookup table and must be a string, like %s(\"departments\", value).", fc.Name, fc.Name), Subject: arg.Range().Ptr()}}
			}
			name := v.AsString()
			if l != nil && l.tables[name] != nil {
				return nil
			}
			avail := "the backend declares none (add a lookup block to it)"
			if names := l.Names(); len(names) > 0 {
				avail = "the backend declares " + strings.Join(names, ", ")
			}
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown lookup table",
				Detail: fmt.Sprintf("There is no lookup table %q; %s.", name, avail), Subject: arg.Range().Ptr()}}
		})...)
	}
	for _, a := range m.Attrs {
		for _, e := range []hcl.Expression{a.ToNative, a.FromNative, a.FilterValues, a.Default} {
			if e != nil {
				check(e)
			}
		}
	}
	for _, c := range m.Computed {
		check(c.Value)
	}
	return diags
}

// unboundLookups stand in for the lookup functions of a mapping that has
// no tables bound (decoded outside a configuration): every call fails.
func unboundLookups() map[string]function.Function {
	return (*Lookups)(nil).functions()
}
