package ldap

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

var _ backends.Describer = (*Backend)(nil)

// DescribeNative says which attributes a resource type's entries may have,
// from the directory's subschema: every attribute type (each of its names
// and its OID), the configured references (inverse_of ones are virtual and
// read-only), and the virtual scimbridgeActive with a disabled container.
// An attribute type cannot be written when it is NO-USER-MODIFICATION or,
// not being operational, no object class of new entries (object_classes,
// their superclasses) allows it, unless one of them is extensibleObject.
// A MUST attribute of those classes is required, except objectClass and a
// reference the backend fills with its empty_placeholder; so is the
// rdn_attribute, which names new entries. A directory that does not show
// its schema to the bridge's account answers ErrUnavailable.
func (b *Backend) DescribeNative(ctx context.Context, resourceType string) (*backends.Description, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return nil, err
	}
	caps, err := b.getCaps(ctx)
	if err != nil {
		return nil, err
	}
	if len(caps.schema) == 0 {
		return nil, fmt.Errorf("%w: the directory does not show its schema (subschemaSubentry) to the bridge's account", backends.ErrUnavailable)
	}
	ocs := strings.Join(r.cfg.ObjectClasses, ", ")
	d := &backends.Description{
		Where: fmt.Sprintf("the %s entries (object classes %s)", r.typ, ocs),
		Attrs: map[string]*backends.NativeAttr{},
	}

	// What the classes of new entries allow and require.
	allowed := map[*attrType]bool{}
	mustOf := map[*attrType]string{} // the first class requiring it
	anything := caps.classes == nil  // without classes, nothing is known to be refused
	if caps.classes != nil {
		seen := map[*objectClass]bool{}
		var walk func(name string) bool
		walk = func(name string) bool {
			oc := caps.classes.lookup(name)
			if oc == nil {
				return false
			}
			if seen[oc] {
				return true
			}
			seen[oc] = true
			for _, n := range oc.names {
				if strings.EqualFold(n, "extensibleObject") {
					anything = true
				}
			}
			for _, a := range oc.must {
				if at := caps.schema.lookup(a); at != nil {
					allowed[at] = true
					if _, ok := mustOf[at]; !ok {
						mustOf[at] = name
					}
				}
			}
			for _, a := range oc.may {
				if at := caps.schema.lookup(a); at != nil {
					allowed[at] = true
				}
			}
			for _, sup := range oc.sup {
				walk(sup)
			}
			return true
		}
		var unknown []string
		for _, oc := range r.cfg.ObjectClasses {
			if !walk(oc) {
				unknown = append(unknown, oc)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%w: resource %q: object_classes names %s, which the directory's schema does not have",
				backends.ErrConfig, r.typ, strings.Join(unknown, ", "))
		}
	}
	// isAllowed: an attribute a class allows, or a subtype of one.
	isAllowed := func(at *attrType) bool {
		for i := 0; at != nil && i < 16; i, at = i+1, caps.schema.lookup(at.sup) {
			if allowed[at] {
				return true
			}
		}
		return false
	}

	natives := map[*attrType]*backends.NativeAttr{}
	for key, at := range caps.schema {
		n := natives[at]
		if n == nil {
			n = &backends.NativeAttr{Name: key}
			if len(at.names) > 0 {
				n.Name = at.names[0]
			}
			switch {
			case at.noUserMod:
				n.ReadOnly = "the directory sets it (NO-USER-MODIFICATION)"
			case !at.operational && !anything && !isAllowed(at):
				n.ReadOnly = fmt.Sprintf("no object class of new entries (%s) allows it; add one that does to object_classes", ocs)
			}
			if class, ok := mustOf[at]; ok && !strings.EqualFold(n.Name, "objectClass") && !(b.guidIDs() && adSystemFilled[strings.ToLower(n.Name)]) {
				n.Required = fmt.Sprintf("a MUST attribute of object class %s", class)
			}
			natives[at] = n
		}
		d.Attrs[key] = n
	}

	id := d.Lookup(b.cfg.IDAttribute)
	if id == nil {
		return nil, fmt.Errorf("%w: id_attribute %q is not an attribute type of the directory's schema", backends.ErrConfig, b.cfg.IDAttribute)
	}
	id.ID = true
	rdn := d.Lookup(r.rdnAttr)
	if rdn == nil {
		return nil, fmt.Errorf("%w: resource %q: rdn_attribute %q is not an attribute type of the directory's schema", backends.ErrConfig, r.typ, r.rdnAttr)
	}
	if rdn.Required != "" {
		rdn.Required += "; it names new entries (rdn_attribute)"
	} else {
		rdn.Required = "it names new entries (rdn_attribute)"
	}
	virtual := func(name, readOnly string) {
		if d.Lookup(name) == nil {
			d.Attrs[strings.ToLower(name)] = &backends.NativeAttr{Name: name, ReadOnly: readOnly}
		}
	}
	for _, ref := range r.refs {
		if ref.inverse != nil {
			virtual(ref.attr, "computed by searching the "+ref.target.typ+" entries (inverse_of)")
			continue
		}
		n := d.Lookup(ref.attr)
		if n == nil {
			continue // not in the schema: a mapping of it is reported
		}
		if ref.readOnly && n.ReadOnly == "" {
			n.ReadOnly = "a read_only reference, kept by the directory"
		}
		if ref.placeholder != "" {
			n.Required = "" // the backend writes the placeholder
		}
	}
	if r.disabled != nil || r.cfg.UserAccountControl {
		virtual(activeAttr, "")
	}
	return d, nil
}
