package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Going back from native names to SCIM ones, for error messages: a client
// is told which of its attributes a refusal is about, never the column,
// LDAP attribute or expression behind it.

// Name is how clients know a mapped attribute: userName, name.familyName,
// emails[type eq "work"].value, members, urn:...:User:employeeNumber.
func (a *Attr) Name() string {
	switch a.Kind {
	case Element:
		return a.Label
	case Collection:
		if a.Path.Sub == nil || a.Path.Sub.Name == "value" {
			return scim.Path{Schema: a.Path.Schema, Attr: a.Path.Attr}.String()
		}
	}
	return a.Path.String()
}

// Secret reports an attribute whose values are never shown (password).
func (a *Attr) Secret() bool {
	return a.WriteOnly || a.Target != nil && (a.Target.Returned == "never" || a.Target.Mutability == scim.WriteOnly)
}

// ByNative returns the writable mapping of a native attribute (compared
// case-insensitively), or nil. When several SCIM attributes write it, the
// first declared one is returned.
func (m *Mapping) ByNative(native string) *Attr {
	if native == "" {
		return nil
	}
	var readOnly *Attr
	for _, a := range m.Attrs {
		if !strings.EqualFold(a.Native, native) {
			continue
		}
		if !a.ReadOnly {
			return a
		}
		if readOnly == nil {
			readOnly = a
		}
	}
	return readOnly
}

// Writes reports whether a mapping or a computed attribute writes the
// native attribute (compared case-insensitively).
func (m *Mapping) Writes(native string) bool {
	for _, a := range m.Attrs {
		if !a.ReadOnly && strings.EqualFold(a.Native, native) {
			return true
		}
	}
	for _, c := range m.Computed {
		if strings.EqualFold(c.Native, native) {
			return true
		}
	}
	return false
}

// NameOfNative returns the SCIM name clients know a native attribute by:
// the attribute mapped to it, or for a computed attribute the one
// attribute it is computed from. "" when there is none (or several).
func (m *Mapping) NameOfNative(native string) string {
	if a := m.ByNative(native); a != nil {
		return a.Name()
	}
	for _, c := range m.Computed {
		if !strings.EqualFold(c.Native, native) || c.Reads["*"] || len(c.Reads) != 1 {
			continue
		}
		for name := range c.Reads {
			if a := m.RT.Schema.Attr(name); a != nil {
				return scim.Path{Schema: m.RT.Schema, Attr: a}.String()
			}
		}
	}
	return ""
}

// SCIMValue returns the value a mapping reads from doc (nil when absent;
// a list for a Collection).
func (m *Mapping) SCIMValue(a *Attr, doc scim.Doc) any {
	if doc == nil {
		return nil
	}
	return m.scimValue(a, doc)
}

// ValueError is an expression function's refusal of the value it was
// given, in words for the client ("is longer than ..."). Functions return
// it for limits the client can respect; any other failure of a to_native
// expression is reported without its text.
type ValueError struct{ Reason string }

func (e *ValueError) Error() string { return e.Reason }

// evalErr is the error of a to_native or computed expression that failed
// on the client's values. The client learns which attribute and, when a
// function said why in its words (ValueError), why; the expression's file,
// line and message go to the log.
func evalErr(name string, rng hcl.Range, diags hcl.Diagnostics) error {
	reason := "cannot be converted to what the directory stores"
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
		if !ok {
			continue
		}
		var ve *ValueError
		if err := extra.FunctionCallError(); errors.Is(err, backends.ErrUnavailable) {
			// A lookup table not read yet: the directory's fault, retry.
			return fmt.Errorf("mapping expression at %s for %s: %w", rng, orUnnamed(name), err)
		} else if errors.As(err, &ve) {
			reason = ve.Reason
			break
		} else if errors.Is(err, bcrypt.ErrPasswordTooLong) {
			reason = bcryptTooLong
			break
		}
	}
	detail := "the values of this resource " + reason
	if name != "" {
		detail = name + " " + reason
	}
	return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: detail, Withheld: true,
		Cause: fmt.Errorf("mapping expression at %s failed for %s: %s", rng, orUnnamed(name), diags.Error())}
}

const bcryptTooLong = "is longer than 72 bytes, the most that bcrypt hashes"

func orUnnamed(name string) string {
	if name == "" {
		return "a computed attribute"
	}
	return name
}
