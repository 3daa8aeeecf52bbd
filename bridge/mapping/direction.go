package mapping

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Directions of a mapping (the direction argument of an attribute block).
const (
	// DirectionBoth: read from the directory and written to it (default).
	DirectionBoth = "both"
	// DirectionRead: read only. The directory's value is shown; a
	// client's value is ignored, as RFC 7644 says of readOnly attributes
	// in a PUT, and never written. Advertised as mutability readOnly.
	DirectionRead = "read"
	// DirectionWrite: written only, never read back, like a password:
	// left out of every answer and refused in filter, sortBy and
	// attributes. Advertised as mutability writeOnly, returned never.
	DirectionWrite = "write"
)

// decodeDirection applies the direction argument to a, after the rest of
// its block is decoded, and reports what contradicts it: to_native or a
// default on a mapping that never writes, from_native or filter_values on
// one that never reads, a direction the SCIM attribute cannot have.
func (m *Mapping) decodeDirection(a *Attr, attr *hcl.Attribute) hcl.Diagnostics {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	refuse := func(rng hcl.Range, summary, detail string) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
	}
	all := []string{DirectionRead, DirectionWrite, DirectionBoth}
	if v.IsNull() || v.Type() != cty.String {
		return refuse(attr.Expr.Range(), "Invalid direction", `direction must be "read", "write" or "both".`)
	}
	dir := v.AsString()
	switch dir {
	case DirectionRead, DirectionWrite, DirectionBoth:
	default:
		return refuse(attr.Expr.Range(), "Invalid direction",
			fmt.Sprintf(`%q is not a direction: use "read" (never written), "write" (never read back) or "both".%s`, dir, didYouMean(dir, all)))
	}
	schemaReadOnly, schemaWriteOnly := a.ReadOnly, a.WriteOnly
	switch {
	case dir != DirectionRead && schemaReadOnly:
		return refuse(attr.Expr.Range(), "Invalid direction",
			fmt.Sprintf(`%q is read-only in SCIM: the bridge only reads it. Use direction = "read", or leave direction out.`, a.Label))
	case dir != DirectionWrite && schemaWriteOnly:
		return refuse(attr.Expr.Range(), "Invalid direction",
			fmt.Sprintf(`%q is never returned in SCIM (returned "never"): the bridge only writes it. Use direction = "write", or leave direction out.`, a.Label))
	case dir != DirectionBoth && a.Kind == Collection && a.Path.IsCore(m.RT) && a.Path.Attr.Name == "members":
		return refuse(attr.Expr.Range(), "Invalid direction",
			"Group members are read and written incrementally; direction applies to other attributes.")
	}
	a.Direction = dir
	switch dir {
	case DirectionRead:
		if a.ToNative != nil {
			diags = refuse(a.toNativeRange, "to_native on a read-only mapping",
				fmt.Sprintf(`%q has direction = "read": it is never written, so to_native would never be used. Remove to_native, or the direction.`, a.Label))
		}
		if a.Default != nil {
			diags = refuse(a.defaultRange, "Invalid default",
				fmt.Sprintf(`%q has direction = "read": it is never written, so it cannot have a default.`, a.Label))
		}
		a.ReadOnly = true
	case DirectionWrite:
		if a.FromNative != nil {
			diags = refuse(a.fromNativeRange, "from_native on a write-only mapping",
				fmt.Sprintf(`%q has direction = "write": it is never read back, so from_native would never be used. Remove from_native, or the direction.`, a.Label))
		}
		if a.FilterValues != nil {
			diags = refuse(a.filterValuesRange, "filter_values on a write-only mapping",
				fmt.Sprintf(`%q has direction = "write": it cannot be filtered on. Remove filter_values, or the direction.`, a.Label))
		}
		if a.Default != nil {
			diags = refuse(a.defaultRange, "Invalid default",
				fmt.Sprintf(`%q has direction = "write": it is never read back, so a default could not be told from a value the client sent.`, a.Label))
		}
		a.WriteOnly = true
	}
	return diags
}

// Advertised is the mutability and returned characteristic /Schemas shows
// for an attribute (sub nil) or one of its sub-attributes: the schema's,
// unless every mapping of it has direction "read" (readOnly) or "write"
// (writeOnly, returned never).
func (m *Mapping) Advertised(s *scim.Schema, attr, sub *scim.Attribute) (mutability, returned string) {
	a := attr
	if sub != nil {
		a = sub
	}
	mutability, returned = a.Mutability, a.Returned
	reads, writes, mapped := true, true, false
	for _, x := range m.Attrs {
		if x.Path.Schema != s || x.Path.Attr != attr {
			continue
		}
		if sub != nil && x.Path.Sub != sub && x.Target != sub {
			continue
		}
		mapped = true
		if x.Direction != DirectionRead {
			reads = false
		}
		if x.Direction != DirectionWrite {
			writes = false
		}
	}
	switch {
	case mapped && reads:
		mutability = scim.ReadOnly
	case mapped && writes:
		mutability, returned = scim.WriteOnly, "never"
	}
	return mutability, returned
}

// checkReadOnlyReads refuses expressions that compute what is written
// (to_native, computed) from an attribute with direction "read": a
// client's value for it is ignored, so what is written from it would not
// be what reads show.
func (m *Mapping) checkReadOnlyReads() hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(expr hcl.Expression, what string, rng hcl.Range) {
		reads, _ := m.resourceReads(expr)
		for _, rp := range reads {
			for _, o := range m.Attrs {
				if o.Direction == DirectionRead && rp.overlaps(o.Path.Schema, o.Path.Attr, o.Path.Sub) {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Expression reads a read-only mapping",
						Detail: fmt.Sprintf(`%s reads %s, which has direction = "read": a client's value for it is ignored, so what is written from it would not be what reads show.`,
							what, o.Label), Subject: rng.Ptr()})
					return
				}
			}
		}
	}
	for _, a := range m.Attrs {
		if a.ToNative != nil && a.toNativeUsesResource && !a.ReadOnly {
			check(a.ToNative, fmt.Sprintf("to_native of %q", a.Label), a.toNativeRange)
		}
	}
	for _, c := range m.Computed {
		check(c.Value, fmt.Sprintf("computed %q", c.Native), c.Range)
	}
	return diags
}
