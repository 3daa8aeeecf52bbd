package rest

import (
	"context"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
)

var _ backends.Describer = (*Backend)(nil)

// DescribeNative describes a resource's declared attributes, for the
// bridge's start-up check of the mapping: a mapping that names an
// attribute the resource does not declare, or writes a read-only one,
// stops the start with its file and line. With a describe block, the
// API's own schema adds which attributes it requires, which it sets
// itself, and which declared attributes it does not have.
func (b *Backend) DescribeNative(ctx context.Context, typ string) (*backends.Description, error) {
	r, err := b.resource(typ)
	if err != nil {
		return nil, err
	}
	d := &backends.Description{Where: fmt.Sprintf("the %s records of the API at %s", typ, b.cfg.base.Host), Attrs: map[string]*backends.NativeAttr{}}
	for _, a := range r.Attributes {
		n := &backends.NativeAttr{Name: a.Name}
		switch {
		case a.InverseOf != "":
			n.ReadOnly = fmt.Sprintf("it is computed from the %s records' %s", a.Reference, a.InverseOf)
		case a.ReadOnly:
			n.ReadOnly = "it is read_only in the backend's resource block"
		}
		d.Attrs[strings.ToLower(a.Name)] = n
	}
	if r.Describe == nil {
		return d, nil
	}
	pv, err := b.cfg.eval(r.Describe.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: describe %s: path: %v", backends.ErrConfig, typ, err)
	}
	p, _ := asString(pv)
	u, err := b.cfg.buildURL(p, nil)
	if err != nil {
		return nil, err
	}
	what := "describe " + typ
	resp, err := b.c.do(ctx, &request{op: "describe", what: what, method: "GET", url: u})
	if err != nil {
		return nil, err
	}
	if resp.status >= 300 {
		return nil, b.statusErr(r, "describe", what, resp, nil)
	}
	doc, err := resp.json()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", backends.ErrUnavailable, err)
	}
	fv, err := b.cfg.eval(r.Describe.Fields, map[string]cty.Value{"response": doc, "headers": headerValue(resp.header)})
	if err != nil || fv.IsNull() || !fv.CanIterateElements() {
		return nil, fmt.Errorf("%w: describe %s: fields is not a list (%v)", backends.ErrConfig, typ, err)
	}
	fields := map[string]cty.Value{}
	for it := fv.ElementIterator(); it.Next(); {
		_, f := it.Element()
		name, ok := asString(getAttr(f, "name"))
		if !ok {
			continue
		}
		fields[strings.ToLower(name)] = f
	}
	for _, a := range r.Attributes {
		n := d.Attrs[strings.ToLower(a.Name)]
		f, ok := fields[strings.ToLower(a.Name)]
		if !ok {
			if a.InverseOf == "" && !isSet(a.Read) {
				return nil, fmt.Errorf("%w: attribute %q of resource %q is not a field of the API's schema (describe); declare read = ... for a value kept elsewhere", backends.ErrConfig, a.Name, typ)
			}
			continue
		}
		if v := getAttr(f, "required"); !v.IsNull() && v.Type() == cty.Bool && v.True() {
			n.Required = "the API requires it"
		}
		if v := getAttr(f, "read_only"); n.ReadOnly == "" && !v.IsNull() && v.Type() == cty.Bool && v.True() {
			n.ReadOnly = "the API sets it"
		}
	}
	return d, nil
}
