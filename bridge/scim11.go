package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// SCIM 1.1 at the edge (protocol = "scim1.1", for Okta's on-premises
// Provisioning Agent). The mapping, the Resource and the backends only
// know SCIM 2.0: a 1.1 request is rewritten into its 2.0 form before the
// 2.0 handler runs (schema URNs, the 1.1 PATCH body), and the 2.0 answer
// into its 1.1 form after it (schema URNs, list and error bodies). What
// 1.1 and 2.0 share (attribute names, filters, startIndex/count, the
// ServiceProviderConfig settings) passes unchanged.

// SCIM 1.1 schema URNs.
const (
	Core11Schema       = "urn:scim:schemas:core:1.0"
	Enterprise11Schema = "urn:scim:schemas:extension:enterprise:1.0"
	// OktaProviderConfigSchema is Okta's extension of the 1.1
	// ServiceProviderConfigs answer, listing userManagementCapabilities.
	OktaProviderConfigSchema = "urn:okta:schemas:scim:providerconfig:1.0"
)

// The userManagementCapabilities of Okta's on-premises provisioning.
const (
	CapImportNewUsers       = "IMPORT_NEW_USERS"
	CapImportProfileUpdates = "IMPORT_PROFILE_UPDATES"
	CapPushNewUsers         = "PUSH_NEW_USERS"
	CapPushPendingUsers     = "PUSH_PENDING_USERS"
	CapPushProfileUpdates   = "PUSH_PROFILE_UPDATES"
	CapPushPasswordUpdates  = "PUSH_PASSWORD_UPDATES"
	CapPushUserDeactivation = "PUSH_USER_DEACTIVATION"
	CapReactivateUsers      = "REACTIVATE_USERS"
	CapGroupPush            = "GROUP_PUSH"
)

// mount11 serves an endpoint in SCIM 1.1.
func (s *Server) mount11(ep *Endpoint) {
	g := s.App.Group(ep.BasePath, s.edge11, s.authenticate(ep))
	spc := func(c *fiber.Ctx) error { return s.writeJSON(c, 200, s.serviceProviderConfig11(c, ep)) }
	g.Get("/ServiceProviderConfigs", spc)
	g.Get("/ServiceProviderConfig", spc)
	s.mountResource11(g, ep, ep.Users, "users")
	if ep.Groups != nil {
		s.mountResource11(g, ep, ep.Groups, "groups")
	}
}

func (s *Server) mountResource11(g fiber.Router, ep *Endpoint, r *Resource, scope string) {
	base := r.RT.Endpoint
	h := &handler{s: s, ep: ep, r: r, scope: scope}
	g.Get(base, h.need("get", h.list))
	g.Post(base, h.need("post", h.from11(h.create)))
	g.Get(base+"/:id", h.need("get", h.get))
	g.Put(base+"/:id", h.need("put", h.from11(h.replace)))
	g.Patch(base+"/:id", h.need("patch", h.patch11))
	g.Delete(base+"/:id", h.need("delete", h.delete))
}

// edge11 renders whatever the 2.0 handlers answered (errors included) in
// SCIM 1.1.
func (s *Server) edge11(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	body := c.Response().Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil // not a JSON object (never written by the handlers)
	}
	out, err := json.Marshal(answer11(doc))
	if err != nil {
		return err
	}
	c.Response().SetBodyRaw(out)
	c.Set("Content-Type", "application/json; charset=utf-8")
	return nil
}

// answer11 turns a 2.0 answer into its 1.1 form.
func answer11(doc map[string]any) map[string]any {
	schemas := stringList(doc["schemas"])
	switch {
	case slices.Contains(schemas, scim.ErrorSchema):
		// draft-scim-api-01 §3.9: {"Errors": [{"description", "code"}]}.
		e := map[string]any{"code": fmt.Sprint(doc["status"])}
		if d, ok := doc["detail"]; ok {
			e["description"] = d
		}
		return map[string]any{"Errors": []any{e}}
	case slices.Contains(schemas, scim.ListResponseSchema):
		doc["schemas"] = []string{Core11Schema}
		if list, ok := doc["Resources"].([]any); ok {
			for i, el := range list {
				if m, ok := el.(map[string]any); ok {
					list[i] = resource11(m)
				}
			}
		}
		return doc
	}
	return resource11(doc)
}

// resource11 renders a 2.0 resource in 1.1: core and enterprise URNs, no
// meta.resourceType, no $ref in member lists (1.1 has neither).
func resource11(doc map[string]any) map[string]any {
	if list := stringList(doc["schemas"]); list != nil {
		out := make([]string, 0, len(list))
		for _, s := range list {
			out = append(out, schemaTo11(s))
		}
		doc["schemas"] = out
	}
	if v, ok := doc[scim.EnterpriseSchema]; ok {
		delete(doc, scim.EnterpriseSchema)
		doc[Enterprise11Schema] = v
	}
	if meta, ok := doc["meta"].(map[string]any); ok {
		delete(meta, "resourceType")
	}
	for _, k := range []string{"members", "groups"} {
		if list, ok := doc[k].([]any); ok {
			for _, el := range list {
				if m, ok := el.(map[string]any); ok {
					delete(m, "$ref")
				}
			}
		}
	}
	return doc
}

