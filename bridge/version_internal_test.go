package bridge

import (
	"encoding/hex"
	"hash/fnv"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// TestVersionIsFNV64a: Version's allocation-free FNV-1a gives the ETags
// that hash/fnv's New64a gave over the same bytes, so ETags a client
// holds stay valid across an upgrade.
func TestVersionIsFNV64a(t *testing.T) {
	doc := scim.Doc{
		"userName": "bjensen", "active": true, "title": nil,
		"name":   map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails": []any{map[string]any{"value": "b@example.org", "primary": false}},
		"meta":   map[string]any{"version": "ignored"}, "members": []any{"ignored"},
		"x": 3,
	}
	// The bytes hashValue feeds, spelled out: keys in order, a type tag
	// before each value.
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)) }
	w("sactive\x00t")
	w("semails\x00[{sprimary\x00fsvalue\x00sb@example.org\x00}]")
	w("sname\x00{sfamilyName\x00sJensen\x00sgivenName\x00sBarbara\x00}")
	w("stitle\x00n")
	w("suserName\x00sbjensen\x00")
	w("sx\x00#3\x00")
	want := `W/"` + hex.EncodeToString(h.Sum(nil)) + `"`
	if got := Version(doc); got != want {
		t.Fatalf("Version = %s, want %s", got, want)
	}
}
