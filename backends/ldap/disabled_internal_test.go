package ldap

import (
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
