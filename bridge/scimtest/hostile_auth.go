package scimtest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// AuthCases are crafted credentials: Basic user names and passwords that
// mean something to LDAP, SQL or a log line, huge ones, mixed schemes, then
// a burst of wrong tokens that engages the failed-authentication limiter
// (issue #9, finding 4) at its default auth_failure_limit.
//
// They come last in HostileCorpus and leave the test's address limited for
// auth_failure_window: later cases with wrong credentials get 429 (any
// 4xx passes them), while the client's own token still gets in, which the
// last cases check. uid names an existing user.
func AuthCases(uid, gid string) []HostileCase {
	basic := func(userPass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
	}
	// Before the burst the address may already be limited by the corpus's
	// earlier wrong credentials: Status 0 takes 401 or 429.
	cs := []HostileCase{
		{Name: "basic unknown user", Method: "GET", Path: "/Users", Auth: basic("no.such.user:Guess-1234")},
		{Name: "basic empty user", Method: "GET", Path: "/Users", Auth: basic(":Guess-1234")},
		{Name: "basic empty password", Method: "GET", Path: "/Users", Auth: basic("admin:")},
		{Name: "basic LDAP injection user", Method: "GET", Path: "/Users", Auth: basic("*)(|(uid=*))(cn=*:*")},
		{Name: "basic SQL injection user", Method: "GET", Path: "/Users", Auth: basic("' OR '1'='1' --:' OR '1'='1")},
		{Name: "basic NUL in user", Method: "GET", Path: "/Users", Auth: basic("ad\x00min:x")},
		{Name: "basic invalid UTF-8 user", Method: "GET", Path: "/Users", Auth: basic("\xff\xfe\xfd:x")},
		{Name: "basic forged log line in user", Method: "GET", Path: "/Users", Auth: basic("x\n2026-01-01T00:00:00Z [ERROR] forged: admin logged in:x")},
		{Name: "basic huge user", Method: "GET", Path: "/Users", Auth: basic(strings.Repeat("u", 4000) + ":x")},
		{Name: "basic huge password", Method: "GET", Path: "/Users", Auth: basic("admin:" + strings.Repeat("p", 4000))},
		{Name: "basic many colons", Method: "GET", Path: "/Users", Auth: basic("a:b:c:d")},
		{Name: "basic padding only", Method: "GET", Path: "/Users", Auth: "Basic ===="},
		{Name: "two schemes in one header", Method: "GET", Path: "/Users", Auth: "Bearer x, Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))},
		{Name: "scheme only", Method: "GET", Path: "/Users", Auth: "Bearer"},
		{Name: "placeholder token", Method: "GET", Path: "/Users", Auth: "Bearer replace-me-with-scimbridge-token-create"},
		{Name: "wrong token on write", Method: "POST", Path: "/Users", Body: map[string]any{"userName": "intruder2"}, Auth: "Bearer wrong-token-write-0000"},
		{Name: "wrong token on delete", Method: "DELETE", Path: "/Users/" + uid, Auth: "Bearer wrong-token-delete-0000"},
	}
	for i := range config.DefaultSettings().AuthFailureLimit {
		cs = append(cs, HostileCase{Name: fmt.Sprintf("wrong token burst %d", i), Method: "GET", Path: "/Users",
			Auth: fmt.Sprintf("Bearer wrong-token-burst-%04d", i)})
	}
	return append(cs,
		HostileCase{Name: "wrong token while limited", Method: "GET", Path: "/Users", Auth: "Bearer wrong-token-limited", Status: 429},
		HostileCase{Name: "basic while limited", Method: "GET", Path: "/Users", Auth: basic("admin:Guess-5678"), Status: 429},
		HostileCase{Name: "malformed while limited", Method: "GET", Path: "/Users", Auth: "Basic %%%%", Status: 429},
		HostileCase{Name: "write while limited", Method: "PATCH", Path: "/Groups/" + gid, Auth: "Bearer wrong-token-limited",
			Body: map[string]any{"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "x"}}}, Status: 429},
		// The client's own token is not limited: these get their usual answer.
		HostileCase{Name: "own token while limited", Method: "GET", Path: "/Users/does-not-exist-while-limited", Status: 404},
		HostileCase{Name: "own token without credentials while limited", Method: "GET", Path: "/Users", Auth: "-", Status: 401},
	)
}
