package scimtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// CheckFiltersAgree is the property that filters agree with reads: for
// every attribute the stored resources carry and every operator, a GET
// with ?filter= returns exactly the resources whose own representation
// satisfies the filter (RFC 7644 semantics, evaluated here on what the
// bridge reads). It runs over whatever the endpoint holds, so the caller
// first stores resources with varied values, including native values the
// bridge would never write (a status code only the application uses).
// It returns how many filters it checked.
func CheckFiltersAgree(t *testing.T, srv *bridgetest.Server, c *bridgetest.Client) int {
	t.Helper()
	checked := 0
	for _, ep := range srv.Bridge.Endpoints {
		if !strings.HasSuffix(c.Base, ep.BasePath) {
			continue
		}
		for _, r := range []*bridge.Resource{ep.Users, ep.Groups} {
			if r != nil {
				checked += checkResourceFilters(t, c, r)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no filter was checked: the endpoint holds nothing, or the client's base path names no endpoint")
	}
	return checked
}

func checkResourceFilters(t *testing.T, c *bridgetest.Client, r *bridge.Resource) int {
	t.Helper()
	all, err := r.List(context.Background(), bridge.ListQuery{StartIndex: 1, Count: 1 << 20, WithLists: true})
	if err != nil {
		t.Fatalf("listing %s: %v", r.RT.Name, err)
	}
	docs := all.Resources
	if len(docs) == 0 {
		return 0
	}
	checked := 0
	for _, f := range filterCases(r.RT, docs) {
		expr, err := scim.ParseFilter(f.filter)
		if err != nil {
			t.Fatalf("%s: the test built a filter that does not parse: %v", f.filter, err)
		}
		var want []string
		for _, d := range docs {
			if scim.Match(r.RT, expr, d) {
				want = append(want, d["id"].(string))
			}
		}
		got, status, body := listIDs(t, c, r.RT.Endpoint, f.filter)
		if status == 400 && f.may400 {
			continue
		}
		if status != 200 {
			t.Errorf("%s?filter=%s: %d %s", r.RT.Endpoint, f.filter, status, body)
			continue
		}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s?filter=%s returns %v; the resources that read as matching it are %v", r.RT.Endpoint, f.filter, got, want)
		}
		checked++
	}
	return checked
}

func listIDs(t *testing.T, c *bridgetest.Client, endpoint, filter string) ([]string, int, string) {
	t.Helper()
	var ids []string
	for start := 1; ; {
		res := c.Do("GET", fmt.Sprintf("%s?filter=%s&startIndex=%d&count=500&attributes=id", endpoint, url.QueryEscape(filter), start), nil)
		if res.Status != 200 {
			return nil, res.Status, string(res.Body)
		}
		list, _ := res.JSON["Resources"].([]any)
		for _, el := range list {
			m, _ := el.(map[string]any)
			if id, ok := m["id"].(string); ok {
				ids = append(ids, id)
			}
		}
		total, _ := strconv.Atoi(fmt.Sprint(res.JSON["totalResults"]))
		start += len(list)
		if len(list) == 0 || start > total {
			break
		}
	}
	sort.Strings(ids)
	return ids, 200, ""
}

type filterCase struct {
	filter string
	// may400: RFC 7644 lets a server refuse it (ordering on a boolean).
	may400 bool
}

// filterCases builds, from the values the resources hold, a comparison
// for every operator on every attribute path they carry.
func filterCases(rt *scim.ResourceType, docs []scim.Doc) []filterCase {
	values := map[string][]any{} // path -> distinct values seen
	var order []string
	add := func(path string, v any) {
		if v == nil {
			return
		}
		if _, ok := values[path]; !ok {
			order = append(order, path)
		}
		for _, have := range values[path] {
			if fmt.Sprint(have) == fmt.Sprint(v) {
				return
			}
		}
		if len(values[path]) < 3 {
			values[path] = append(values[path], v)
		}
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sv := range x {
				if k == "$ref" || (prefix == "members" && k == "display") {
					continue // derived when read: not searchable (a 400)
				}
				walk(prefix+"."+k, sv)
			}
		case []any:
			for _, el := range x {
				walk(prefix, el)
			}
		default:
			add(prefix, x)
		}
	}
	for _, d := range docs {
		for k, v := range d {
			switch k {
			case "schemas", "meta":
				continue
			}
			if strings.HasPrefix(k, "urn:") {
				if m, ok := v.(map[string]any); ok {
					for ek, ev := range m {
						walk(k+":"+ek, ev)
					}
				}
				continue
			}
			walk(k, v)
		}
		if meta, ok := d["meta"].(map[string]any); ok {
			for _, k := range []string{"created", "lastModified"} {
				add("meta."+k, meta[k])
			}
		}
	}
	sort.Strings(order)
	var out []filterCase
	for _, path := range order {
		if path == "id" {
			continue
		}
		p, err := scim.ResolvePath(rt, path)
		if err != nil || p.Attr == nil {
			continue
		}
		leaf := p.Attr
		if p.Sub != nil {
			leaf = p.Sub
		}
		out = append(out, filterCase{filter: path + " pr"}, filterCase{filter: "not (" + path + " pr)"})
		for _, v := range values[path] {
			lit := literal(v)
			for _, op := range []string{"eq", "ne"} {
				out = append(out, filterCase{filter: path + " " + op + " " + lit})
			}
			switch leaf.Type {
			case scim.TypeBoolean:
				out = append(out, filterCase{filter: path + " eq " + strconv.FormatBool(!truthy(v))})
				continue
			case scim.TypeString, scim.TypeReference:
				s := fmt.Sprint(v)
				if len(s) >= 2 {
					out = append(out,
						filterCase{filter: path + " sw " + literal(s[:2])},
						filterCase{filter: path + " ew " + literal(s[len(s)-2:])},
						filterCase{filter: path + " co " + literal(s[len(s)/2:len(s)/2+1])},
						filterCase{filter: path + " eq " + literal(strings.ToUpper(s))})
				}
			}
			for _, op := range []string{"gt", "ge", "lt", "le"} {
				out = append(out, filterCase{filter: path + " " + op + " " + lit})
			}
		}
		// A value path over a typed multi-valued attribute.
		if p.Attr.MultiValued && p.Sub != nil && p.Sub.Name == "value" {
			for _, ty := range values[p.Attr.Name+".type"] {
				for _, v := range values[path] {
					out = append(out, filterCase{filter: fmt.Sprintf("%s[type eq %s and value eq %s]", p.Attr.Name, literal(ty), literal(v))})
				}
			}
		}
	}
	return out
}

