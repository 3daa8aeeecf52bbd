package ldap

import (
	"context"
	"errors"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
)

// Directory result codes map to the backends sentinels the bridge turns
// into HTTP statuses; a refusal for want of TLS says so.
func TestMapErr(t *testing.T) {
	b := &Backend{log: hclog.NewNullLogger()}
	for _, c := range []struct {
		code uint16
		want error
		text string
	}{
		{goldap.LDAPResultEntryAlreadyExists, backends.ErrAlreadyExists, "already exists"},
		{goldap.LDAPResultNoSuchObject, backends.ErrNotFound, "no such entry"},
		{goldap.LDAPResultObjectClassViolation, backends.ErrInvalid, "directory says"},
		{goldap.LDAPResultInsufficientAccessRights, backends.ErrPermission, "access control"},
		{goldap.LDAPResultConfidentialityRequired, backends.ErrPermission, "TLS"},
		{goldap.LDAPResultStrongAuthRequired, backends.ErrPermission, "TLS"},
		{goldap.LDAPResultBusy, backends.ErrUnavailable, "Busy"},
	} {
		err := b.mapErr(context.Background(), "modify", "uid=x,dc=example,dc=org", goldap.NewError(c.code, errors.New("directory says no")))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("code %d: %v, want %v mentioning %q", c.code, err, c.want, c.text)
		}
	}
}

// The result label of a call names the outcome as the metrics document it.
func TestResultLabel(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "success"},
		{goldap.NewError(goldap.LDAPResultNoSuchObject, errors.New("x")), "noSuchObject"},
		{goldap.NewError(goldap.LDAPResultInsufficientAccessRights, errors.New("x")), "insufficientAccessRights"},
		{goldap.NewError(goldap.LDAPResultEntryAlreadyExists, errors.New("x")), "entryAlreadyExists"},
		{goldap.NewError(9999, errors.New("x")), "other"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
		{errors.New("dial tcp: connection refused"), "unavailable"},
	} {
		if got := resultLabel(tc.err); got != tc.want {
			t.Errorf("resultLabel(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// Diagnostics of OpenLDAP and 389 DS become the attribute they name and a
// reason that does not quote them; uniqueness refusals reported as
// constraint violations are conflicts.
func TestMapErrDiagnostics(t *testing.T) {
	b := &Backend{log: hclog.NewNullLogger()}
	for _, c := range []struct {
		code      uint16
		diag      string
		kind      error
		attr      string
		reasonHas string
	}{
		{goldap.LDAPResultObjectClassViolation, "object class 'inetOrgPerson' requires attribute 'sn'", backends.ErrInvalid, "sn", "must have a value"},
		{goldap.LDAPResultObjectClassViolation, `missing attribute "sn" required by object class "person"`, backends.ErrInvalid, "sn", "must have a value"},
		{goldap.LDAPResultInvalidAttributeSyntax, "mail: value #0 invalid per syntax", backends.ErrInvalid, "mail", "form"},
		{goldap.LDAPResultConstraintViolation, "attribute 'displayName' cannot have multiple values", backends.ErrInvalid, "displayName", "single value"},
		{goldap.LDAPResultConstraintViolation, `single-valued attribute "displayName" has multiple values`, backends.ErrInvalid, "displayName", "single value"},
		{goldap.LDAPResultConstraintViolation, "Password fails quality checking policy", backends.ErrInvalid, "", "password policy"},
		{goldap.LDAPResultConstraintViolation, `Another entry with the same attribute value already exists (attribute: "mail")`, backends.ErrAlreadyExists, "mail", ""},
		{goldap.LDAPResultConstraintViolation, "some attributes not unique", backends.ErrAlreadyExists, "", ""},
		{goldap.LDAPResultUnwillingToPerform, "no global superior knowledge", backends.ErrInvalid, "", ""},
	} {
		err := b.mapErr(context.Background(), "add", "uid=x,ou=people,dc=example,dc=org", goldap.NewError(c.code, errors.New(c.diag)))
		ae, ok := backends.AsAttrError(err)
		if !ok || !errors.Is(err, c.kind) || ae.Attr != c.attr || !strings.Contains(ae.Reason, c.reasonHas) {
			t.Errorf("%q: %+v, want %v on %q saying %q", c.diag, ae, c.kind, c.attr, c.reasonHas)
			continue
		}
		if strings.Contains(ae.Reason, c.diag) || strings.Contains(ae.Reason, "dc=") {
			t.Errorf("%q: the reason %q quotes the directory", c.diag, ae.Reason)
		}
		// The log keeps the diagnostic and the DN.
		if !strings.Contains(err.Error(), c.diag) || !strings.Contains(err.Error(), "uid=x,ou=people") {
			t.Errorf("%q: the error for the log lost the diagnostic or the DN: %v", c.diag, err)
		}
	}
}
