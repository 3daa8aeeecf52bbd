package main

import (
	"strings"
	"testing"
)

// TestRestartNeeded: credentials (token, basic, jwt and oauth2 blocks), comments
// and layout are not changes that need a restart; the server block, a
// mapping or a new endpoint are, named by block.
func TestRestartNeeded(t *testing.T) {
	base := `server {
  listen = "127.0.0.1:8080"
}

endpoint "okta" {
  base_path = "/scim/v2"
  auth {
    token "a" {
      hash = "sha256:aa"
    }
    jwt "entra" {
      issuer = "https://a"
    }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
  }
}
`
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"token replaced", `    token "a" {
      hash = "sha256:aa"
    }`, `    # rotated
    token "b" {
      hash   = "sha256:bb"
      scopes = ["get:users"]
    }
    basic "svc" {
      password_hash = "sha256:cc"
    }`, ""},
		{"layout and comments", `attribute "userName" { native = "uid" }`, "# the login\n    attribute \"userName\"    {   native = \"uid\" }", ""},
		{"server", `listen = "127.0.0.1:8080"`, `listen = "127.0.0.1:9090"`, `server changed`},
		{"jwt", `issuer = "https://a"`, `issuer = "https://b"`, ""},
		{"jwt added", `    jwt "entra" {`, "    jwt \"okta\" {\n      issuer = \"https://o\"\n    }\n    jwt \"entra\" {", ""},
		{"oauth2 added", `    jwt "entra" {`, "    oauth2 \"okta\" {\n      client_id = \"c\"\n      store     = \"sqlite:///x.db\"\n    }\n    jwt \"entra\" {", ""},
		{"auth other than credentials", `    jwt "entra" {`, "    unknown_block {\n    }\n    jwt \"entra\" {", `endpoint "okta" changed`},
		{"mapping", `native = "uid"`, `native = "cn"`, `endpoint "okta" changed`},
		{"endpoint added", "\nendpoint \"okta\" {", "\nendpoint \"x\" {\n  base_path = \"/x\"\n}\nendpoint \"okta\" {", `endpoint "x" added`},
	} {
		changed := strings.Replace(base, tc.from, tc.to, 1)
		if changed == base {
			t.Fatalf("%s: the replacement does not apply", tc.name)
		}
		if got := differs([]byte(base), []byte(changed)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