func schemaTo11(s string) string {
	switch s {
	case scim.UserSchema, scim.GroupSchema:
		return Core11Schema
	case scim.EnterpriseSchema:
		return Enterprise11Schema
	}
	return s
}

func stringList(v any) []string {
	list, ok := v.([]any)
	if !ok {
		if l, ok := v.([]string); ok {
			return l
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, el := range list {
		if s, ok := el.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// from11 rewrites a 1.1 resource body (POST, PUT) into its 2.0 form.
func (h *handler) from11(next fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		body, err := decodeBody(c)
		if err != nil {
			return err
		}
		out, err := json.Marshal(h.request11(body, false))
		if err != nil {
			return err
		}
		c.Request().SetBody(out)
		return next(c)
	}
}

// request11 renames the 1.1 URNs of a resource to the 2.0 ones, drops
// meta (read-only; a PATCH's meta.attributes is read by patchOps11) and
// the 1.1 "operation" of multi-valued elements unless keepOps (PATCH): in
// a POST or PUT the body is the whole resource, so an element marked
// "delete" is left out.
func (h *handler) request11(body map[string]any, keepOps bool) map[string]any {
	clean := withoutDeleted
	if keepOps {
		clean = func(v any) any { return v }
	}
	out := make(map[string]any, len(body))
	for k, v := range body {
		switch {
		case strings.EqualFold(k, "schemas"):
			var list []string
			for _, s := range stringList(v) {
				switch {
				case strings.EqualFold(s, Core11Schema):
					s = h.r.RT.Schema.ID
				case strings.EqualFold(s, Enterprise11Schema):
					s = scim.EnterpriseSchema
				}
				list = append(list, s)
			}
			out["schemas"] = list
		case strings.EqualFold(k, "meta"):
		case strings.EqualFold(k, Enterprise11Schema):
			out[scim.EnterpriseSchema] = clean(v)
		case strings.EqualFold(k, Core11Schema):
			// Core attributes qualified by the 1.1 URN.
			if m, ok := v.(map[string]any); ok {
				for ik, iv := range h.request11(m, keepOps) {
					out[ik] = iv
				}
			}
		default:
			out[k] = clean(v)
		}
	}
	return out
}

// withoutDeleted drops the multi-valued elements a 1.1 body marks
// "operation": "delete" and the operation key of the others, in v and in
// the attributes of an extension object.
func withoutDeleted(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, el := range x {
			m, ok := el.(map[string]any)
			if !ok {
				out = append(out, el)
				continue
			}
			if op, _ := m["operation"].(string); strings.EqualFold(op, "delete") {
				continue
			}
			delete(m, "operation")
			out = append(out, m)
		}
		return out
	case map[string]any:
		for k, iv := range x {
			if l, ok := iv.([]any); ok {
				x[k] = withoutDeleted(l)
			}
		}
	}
	return v
}

// patch11 carries out a SCIM 1.1 PATCH (draft-scim-api-01 §3.3.2): the
// body is a partial resource. Attributes named in meta.attributes are
// removed; singular attributes in the body replace the stored ones; the
// elements of a multi-valued attribute are added, or removed when marked
// "operation": "delete". It becomes the equivalent 2.0 PATCH.
func (h *handler) patch11(c *fiber.Ctx) error {
	body, err := decodeBody(c)
	if err != nil {
		return err
	}
	ops, err := h.patchOps11(body)
	if err != nil {
		return err
	}
	if len(ops) == 0 {
		// A partial resource with nothing in it changes nothing (2.0
		// refuses a PATCH without operations): the resource as it is.
		return h.get(c)
	}
	out, err := json.Marshal(map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": ops})
	if err != nil {
		return err
	}
	c.Request().SetBody(out)
	return h.patch(c)
}

func (h *handler) patchOps11(body map[string]any) ([]any, error) {
	var removes, adds []any
	replace := map[string]any{}
	for k, v := range body {
		if !strings.EqualFold(k, "meta") {
			continue
		}
		meta, ok := v.(map[string]any)
		if !ok {
			return nil, scim.BadRequest(scim.TypeInvalidSyntax, "meta must be an object")
		}
		for mk, mv := range meta {
			if !strings.EqualFold(mk, "attributes") {
				continue
			}
			list, ok := mv.([]any)
			if !ok {
				return nil, scim.BadRequest(scim.TypeInvalidSyntax, "meta.attributes must be an array of attribute names")
			}
			for _, el := range list {
				name, ok := el.(string)
				if !ok || strings.TrimSpace(name) == "" {
					return nil, scim.BadRequest(scim.TypeInvalidSyntax, "meta.attributes must be an array of attribute names")
				}
				removes = append(removes, map[string]any{"op": "remove", "path": path11(name)})
			}
		}
	}
	doc := h.request11(body, true)
	// split sorts the attributes of one container (the core resource, or
	// an extension object whose attributes are qualified by prefix).
	split := func(schema *scim.Schema, obj map[string]any, prefix string) map[string]any {
		single := map[string]any{}
		for k, v := range obj {
			a := schema.Attr(k)
			list, isList := v.([]any)
			if a == nil || !a.MultiValued || !isList {
				single[k] = v
				continue
			}
			var add []any
			for _, el := range list {
				m, ok := el.(map[string]any)
				if !ok {
					add = append(add, el)
					continue
				}
				op, _ := m["operation"].(string)
				delete(m, "operation")
				if !strings.EqualFold(op, "delete") {
					add = append(add, m)
					continue
				}
				val, ok := m["value"]
				if !ok {
					// Without a value the element cannot be told: the
					// whole attribute goes (as 1.1 servers read it).
					removes = append(removes, map[string]any{"op": "remove", "path": prefix + a.Name})
					continue
				}
				lit, _ := json.Marshal(val)
				removes = append(removes, map[string]any{"op": "remove", "path": prefix + a.Name + `[value eq ` + string(lit) + `]`})
			}
			if len(add) > 0 {
				adds = append(adds, map[string]any{"op": "add", "path": prefix + a.Name, "value": add})
			}
		}
		return single
	}
	for k, v := range doc {
		switch {
		case k == "schemas", strings.EqualFold(k, "id"):
			continue
		case strings.HasPrefix(strings.ToLower(k), "urn:"):
			ext := h.r.RT.Extension(k)
			obj, ok := v.(map[string]any)
			if ext == nil || !ok {
				replace[k] = v
				continue
			}
			if single := split(ext, obj, ext.ID+":"); len(single) > 0 {
				replace[ext.ID] = single
			}
		default:
			if single := split(h.r.RT.Schema, map[string]any{k: v}, ""); len(single) > 0 {
				replace[k] = single[k]
			}
		}
	}
	ops := append([]any{}, removes...)
	if len(replace) > 0 {
		ops = append(ops, map[string]any{"op": "replace", "value": replace})
	}
	return append(ops, adds...), nil
}

// path11 is a 1.1 attribute name as a 2.0 path: the 1.1 enterprise URN
// becomes the 2.0 one, and the 1.1 core URN prefix is dropped.
func path11(name string) string {
	name = strings.TrimSpace(name)
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, strings.ToLower(Enterprise11Schema)):
		return scim.EnterpriseSchema + name[len(Enterprise11Schema):]
	case strings.HasPrefix(lower, strings.ToLower(Core11Schema)+":"):
		return name[len(Core11Schema)+1:]
	}
	return name
}

// serviceProviderConfig11 is GET /ServiceProviderConfigs in 1.1, with
// Okta's providerconfig extension: the user management capabilities this
// endpoint really has for the credential that asks.
func (s *Server) serviceProviderConfig11(c *fiber.Ctx, ep *Endpoint) map[string]any {
	doc := s.serviceProviderConfig(c, ep)
	doc["schemas"] = []string{Core11Schema, OktaProviderConfigSchema}
	doc["documentationUrl"] = doc["documentationUri"]
	delete(doc, "documentationUri")
	delete(doc, "meta")
	p, _ := c.Locals("principal").(*Principal)
	doc[OktaProviderConfigSchema] = map[string]any{"userManagementCapabilities": Capabilities11(ep, p)}
	return doc
}

// Capabilities11 lists what Okta's agent may do through ep with the
// credential p: what the mapping writes (a password, active, group
// members) and what the credential's scopes allow.
func Capabilities11(ep *Endpoint, p *Principal) []string {
	can := func(scopes ...string) bool {
		for _, s := range scopes {
			if p == nil || !p.Scopes[s] {
				return false
			}
		}
		return true
	}
	um := ep.Users.Mapping
	active := writesCore(um, "active")
	var out []string
	if can("get:users") {
		out = append(out, CapImportNewUsers, CapImportProfileUpdates)
	}
	if can("post:users") {
		out = append(out, CapPushNewUsers)
		if active {
			out = append(out, CapPushPendingUsers)
		}
	}
	if can("put:users") {
		out = append(out, CapPushProfileUpdates)
		if writesCore(um, "password") {
			out = append(out, CapPushPasswordUpdates)
		}
		if active {
			out = append(out, CapPushUserDeactivation, CapReactivateUsers)
		}
	}
	if ep.Groups != nil && ep.Groups.Mapping.Lists["members"] != nil && writesCore(ep.Groups.Mapping, "displayName") &&
		can("get:groups", "post:groups", "put:groups", "patch:groups", "delete:groups") {
		out = append(out, CapGroupPush)
	}
	slices.Sort(out)
	return out
}

// writesCore reports whether the mapping writes the core attribute name.
func writesCore(m *mapping.Mapping, name string) bool {
	for _, a := range m.Attrs {
		if a.Path.Attr != nil && a.Path.Schema == m.RT.Schema && a.Path.Attr.Name == name && !a.ReadOnly {
			return true
		}
	}
	return false
}
