package ldap

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

func isAuthCode(code uint16) bool {
	switch code {
	case goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication,
		goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultStrongAuthRequired,
		goldap.LDAPResultConfidentialityRequired, goldap.LDAPResultAuthorizationDenied:
		return true
	}
	return false
}

// mapErr turns an LDAP error of operation op on dn into one wrapping a
// backends sentinel. The directory's diagnostic message stays in the
// error, for the log; what the client may learn from it (which attribute,
// why) is an AttrError whose Reason never quotes the directory.
func (b *Backend) mapErr(ctx context.Context, op, dn string, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{backends.ErrNotFound, backends.ErrAlreadyExists, backends.ErrInvalid,
		backends.ErrInvalidReference, backends.ErrUnsupported, backends.ErrUnavailable, backends.ErrPermission, backends.ErrConfig} {
		if errors.Is(err, s) {
			return err // already mapped
		}
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("ldap %s: %w", op, context.Canceled)
		}
		return fmt.Errorf("%w: ldap %s timed out", backends.ErrUnavailable, op)
	}
	var le *goldap.Error
	if !errors.As(err, &le) {
		return fmt.Errorf("%w: ldap %s: %v", backends.ErrUnavailable, op, err)
	}
	msg := le.Err.Error()
	if msg == "" {
		msg = goldap.LDAPResultCodeMap[le.ResultCode]
	}
	if cerr := configFault(op, le.ResultCode, msg); cerr != nil {
		return cerr
	}
	if aerr := b.adError(op, dn, le, msg); aerr != nil {
		return aerr
	}
	switch le.ResultCode {
	case goldap.LDAPResultSizeLimitExceeded, goldap.LDAPResultAdminLimitExceeded:
		// A search the bridge asked no limit of (see firstPage for the
		// one that does) was stopped by the directory's limit for the
		// bridge's account: no client request avoids it, the admin can.
		b.logLimit(op, dn, err)
		return fmt.Errorf("%w: ldap %s stopped by the directory's size limit for the bridge's account", backends.ErrPermission, op)
	case goldap.LDAPResultEntryAlreadyExists:
		// The caller knows which name was taken (see conflictOn).
		return fmt.Errorf("%w: ldap %s %s: entry already exists", backends.ErrAlreadyExists, op, dn)
	case goldap.LDAPResultNoSuchObject:
		return fmt.Errorf("%w: ldap %s: no such entry", backends.ErrNotFound, op)
	case goldap.LDAPResultConstraintViolation, goldap.LDAPResultObjectClassViolation,
		goldap.LDAPResultInvalidAttributeSyntax, goldap.LDAPResultUndefinedAttributeType,
		goldap.LDAPResultNamingViolation, goldap.LDAPResultNotAllowedOnRDN,
		goldap.LDAPResultObjectClassModsProhibited, goldap.LDAPResultNotAllowedOnNonLeaf,
		goldap.LDAPResultAttributeOrValueExists, goldap.LDAPResultNoSuchAttribute,
		goldap.LDAPResultInvalidDNSyntax, goldap.LDAPResultInappropriateMatching,
		goldap.LDAPResultUnwillingToPerform, goldap.ErrorFilterCompile, goldap.LDAPResultFilterError,
		goldap.LDAPResultProtocolError:
		cause := fmt.Errorf("ldap %s %s: %w", op, dn, err)
		if uniq, attr := notUnique(msg); uniq {
			// An attribute uniqueness plugin or overlay refused a value.
			return backends.Conflict(attr, "", cause)
		}
		attr, reason := diagnosed(le.ResultCode, msg)
		return backends.Invalid(attr, "", reason, cause)
	case goldap.LDAPResultStrongAuthRequired, goldap.LDAPResultConfidentialityRequired:
		// 389 DS refuses password changes this way on a plain connection.
		b.log.Error("ldap operation needs a secure connection (ldaps:// or start_tls) or a stronger bind", "op", op, "dn", dn,
			"code", le.ResultCode, "message", msg)
		return fmt.Errorf("%w: ldap %s refused: the directory requires TLS or a stronger bind for it", backends.ErrPermission, op)
	case goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultInvalidCredentials,
		goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultAuthorizationDenied:
		b.log.Error("ldap permission denied", "op", op, "dn", dn, "code", le.ResultCode, "message", msg, "needed_right", neededRight(op))
		return fmt.Errorf("%w: ldap %s refused by the directory's access control", backends.ErrPermission, op)
	case goldap.LDAPResultUnavailableCriticalExtension:
		return fmt.Errorf("%w: ldap %s: %s", backends.ErrUnsupported, op, msg)
	}
	b.log.Warn("ldap operation failed", "op", op, "dn", dn, "code", le.ResultCode, "message", msg)
	return fmt.Errorf("%w: ldap %s: %s", backends.ErrUnavailable, op, goldap.LDAPResultCodeMap[le.ResultCode])
}

