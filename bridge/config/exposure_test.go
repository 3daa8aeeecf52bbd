package config

import (
	"slices"
	"strings"
	"testing"
)

// TestExposureSettings: trusted_proxies, public_url and max_value_bytes
// come from the file or the environment, in canonical form, and bad
// values are reported with their place (issue #9, findings 7 and 8a).
func TestExposureSettings(t *testing.T) {
	cfg, diags := load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if s := cfg.Settings; len(s.TrustedProxies) != 0 || s.PublicURL != "" || s.MaxValueBytes != 32768 {
		t.Errorf("defaults: trusted_proxies %q, public_url %q, max_value_bytes %d", s.TrustedProxies, s.PublicURL, s.MaxValueBytes)
	}

	src := strings.Replace(minimal, `request_timeout = "20s"`, `request_timeout = "20s"
  trusted_proxies = ["10.1.2.3/8", "192.168.0.7", "::ffff:172.16.0.1", "2001:DB8::/32"]
  public_url      = "https://scim.example.com/bridge/"
  max_value_bytes = 4096`, 1)
	cfg, diags = load(t, src, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if s := cfg.Settings; !slices.Equal(s.TrustedProxies, []string{"10.0.0.0/8", "192.168.0.7", "172.16.0.1", "2001:db8::/32"}) ||
		s.PublicURL != "https://scim.example.com/bridge" || s.MaxValueBytes != 4096 {
		t.Errorf("from the file: %q %q %d", s.TrustedProxies, s.PublicURL, s.MaxValueBytes)
	}

	// A value cannot be larger than its body.
	cfg, _ = load(t, strings.Replace(minimal, `request_timeout = "20s"`, `request_timeout = "20s"
  max_body_bytes  = 2048`, 1), nil)
	if cfg.Settings.MaxValueBytes != 2048 {
		t.Errorf("max_value_bytes %d with max_body_bytes 2048", cfg.Settings.MaxValueBytes)
	}

	t.Setenv("SCIMBRIDGE_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")
	t.Setenv("SCIMBRIDGE_PUBLIC_URL", "http://127.0.0.1:8443")
	cfg, diags = load(t, minimal, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if s := cfg.Settings; !slices.Equal(s.TrustedProxies, []string{"10.0.0.1", "10.0.0.2"}) || s.PublicURL != "http://127.0.0.1:8443" {
		t.Errorf("from the environment: %q %q", s.TrustedProxies, s.PublicURL)
	}
}

func TestExposureSettingsRefused(t *testing.T) {
	for _, tc := range []struct{ setting, summary string }{
		{`trusted_proxies = ["10.0.0.0/33"]`, "Invalid trusted proxy"},
		{`trusted_proxies = ["proxy.example.com"]`, "Invalid trusted proxy"},
		{`trusted_proxies = ["*"]`, "Invalid trusted proxy"},
		{`trusted_proxies = [1]`, "Invalid setting"},
		{`public_url = "scim.example.com"`, "Invalid public URL"},
		{`public_url = "/scim"`, "Invalid public URL"},
		{`public_url = "ftp://scim.example.com"`, "Invalid public URL"},
		{`public_url = "https://user:pw@scim.example.com"`, "Invalid public URL"},
		{`public_url = "https://scim.example.com/?x=1"`, "Invalid public URL"},
		{`max_value_bytes = 0`, "Invalid server settings"},
		{`max_value_bytes = -5`, "Invalid server settings"},
	} {
		src := strings.Replace(minimal, `request_timeout = "20s"`, `request_timeout = "20s"
  `+tc.setting, 1)
		_, diags := load(t, src, nil)
		found := false
		for _, d := range diags {
			if d.Summary == tc.summary && d.Subject != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q with a source range, got %v", tc.setting, tc.summary, diags)
		}
	}
}
