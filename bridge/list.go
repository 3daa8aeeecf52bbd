package bridge

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// projection is the attributes / excludedAttributes of a request.
type projection struct {
	include []scim.Path
	exclude []scim.Path
}

func parseProjection(rt *scim.ResourceType, attributes, excluded string) (projection, error) {
	var p projection
	parse := func(list string) ([]scim.Path, error) {
		var out []scim.Path
		for _, name := range splitAttrList(list) {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			path, err := scim.ResolvePath(rt, name)
			if err != nil {
				return nil, scim.BadRequest(scim.TypeInvalidValue, "unknown attribute %q in attributes list", name)
			}
			// attributes=emails[type eq "work"] (sent by some clients)
			// names the attribute: every value of it is returned, as for
			// attributes=emails. RFC 7644 §3.10 has no value filters here.
			path.Filter = nil
			out = append(out, path)
		}
		return out, nil
	}
	var err error
	if p.include, err = parse(attributes); err != nil {
		return p, err
	}
	if p.exclude, err = parse(excluded); err != nil {
		return p, err
	}
	return p, nil
}

// splitAttrList splits an attributes list at the commas outside value
// filters and quoted strings.
func splitAttrList(list string) []string {
	var out []string
	depth, quoted, escaped, start := 0, false, false, 0
	for i := 0; i < len(list); i++ {
		switch ch := list[i]; {
		case escaped:
			escaped = false
		case quoted:
			switch ch {
			case '\\':
				escaped = true
			case '"':
				quoted = false
			}
		case ch == '"':
			quoted = true
		case ch == '[':
			depth++
		case ch == ']':
			depth--
		case ch == ',' && depth <= 0:
			out = append(out, list[start:i])
			start = i + 1
		}
	}
	return append(out, list[start:])
}

// wants reports whether a top-level core attribute will be returned.
func (p projection) wants(attr string) bool {
	if len(p.include) > 0 {
		for _, i := range p.include {
			if i.Attr != nil && strings.EqualFold(i.Attr.Name, attr) {
				return true
			}
		}
		return false
	}
	for _, e := range p.exclude {
		if e.Attr != nil && e.Sub == nil && strings.EqualFold(e.Attr.Name, attr) {
			return false
		}
	}
	return true
}

// apply returns the projected document.
func (p projection) apply(rt *scim.ResourceType, doc scim.Doc) scim.Doc {
	if len(p.include) == 0 && len(p.exclude) == 0 {
		return doc
	}
	if len(p.include) > 0 {
		out := scim.Doc{"id": doc["id"], "schemas": doc["schemas"]}
		for _, path := range p.include {
			copyPath(rt, doc, out, path)
		}
		return out
	}
	for _, path := range p.exclude {
		if path.Attr == nil || path.Attr.Returned == "always" || path.Attr.Name == "id" {
			continue
		}
		c := scim.Container(rt, doc, path.Schema, false)
		if c == nil {
			continue
		}
		if path.Sub == nil {
			delete(c, path.Attr.Name)
			continue
		}
		switch v := c[path.Attr.Name].(type) {
		case map[string]any:
			delete(v, path.Sub.Name)
		case []any:
			for _, el := range v {
				if m, ok := el.(map[string]any); ok {
					delete(m, path.Sub.Name)
				}
			}
		}
	}
	return doc
}

func copyPath(rt *scim.ResourceType, from, to scim.Doc, path scim.Path) {
	if path.Attr == nil {
		if v, ok := from[path.Schema.ID]; ok {
			to[path.Schema.ID] = v
		}
		return
	}
	src := scim.Container(rt, from, path.Schema, false)
	if src == nil {
		return
	}
	v, ok := src[path.Attr.Name]
	if !ok {
		return
	}
	dst := scim.Container(rt, to, path.Schema, true)
	if path.Sub == nil {
		dst[path.Attr.Name] = v
		return
	}
	switch x := v.(type) {
	case map[string]any:
		m, _ := dst[path.Attr.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			dst[path.Attr.Name] = m
		}
		if sv, ok := x[path.Sub.Name]; ok {
			m[path.Sub.Name] = sv
		}
	case []any:
		var out []any
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				if sv, ok := m[path.Sub.Name]; ok {
					out = append(out, map[string]any{path.Sub.Name: sv})
				}
			}
		}
		if out != nil {
			dst[path.Attr.Name] = out
		}
	}
}

// searchParams are the query parameters of a list or .search request.
type searchParams struct {
	Filter, SortBy, SortOrder, Attributes, Excluded string
	StartIndex, Count                               string
}

