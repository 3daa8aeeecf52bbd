package rest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// payloads would reach another endpoint or host if put into a path or a
// query string unencoded.
var payloads = []string{
	"a/b", "../groups", "..", ".", "a?b=c", "a#b", "%00", "a%2Fb", "a%2e%2e",
	"x\r\nX-Injected: 1", "a\x00b", "//evil.example/x", "http://evil.example/", "a&_page=1&x=",
	"a' || id != '", `a" || 1=1`, "a\\b",
}

// TestInjection: userNames, filter values and ids holding path and query
// syntax travel only as JSON or encoded query values; every request the
// API receives is one of the example's own endpoints, and no other record
// changes.
func TestInjection(t *testing.T) {
	type shape struct {
		path  *regexp.Regexp
		query map[string]*regexp.Regexp // allowed parameters and their values
	}
	shapes := map[string]shape{
		"PocketBase": {
			path: regexp.MustCompile(`^/api/(collections/_superusers/auth-with-password|collections/(users|groups)_[0-9]+/records(/[a-z0-9]{15})?)$`),
			query: map[string]*regexp.Regexp{
				"page": regexp.MustCompile(`^[0-9]+$`), "perPage": regexp.MustCompile(`^[0-9]+$`), "sort": regexp.MustCompile(`^created,id$`),
				"filter": regexp.MustCompile(`^(userName|email|displayName|members|manager) [~=] '[^'"\\]*'$`),
			},
		},
		"JSONServer": {
			path: regexp.MustCompile(`^/(users|groups)(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$`),
			query: map[string]*regexp.Regexp{
				"_page": regexp.MustCompile(`^[0-9]+$`), "_limit": regexp.MustCompile(`^[0-9]+$`),
				"userName_like": regexp.MustCompile(`.`), "displayName_like": regexp.MustCompile(`.`),
				"memberIds_like": regexp.MustCompile(`.`), "managerId_like": regexp.MustCompile(`.`),
			},
		},
	}
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{relay: true})
			c := s.c
			victim := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "victim",
				"name": map[string]any{"givenName": "Vic", "familyName": "Tim"}}).JSON, "id")
			gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "victims",
				"members": []any{map[string]any{"value": victim}}}).JSON, "id")
			before := map[string]string{"User": fmt.Sprint(find(s.records(t, "User"), victim)), "Group": fmt.Sprint(find(s.records(t, "Group"), gid))}
			s.relay.requests()

			created := 0
			for _, p := range payloads {
				r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "inj-" + p})
				switch r.Status {
				case 201:
					created++
					id := bridgetest.Str(r.JSON, "id")
					if got := bridgetest.Str(c.Must(200, "GET", "/Users/"+id, nil).JSON, "userName"); got != "inj-"+p {
						t.Errorf("userName %q read back as %q", "inj-"+p, got)
					}
				case 400:
				default:
					t.Errorf("POST userName %q: %d %s", p, r.Status, r.Body)
				}
				filter := url.QueryEscape(`userName eq "inj-` + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `"`, `\"`) + `"`)
				l := c.Do("GET", "/Users?filter="+filter, nil)
				if l.Status != 200 && l.Status != 400 {
					t.Errorf("filter on %q: %d %s", p, l.Status, l.Body)
				}
				if l.Status == 200 && r.Status == 201 && bridgetest.Str(l.JSON, "totalResults") != "1" {
					t.Errorf("filter on %q: %s, want the one user", p, l.Body)
				}
				for _, rt := range []string{"/Users/", "/Groups/"} {
					for _, id := range []string{url.PathEscape(p), url.PathEscape(victim + p), url.PathEscape(p + victim)} {
						if g := c.Do("GET", rt+id, nil); g.Status != 404 && g.Status != 400 {
							t.Errorf("GET %s%s: %d %s", rt, id, g.Status, g.Body)
						}
						if g := c.Do("DELETE", rt+id, nil); g.Status != 404 && g.Status != 400 {
							t.Errorf("DELETE %s%s: %d %s", rt, id, g.Status, g.Body)
						}
						if g := c.Do("PATCH", rt+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
							map[string]any{"op": "replace", "path": "displayName", "value": "x"}}}); g.Status != 404 && g.Status != 400 {
							t.Errorf("PATCH %s%s: %d %s", rt, id, g.Status, g.Body)
						}
					}
				}
			}
			if created < len(payloads)/2 {
				t.Errorf("only %d of %d userNames were created", created, len(payloads))
			}
			sh := shapes[ex.name]
			reqs := s.relay.requests()
			if len(reqs) == 0 {
				t.Fatal("the relay saw no request")
			}
			for _, r := range reqs {
				u, err := url.ParseRequestURI(r.RequestURI)
				if err != nil || !sh.path.MatchString(u.EscapedPath()) {
					t.Errorf("the API received %s %s: not one of the example's endpoints", r.Method, r.RequestURI)
					continue
				}
				for k, vs := range u.Query() {
					re := sh.query[k]
					for _, v := range vs {
						if re == nil || !re.MatchString(v) {
							t.Errorf("the API received %s %s: parameter %q = %q", r.Method, r.RequestURI, k, v)
						}
					}
				}
				for k := range r.Header {
					if strings.EqualFold(k, "X-Injected") {
						t.Errorf("a header was injected: %s %s", r.Method, r.RequestURI)
					}
				}
			}
			after := map[string]string{"User": fmt.Sprint(find(s.records(t, "User"), victim)), "Group": fmt.Sprint(find(s.records(t, "Group"), gid))}
			for k := range before {
				if before[k] != after[k] {
					t.Errorf("the %s record changed:\n before %s\n after  %s", k, before[k], after[k])
				}
			}
			t.Logf("%d payloads, %d requests to the API, all to its own endpoints", len(payloads), len(reqs))
		})
	}
}

var _ = http.MethodGet