// limitRemedy says how to let the bridge's account read whole listings.
const limitRemedy = `OpenLDAP applies its size limit (olcSizeLimit, 500 unless set) to paged searches too: ` +
	`add olcLimits: dn.exact="<bind_dn>" size=unlimited to the database entry in cn=config (or a limit above the largest listing); ` +
	`389 DS: nsSizeLimit: -1, nsPagedSizeLimit: -1, nsLookThroughLimit: -1 and nsPagedLookThroughLimit: -1 on the bridge's account entry ` +
	`(its look-through limit, 5000 candidates by default, counts across the pages of a paged search; they take effect at the next bind)`

// isLimitError reports a search stopped by the directory's size or
// administrative limit.
func isLimitError(err error) bool {
	return goldap.IsErrorAnyOf(err, goldap.LDAPResultSizeLimitExceeded, goldap.LDAPResultAdminLimitExceeded)
}

// logLimit tells the administrator that the directory's limit for the
// bridge's account stopped a search, and how to lift it: once a minute at
// most, since an IdP retrying its import meets it on every page 1.
func (b *Backend) logLimit(op, dn string, err error) {
	now := time.Now().UnixNano()
	last := b.limitLogged.Load()
	if last != 0 && now-last < int64(time.Minute) || !b.limitLogged.CompareAndSwap(last, now) {
		return
	}
	b.log.Error("the directory's size limit for the bridge's account stopped a search: SCIM listings and the count behind totalResults read every entry of a resource type",
		"op", op, "dn", dn, "bind_dn", b.cfg.BindDN, "error", err, "remedy", limitRemedy)
}

// Diagnostics of OpenLDAP and 389 Directory Server that name the
// attribute they are about, with a reason to give the client instead.
var diagnostics = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`requires attribute '([^']+)'`), "must have a value"},
	{regexp.MustCompile(`missing attribute "([^"]+)" required`), "must have a value"},
	{regexp.MustCompile(`naming attribute '([^']+)' is not present`), "must have a value"},
	{regexp.MustCompile(`^(?:modify/\w+: )?([A-Za-z][\w;-]*): value #\d+ invalid per syntax`), "is not in a form the directory accepts"},
	{regexp.MustCompile(`attribute '([^']+)' cannot have multiple values`), "takes a single value in the directory"},
	{regexp.MustCompile(`single-valued attribute "([^"]+)" has multiple values`), "takes a single value in the directory"},
	{regexp.MustCompile(`^(?:modify/\w+: )?([A-Za-z][\w;-]*): (?:value #\d+ )?(?:already exists|value exists)`), "already has that value"},
	{regexp.MustCompile(`^(?:modify/\w+: )?([A-Za-z][\w;-]*): no such value`), "does not have that value"},
	{regexp.MustCompile(`^([A-Za-z][\w;-]*): attribute type undefined`), "is not in the directory's schema"},
}

// passwordPolicy is the reason given for a password the directory's
// policy refused (ppolicy, 389's password policy).
const passwordPolicy = "does not meet the directory's password policy"

// diagnosed returns the attribute a diagnostic names ("" if none) and a
// reason for the client that does not quote the directory.
func diagnosed(code uint16, msg string) (attr, reason string) {
	for _, d := range diagnostics {
		if m := d.re.FindStringSubmatch(msg); m != nil {
			return m[1], d.reason
		}
	}
	if strings.Contains(strings.ToLower(msg), "password") {
		return "", passwordPolicy
	}
	if code == goldap.LDAPResultNotAllowedOnRDN {
		return "", "names the entry and cannot be removed"
	}
	return "", ""
}

var (
	// 389's attribute uniqueness plugin: `Another entry with the same
	// attribute value already exists (attribute: "mail")`.
	uniqueness389RE = regexp.MustCompile(`same attribute value already exists \(attribute: "([^"]+)"\)`)
)

// notUnique recognises a uniqueness refusal reported as a constraint
// violation (389's attribute uniqueness plugin, OpenLDAP's unique
// overlay, which does not say which attribute).
func notUnique(msg string) (bool, string) {
	if m := uniqueness389RE.FindStringSubmatch(msg); m != nil {
		return true, m[1]
	}
	return strings.Contains(msg, "some attributes not unique"), ""
}
