package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// readmeOAuth2 is the README's oauth2 block, as documented.
func readmeOAuth2(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "    oauth2 \"okta\" {\n")
	if i < 0 {
		t.Fatal("README has no oauth2 \"okta\" block")
	}
	j := strings.Index(s[i:], "\n    }\n")
	return s[i : i+j+len("\n    }\n")]
}

// TestOAuth2Block: the README's oauth2 example loads with every option as
// documented (and makes a token-less endpoint valid); the mistakes an
// oauth2 block can hold are refused at their line.
func TestOAuth2Block(t *testing.T) {
	cfg, diags := load(t, withJWT(readmeOAuth2(t)), nil)
	if diags.HasErrors() {
		t.Fatalf("the README's oauth2 block: %s", diags.Error())
	}
	ep := cfg.Endpoints[0]
	if len(ep.OAuth2) != 1 || len(ep.Tokens) != 0 {
		t.Fatalf("decoded %+v", ep)
	}
	o := ep.OAuth2[0]
	if o.Name != "okta" || o.ClientID != "scimbridge-okta" || o.SecretHash[0] != 0x3f || len(o.RedirectURIs) != 1 ||
		!strings.HasPrefix(o.RedirectURIs[0], "https://system-admin.okta.com/") || len(o.Scopes) != 7 ||
		o.AccessTTL != time.Hour || o.RefreshTTL != 720*time.Hour || o.CodeTTL != time.Minute ||
		o.StoreDriver != "sqlite" || o.StoreDSN != "/var/lib/scimbridge/oauth2.db" ||
		len(o.Admins) != 1 || o.Admins[0].Username != "it-admin" || !strings.HasPrefix(o.Admins[0].PasswordHash, "$2a$") {
		t.Errorf("decoded %+v", o)
	}

	base := `    oauth2 "x" {
      client_id     = "c1"
      client_secret = "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A"
      redirect_uris = ["https://system-admin.okta.com/cb"]
      store         = "sqlite:///tmp/x.db"
      admin "a" { password_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000" }
      %s
    }`
	for _, tc := range []struct{ from, to, want, at string }{
		{`%s`, `client_secret_hash = "sha256:00"`, "not both", `oauth2 "x" {`},
		{`client_secret = "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A"`, `client_secret = "changeme-changeme-changeme"`, "placeholder", `client_secret = "changeme`},
		{`client_secret = "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A"`, `client_secret_hash = "md5:abc"`, "64 hex digits", `oauth2 "x" {`},
		{`client_secret = "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A"`, ``, "client_secret", `oauth2 "x" {`},
		{`"https://system-admin.okta.com/cb"`, `"http://okta.example.com/cb"`, "must be https://", `redirect_uris =`},
		{`"https://system-admin.okta.com/cb"`, `"https://okta.example.com/cb#x"`, "fragment", `redirect_uris =`},
		{`"https://system-admin.okta.com/cb"`, `"/cb"`, "absolute", `redirect_uris =`},
		{`"sqlite:///tmp/x.db"`, `"redis://localhost"`, "sqlite:///var/lib/scimbridge/oauth2.db", `store         =`},
		{`%s`, `access_token_ttl = "48h"`, "between 1m0s and 24h0m0s", `oauth2 "x" {`},
		{`%s`, `access_token_ttl = "2h"
      refresh_token_ttl = "1h"`, "longer than access_token_ttl", `oauth2 "x" {`},
		{`%s`, `scopes = ["get:everything"]`, "is not a scope", `oauth2 "x" {`},
		{`admin "a" { password_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000" }`, ``, "add an admin", `oauth2 "x" {`},
		{`admin "a" { password_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000" }`,
			`admin "a" { password_hash = "plain" }`, "bcrypt hash", `admin "a"`},
		{`client_id     = "c1"`, `client_id     = "c 1"`, "without spaces", `oauth2 "x" {`},
	} {
		block := strings.Replace(base, tc.from, tc.to, 1)
		block = strings.Replace(block, "%s", "", 1)
		src := withJWT(block)
		_, diags := load(t, src, nil)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.to, diags, tc.want)
			continue
		}
		line := strings.Count(src[:strings.Index(src, tc.at)], "\n") + 1
		if d := diags[0]; d.Subject == nil || d.Subject.Start.Line != line {
			t.Errorf("%s: at %v, want line %d", tc.to, d.Subject, line)
		}
	}

	two := withJWT(strings.Replace(base, "%s", "", 1) + "\n" + strings.Replace(strings.Replace(base, "%s", "", 1), `"sqlite:///tmp/x.db"`, `"sqlite:///tmp/y.db"`, 1))
	_, diags = load(t, two, nil)
	var all []string
	for _, d := range diags {
		all = append(all, d.Detail)
	}
	if got := strings.Join(all, "\n"); !strings.Contains(got, "same name or client_id") || !strings.Contains(got, "share one store") {
		t.Errorf("two oauth2 blocks with one client_id and two stores: %s", got)
	}
}

func TestParseOAuth2Store(t *testing.T) {
	for in, want := range map[string][2]string{
		"sqlite:///var/lib/x.db":                 {"sqlite", "/var/lib/x.db"},
		"sqlite:rel.db":                          {"sqlite", "rel.db"},
		"postgres://u:p@db.example.com/scim":     {"pgx", "postgres://u:p@db.example.com/scim"},
		"postgresql://u@localhost:5432/scim":     {"pgx", "postgresql://u@localhost:5432/scim"},
		"mysql://u:p@tcp(db.example.com:3306)/s": {"mysql", "u:p@tcp(db.example.com:3306)/s"},
		"mysql://u:p%40x@db.example.com/s":       {"mysql", "u:p@x@tcp(db.example.com:3306)/s"},
		"mariadb://u@db.example.com:3307/s":      {"mysql", "u@tcp(db.example.com:3307)/s"},
	} {
		d, dsn, err := ParseOAuth2Store(in)
		if err != nil || d != want[0] || dsn != want[1] {
			t.Errorf("%s: %s %s %v, want %v", in, d, dsn, err, want)
		}
	}
	for _, in := range []string{"", "/var/lib/x.db", "sqlite:", "sqlite:x.db?mode=memory", "postgres:nohost", "mysql://nodb", "redis://x"} {
		if _, _, err := ParseOAuth2Store(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
