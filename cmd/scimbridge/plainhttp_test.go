package main

import (
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// Issue #9, finding 5: serving credentials over plain HTTP on an address
// other than loopback logs a warning at start that says the risk and the
// fix; loopback or TLS does not.
func TestPlainHTTPWarning(t *testing.T) {
	tls := config.Settings{TLSCertFile: "/etc/scimbridge/tls.crt", TLSKeyFile: "/etc/scimbridge/tls.key"}
	cases := []struct {
		addr     string
		settings config.Settings
		warn     bool
	}{
		{"127.0.0.1:8080", config.Settings{}, false},
		{"[::1]:8080", config.Settings{}, false},
		{"0.0.0.0:8080", config.Settings{}, true},
		{"[::]:8080", config.Settings{}, true},
		{"192.0.2.10:8080", config.Settings{}, true},
		{"0.0.0.0:8443", tls, false},
	}
	for _, tc := range cases {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		log := hclog.New(&hclog.LoggerOptions{Name: "scimbridge", Level: hclog.Info, Output: &out})
		warned := warnPlainHTTP(log, tc.settings, addr)
		text := out.String()
		if warned != tc.warn || strings.Contains(text, "INSECURE") != tc.warn {
			t.Errorf("%s (TLS %v): warned %v, want %v: %q", tc.addr, tc.settings.TLSCertFile != "", warned, tc.warn, text)
			continue
		}
		if tc.warn {
			for _, want := range []string{"[WARN]", "plain HTTP", "in clear", "tls_cert_file and tls_key_file", "TLS-terminating proxy", "listen=" + addr.String()} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the warning lacks %q: %s", tc.addr, want, text)
				}
			}
		}
	}
}