func (h *handler) list(c *fiber.Ctx) error {
	return h.runQuery(c, searchParams{
		Filter: c.Query("filter"), SortBy: c.Query("sortBy"), SortOrder: c.Query("sortOrder"),
		Attributes: c.Query("attributes"), Excluded: c.Query("excludedAttributes"),
		StartIndex: c.Query("startIndex"), Count: c.Query("count"),
	})
}

func (h *handler) search(c *fiber.Ctx) error {
	sp, err := searchBody(c)
	if err != nil {
		return err
	}
	return h.runQuery(c, sp)
}

// searchBody reads a SearchRequest body.
func searchBody(c *fiber.Ctx) (searchParams, error) {
	var sp searchParams
	body, err := decodeBody(c)
	if err != nil {
		return sp, err
	}
	str := func(v any) (string, error) {
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		case []any:
			parts := make([]string, 0, len(x))
			for _, el := range x {
				s, ok := el.(string)
				if !ok {
					return "", scim.BadRequest(scim.TypeInvalidValue, "attribute lists hold strings")
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, ","), nil
		}
		return scim.FilterValueString(v), nil
	}
	for k, v := range body {
		s, err := str(v)
		if err != nil {
			return sp, err
		}
		switch strings.ToLower(k) {
		case "filter":
			sp.Filter = s
		case "sortby":
			sp.SortBy = s
		case "sortorder":
			sp.SortOrder = s
		case "attributes":
			sp.Attributes = s
		case "excludedattributes":
			sp.Excluded = s
		case "startindex":
			sp.StartIndex = s
		case "count":
			sp.Count = s
		}
	}
	return sp, nil
}

func (h *handler) runQuery(c *fiber.Ctx, sp searchParams) error {
	q, proj, err := h.query(c, sp)
	if err != nil {
		return err
	}
	res, err := h.r.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	resources := make([]any, 0, len(res.Resources))
	for _, d := range res.Resources {
		resources = append(resources, h.present(c, d, proj))
	}
	return h.s.writeJSON(c, 200, listResponse(res.TotalResults, res.StartIndex, resources))
}

// present makes a listed resource what the answer shows of it.
func (h *handler) present(c *fiber.Ctx, d scim.Doc, proj projection) scim.Doc {
	h.access(c).strip(d)
	h.decorate(c, d)
	return proj.apply(h.r.RT, d)
}

func listResponse(total, start int, resources []any) map[string]any {
	return map[string]any{
		"schemas":      []string{scim.ListResponseSchema},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
}

// query parses and checks the parameters of a list or .search.
func (h *handler) query(c *fiber.Ctx, sp searchParams) (ListQuery, projection, error) {
	rt := h.r.RT
	acc := h.access(c)
	var q ListQuery
	proj, err := acc.projection(sp.Attributes, sp.Excluded)
	if err != nil {
		return q, proj, err
	}
	principal, _ := c.Locals("principal").(*Principal)
	q = ListQuery{StartIndex: 1, Count: h.r.Limits.DefaultCount, WithLists: proj.wants("members") && acc.readable("members"),
		Credential: principal}
	if sp.StartIndex != "" {
		n, err := strconv.Atoi(strings.TrimSpace(sp.StartIndex))
		if err != nil {
			return q, proj, scim.BadRequest(scim.TypeInvalidValue, "startIndex must be an integer")
		}
		q.StartIndex = max(n, 1)
	}
	if sp.Count != "" {
		n, err := strconv.Atoi(strings.TrimSpace(sp.Count))
		if err != nil {
			return q, proj, scim.BadRequest(scim.TypeInvalidValue, "count must be an integer")
		}
		if n > h.r.Limits.MaxResults {
			return q, proj, scim.BadRequest(scim.TypeTooMany, "count must be at most %d", h.r.Limits.MaxResults)
		}
		q.Count = max(n, 0)
	}
	if strings.TrimSpace(sp.Filter) != "" {
		expr, err := scim.ParseFilter(sp.Filter)
		if err != nil {
			return q, proj, err
		}
		if err := acc.checkFilter(expr); err != nil {
			return q, proj, err
		}
		q.Filter = expr
	}
	if sp.SortBy != "" {
		p, err := scim.ResolvePath(rt, sp.SortBy)
		if err != nil {
			return q, proj, scim.BadRequest(scim.TypeInvalidValue, "unknown sortBy attribute %q", sp.SortBy)
		}
		if err := acc.check(p, useSortBy); err != nil {
			return q, proj, err
		}
		q.SortBy = sp.SortBy
	}
	switch strings.ToLower(sp.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, proj, scim.BadRequest(scim.TypeInvalidValue, "sortOrder must be ascending or descending")
	}
	return q, proj, nil
}
