package ldap

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// Object class descriptions as slapd and 389 DS list them.
func TestParseClasses(t *testing.T) {
	cs := parseClasses([]string{
		"( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )",
		"( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' DESC 'RFC2798: Internet Organizational Person' SUP organizationalPerson STRUCTURAL MAY ( audio $ mail ) )",
		"( 1.3.6.1.1.1.2.0 NAME ( 'posixAccount' 'posixAcct' ) SUP top AUXILIARY MUST ( cn $ uid $ uidNumber ) MAY userPassword )",
	})
	p := cs.lookup("PERSON")
	if p == nil || fmt.Sprint(p.must, p.may, p.sup) != "[sn cn] [userPassword telephoneNumber seeAlso description] [top]" {
		t.Fatalf("person: %+v", p)
	}
	if cs.lookup("2.5.6.6") != p {
		t.Error("not found by OID")
	}
	if pa := cs.lookup("posixAcct"); pa == nil || fmt.Sprint(pa.must, pa.may) != "[cn uid uidNumber] [userPassword]" {
		t.Errorf("posixAccount: %+v", pa)
	}
	if at, _ := parseAttrType("( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )"); !at.noUserMod || !at.operational {
		t.Errorf("entryUUID: %+v", at)
	}
	if at, _ := parseAttrType("( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )"); at.noUserMod || at.operational {
		t.Errorf("sn: %+v", at)
	}
}

// Refusals caused by what the mapping names are ErrConfig; a missing MUST
// value is the client's (ErrInvalid).
func TestConfigFault(t *testing.T) {
	for _, c := range []struct {
		code uint16
		msg  string
		want error
	}{
		{goldap.LDAPResultUndefinedAttributeType, "noSuchAttr: attribute type undefined", backends.ErrConfig},
		{goldap.LDAPResultObjectClassViolation, "attribute 'uidNumber' not allowed", backends.ErrConfig},   // OpenLDAP
		{goldap.LDAPResultObjectClassViolation, `attribute "nosuchattr" not allowed`, backends.ErrConfig},  // 389 DS
		{goldap.LDAPResultObjectClassViolation, "no structural object class provided", backends.ErrConfig}, // OpenLDAP
		{goldap.LDAPResultObjectClassViolation, "object class 'person' requires attribute 'sn'", backends.ErrInvalid},
		{goldap.LDAPResultObjectClassViolation, `missing attribute "sn" required by object class "person"`, backends.ErrInvalid},
	} {
		err := configFault("add", c.code, c.msg)
		if err == nil {
			err = fmt.Errorf("%w", backends.ErrInvalid)
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%d %q: %v, want %v", c.code, c.msg, err, c.want)
		}
	}
}

// TestDescribeNative reads slapd's subschema: aliases share an attribute,
// the id and operational timestamps cannot be written, attributes no
// class of new entries allows cannot either, MUST attributes and the RDN
// are required, a reference filled with a placeholder is not.
func TestDescribeNative(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	b := newBackend(t, setup{srv: srv, ou: srv.NewOU(t)})
	d, err := b.DescribeNative(ctxT(t), backends.User)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(name string) string {
		n := d.Lookup(name)
		if n == nil {
			return "unknown"
		}
		return fmt.Sprintf("%s id=%v ro=%v req=%q", n.Name, n.ID, n.ReadOnly != "", n.Required)
	}
	for name, want := range map[string]string{
		"mail":                 `mail id=false ro=false req=""`,
		"RFC822MAILBOX":        `mail id=false ro=false req=""`,
		"surname":              `sn id=false ro=false req="a MUST attribute of object class person"`,
		"cn;lang-de":           `cn id=false ro=false req="a MUST attribute of object class person"`,
		"uid":                  `uid id=false ro=false req="it names new entries (rdn_attribute)"`,
		"entryUUID":            `entryUUID id=true ro=true req=""`,
		"createTimestamp":      `createTimestamp id=false ro=true req=""`,
		"pwdAccountLockedTime": `pwdAccountLockedTime id=false ro=false req=""`, // operational, written by admins
		"uidNumber":            `uidNumber id=false ro=true req=""`,             // posixAccount only
		"memberOf":             `memberOf id=false ro=true req=""`,
		"manager":              `manager id=false ro=false req=""`,
		"objectClass":          `objectClass id=false ro=false req=""`,
		"frist_name":           "unknown",
	} {
		if got := describe(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if n := d.Lookup("uidNumber"); !strings.Contains(n.ReadOnly, "inetOrgPerson") {
		t.Errorf("uidNumber: %q does not name the classes", n.ReadOnly)
	}
	g, err := b.DescribeNative(ctxT(t), backends.Group)
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Lookup("member"); n == nil || n.Required != "" {
		t.Errorf("member with a placeholder: %+v, want not required", n)
	}
	if n := g.Lookup("cn"); n == nil || !strings.Contains(n.Required, "groupOfNames") || !strings.Contains(n.Required, "rdn_attribute") {
		t.Errorf("cn of groups: %+v", n)
	}

	// Classes the directory does not have are the resource block's fault.
	bad := newBackend(t, setup{srv: srv, ou: srv.NewOU(t), groupClasses: `["groupOfNaems"]`})
	if _, err := bad.DescribeNative(ctxT(t), backends.Group); !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "groupOfNaems") {
		t.Errorf("unknown object class: %v, want ErrConfig naming it", err)
	}
}
