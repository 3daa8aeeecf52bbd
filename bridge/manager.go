package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A user's manager must name a user the directory has (soft-deleted users
// count as none). One that does not (unknown_manager = "ignore", the
// default) is left out of the write instead of refusing it: identity
// providers send users in no particular order, and a user whose create is
// refused because its manager is not provisioned yet is not provisioned at
// all. The rest of the write goes through; the manager is set by the next
// write that names an existing user (Entra and Okta send it again). Group
// members stay strict: a membership is the whole point of its request.

// managerPath is the enterprise extension's manager, when the mapping
// maps it.
func (r *Resource) managerMapped() bool {
	if r.RT.Name != backends.User {
		return false
	}
	for _, a := range r.Mapping.Attrs {
		if a.Path.Schema != nil && a.Path.Schema.ID == scim.EnterpriseSchema && a.Path.Attr != nil && a.Path.Attr.Name == "manager" {
			return true
		}
	}
	return false
}

// managerOf returns the manager id a resource names ("" for none).
func managerOf(doc scim.Doc) string {
	ext, _ := doc[scim.EnterpriseSchema].(map[string]any)
	m, _ := ext["manager"].(map[string]any)
	s, _ := m["value"].(string)
	return s
}

// setManager sets (or, for "", removes) the manager of doc.
func setManager(doc scim.Doc, id string) {
	ext, _ := doc[scim.EnterpriseSchema].(map[string]any)
	if id == "" {
		if ext != nil {
			delete(ext, "manager")
			if len(ext) == 0 {
				delete(doc, scim.EnterpriseSchema)
			}
		}
		return
	}
	if ext == nil {
		ext = map[string]any{}
		doc[scim.EnterpriseSchema] = ext
	}
	ext["manager"] = map[string]any{"value": id}
}

// unknownManager reports whether next names a manager other than the one
// in cur (nil: a create) that is no user the directory has. Soft-deleted
// users, which the directory answers 404 for, count as unknown.
func (r *Resource) unknownManager(ctx context.Context, cur, next scim.Doc) (string, error) {
	if !r.managerMapped() {
		return "", nil
	}
	id := strings.TrimSpace(managerOf(next))
	if id == "" || (cur != nil && id == managerOf(cur)) {
		return "", nil
	}
	_, err := r.Backend.Get(ctx, backends.User, id, []string{})
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, backends.ErrNotFound) && r.RejectUnknownManager:
		return "", scim.BadRequest(scim.TypeInvalidValue, "manager: %q is not the id of an existing User", id)
	case errors.Is(err, backends.ErrNotFound):
		r.Log.Warn("leaving out a manager that names no user (unknown_manager = \"ignore\")", "manager", id)
		return id, nil
	}
	return "", r.fromBackend(err, nil)
}

// dropManagerRefs removes the deleted user id from the manager of every
// user that names it. A directory that keeps the manager as a reference
// (LDAP, a reference block) has done so with the delete; one that keeps it
// in a plain column (most SQL schemas) has not, and a soft delete (the row
// stays, marked) leaves it pointing at a user that answers 404. Each
// change is a PATCH of that user (its ETag changes); failures are logged,
// the delete stands.
func (r *Resource) dropManagerRefs(ctx context.Context, id string) {
	if !r.managerMapped() {
		return
	}
	q, _ := json.Marshal(id)
	expr, err := scim.ParseFilter(scim.EnterpriseSchema + ":manager.value eq " + string(q))
	if err != nil {
		return
	}
	nf, exact, _ := r.Mapping.CompileResidual(expr)
	if !exact || nf == nil {
		r.Log.Warn("cannot search the users whose manager was deleted: the manager mapping cannot be searched", "id", id)
		return
	}
	remove := []scim.PatchOp{{Op: "remove", Path: scim.EnterpriseSchema + ":manager"}}
	for range 100 { // at most 100 pages of reports; each pass removes what it found
		page, err := r.Backend.Search(ctx, backends.User, backends.Query{Filter: nf, Count: displayPage, Attrs: []string{}})
		if err != nil {
			r.Log.Warn("cannot search the users whose manager was deleted", "id", id, "error", err)
			return
		}
		for _, rec := range page.Records {
			if _, err := r.Patch(ctx, rec.ID, remove, ""); err != nil && !errors.Is(err, backends.ErrNotFound) {
				r.Log.Warn("cannot remove a deleted manager", "user", rec.ID, "manager", id, "error", err)
				return
			}
		}
		if len(page.Records) < displayPage {
			return
		}
	}
}
