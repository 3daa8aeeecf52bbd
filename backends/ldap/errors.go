package ldap

import (
	"context"
	"errors"
	"fmt"

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
// backends sentinel. The directory's diagnostic message is kept (it says
// which value was refused); server addresses are not.
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
	switch le.ResultCode {
	case goldap.LDAPResultEntryAlreadyExists:
		return fmt.Errorf("%w: ldap %s: entry already exists", backends.ErrAlreadyExists, op)
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
		return fmt.Errorf("%w: ldap %s: %s", backends.ErrInvalid, op, msg)
	case goldap.LDAPResultStrongAuthRequired, goldap.LDAPResultConfidentialityRequired:
		// 389 DS refuses password changes this way on a plain connection.
		b.log.Error("ldap operation needs a secure connection (ldaps:// or start_tls) or a stronger bind", "op", op, "dn", dn,
			"code", le.ResultCode, "message", msg)
		return fmt.Errorf("%w: ldap %s refused: the directory requires TLS or a stronger bind for it", backends.ErrPermission, op)
	case goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultInvalidCredentials,
		goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultAuthorizationDenied:
		b.log.Error("ldap permission denied", "op", op, "dn", dn, "code", le.ResultCode, "message", msg)
		return fmt.Errorf("%w: ldap %s refused by the directory's access control", backends.ErrPermission, op)
	case goldap.LDAPResultUnavailableCriticalExtension:
		return fmt.Errorf("%w: ldap %s: %s", backends.ErrUnsupported, op, msg)
	}
	b.log.Warn("ldap operation failed", "op", op, "dn", dn, "code", le.ResultCode, "message", msg)
	return fmt.Errorf("%w: ldap %s: %s", backends.ErrUnavailable, op, goldap.LDAPResultCodeMap[le.ResultCode])
}
