package scimtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// HostileCase is one crafted request and what a correct server answers.
type HostileCase struct {
	Name         string
	Method, Path string
	Body         any    // nil, a raw string, or a value encoded as JSON
	Auth         string // "" keeps the client's; "-" sends none; else the header value
	Header       map[string]string
	// Status is the exact status wanted; 0 means any 4xx. A 2xx status
	// is for requests that must succeed harmlessly (a read with forged
	// headers) and wants no error body.
	Status int
	// Empty wants a 200 ListResponse with no results (an injection attempt
	// in a filter must not widen the search).
	Empty bool
	// Check, when set, judges the answer further: it returns what is
	// wrong with it, or "".
	Check func(r *bridgetest.Response) string
}

// InjectionPayloads are values that mean something to LDAP filters, DNs,
// SQL or URLs. Stored literally they are harmless; interpreted they widen
// searches or escape the base DN / table.
var InjectionPayloads = []string{
	`*`, `*)(uid=*`, `*)(|(objectClass=*)`, `)(cn=*`, `admin)(&)`, `\2a`, `\00`, "nul\x00byte",
	`,cn=admin,dc=example,dc=org`, `cn=x+uid=y`, `uid=x,ou=people`, `#hash`, ` leading space`, `trailing\`,
	`' OR '1'='1`, `'; DROP TABLE users; --`, `" OR ""="`, `1 OR 1=1`, `%`, `_`, `%_\`, `') UNION SELECT 1 --`,
	`../../etc/passwd`, `%2e%2e%2f`, "\u202eevil", "ﬃ", "😀", strings.Repeat("A", 3000),
}

// HostileCorpus returns the crafted requests; uid and gid name an existing
// user and group.
func HostileCorpus(uid, gid string) []HostileCase {
	patch := func(ops ...map[string]any) map[string]any {
		l := make([]any, len(ops))
		for i, o := range ops {
			l[i] = o
		}
		return map[string]any{"schemas": []string{patchOp}, "Operations": l}
	}
	op := func(o, path string, v any) map[string]any {
		m := map[string]any{"op": o, "value": v}
		if path != "" {
			m["path"] = path
		}
		return m
	}
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	deepArr := `{"userName":"deep","emails":` + strings.Repeat("[", 3000) + strings.Repeat("]", 3000) + `}`
	manyEmails := make([]any, 1500) // over MaxValues, under the test configs' body limits
	for i := range manyEmails {
		manyEmails[i] = map[string]any{"value": fmt.Sprintf("e%d@x", i)}
	}
	cs := []HostileCase{
		// Authentication.
		{Name: "no credentials", Method: "GET", Path: "/Users", Auth: "-", Status: 401},
		{Name: "wrong bearer", Method: "GET", Path: "/Users", Auth: "Bearer not-the-token-0000000000", Status: 401},
		{Name: "empty bearer", Method: "GET", Path: "/Users", Auth: "Bearer ", Status: 401},
		{Name: "huge bearer", Method: "GET", Path: "/Users", Auth: "Bearer " + strings.Repeat("x", 5000), Status: 401},
		{Name: "basic garbage", Method: "GET", Path: "/Users", Auth: "Basic %%%%", Status: 401},
		{Name: "basic no colon", Method: "GET", Path: "/Users", Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), Status: 401},
		{Name: "basic injection user", Method: "GET", Path: "/Users", Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("*)(uid=*:x")), Status: 401},
		{Name: "digest scheme", Method: "GET", Path: "/Users", Auth: "Digest username=x", Status: 401},
		{Name: "token in query only", Method: "GET", Path: "/Users?access_token=x", Auth: "-", Status: 401},
		{Name: "no credentials on write", Method: "POST", Path: "/Users", Body: map[string]any{"userName": "intruder"}, Auth: "-", Status: 401},
		{Name: "no credentials on delete", Method: "DELETE", Path: "/Users/" + uid, Auth: "-", Status: 401},
		// Malformed bodies.
		{Name: "truncated json", Method: "POST", Path: "/Users", Body: `{"userName":"x"`, Status: 400},
		{Name: "not json", Method: "POST", Path: "/Users", Body: `userName=x`, Status: 400},
		{Name: "json array", Method: "POST", Path: "/Users", Body: `[]`, Status: 400},
		{Name: "json string", Method: "POST", Path: "/Users", Body: `"x"`, Status: 400},
		{Name: "json null", Method: "POST", Path: "/Users", Body: `null`, Status: 400},
		{Name: "two objects", Method: "POST", Path: "/Users", Body: `{"userName":"a"}{"userName":"b"}`, Status: 400},
		{Name: "empty body", Method: "POST", Path: "/Users", Body: ``, Status: 400},
		{Name: "bom prefix", Method: "POST", Path: "/Users", Body: "\ufeff{\"userName\":\"bom\"}", Status: 400},
		{Name: "deeply nested object", Method: "POST", Path: "/Users", Body: deep, Status: 400},
		{Name: "deeply nested array", Method: "POST", Path: "/Users", Body: deepArr, Status: 400},
		{Name: "huge array", Method: "POST", Path: "/Users", Body: map[string]any{"userName": "many", "emails": manyEmails}, Status: 0},
		{Name: "invalid utf8 bytes", Method: "POST", Path: "/Users", Body: "{\"userName\":\"\xff\xfe\"}", Status: 400},
		{Name: "invalid utf8 escape", Method: "POST", Path: "/Users", Body: `{"userName":"\ud800"}`, Status: 0},
		// Wrong types and schema violations.
		{Name: "userName number", Method: "POST", Path: "/Users", Body: `{"userName":{"x":1}}`, Status: 400},
		{Name: "userName array", Method: "POST", Path: "/Users", Body: `{"userName":["a","b"]}`, Status: 400},
		{Name: "userName missing", Method: "POST", Path: "/Users", Body: `{"name":{"givenName":"x"}}`, Status: 400},
		{Name: "userName empty", Method: "POST", Path: "/Users", Body: `{"userName":""}`, Status: 400},
		{Name: "userName null", Method: "POST", Path: "/Users", Body: `{"userName":null}`, Status: 400},
		{Name: "userName with NUL", Method: "POST", Path: "/Users", Body: map[string]any{"userName": "nul\x00name"}, Status: 400},
		{Name: "active not boolean", Method: "POST", Path: "/Users", Body: `{"userName":"t1","active":"yes please"}`, Status: 400},
		{Name: "active number", Method: "POST", Path: "/Users", Body: `{"userName":"t2","active":2}`, Status: 400},
		{Name: "name not object", Method: "POST", Path: "/Users", Body: `{"userName":"t3","name":"Jane"}`, Status: 400},
		{Name: "emails of numbers", Method: "POST", Path: "/Users", Body: `{"userName":"t4","emails":[{"value":{"a":1}}]}`, Status: 400},
		{Name: "unknown attribute", Method: "POST", Path: "/Users", Body: `{"userName":"t5","favouriteColour":"blue"}`, Status: 400},
		{Name: "unknown sub-attribute", Method: "POST", Path: "/Users", Body: `{"userName":"t6","name":{"nick":"x"}}`, Status: 400},
		{Name: "unknown enterprise attribute", Method: "POST", Path: "/Users", Body: `{"userName":"t7","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"shoe":1}}`, Status: 400},
		{Name: "dateTime garbage", Method: "POST", Path: "/Users", Body: `{"userName":"t8","meta":{"created":"yesterday"}}`, Status: 400},
		{Name: "group without name", Method: "POST", Path: "/Groups", Body: `{"members":[]}`, Status: 400},
		{Name: "group members not array of objects", Method: "POST", Path: "/Groups", Body: `{"displayName":"g1","members":[1,2]}`, Status: 400},
		{Name: "group unknown member", Method: "POST", Path: "/Groups", Body: `{"displayName":"g2","members":[{"value":"no-such-id"}]}`, Status: 400},
		{Name: "duplicate userName", Method: "POST", Path: "/Users", Body: "dup-user", Status: 409},
		{Name: "duplicate group", Method: "POST", Path: "/Groups", Body: "dup-group", Status: 409},
		// PUT and PATCH.
		{Name: "put id mismatch", Method: "PUT", Path: "/Users/" + uid, Body: map[string]any{"id": "someone-else", "userName": "x"}, Status: 400},
		{Name: "put no userName", Method: "PUT", Path: "/Users/" + uid, Body: map[string]any{"title": "x"}, Status: 400},
		{Name: "put malformed", Method: "PUT", Path: "/Users/" + uid, Body: `{"userName":`, Status: 400},
		{Name: "patch no operations", Method: "PATCH", Path: "/Users/" + uid, Body: map[string]any{"schemas": []string{patchOp}}, Status: 400},
		{Name: "patch operations object", Method: "PATCH", Path: "/Users/" + uid, Body: `{"Operations":{"op":"add"}}`, Status: 400},
		{Name: "patch op missing", Method: "PATCH", Path: "/Users/" + uid, Body: patch(map[string]any{"path": "title", "value": "x"}), Status: 400},
		{Name: "patch op unknown", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("copy", "title", "x")), Status: 400},
		{Name: "patch remove no path", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("remove", "", nil)), Status: 400},
		{Name: "patch bad path syntax", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "emails[type eq", "x")), Status: 400},
		{Name: "patch unknown path", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "favouriteColour", "x")), Status: 400},
		{Name: "patch path number", Method: "PATCH", Path: "/Users/" + uid, Body: `{"Operations":[{"op":"replace","path":12,"value":"x"}]}`, Status: 400},
		{Name: "patch readOnly id", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "id", "x")), Status: 400},
		{Name: "patch readOnly meta", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "meta.created", "2020-01-01T00:00:00Z")), Status: 400},
		{Name: "patch readOnly groups", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("add", "groups", []any{map[string]any{"value": "x"}})), Status: 400},
		{Name: "patch remove required", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("remove", "userName", nil)), Status: 400},
		{Name: "patch wrong type", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "active", map[string]any{"a": 1})), Status: 400},
		{Name: "patch pathless non-object", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "", "x")), Status: 400},
		{Name: "patch atomic", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "title", "changed"), op("replace", "active", "nope")), Status: 400},
		{Name: "patch filter no match", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", `emails[type co "zz"]`, map[string]any{"value": "x"})), Status: 400},
		{Name: "patch nested filter", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", `emails[value eq emails[type eq "x"]]`, "x")), Status: 400},
		{Name: "patch members unknown id", Method: "PATCH", Path: "/Groups/" + gid, Body: patch(op("add", "members", []any{map[string]any{"value": "ghost-id"}})), Status: 400},
		{Name: "patch members no value", Method: "PATCH", Path: "/Groups/" + gid, Body: patch(op("add", "members", []any{map[string]any{"display": "x"}})), Status: 400},
		{Name: "patch members atomic", Method: "PATCH", Path: "/Groups/" + gid, Body: patch(op("replace", "displayName", "renamed"), op("add", "members", []any{map[string]any{"value": "ghost"}})), Status: 400},
		{Name: "patch group rename empty", Method: "PATCH", Path: "/Groups/" + gid, Body: patch(op("replace", "displayName", "")), Status: 400},
		{Name: "patch if-match stale", Method: "PATCH", Path: "/Users/" + uid, Body: patch(op("replace", "title", "x")), Header: map[string]string{"If-Match": `W/"stale"`}, Status: 412},
		{Name: "put if-match stale", Method: "PUT", Path: "/Users/" + uid, Body: map[string]any{"userName": "x"}, Header: map[string]string{"If-Match": `"nope"`}, Status: 412},
		// Queries.
		{Name: "filter empty value", Method: "GET", Path: "/Users?filter=" + q(`userName eq`), Status: 400},
		{Name: "filter unknown operator", Method: "GET", Path: "/Users?filter=" + q(`userName like "x"`), Status: 400},
		{Name: "filter unknown attribute", Method: "GET", Path: "/Users?filter=" + q(`shoe eq "x"`), Status: 400},
		{Name: "filter LDAP syntax", Method: "GET", Path: "/Users?filter=" + q(`(uid=*)`), Status: 400},
		{Name: "filter SQL syntax", Method: "GET", Path: "/Users?filter=" + q(`1=1`), Status: 400},
		{Name: "filter unbalanced", Method: "GET", Path: "/Users?filter=" + q(`(userName eq "x"`), Status: 400},
		{Name: "filter deep", Method: "GET", Path: "/Users?filter=" + q(strings.Repeat("not (", 200)+`userName eq "x"`+strings.Repeat(")", 200)), Status: 400},
		{Name: "filter too long", Method: "GET", Path: "/Users?filter=" + q(`userName eq "`+strings.Repeat("x", 5000)+`"`), Status: 400},
		{Name: "filter nul", Method: "GET", Path: "/Users?filter=userName%20eq%20%22a%00b%22", Status: 400},
		{Name: "count huge", Method: "GET", Path: "/Users?count=99999999", Status: 400},
		{Name: "count text", Method: "GET", Path: "/Users?count=all", Status: 400},
		{Name: "startIndex text", Method: "GET", Path: "/Users?startIndex=first", Status: 400},
		{Name: "sortOrder bad", Method: "GET", Path: "/Users?sortOrder=random", Status: 400},
		{Name: "sortBy injection", Method: "GET", Path: "/Users?sortBy=" + q(`userName; DROP TABLE users`), Status: 400},
		{Name: "attributes injection", Method: "GET", Path: "/Users?attributes=" + q(`userName,*`), Status: 400},
		{Name: "excludedAttributes injection", Method: "GET", Path: "/Users?excludedAttributes=" + q(`') OR 1=1`), Status: 400},
		{Name: "create with bad attributes list", Method: "POST", Path: "/Users?attributes=shoeSize", Body: map[string]any{"userName": "attr.list"}, Status: 400},
		{Name: "patch with bad attributes list", Method: "PATCH", Path: "/Users/" + uid + "?excludedAttributes=" + q(`x y`), Body: patch(op("replace", "title", "x")), Status: 400},
		{Name: "search body not object", Method: "POST", Path: "/Users/.search", Body: `[1]`, Status: 400},
		{Name: "search bad filter", Method: "POST", Path: "/Users/.search", Body: map[string]any{"filter": "userName eq"}, Status: 400},
		{Name: "search count huge", Method: "POST", Path: "/Users/.search", Body: map[string]any{"count": 10000000}, Status: 400},
		// Routing.
		{Name: "unknown resource", Method: "GET", Path: "/Widgets", Status: 404},
		{Name: "unknown schema", Method: "GET", Path: "/Schemas/urn:x", Status: 404},
		{Name: "unknown resource type", Method: "GET", Path: "/ResourceTypes/Device", Status: 404},
		{Name: "method not allowed", Method: "DELETE", Path: "/Users", Status: 405},
		{Name: "put on collection", Method: "PUT", Path: "/Users", Body: map[string]any{"userName": "x"}, Status: 405},
		{Name: "bulk without operations", Method: "POST", Path: "/Bulk", Body: map[string]any{}, Status: 400},
	}
	// Ids: unknown, traversal and injection payloads in every verb.
	for i, p := range append([]string{"does-not-exist", "0", "-1", "99999999999999999999"}, InjectionPayloads...) {
		esc := pathEscape(p)
		if esc == "" {
			continue
		}
		cs = append(cs,
			HostileCase{Name: fmt.Sprintf("get id %d", i), Method: "GET", Path: "/Users/" + esc, Status: 404},
			HostileCase{Name: fmt.Sprintf("delete id %d", i), Method: "DELETE", Path: "/Groups/" + esc, Status: 404},
			HostileCase{Name: fmt.Sprintf("patch id %d", i), Method: "PATCH", Path: "/Users/" + esc, Body: patch(op("replace", "title", "x")), Status: 404},
		)
	}
	// Filters: injection payloads must match nothing (no user has them).
	for i, p := range InjectionPayloads {
		if strings.ContainsRune(p, 0) || len(p) > 1000 {
			continue
		}
		lit := jsonString(p)
		for _, f := range []string{`userName eq ` + lit, `userName co ` + lit, `displayName sw ` + lit, `emails[value eq ` + lit + `]`,
			`userName eq ` + lit + ` or name.familyName ew ` + lit} {
			cs = append(cs, HostileCase{Name: fmt.Sprintf("filter %d %s", i, f[:min(len(f), 24)]), Method: "GET", Path: "/Users?filter=" + q(f), Empty: true})
		}
		cs = append(cs, HostileCase{Name: fmt.Sprintf("group filter %d", i), Method: "GET", Path: "/Groups?filter=" + q(`displayName eq `+lit), Empty: true})
		cs = append(cs, HostileCase{Name: fmt.Sprintf("member filter %d", i), Method: "GET", Path: "/Groups?filter=" + q(`members[value eq `+lit+`]`), Empty: true})
	}
	cs = append(cs, QueryCases(uid, gid)...)
	cs = append(cs, ErrorCases(uid, gid)...)
	// Last: they run the failure limiter to 429 for this client.
	cs = append(cs, AuthCases(uid, gid)...)
	return cs
}

