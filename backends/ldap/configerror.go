package ldap

import (
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// configFault recognises a refusal caused by the configuration rather than
// by the values a client sent, and returns it wrapping backends.ErrConfig
// (nil otherwise). The bridge names the attributes; a client never does, so
// an attribute type the directory does not define (undefinedAttributeType)
// or one the entry's object classes do not allow, and object classes the
// directory refuses, are the mapping's or the resource block's. An object
// class violation for a missing MUST attribute stays client data
// (ErrInvalid): the bridge names the SCIM attribute before it gets here
// when it could check the mapping at start.
func configFault(op string, code uint16, msg string) error {
	lower := strings.ToLower(msg)
	switch {
	case code == goldap.LDAPResultUndefinedAttributeType:
	case code == goldap.LDAPResultObjectClassViolation && !strings.Contains(lower, "requir") && !strings.Contains(lower, "missing") &&
		(strings.Contains(lower, "not allowed") || strings.Contains(lower, "structural") || strings.Contains(lower, "objectclass")):
		// "attribute 'x' not allowed", "no structural object class
		// provided", "unrecognized objectClass 'x'"; others (a missing
		// MUST attribute) stay the client's.
	default:
		return nil
	}
	return fmt.Errorf("%w: ldap %s: %s", backends.ErrConfig, op, msg)
}