func truthy(v any) bool { b, _ := v.(bool); return b }

// literal is v as a filter comparison value.
func literal(v any) string {
	switch x := v.(type) {
	case string:
		b, _ := json.Marshal(x)
		return string(b)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// SeedVaried creates users and a group with varied values (names, typed
// e-mails and phones, titles, employee numbers, both states of active, a
// manager) for CheckFiltersAgree; attributes the endpoint does not map
// are ignored by it.
func SeedVaried(t *testing.T, c *bridgetest.Client) {
	t.Helper()
	var ids []string
	for i, u := range []map[string]any{
		{"userName": "ada.lovelace", "name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Ada L",
			"title": "Analyst", "active": true, "emails": []any{map[string]any{"type": "work", "value": "ada@example.com", "primary": true}},
			"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0100"}, map[string]any{"type": "mobile", "value": "+1 555 0199"}},
			entUser:        map[string]any{"employeeNumber": "1001", "department": "Research"}},
		{"userName": "bo.diddley", "name": map[string]any{"givenName": "Bo", "familyName": "Diddley"},
			"title": "analyst", "active": false, "emails": []any{map[string]any{"type": "work", "value": "bo@example.org"}},
			entUser: map[string]any{"employeeNumber": "2002"}},
		{"userName": "cy.twombly", "name": map[string]any{"givenName": "Cy", "familyName": "Twombly"}, "active": true,
			entUser: map[string]any{"employeeNumber": "1002", "department": "Art"}},
	} {
		if i > 0 {
			u[entUser].(map[string]any)["manager"] = map[string]any{"value": ids[0]}
		}
		u["schemas"] = []string{coreUser, entUser}
		ids = append(ids, bridgetest.Str(c.Must(201, "POST", "/Users", u).JSON, "id"))
	}
	c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Analysts",
		"members": []any{map[string]any{"value": ids[0]}, map[string]any{"value": ids[1]}}})
	c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Empty"})
}
