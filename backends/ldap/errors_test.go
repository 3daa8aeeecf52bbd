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
