package bridge

import (
	"context"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// current reads the resource a PUT or PATCH starts from. When a to_native
// expression reads `record`, it also returns the record as stored (with
// any other native attribute such expressions name), which the write's
// mapping sees; otherwise the record is nil and the read is the GET's.
// expect holds the native values read, by attribute (every attribute read,
// present or not), for a ConditionalModifier.
func (r *Resource) current(ctx context.Context, id string) (scim.Doc, *backends.Record, backends.Attrs, error) {
	names := r.Mapping.NativeAttrs(false)
	if r.Mapping.ReadsRecord() {
		names = r.Mapping.RecordAttrs()
	}
	if names == nil {
		names = []string{}
	}
	rec, err := r.Backend.Get(ctx, r.RT.Name, id, names)
	if err != nil {
		return nil, nil, nil, r.fromBackend(err, nil)
	}
	// What the write expects to find still stored (see apply).
	expect := make(backends.Attrs, len(names))
	for _, n := range names {
		expect[n] = rec.Attrs.Get(n)
	}
	if !r.Mapping.ReadsRecord() {
		return r.render(rec), nil, expect, nil
	}
	return r.render(rec), &rec, expect, nil
}
