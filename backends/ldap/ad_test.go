package ldap

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// TestADGUID: AD's byte order (first three fields little-endian), both ways,
// and the escaped filter value.
func TestADGUID(t *testing.T) {
	raw := []byte{0x4a, 0xc5, 0x25, 0x14, 0x92, 0x23, 0x4b, 0x43, 0x95, 0x16, 0x42, 0x30, 0x40, 0xb4, 0xfe, 0xba}
	const s = "1425c54a-2392-434b-9516-423040b4feba"
	if got := guidString(raw); got != s {
		t.Fatalf("guidString = %s, want %s", got, s)
	}
	back, ok := guidBytes(strings.ToUpper(s))
	if !ok || !bytes.Equal(back, raw) {
		t.Fatalf("guidBytes = %x %v, want %x", back, ok, raw)
	}
	if got := escapeBinary(raw[:3]); got != `\4a\c5\25` {
		t.Errorf("escapeBinary = %s", got)
	}
	for _, bad := range []string{"", "1425c54a2392434b9516423040b4feba", "1425c54a-2392-434b-9516-423040b4febz", "x"} {
		if _, ok := guidBytes(bad); ok {
			t.Errorf("guidBytes(%q) accepted", bad)
		}
	}
	if guidString(raw[:15]) != "" {
		t.Error("a 15-byte GUID formatted")
	}
	if dn, ok := GUIDDN(s); !ok || dn != "<GUID=4ac5251492234b439516423040b4feba>" {
		t.Errorf("GUIDDN = %s", dn)
	}
	b := &Backend{cfg: &Config{IDAttribute: "objectGUID"}}
	e := &goldap.Entry{Attributes: []*goldap.EntryAttribute{{Name: "objectGUID", Values: []string{string(raw)}, ByteValues: [][]byte{raw}}}}
	if b.entryID(e) != s || b.idValue(s) != escapeBinary(raw) || !b.validID(s) || b.validID("not-a-guid") {
		t.Errorf("entryID %s idValue %s", b.entryID(e), b.idValue(s))
	}
}

func TestADUnicodePwd(t *testing.T) {
	if got := unicodePwd("Pä1"); got != "\"\x00P\x00\xe4\x001\x00\"\x00" {
		t.Errorf("unicodePwd = %q", got)
	}
	if got := unicodePwd("😀"); len(got) != 8 { // quote, surrogate pair, quote
		t.Errorf("unicodePwd of a non-BMP rune: %q", got)
	}
}

func TestADSAMAccountNameRules(t *testing.T) {
	for _, ok := range []string{"jdoe", "jane.doe", "a-b_c", "12345678901234567890", "Jörg"} {
		if err := checkSAMAccountName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"123456789012345678901", "a/b", `a\b`, "a[b", "a]b", "a:b", "a;b", "a|b", "a=b", "a,b", "a+b", "a*b", "a?b", "a<b", "a>b", "a@b", `a"b`, "a\tb", "...", "  ", "abc."} {
		err := checkSAMAccountName(bad)
		ae, ok := backends.AsAttrError(err)
		if !ok || ae.Attr != "sAMAccountName" || ae.Reason == "" {
			t.Errorf("%q: %v, want an invalid sAMAccountName with a reason", bad, err)
		}
	}
	for in, want := range map[string]string{
		"jane.doe@example.com": "jane.doe", "a.very.long.name.indeed@x": "a.very.long.name.ind",
		"jane+tag@x": "jane_tag", "noat": "noat", "...@x": "", "a.@x": "a",
	} {
		if got := deriveSAMAccountName(in); got != want {
			t.Errorf("deriveSAMAccountName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestADParseRange(t *testing.T) {
	for name, want := range map[string][3]string{
		"member;range=0-1499":     {"member", "0", "1499"},
		"member;Range=1500-*":     {"member", "1500", "*"},
		"memberOf;range=10-19":    {"memberOf", "10", "19"},
		"member":                  {"", "", ""},
		"member;range=x-1":        {"", "", ""},
		"member;binary;range=0-*": {"member;binary", "0", "*"},
	} {
		base, low, high, ok := parseRange(name)
		if want[0] == "" {
			if ok {
				t.Errorf("parseRange(%q) accepted", name)
			}
			continue
		}
		if !ok || base != want[0] || high != want[2] || want[1] != strconv.Itoa(low) {
			t.Errorf("parseRange(%q) = %q %d %q %v", name, base, low, high, ok)
		}
	}
}

// TestADUnicodePwdNeedsTLS: unicodePwd over plain ldap:// is refused when
// the configuration loads; ldaps:// and start_tls are accepted.
func TestADUnicodePwdNeedsTLS(t *testing.T) {
	cfg := func(url string, startTLS bool) *Config {
		return &Config{URLs: []string{url}, StartTLS: startTLS, IDAttribute: "objectGUID", Resources: []*ResourceConfig{{
			Type: "User", BaseDN: "CN=Users,DC=example,DC=test", ObjectClasses: []string{"user"},
			PasswordAttribute: "unicodePwd", UserAccountControl: true,
		}}}
	}
	if err := cfg("ldap://dc1:389", false).validate(); err == nil || !strings.Contains(err.Error(), "unicodePwd without TLS") {
		t.Errorf("plain ldap:// with unicodePwd: %v", err)
	}
	for _, c := range []*Config{cfg("ldaps://dc1:636", false), cfg("ldap://dc1:389", true)} {
		if err := c.validate(); err != nil {
			t.Errorf("%v start_tls=%v: %v", c.URLs, c.StartTLS, err)
		}
	}
}
