package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// readmeJWT is the README's jwt block, as documented.
func readmeJWT(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "    jwt \"entra\" {\n")
	if i < 0 {
		t.Fatal("README has no jwt \"entra\" block")
	}
	j := strings.Index(s[i:], "\n    }\n")
	return s[i : i+j+len("\n    }\n")]
}

func withJWT(block string) string {
	return strings.Replace(minimal, `    token "t" { value = env("TEST_SCIM_TOKEN", "sb_fallback_PayHvO-DyDSKsj8EH1r73Oj7V3Emi3GA") }`, block, 1)
}

// TestJWTBlock: the README's jwt example loads with every option as
// documented (and makes a token-less endpoint valid); the mistakes a
// jwt block can hold are refused at its line.
func TestJWTBlock(t *testing.T) {
	cfg, diags := load(t, withJWT(readmeJWT(t)), nil)
	if diags.HasErrors() {
		t.Fatalf("the README's jwt block: %s", diags.Error())
	}
	j := cfg.Endpoints[0].JWTs[0]
	if j.Name != "entra" || !strings.HasPrefix(j.JWKSURL, "https://login.microsoftonline.com/") || j.Issuer != "https://sts.windows.net/<tenant id>/" ||
		len(j.Audiences) != 1 || j.RequiredClaims["appid"] == "" || j.Leeway != time.Minute || j.JWKSRefresh != time.Hour ||
		len(j.Algorithms) != 1 || j.Algorithms[0] != "RS256" || len(j.Scopes) != 6 || len(cfg.Endpoints[0].Tokens) != 0 {
		t.Errorf("decoded %+v", j)
	}
	base := `    jwt "x" {
      jwks_file = "keys.json"
      issuer    = "https://issuer.example.com/"
      audience  = ["api://scimbridge"]
      %s
    }`
	for _, tc := range []struct{ extra, want string }{
		{`jwks_url = "http://keys.example.com/jwks"`, "exactly one of jwks_url and jwks_file"},
		{`algorithms = ["HS256"]`, "asymmetric algorithms only"},
		{`algorithms = ["none"]`, "asymmetric algorithms only"},
		{`leeway = "1h"`, "between 0s and 10m0s"},
		{`required_claims = { appid = "" }`, "a name and a value"},
	} {
		_, diags := load(t, withJWT(strings.Replace(base, "%s", tc.extra, 1)), nil)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.extra, diags, tc.want)
		}
	}
	plain := strings.Replace(strings.Replace(base, `jwks_file = "keys.json"`, `jwks_url = "http://keys.example.com/jwks"`, 1), "%s", "", 1)
	if _, diags := load(t, withJWT(plain), nil); !diags.HasErrors() || !strings.Contains(diags.Error(), "https://") {
		t.Errorf("a JWKS over plain HTTP to another host: %v, want refused", diags)
	}
	loop := strings.Replace(strings.Replace(base, `jwks_file = "keys.json"`, `jwks_url = "http://127.0.0.1:8099/jwks"`, 1), "%s", "", 1)
	if _, diags := load(t, withJWT(loop), nil); diags.HasErrors() {
		t.Errorf("a JWKS over HTTP on loopback: %v", diags)
	}
}
