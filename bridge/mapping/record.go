package mapping

import (
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A to_native expression may read `record`, the record as stored before
// the write, to keep what the IdP cannot express: a status "L" (on leave)
// that reads as active stays "L" when the IdP sends active: true again.
//
// Reading the stored record costs a round trip, so the bridge reads it
// only for writes that run such an expression: a PATCH that touches only
// other attributes is still written blind (see bridge/blindpatch.go). On
// create there is no stored record and `record` is null; expressions read
// it through try() (try(record.status, "")).

// ToNativeFrom is ToNative for a write over a stored record: to_native
// expressions that read `record` see stored (nil: null, as on create).
func (m *Mapping) ToNativeFrom(doc scim.Doc, stored *backends.Record) (backends.Attrs, error) {
	return m.toNative(doc, nil, stored)
}

// ToNativeUsesRecord reports whether to_native reads the stored record.
func (a *Attr) ToNativeUsesRecord() bool { return a.toNativeUsesRecord }

// ReadsRecord reports whether any to_native expression reads the stored
// record.
func (m *Mapping) ReadsRecord() bool {
	for _, a := range m.Attrs {
		if a.toNativeUsesRecord && !a.ReadOnly {
			return true
		}
	}
	return false
}

// RecordAttrs lists the native attributes to read for a write whose
// to_native expressions read the stored record: those a GET reads, plus
// any other record.x they name.
func (m *Mapping) RecordAttrs() []string {
	out := m.NativeAttrs(false)
	for _, a := range m.Attrs {
		if !a.toNativeUsesRecord {
			continue
		}
		for _, tr := range a.ToNative.Variables() {
			if tr.RootName() != "record" || len(tr) < 2 {
				continue
			}
			name, ok := stepName(tr[1])
			if ok && !slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, name) }) {
				out = append(out, name)
			}
		}
	}
	return out
}

// storedRecord is the record as expressions see it: an object of the
// first value of each native attribute (null when it has none), or null
// when there is no stored record.
func storedRecord(rec *backends.Record) cty.Value {
	if rec == nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	obj := make(map[string]cty.Value, len(rec.Attrs))
	for k, v := range rec.Attrs {
		if len(v) > 0 {
			obj[k] = cty.StringVal(v[0])
		} else {
			obj[k] = cty.NullVal(cty.String)
		}
	}
	return cty.ObjectVal(obj)
}
