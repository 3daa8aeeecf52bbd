package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

var noopType = backends.Kind{
	Decode: func(body hcl.Body, _ *hcl.EvalContext) (any, hcl.Diagnostics) {
		_, d := body.JustAttributes()
		return nil, d
	},
	Open: func(context.Context, any, hclog.Logger) (backends.Backend, error) { return nil, nil },
}

func load(t *testing.T, src string, flags map[string]any) (*Config, hcl.Diagnostics) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path, map[string]backends.Kind{"noop": noopType}, flags)
}

const minimal = `
server {
  listen          = "127.0.0.1:9000"
  log_level       = "debug"
  request_timeout = "20s"
}
backend "noop" "b" {}
endpoint "e" {
  base_path = "/scim/v2/"
  backend   = "b"
  auth {
    token "t" { value = env("TEST_SCIM_TOKEN", "sb_fallback_PayHvO-DyDSKsj8EH1r73Oj7V3Emi3GA") }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
  }
}
`

func TestSettingsLayering(t *testing.T) {
	cfg, diags := load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if cfg.Settings.Listen != "127.0.0.1:9000" || cfg.Settings.LogLevel != "debug" || cfg.Settings.RequestTimeout != 20*time.Second {
		t.Errorf("file settings not applied: %+v", cfg.Settings)
	}
	if cfg.Settings.MaxResults != 1000 || cfg.Settings.DefaultCount != 100 {
		t.Errorf("defaults not applied: %+v", cfg.Settings)
	}
	if cfg.Endpoints[0].BasePath != "/scim/v2" {
		t.Errorf("base path %q", cfg.Endpoints[0].BasePath)
	}
	t.Setenv("SCIMBRIDGE_LISTEN", "127.0.0.1:9100")
	t.Setenv("SCIMBRIDGE_MAX_RESULTS", "50")
	cfg, _ = load(t, minimal, nil)
	if cfg.Settings.Listen != "127.0.0.1:9100" || cfg.Settings.MaxResults != 50 {
		t.Errorf("environment did not override: %+v", cfg.Settings)
	}
	cfg, _ = load(t, minimal, map[string]any{"listen": "127.0.0.1:9200"})
	if cfg.Settings.Listen != "127.0.0.1:9200" {
		t.Errorf("flag did not override the environment: %+v", cfg.Settings)
	}
}

