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
func (r *Resource) current(ctx context.Context, id string) (scim.Doc, *backends.Record, error) {
	if !r.Mapping.ReadsRecord() {
		doc, err := r.Get(ctx, id, false)
		return doc, nil, err
	}
	rec, err := r.Backend.Get(ctx, r.RT.Name, id, r.Mapping.RecordAttrs())
	if err != nil {
		return nil, nil, r.fromBackend(err, nil)
	}
	return r.render(rec), &rec, nil
}
