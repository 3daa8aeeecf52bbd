package bridge

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// use is where a request names an attribute.
type use int

const (
	useFilter     use = iota // filter of a list or .search
	useSortBy                // sortBy
	useAttributes            // attributes
	useExcluded              // excludedAttributes
	usePatchPath             // the value filter of a PATCH path
)

func (u use) String() string {
	switch u {
	case useFilter:
		return "filter"
	case useSortBy:
		return "sortBy"
	case useAttributes:
		return "attributes"
	case useExcluded:
		return "excludedAttributes"
	}
	return "PATCH path"
}

// crossReads are the attributes that list another resource type's ids,
// with the scope that reading them needs: which groups a user is in is
// group data, who is in a group is user data.
var crossReads = map[string]map[string]string{
	backends.User:  {"groups": "get:groups"},
	backends.Group: {"members": "get:users"},
}

// access decides what one request may read of one resource type. It is
// the one place, for every backend, that says which attributes a request
// may filter on, sort by or name in attributes / excludedAttributes, and
// which attributes its answers carry:
//
//   - an attribute that is never returned (schema returned "never", such as
//     password, or write-only in the mapping) is treated as absent: naming
//     it is a 400. Filtering or sorting on it would be an oracle on the
//     stored value (sorting by a password column recovered a password by
//     binary search with one probe account);
//   - an attribute that lists another resource type's ids (a User's groups,
//     a Group's members) needs that type's read scope: without it the
//     attribute is left out of every answer and naming it is a 403 that
//     names the scope. Writes are not affected.
type access struct {
	r *Resource
	// withheld maps the core attributes this credential may not read to
	// the scope that would allow them.
	withheld map[string]string
}

// access returns what the request's credential may read.
func (h *handler) access(c *fiber.Ctx) access {
	a := access{r: h.r}
	p, _ := c.Locals("principal").(*Principal)
	for attr, scope := range crossReads[h.r.RT.Name] {
		if p == nil || !p.Scopes[scope] {
			if a.withheld == nil {
				a.withheld = map[string]string{}
			}
			a.withheld[attr] = scope
		}
	}
	return a
}

// readable reports whether answers carry the named core attribute.
func (a access) readable(attr string) bool {
	_, hidden := a.withheld[attr]
	return !hidden
}

// check says whether a request may name the attribute at p where u says.
func (a access) check(p scim.Path, u use) error {
	if p.Attr == nil {
		return nil // a whole extension: its hidden attributes are never rendered
	}
	if a.r.Mapping.WriteOnly(p) {
		scimType := scim.TypeInvalidValue
		if u == useFilter || u == usePatchPath {
			scimType = scim.TypeInvalidFilter
		}
		return scim.BadRequest(scimType, "%q is write-only: it is never returned and cannot be used in %s", p.String(), u)
	}
	if (u == useFilter || u == useSortBy) && p.IsCore(a.r.RT) && p.Attr.Name == "members" && p.Sub != nil && p.Sub.Name == "display" {
		// The members' names are read when a group is rendered
		// (display.go); no directory can search or sort on them.
		scimType := scim.TypeInvalidFilter
		if u == useSortBy {
			scimType = scim.TypeInvalidValue
		}
		return scim.BadRequest(scimType, "members.display is the member's name, added when a group is read: it cannot be used in %s; use members.value", u)
	}
	if u == useExcluded || u == usePatchPath || !p.IsCore(a.r.RT) {
		return nil // excluding or writing an attribute reads nothing
	}
	if scope, ok := a.withheld[p.Attr.Name]; ok {
		return scim.Errorf(403, "", "reading %q needs the %q scope, which the credential lacks", p.Attr.Name, scope)
	}
	return nil
}

// checkFilter checks every attribute a filter names.
func (a access) checkFilter(e filter.Expression) error {
	return scim.WalkFilter(a.r.RT, e, func(p scim.Path) error { return a.check(p, useFilter) })
}

// projection parses attributes / excludedAttributes and checks them.
func (a access) projection(attributes, excluded string) (projection, error) {
	proj, err := parseProjection(a.r.RT, attributes, excluded)
	if err != nil {
		return proj, err
	}
	for _, p := range proj.include {
		if err := a.check(p, useAttributes); err != nil {
			return proj, err
		}
	}
	for _, p := range proj.exclude {
		if err := a.check(p, useExcluded); err != nil {
			return proj, err
		}
	}
	return proj, nil
}

// checkPatchPaths refuses PATCH paths whose value filter names a
// write-only attribute: its values are never read back, so the filter
// could select nothing, and answering as if it had compared would mislead.
func (a access) checkPatchPaths(ops []scim.PatchOp) error {
	for _, op := range ops {
		if !strings.Contains(op.Path, "[") {
			continue
		}
		p, err := scim.ResolvePath(a.r.RT, op.Path)
		if err != nil || p.Filter == nil {
			continue // the PATCH engine reports bad paths
		}
		check := func(sp scim.Path) error { return a.check(sp, usePatchPath) }
		if err := check(scim.Path{Schema: p.Schema, Attr: p.Attr}); err != nil {
			return err
		}
		if err := scim.WalkValueFilter(p, p.Filter, check); err != nil {
			return err
		}
	}
	return nil
}

// strip removes from an answer what the credential may not read.
func (a access) strip(doc scim.Doc) {
	for attr := range a.withheld {
		delete(doc, attr)
	}
}
