package bridge

import (
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// POST {base}/.search searches Users and Groups together (RFC 7644
// §3.4.3). Each resource type the credential may read (get:users,
// get:groups) is searched with its own mapping, access rules and scan
// bounds, as its own .search would; the answer holds both, Users first
// unless sortBy orders them:
//
//   - a resource type on which the filter names an attribute it does not
//     define is left out (userName eq "x" finds no group); a filter that
//     no resource type can evaluate is 400 invalidFilter;
//   - names in attributes / excludedAttributes apply to the types that
//     define them; a name that no type defines is 400;
//   - without sortBy, startIndex and count page through the Users, then
//     the Groups, and each directory reads only its part of the page;
//   - with sortBy, each type returns its first startIndex+count-1
//     resources in order (at most max_filter_scan, else 400), and these
//     are merged by the attribute's value compared case-insensitively;
//     resources of a type that does not define it come last.

func (s *Server) rootSearch(ep *Endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := c.Locals("principal").(*Principal)
		var hs []*handler
		for _, t := range []struct {
			r     *Resource
			scope string
		}{{ep.Users, "users"}, {ep.Groups, "groups"}} {
			if t.r != nil && p != nil && p.Scopes["get:"+t.scope] {
				hs = append(hs, &handler{s: s, ep: ep, r: t.r, scope: t.scope})
			}
		}
		if len(hs) == 0 {
			return scim.Errorf(403, "", "the credential lacks the \"get:users\" and \"get:groups\" scopes")
		}
		if err := s.readBody(c); err != nil {
			return err
		}
		sp, err := searchBody(c)
		if err != nil {
			return err
		}
		release, err := s.backendSlot(c, ep)
		if err != nil {
			return err
		}
		defer release()
		return s.runRootQuery(c, hs, sp)
	}
}

// rootPart is one resource type's share of a root search.
type rootPart struct {
	h    *handler
	q    ListQuery
	proj projection
	sort scim.Path // the sortBy path in this type; Attr nil: it has none
}

func (s *Server) runRootQuery(c *fiber.Ctx, hs []*handler, sp searchParams) error {
	if strings.TrimSpace(sp.Filter) != "" {
		if _, err := scim.ParseFilter(sp.Filter); err != nil {
			return err
		}
	}
	known := map[string]bool{}
	var parts []rootPart
	var filterErr error
	sortKnown := false
	for _, h := range hs {
		rt := h.r.RT
		tsp := sp
		tsp.Attributes = definedNames(rt, sp.Attributes, known)
		tsp.Excluded = definedNames(rt, sp.Excluded, known)
		var sortPath scim.Path
		if sp.SortBy != "" {
			if p, err := scim.ResolvePath(rt, sp.SortBy); err == nil && p.Filter == nil {
				sortPath, sortKnown = p, true
			} else {
				tsp.SortBy = ""
			}
		}
		if strings.TrimSpace(sp.Filter) != "" {
			expr, _ := scim.ParseFilter(sp.Filter)
			if err := scim.WalkFilter(rt, expr, nil); err != nil {
				if filterErr == nil {
					filterErr = err
				}
				continue
			}
		}
		q, proj, err := h.query(c, tsp)
		if err != nil {
			return err
		}
		parts = append(parts, rootPart{h: h, q: q, proj: proj, sort: sortPath})
	}
	for _, list := range []string{sp.Attributes, sp.Excluded} {
		for _, name := range splitAttrList(list) {
			if name = strings.TrimSpace(name); name != "" && !known[name] {
				return scim.BadRequest(scim.TypeInvalidValue, "unknown attribute %q in attributes list", name)
			}
		}
	}
	if sp.SortBy != "" && !sortKnown {
		return scim.BadRequest(scim.TypeInvalidValue, "unknown sortBy attribute %q", sp.SortBy)
	}
	if len(parts) == 0 {
		return filterErr
	}
	start, count := parts[0].q.StartIndex, parts[0].q.Count
	ctx := c.UserContext()
	total := 0
	var resources []any
	if sp.SortBy == "" {
		// Users, then Groups: each reads only its part of the page.
		offset := start - 1
		for _, pt := range parts {
			q := pt.q
			q.StartIndex = max(0, offset-total) + 1
			q.Count = count - len(resources)
			res, err := pt.h.r.List(ctx, q)
			if err != nil {
				return err
			}
			total += res.TotalResults
			for _, d := range res.Resources {
				resources = append(resources, pt.h.present(c, d, pt.proj))
			}
		}
		return s.writeJSON(c, 200, listResponse(total, start, resources))
	}
	need := start - 1 + count
	if lim := parts[0].h.r.Limits.MaxFilterScan; need > lim {
		return scim.BadRequest(scim.TypeInvalidFilter,
			"a search at the root with sortBy reads the first startIndex+count-1 resources of each type, at most %d (max_filter_scan); page with a smaller startIndex", lim)
	}
	type entry struct {
		key     string
		missing bool
		seq     int
		pt      *rootPart
		doc     scim.Doc
	}
	var all []entry
	for i := range parts {
		pt := &parts[i]
		q := pt.q
		q.StartIndex, q.Count = 1, need
		res, err := pt.h.r.List(ctx, q)
		if err != nil {
			return err
		}
		total += res.TotalResults
		for _, d := range res.Resources {
			e := entry{seq: len(all), pt: pt, doc: d, missing: pt.sort.Attr == nil}
			if !e.missing {
				e.key = sortKey(pt.h.r.RT, d, pt.sort)
				e.missing = e.key == ""
			}
			all = append(all, e)
		}
	}
	desc := parts[0].q.Descending
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.missing != b.missing {
			return b.missing
		}
		if a.key != b.key {
			if desc {
				return a.key > b.key
			}
			return a.key < b.key
		}
		return a.seq < b.seq
	})
	if start-1 < len(all) {
		for _, e := range all[start-1 : min(len(all), need)] {
			resources = append(resources, e.pt.h.present(c, e.doc, e.pt.proj))
		}
	}
	return s.writeJSON(c, 200, listResponse(total, start, resources))
}

// definedNames keeps the names of an attributes list that rt defines and
// marks them in known.
func definedNames(rt *scim.ResourceType, list string, known map[string]bool) string {
	var out []string
	for _, name := range splitAttrList(list) {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, err := scim.ResolvePath(rt, name); err == nil {
			known[name] = true
			out = append(out, name)
		}
	}
	return strings.Join(out, ",")
}
