package rest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestBadUpstream: an answer that is not JSON, too large, without the
// record's id, or a redirect, is a 502 with an RFC 7644 error body, and
// the bridge writes nothing more because of it.
func TestBadUpstream(t *testing.T) {
	s := serveJSONServer(t, serveOpts{relay: true, edits: [][2]string{
		{`  max_concurrency = 4`, "  max_concurrency = 4\n  max_response_bytes = 65536"},
	}})
	c := s.c
	uid := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "steady",
		"name": map[string]any{"givenName": "Stea", "familyName": "Dy"}}).JSON, "id")
	gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "steady-group",
		"members": []any{map[string]any{"value": uid}}}).JSON, "id")
	snapshot := func() string { return fmt.Sprint(s.records(t, "User"), s.records(t, "Group")) }
	before := snapshot()

	onlyJSON := func(h http.Header) http.Header { h = h.Clone(); h.Set("Content-Type", "application/json"); return h }
	corruptions := []struct {
		name   string
		answer func(r *http.Request, status int, h http.Header, b []byte) (int, http.Header, []byte)
		before func(r *http.Request) (int, http.Header, []byte, bool)
	}{
		{name: "HTML instead of JSON", answer: func(_ *http.Request, status int, h http.Header, _ []byte) (int, http.Header, []byte) {
			h = h.Clone()
			h.Set("Content-Type", "text/html")
			return status, h, []byte("<html><body>502 Bad Gateway (nginx)</body></html>")
		}},
		{name: "truncated JSON", answer: func(_ *http.Request, status int, h http.Header, b []byte) (int, http.Header, []byte) {
			return status, h, b[:len(b)/2]
		}},
		{name: "too large", answer: func(_ *http.Request, status int, h http.Header, b []byte) (int, http.Header, []byte) {
			pad := `"` + strings.Repeat("x", 70000) + `"`
			if bytes.HasPrefix(b, []byte("[")) {
				return status, onlyJSON(h), []byte(`[{"id": "00000000-0000-4000-8000-000000000000", "pad": ` + pad + `}]`)
			}
			return status, onlyJSON(h), bytes.Replace(b, []byte("{"), []byte(`{"pad": `+pad+`, `), 1)
		}},
		{name: "without id", answer: func(_ *http.Request, status int, h http.Header, b []byte) (int, http.Header, []byte) {
			return status, h, regexp.MustCompile(`"id":\s*"[^"]*",?`).ReplaceAll(b, nil)
		}},
		{name: "redirect to another host", before: func(r *http.Request) (int, http.Header, []byte, bool) {
			return http.StatusFound, http.Header{"Location": {"http://203.0.113.1/steal" + r.RequestURI}}, nil, true
		}},
	}
	reads := []struct{ method, path string }{
		{"GET", "/Users/" + uid}, {"GET", "/Groups/" + gid}, {"GET", "/Users"},
		{"GET", "/Users?filter=" + `userName%20eq%20%22steady%22`},
	}
	for _, cr := range corruptions {
		t.Run(cr.name, func(t *testing.T) {
			s.relay.set(cr.before, cr.answer)
			defer s.relay.set(nil, nil)
			for _, r := range reads {
				got := c.Do(r.method, r.path, nil)
				if got.Status != 502 || bridgetest.Str(got.JSON, "status") != "502" || bridgetest.Str(got.JSON, "detail") == "" {
					t.Errorf("%s %s: %d %s, want 502 with a detail", r.method, r.path, got.Status, got.Body)
				}
			}
			// A write whose answer is unusable: 502, and the bridge makes
			// no other write (a PATCH reads, then writes once).
			s.relay.requests()
			got := c.Do("PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
				map[string]any{"op": "replace", "path": "title", "value": "Engineer"}}})
			if got.Status != 502 {
				t.Errorf("PATCH: %d %s, want 502", got.Status, got.Body)
			}
			for _, r := range s.relay.requests() {
				if r.Method != "GET" && r.Method != "PUT" {
					t.Errorf("after an unusable answer the bridge sent %s %s", r.Method, r.RequestURI)
				}
			}
		})
	}
	// Undo the title the PUTs may have written (their answers were lost,
	// the writes were not), then nothing else changed.
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "remove", "path": "title"}}})
	after := regexp.MustCompile(`version:[0-9]+`).ReplaceAllString(snapshot(), "")
	if want := regexp.MustCompile(`version:[0-9]+`).ReplaceAllString(before, ""); after != want {
		t.Errorf("records changed:\n before %s\n after  %s", want, after)
	}
}
