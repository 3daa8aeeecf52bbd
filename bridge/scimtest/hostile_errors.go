package scimtest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// nativeMarkers are words of databases', directories' and the
// configuration's own messages: an error body holding one shows the
// client what it should only see in SCIM terms (issue #9, finding 6).
var nativeMarkers = []string{
	"constraint", "duplicate entry", "duplicate key", "violates", "sqlstate", "key (", "(2067)", "(1555)",
	"dc=", "ou=", "ldap result", "diagnostic", ".hcl", "error in function call",
}

// leak returns the first native marker in r's body, or "".
func leak(r *bridgetest.Response) string {
	low := bytes.ToLower(r.Body)
	for _, m := range nativeMarkers {
		if bytes.Contains(low, []byte(m)) {
			return m
		}
	}
	return ""
}

// withheld checks an error whose native cause was logged: the detail
// starts with want (when given), names the request id the response
// carries, and shows nothing native.
func withheld(want string) func(r *bridgetest.Response) string {
	return func(r *bridgetest.Response) string {
		d := bridgetest.Str(r.JSON, "detail")
		if want != "" && !strings.HasPrefix(d, want) {
			return fmt.Sprintf("detail %q, want it to start with %q", d, want)
		}
		if rid := r.Header.Get("X-Request-Id"); rid == "" || !strings.HasSuffix(d, "(request id "+rid+")") {
			return fmt.Sprintf("detail %q does not name the request id %q", d, rid)
		}
		if m := leak(r); m != "" {
			return fmt.Sprintf("the body shows %q", m)
		}
		return ""
	}
}

// names checks a refusal whose detail starts with the SCIM attribute.
func names(attr string) func(r *bridgetest.Response) string {
	return func(r *bridgetest.Response) string {
		if d := bridgetest.Str(r.JSON, "detail"); !strings.HasPrefix(d, attr+": ") {
			return fmt.Sprintf("detail %q does not start with %q", d, attr)
		}
		if m := leak(r); m != "" {
			return fmt.Sprintf("the body shows %q", m)
		}
		return ""
	}
}

// forged are forwarded headers from a client that is no proxy.
var forged = map[string]string{
	"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on",
	"X-Url-Scheme": "https", "X-Forwarded-For": "203.0.113.66",
}

// noForgedURL checks that no URL the bridge wrote (Location,
// meta.location, $ref) follows forged headers: the test servers serve
// plain HTTP on their own address.
func noForgedURL(r *bridgetest.Response) string {
	urls := urlsIn(r.JSON, "")
	if loc := r.Header.Get("Location"); loc != "" {
		urls = append(urls, loc)
	}
	if len(urls) == 0 {
		return "no URL to check"
	}
	for _, u := range urls {
		if strings.Contains(u, "evil.example") || !strings.HasPrefix(u, "http://") {
			return fmt.Sprintf("%q follows the client's X-Forwarded-Host / -Proto", u)
		}
	}
	return ""
}

// urlsIn collects the values of "location" and "$ref" in a JSON value.
func urlsIn(v any, key string) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if key == "location" || key == "$ref" {
			out = append(out, x)
		}
	case map[string]any:
		for k, el := range x {
			out = append(out, urlsIn(el, k)...)
		}
	case []any:
		for _, el := range x {
			out = append(out, urlsIn(el, key)...)
		}
	}
	return out
}

// ErrorCases are the hostile requests of issue #9: errors that must speak
// SCIM and carry the request id (finding 6), forwarded headers from a
// client that is no trusted proxy (finding 7; the test servers trust
// none and serve plain HTTP), and values over max_value_bytes (finding
// 8a, with the default of 32 KiB). uid and gid name an existing user and
// group ("hostile.target", "hostile group").
func ErrorCases(uid, gid string) []HostileCase {
	over := strings.Repeat("v", 33<<10)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patch := func(op map[string]any) map[string]any {
		return map[string]any{"schemas": []string{patchOp}, "Operations": []any{op}}
	}
	return []HostileCase{
		// Finding 6: conflicts and unknown ids name SCIM attributes.
		{Name: "duplicate userName speaks SCIM", Method: "POST", Path: "/Users", Body: "dup-user", Status: 409,
			Check: withheld(`userName "HOSTILE.TARGET" is already taken`)},
		{Name: "duplicate group speaks SCIM", Method: "POST", Path: "/Groups", Body: "dup-group", Status: 409,
			Check: withheld(`displayName "Hostile Group" is already taken`)},
		{Name: "unknown member speaks SCIM", Method: "POST", Path: "/Groups", Status: 400,
			Body:  map[string]any{"displayName": "never stored", "members": []any{map[string]any{"value": "no-such-member"}}},
			Check: withheld("members")},
		{Name: "patch unknown member speaks SCIM", Method: "PATCH", Path: "/Groups/" + gid, Status: 400,
			Body:  patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "no-such-member"}}}),
			Check: withheld("members")},
		// Finding 7: reads with forged forwarded headers.
		{Name: "forged forwarded headers on a user", Method: "GET", Path: "/Users/" + uid, Header: forged, Status: 200, Check: noForgedURL},
		{Name: "forged forwarded headers on a group", Method: "GET", Path: "/Groups/" + gid, Header: forged, Status: 200, Check: noForgedURL},
		{Name: "forged forwarded headers on a list", Method: "GET", Path: "/Users?filter=" + q(`userName eq "hostile.target"`), Header: forged, Status: 200, Check: noForgedURL},
		{Name: "forged forwarded headers on discovery", Method: "GET", Path: "/ServiceProviderConfig", Header: forged, Status: 200, Check: noForgedURL},
		{Name: "forged forwarded headers on schemas", Method: "GET", Path: "/ResourceTypes", Header: forged, Status: 200, Check: noForgedURL},
		// Finding 8a: one value over max_value_bytes, wherever it is.
		{Name: "value too long", Method: "POST", Path: "/Users", Body: map[string]any{"userName": "long.title", "title": over}, Status: 400, Check: names("title")},
		{Name: "value too long in userName", Method: "POST", Path: "/Users", Body: map[string]any{"userName": over}, Status: 400, Check: names("userName")},
		{Name: "value too long in an extension", Method: "POST", Path: "/Users", Status: 400,
			Body: map[string]any{"userName": "long.ext", ent: map[string]any{"department": over}}, Check: names(ent + ":department")},
		{Name: "value too long in PUT", Method: "PUT", Path: "/Users/" + uid, Status: 400,
			Body: map[string]any{"userName": "hostile.target", "name": map[string]any{"givenName": over}}, Check: names("name.givenName")},
		{Name: "value too long in PATCH", Method: "PATCH", Path: "/Users/" + uid, Status: 400,
			Body: patch(map[string]any{"op": "replace", "path": "title", "value": over}), Check: names("title")},
		{Name: "value too long in a pathless PATCH", Method: "PATCH", Path: "/Users/" + uid, Status: 400,
			Body: patch(map[string]any{"op": "replace", "value": map[string]any{"emails": []any{map[string]any{"value": over}}}}), Check: names("emails.value")},
		{Name: "value too long in members", Method: "PATCH", Path: "/Groups/" + gid, Status: 400,
			Body: patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": over}}}), Check: names("members.value")},
		{Name: "value too long as a number", Method: "POST", Path: "/Users", Status: 400,
			Body: `{"userName":"long.number","externalId":` + strings.Repeat("9", 33<<10) + `}`, Check: names("externalId")},
	}
}