func jsonString(s string) string {
	b := strings.Builder{}
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Snapshot reads every record of every resource type, sorted, for diffs.
func Snapshot(t *testing.T, b backends.Backend) map[string][]backends.Record {
	t.Helper()
	out := map[string][]backends.Record{}
	for _, rt := range []string{backends.User, backends.Group} {
		p, err := b.Search(context.Background(), rt, backends.Query{})
		if err != nil {
			t.Fatalf("snapshot of %s: %v", rt, err)
		}
		recs := p.Records
		sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
		for _, r := range recs {
			for _, v := range r.Attrs {
				sort.Strings(v)
			}
		}
		out[rt] = recs
	}
	return out
}

// HostileResult summarises a replay.
type HostileResult struct {
	Cases    int
	ByStatus map[int]int
}

// RunHostile creates a user and a group, replays the corpus against the
// endpoint and checks every answer (a 4xx with an RFC 7644 error body, or an
// empty list for filter injections; never a 5xx), then that the backend
// holds exactly what it held before.
func RunHostile(t *testing.T, c *bridgetest.Client, b backends.Backend) HostileResult {
	t.Helper()
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "hostile.target", "name": map[string]any{"givenName": "H", "familyName": "T"}, "active": true})
	g := c.Must(201, "POST", "/Groups", map[string]any{"displayName": "hostile group", "members": []any{map[string]any{"value": id(u)}}})
	uid, gid := id(u), id(g)
	before := Snapshot(t, b)
	res := HostileResult{ByStatus: map[int]int{}}
	for _, hc := range HostileCorpus(uid, gid) {
		res.Cases++
		cl := *c
		cl.T = t
		switch hc.Auth {
		case "":
		case "-":
			cl.Auth = ""
		default:
			cl.Auth = hc.Auth
		}
		cl.Headers = hc.Header
		body := hc.Body
		switch body {
		case "dup-user":
			body = map[string]any{"userName": "HOSTILE.TARGET", "name": map[string]any{"givenName": "H", "familyName": "T"}}
		case "dup-group":
			body = map[string]any{"displayName": "Hostile Group"}
		}
		r := cl.Do(hc.Method, hc.Path, body)
		res.ByStatus[r.Status]++
		if hc.Empty {
			if r.Status != 200 || bridgetest.Str(r.JSON, "totalResults") != "0" {
				if r.Status >= 400 && r.Status < 500 && isErrorBody(r) {
					continue // refusing the value outright is as safe
				}
				t.Errorf("%s: %d %s, want an empty list", hc.Name, r.Status, trunc(r.Body))
			}
			continue
		}
		if hc.Check != nil {
			if msg := hc.Check(r); msg != "" {
				t.Errorf("%s: %s: %d %s", hc.Name, msg, r.Status, trunc(r.Body))
			}
		}
		if hc.Status >= 200 && hc.Status < 300 {
			if r.Status != hc.Status {
				t.Errorf("%s: status %d, want %d: %s", hc.Name, r.Status, hc.Status, trunc(r.Body))
			}
			continue
		}
		if r.Status >= 500 || r.Status < 400 {
			t.Errorf("%s: %s %s answered %d: %s", hc.Name, hc.Method, trunc([]byte(hc.Path)), r.Status, trunc(r.Body))
			continue
		}
		if hc.Status != 0 && r.Status != hc.Status {
			t.Errorf("%s: status %d, want %d: %s", hc.Name, r.Status, hc.Status, trunc(r.Body))
		}
		if !isErrorBody(r) {
			t.Errorf("%s: not an RFC 7644 error body: %s", hc.Name, trunc(r.Body))
		}
	}
	after := Snapshot(t, b)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the hostile corpus changed the directory:\nbefore: %v\nafter:  %v", before, after)
	}
	// Clean up so that later tests start from what they expect.
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	t.Logf("hostile corpus: %d requests, answers by status %v", res.Cases, res.ByStatus)
	return res
}

func isErrorBody(r *bridgetest.Response) bool {
	if r.JSON == nil || bridgetest.Str(r.JSON, "detail") == "" || bridgetest.Str(r.JSON, "status") != fmt.Sprint(r.Status) {
		return false
	}
	s, _ := r.JSON["schemas"].([]any)
	return len(s) == 1 && s[0] == "urn:ietf:params:scim:api:messages:2.0:Error"
}

func trunc(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
