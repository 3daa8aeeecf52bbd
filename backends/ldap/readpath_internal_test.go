package ldap

import (
	"regexp"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// TestIsDisabled: the fast answer for entries directly below the base DN
// agrees with a parse of the DN, for a disabled container below the base
// and for one beside it.
func TestIsDisabled(t *testing.T) {
	mk := func(base, disabled string) *resource {
		b, _ := goldap.ParseDN(base)
		d, _ := goldap.ParseDN(disabled)
		return &resource{base: b, baseDN: base, disabled: d, disabledDN: disabled, disabledInside: b.AncestorOfFold(d)}
	}
	inside := mk("ou=people,dc=example,dc=org", "ou=disabled,ou=people,dc=example,dc=org")
	beside := mk("ou=people,dc=example,dc=org", "ou=disabled,dc=example,dc=org")
	if !inside.disabledInside || beside.disabledInside {
		t.Fatal("disabledInside is wrong")
	}
	for _, tc := range []struct {
		r    *resource
		dn   string
		want bool
	}{
		{inside, "uid=a,ou=people,dc=example,dc=org", false},
		{inside, "uid=a\\,b,ou=people,dc=example,dc=org", false},
		{inside, "uid=a,ou=disabled,ou=people,dc=example,dc=org", true},
		{inside, "uid=a,OU=Disabled,ou=people,dc=example,dc=org", true},
		{inside, "uid=a,ou=disabled, ou=people,dc=example,dc=org", true},
		{inside, "ou=disabled,ou=people,dc=example,dc=org", false},
		{beside, "uid=a,ou=people,dc=example,dc=org", false},
		{beside, "uid=a,ou=disabled,dc=example,dc=org", true},
	} {
		if got := tc.r.isDisabled(tc.dn); got != tc.want {
			t.Errorf("isDisabled(%q) below %q = %v, want %v", tc.dn, tc.r.disabledDN, got, tc.want)
		}
	}
}

// TestHexGroups: the id checks accept exactly what their regular
// expressions did.
func TestHexGroups(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	for _, s := range []string{"", "1425c54a-2392-434b-9516-423040b4feba", "1425C54A-2392-434B-9516-423040B4FEBA",
		"1425c54a-2392-434b-9516-423040b4feb", "1425c54a-2392-434b-9516-423040b4febaa", "1425c54a-2392-434b-9516_423040b4feba",
		"1425c54g-2392-434b-9516-423040b4feba", "1425c54a23920434b09516a423040b4feba", "-1425c54a-2392-434b-9516-423040b4feb",
		"1425c54a-2392-434b-9516-423040b4feba\n", "1425c54a-2392-434b-9516-42304ö4feba"} {
		if got, want := uuidRE.MatchString(s), uuid.MatchString(s); got != want {
			t.Errorf("uuid %q: %v, want %v", s, got, want)
		}
	}
	if !nsUniqueIDRE.MatchString("a1b2c3d4-e5f60718-293a4b5c-6d7e8f90") || nsUniqueIDRE.MatchString("a1b2c3d4-e5f60718-293a4b5c") {
		t.Error("nsUniqueId check is wrong")
	}
}