func TestTokensAreHashedAndFromEnv(t *testing.T) {
	t.Setenv("TEST_SCIM_TOKEN", "sb_env_-vH2BY1HCD_gfuxLol7trTY85ZrVfJrD")
	cfg, diags := load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tok := cfg.Endpoints[0].Tokens[0]
	if strings.Contains(string(tok.Hash[:]), "sb_env_") {
		t.Fatal("token kept in clear")
	}
	if len(tok.Scopes) != len(AllScopes) {
		t.Errorf("default scopes %v", tok.Scopes)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	src := `
server {
  listen = "x"
  bogus_setting = 1
}
backend "nope" "b" {}
endpoint "e" {
  base_path = "no-slash"
  backend   = "missing"
  auth {
    token "short" { value = "abc" }
    token "bad" {
      hash   = "md5:1234"
      scopes = ["get:everything"]
    }
  }
  mapping "Widget" {}
}
`
	_, diags := load(t, src, nil)
	want := []string{"Unknown server setting", "Unknown backend type", "Invalid base path", "Unknown backend", "Token too short",
		"Unknown scope", "Unknown resource type", "No User mapping"}
	text := diags.Error()
	for _, w := range want {
		found := false
		for _, d := range diags {
			if d.Summary == w {
				found = true
				if d.Subject == nil && w != "No User mapping" {
					t.Errorf("%q has no source range", w)
				}
			}
		}
		if !found {
			t.Errorf("missing diagnostic %q in:\n%s", w, text)
		}
	}
}

// withAuth is a configuration with the auth block's content left out.
const withAuth = `
backend "noop" "b" {}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "b"
  auth {
    %s
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
  }
}
`

// Issue #9, finding 5: placeholder and low-entropy secrets given in clear,
// in the file or through env(), are refused at the line of their value,
// with a message that says how to make a good one and does not repeat the
// secret.
func TestWeakSecretsRefused(t *testing.T) {
	cases := []struct{ value, summary string }{
		{"replace-me-with-scimbridge-token-create", "Placeholder secret"}, // deploy/kubernetes/scimbridge.yaml
		{"changeme-changeme-changeme", "Placeholder secret"},
		{"aaaaaaaaaaaaaaaa", "Weak secret"},
		{"0123456789abcdef", "Weak secret"},
		{"0123456789abcdef0123456789abcdef", "Weak secret"},
		{"test-token-0123456789abcdef", "Weak secret"}, // the tests' old token
		{"reader-token-0123456789", "Weak secret"},
		{"passwordpasswordpassword", "Weak secret"},
		{"MyCompanyScimToken2024", "Weak secret"},
		{"Xk9#Xk9#Xk9#Xk9#Xk9#Xk9#", "Weak secret"},
	}
	for _, tc := range cases {
		for _, how := range []string{"file", "env", "basic"} {
			t.Run(tc.value+"/"+how, func(t *testing.T) {
				expr := `"` + tc.value + `"`
				if how == "env" {
					t.Setenv("TEST_SCIM_TOKEN", tc.value)
					expr = `env("TEST_SCIM_TOKEN")`
				}
				block := "token \"t\" {\n      value = " + expr + "\n    }"
				if how == "basic" {
					block = "basic \"onelogin\" {\n      password = " + expr + "\n    }"
				}
				src := fmt.Sprintf(withAuth, block)
				line := 1 + strings.Count(src[:strings.Index(src, " = "+expr)], "\n")
				_, diags := load(t, src, nil)
				if len(diags) != 1 || diags[0].Summary != tc.summary {
					t.Fatalf("diagnostics %v, want one %q", diags, tc.summary)
				}
				d := diags[0]
				if d.Subject == nil || !strings.HasSuffix(d.Subject.Filename, "c.hcl") || d.Subject.Start.Line != line {
					t.Errorf("diagnostic at %v, want c.hcl line %d", d.Subject, line)
				}
				if !strings.Contains(d.Detail, "scimbridge token create") || strings.Contains(d.Detail, tc.value) {
					t.Errorf("detail %q: must say how to make a token and not repeat it", d.Detail)
				}
			})
		}
	}
	// Random tokens pass, whatever tool made them; their hashes are not
	// checked (they cannot be).
	for _, good := range []string{"sb_Zt8XcD3vWq0H9fJk2LmN4pR7sT1uV6yA5bC8eG0iK2o", "f3a9c1d2e4b5a6978877665544332211",
		"550e8400-e29b-41d4-a716-446655440000", "cpR4Yp0tV5m0V8JxWq3a7mRZxk1N2u9bTq4vS6dE3Fg="} {
		if s, d := CheckSecret(good); s != "" {
			t.Errorf("%q refused: %s", good, d)
		}
	}
}

func TestAuthFailureSettings(t *testing.T) {
	cfg, diags := load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if cfg.Settings.AuthFailureLimit != 10 || cfg.Settings.AuthFailureWindow != time.Minute {
		t.Errorf("defaults: limit %d, window %s", cfg.Settings.AuthFailureLimit, cfg.Settings.AuthFailureWindow)
	}
	t.Setenv("SCIMBRIDGE_AUTH_FAILURE_LIMIT", "25")
	t.Setenv("SCIMBRIDGE_AUTH_FAILURE_WINDOW", "5m")
	if cfg, _ = load(t, minimal, nil); cfg.Settings.AuthFailureLimit != 25 || cfg.Settings.AuthFailureWindow != 5*time.Minute {
		t.Errorf("environment: limit %d, window %s", cfg.Settings.AuthFailureLimit, cfg.Settings.AuthFailureWindow)
	}
	t.Setenv("SCIMBRIDGE_AUTH_FAILURE_LIMIT", "0")
	if _, diags = load(t, minimal, nil); !diags.HasErrors() || !strings.Contains(diags.Error(), "auth_failure_limit") {
		t.Errorf("a limit of 0 was accepted: %v", diags)
	}
}

func TestQueryLimitSettings(t *testing.T) {
	cfg, diags := load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if cfg.Settings.MaxFilterScan != 50000 || cfg.Settings.MaxConcurrentScans != 2 {
		t.Errorf("defaults: max_filter_scan %d, max_concurrent_scans_per_credential %d", cfg.Settings.MaxFilterScan, cfg.Settings.MaxConcurrentScans)
	}
	for _, bad := range []string{"max_filter_scan = -1", "max_concurrent_scans_per_credential = 0"} {
		_, diags := load(t, strings.Replace(minimal, `log_level       = "debug"`, bad, 1), nil)
		if !diags.HasErrors() {
			t.Errorf("%s: accepted", bad)
		}
	}
	t.Setenv("SCIMBRIDGE_MAX_FILTER_SCAN", "0")
	t.Setenv("SCIMBRIDGE_MAX_CONCURRENT_SCANS_PER_CREDENTIAL", "5")
	cfg, diags = load(t, minimal, nil)
	if diags.HasErrors() || cfg.Settings.MaxFilterScan != 0 || cfg.Settings.MaxConcurrentScans != 5 {
		t.Errorf("from the environment: %+v %v", cfg.Settings, diags)
	}
}

// TestListenAddressChecked: a listen address serve could not use is an
// error at load, at its line, as validate reports it.
func TestListenAddressChecked(t *testing.T) {
	for _, bad := range []string{`listen = 8080`, `listen = "8080"`, `metrics_listen = "localhost"`} {
		src := minimal
		if strings.HasPrefix(bad, "listen") {
			src = strings.Replace(src, `listen          = "127.0.0.1:9000"`, bad, 1)
		} else {
			src = strings.Replace(src, `log_level       = "debug"`, bad, 1)
		}
		_, diags := load(t, src, nil)
		found := false
		for _, d := range diags {
			if d.Summary == "Invalid listen address" && d.Subject != nil && d.Subject.Start.Line > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %v", bad, diags)
		}
	}
	if _, diags := load(t, minimal, nil); diags.HasErrors() {
		t.Fatal(diags)
	}
}

func TestUnknownAttributesSetting(t *testing.T) {
	for value, want := range map[string]string{"": "reject", `unknown_attributes = "reject"`: "reject", `unknown_attributes = "ignore"`: "ignore"} {
		cfg, diags := load(t, strings.Replace(minimal, `backend   = "b"`, `backend   = "b"
  `+value, 1), nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", value, diags.Error())
		}
		if got := cfg.Endpoints[0].UnknownAttributes; got != want {
			t.Errorf("%q: UnknownAttributes %q, want %q", value, got, want)
		}
	}
	_, diags := load(t, strings.Replace(minimal, `backend   = "b"`, `backend   = "b"
  unknown_attributes = "drop"`, 1), nil)
	if len(diags) != 1 || diags[0].Summary != "Invalid unknown_attributes" || diags[0].Subject == nil {
		t.Errorf("unknown_attributes = \"drop\": %v", diags)
	}
}

func TestUnknownManagerSetting(t *testing.T) {
	for value, want := range map[string]string{"": "ignore", `unknown_manager = "reject"`: "reject", `unknown_manager = "ignore"`: "ignore"} {
		cfg, diags := load(t, strings.Replace(minimal, `backend   = "b"`, `backend   = "b"
  `+value, 1), nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", value, diags.Error())
		}
		if got := cfg.Endpoints[0].UnknownManager; got != want {
			t.Errorf("%q: UnknownManager %q, want %q", value, got, want)
		}
	}
	_, diags := load(t, strings.Replace(minimal, `backend   = "b"`, `backend   = "b"
  unknown_manager = "keep"`, 1), nil)
	if len(diags) != 1 || diags[0].Summary != "Invalid unknown_manager" || diags[0].Subject == nil {
		t.Errorf("unknown_manager = \"keep\": %v", diags)
	}
}
