package main

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// `token create` makes tokens the configuration accepts, every time, and
// `token hash` refuses to hash a weak secret, since the hash in the
// configuration can no longer be checked.
func TestTokenStrength(t *testing.T) {
	for range 2000 {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		if summary, detail := config.CheckSecret(tok); summary != "" {
			t.Fatalf("token create made a token the configuration refuses: %s", detail)
		}
	}
	for _, args := range [][]string{{"token", "hash"}, {"token", "hash", "--bcrypt"}} {
		code, out, errs := runCmd(t, "aaaaaaaaaaaaaaaa\n", args...)
		if code != 1 || out != "" || !strings.Contains(errs, "Weak secret") || !strings.Contains(errs, "scimbridge token create") {
			t.Errorf("%v of a weak secret: exit %d, out %q, err %q", args, code, out, errs)
		}
	}
}
