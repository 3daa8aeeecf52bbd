package bridge

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Discovery documents are generated from the mappings: a schema lists only
// the attributes that an endpoint actually stores, so an IdP never offers
// an attribute that would be dropped.

func (ep *Endpoint) resources() []*Resource {
	out := []*Resource{ep.Users}
	if ep.Groups != nil {
		out = append(out, ep.Groups)
	}
	return out
}

func (s *Server) serviceProviderConfig(c *fiber.Ctx, ep *Endpoint) map[string]any {
	var schemes []map[string]any
	cs := ep.Auth.creds.Load()
	if len(cs.tokens) > 0 {
		schemes = append(schemes, map[string]any{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "Authentication with a bearer token in the Authorization header", "primary": true})
	}
	if len(cs.basic) > 0 {
		schemes = append(schemes, map[string]any{"type": "httpbasic", "name": "HTTP Basic",
			"description": "Authentication with a user name and password", "primary": len(schemes) == 0})
	}
	password := false
	for _, a := range ep.Users.Mapping.Attrs {
		if a.Path.Attr.Name == "password" {
			password = true
		}
	}
	return map[string]any{
		"schemas":               []string{scim.SPCSchema},
		"documentationUri":      "https://github.com/scimbridge/scimbridge",
		"patch":                 map[string]any{"supported": true},
		"bulk":                  s.bulkConfig(),
		"filter":                map[string]any{"supported": true, "maxResults": s.Settings.MaxResults},
		"changePassword":        map[string]any{"supported": password},
		"sort":                  map[string]any{"supported": true},
		"etag":                  map[string]any{"supported": true},
		"authenticationSchemes": schemes,
		"urn:scimbridge:params:scim:limits": map[string]any{
			"maxPayloadSize":        s.Settings.MaxBodyBytes,
			"maxResults":            s.Settings.MaxResults,
			"maxOperations":         s.Settings.MaxOperations,
			"maxMembersPerRequest":  s.Settings.MaxMembersPerPatch,
			"maxFilterLength":       scim.MaxFilterLength,
			"requestTimeoutSeconds": int(s.Settings.RequestTimeout.Seconds()),
			// Filters and sorts the directory cannot evaluate are
			// evaluated by the bridge over at most this many records,
			// at most this many lists at a time per credential.
			"maxFilterScan":                   s.Settings.MaxFilterScan,
			"maxConcurrentScansPerCredential": s.Settings.MaxConcurrentScans,
			"maxValueBytes":                   s.Settings.MaxValueBytes,
		},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.baseURL(c) + ep.BasePath + "/ServiceProviderConfig"},
	}
}

// mappedSchemas returns, for a resource, its core schema and the
// extensions that have at least one mapped attribute.
func mappedSchemas(r *Resource) []*scim.Schema {
	out := []*scim.Schema{r.RT.Schema}
	for _, e := range r.RT.Extensions {
		for _, a := range e.Schema.Attributes {
			if r.Mapping.Mapped(e.Schema, a, nil) {
				out = append(out, e.Schema)
				break
			}
		}
	}
	return out
}

func schemaDoc(base string, ep *Endpoint, r *Resource, s *scim.Schema) map[string]any {
	var attrs []any
	for _, a := range s.Attributes {
		if !r.Mapping.Mapped(s, a, nil) {
			continue
		}
		attrs = append(attrs, attributeDoc(r, s, a, nil))
	}
	if attrs == nil {
		attrs = []any{}
	}
	return map[string]any{
		"schemas":     []string{scim.SchemaSchema},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrs,
		"meta":        map[string]any{"resourceType": "Schema", "location": base + ep.BasePath + "/Schemas/" + s.ID},
	}
}

func attributeDoc(r *Resource, s *scim.Schema, a *scim.Attribute, parent *scim.Attribute) map[string]any {
	d := map[string]any{
		"name": a.Name, "type": a.Type, "multiValued": a.MultiValued, "description": a.Description,
		"required": a.Required, "caseExact": a.CaseExact, "mutability": a.Mutability,
		"returned": a.Returned, "uniqueness": a.Uniqueness,
	}
	if parent == nil {
		d["mutability"], d["returned"] = r.Mapping.Advertised(s, a, nil)
	} else {
		d["mutability"], d["returned"] = r.Mapping.Advertised(s, parent, a)
	}
	if len(a.CanonicalTypes) > 0 {
		d["canonicalValues"] = a.CanonicalTypes
	}
	if len(a.ReferenceTypes) > 0 {
		d["referenceTypes"] = a.ReferenceTypes
	}
	if parent == nil && len(a.SubAttributes) > 0 {
		var subs []any
		for _, sub := range a.SubAttributes {
			if r.Mapping.Mapped(s, a, sub) || sub.Name == "$ref" && r.Mapping.Mapped(s, a, a.Sub("value")) {
				subs = append(subs, attributeDoc(r, s, sub, a))
			}
		}
		if subs == nil {
			subs = []any{}
		}
		d["subAttributes"] = subs
	}
	return d
}

func (s *Server) schemasList(c *fiber.Ctx, ep *Endpoint) map[string]any {
	var res []any
	for _, r := range ep.resources() {
		for _, sc := range mappedSchemas(r) {
			res = append(res, schemaDoc(s.baseURL(c), ep, r, sc))
		}
	}
	return listOf(res)
}

func listOf(res []any) map[string]any {
	if res == nil {
		res = []any{}
	}
	return map[string]any{"schemas": []string{scim.ListResponseSchema}, "totalResults": len(res),
		"startIndex": 1, "itemsPerPage": len(res), "Resources": res}
}

func (s *Server) schemaByID(c *fiber.Ctx, ep *Endpoint) error {
	id := c.Params("id")
	for _, r := range ep.resources() {
		for _, sc := range mappedSchemas(r) {
			if strings.EqualFold(sc.ID, id) {
				return s.writeJSON(c, 200, schemaDoc(s.baseURL(c), ep, r, sc))
			}
		}
	}
	return scim.NotFound("no schema %q", id)
}

func resourceTypeDoc(base string, ep *Endpoint, r *Resource) map[string]any {
	var exts []any
	for _, sc := range mappedSchemas(r)[1:] {
		exts = append(exts, map[string]any{"schema": sc.ID, "required": false})
	}
	d := map[string]any{
		"schemas":     []string{scim.ResourceTypeSchema},
		"id":          r.RT.Name,
		"name":        r.RT.Name,
		"endpoint":    r.RT.Endpoint,
		"description": r.RT.Description,
		"schema":      r.RT.Schema.ID,
		"meta":        map[string]any{"resourceType": "ResourceType", "location": base + ep.BasePath + "/ResourceTypes/" + r.RT.Name},
	}
	if exts != nil {
		d["schemaExtensions"] = exts
	}
	return d
}

func (s *Server) resourceTypesList(c *fiber.Ctx, ep *Endpoint) map[string]any {
	var res []any
	for _, r := range ep.resources() {
		res = append(res, resourceTypeDoc(s.baseURL(c), ep, r))
	}
	return listOf(res)
}

func (s *Server) resourceTypeByID(c *fiber.Ctx, ep *Endpoint) error {
	id := c.Params("id")
	for _, r := range ep.resources() {
		if strings.EqualFold(r.RT.Name, id) {
			return s.writeJSON(c, 200, resourceTypeDoc(s.baseURL(c), ep, r))
		}
	}
	return scim.NotFound("no resource type %q", id)
}
