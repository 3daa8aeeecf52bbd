package ldap

import (
	"context"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Control and extension OIDs the backend uses when the server has them.
const (
	oidPermissiveModify = "1.2.840.113556.1.4.1413" // add existing / delete missing values is not an error
	oidPasswordModify   = "1.3.6.1.4.1.4203.1.11.1" // RFC 3062
)

// attrType is what the backend needs to know about one attribute type.
type attrType struct {
	names    []string
	sup      string
	equality string
	ordering string
	substr   string
	syntax   string
	single   bool
	// noUserMod: NO-USER-MODIFICATION, only the directory writes it.
	noUserMod bool
	// operational: USAGE other than userApplications; object classes do
	// not govern it.
	operational bool
}

// objectClass is what the backend needs to know about one object class.
type objectClass struct {
	names     []string
	sup       []string
	must, may []string
}

// classes are the server's object classes by lower-case name and OID.
type classes map[string]*objectClass

func (cs classes) lookup(name string) *objectClass { return cs[strings.ToLower(name)] }

// schema is the server's attribute types by lower-case name and OID.
type schema map[string]*attrType

func (s schema) lookup(name string) *attrType {
	if s == nil {
		return nil
	}
	name, _, _ = strings.Cut(name, ";")
	return s[strings.ToLower(name)]
}

// caps is what the server announced in its root DSE and schema.
type caps struct {
	controls   map[string]bool
	extensions map[string]bool
	schema     schema
	classes    classes // nil when the server did not list them
	// ad: the root DSE announces Active Directory (LDAP_CAP_ACTIVE_DIRECTORY_OID;
	// Samba AD too), whose schema shows no matching rules.
	ad bool
}

func (b *Backend) loadCaps(ctx context.Context) (*caps, error) {
	c := &caps{controls: map[string]bool{}, extensions: map[string]bool{}}
	var subschema string
	err := b.run(ctx, func(conn *goldap.Conn) error {
		res, err := conn.Search(goldap.NewSearchRequest("", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"supportedControl", "supportedExtension", "subschemaSubentry", "supportedCapabilities"}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			e := res.Entries[0]
			for _, v := range e.GetEqualFoldAttributeValues("supportedControl") {
				c.controls[v] = true
			}
			for _, v := range e.GetEqualFoldAttributeValues("supportedExtension") {
				c.extensions[v] = true
			}
			subschema = e.GetEqualFoldAttributeValue("subschemaSubentry")
			for _, v := range e.GetEqualFoldAttributeValues("supportedCapabilities") {
				c.ad = c.ad || v == oidCapActiveDirectory
			}
		}
		if subschema == "" {
			return nil
		}
		res, err = conn.Search(goldap.NewSearchRequest(subschema, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=subschema)", []string{"attributeTypes", "objectClasses"}, nil))
		if err != nil {
			b.log.Warn("cannot read the ldap schema; filters are pushed down less precisely", "error", err)
			return nil
		}
		if len(res.Entries) == 1 {
			c.schema = parseSchema(res.Entries[0].GetEqualFoldAttributeValues("attributeTypes"))
			if c.ad {
				adMatchingRules(c.schema)
			}
			if ocs := res.Entries[0].GetEqualFoldAttributeValues("objectClasses"); len(ocs) > 0 {
				c.classes = parseClasses(ocs)
			}
		}
		return nil
	})
	if err != nil {
		return nil, b.mapErr(ctx, "read root DSE", "", err)
	}
	if state := b.probeSizeLimit(ctx); state != limitUnknown {
		b.sizeLimit.CompareAndSwap(limitUnknown, state)
	}
	return c, nil
}

// parseSchema reads RFC 4512 AttributeTypeDescriptions; matching rules and
// syntax are inherited from SUP.
func parseSchema(values []string) schema {
	s := schema{}
	var all []*attrType
	for _, v := range values {
		at, oid := parseAttrType(v)
		if oid == "" {
			continue
		}
		all = append(all, at)
		s[strings.ToLower(oid)] = at
		for _, n := range at.names {
			s[strings.ToLower(n)] = at
		}
	}
	for _, at := range all {
		seen := 0
		for sup := s.lookup(at.sup); sup != nil && seen < 16; sup, seen = s.lookup(sup.sup), seen+1 {
			if at.equality == "" {
				at.equality = sup.equality
			}
			if at.ordering == "" {
				at.ordering = sup.ordering
			}
			if at.substr == "" {
				at.substr = sup.substr
			}
			if at.syntax == "" {
				at.syntax = sup.syntax
			}
		}
	}
	return s
}

func schemaTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return out
			}
			out = append(out, s[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()'", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

func parseAttrType(v string) (*attrType, string) {
	toks := schemaTokens(v)
	if len(toks) < 2 || toks[0] != "(" {
		return nil, ""
	}
	at := &attrType{}
	oid := toks[1]
	for i := 2; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch strings.ToUpper(toks[i]) {
		case "NAME":
			if n := next(); n == "(" {
				for i+1 < len(toks) && toks[i+1] != ")" {
					i++
					at.names = append(at.names, toks[i])
				}
				i++
			} else {
				at.names = append(at.names, n)
			}
		case "SUP":
			at.sup = next()
		case "EQUALITY":
			at.equality = next()
		case "ORDERING":
			at.ordering = next()
		case "SUBSTR":
			at.substr = next()
		case "SYNTAX":
			syn, _, _ := strings.Cut(next(), "{")
			at.syntax = syn
		case "SINGLE-VALUE":
			at.single = true
		case "NO-USER-MODIFICATION":
			at.noUserMod = true
		case "USAGE":
			at.operational = !strings.EqualFold(next(), "userApplications")
		}
	}
	return at, oid
}

// parseClasses reads RFC 4512 ObjectClassDescriptions.
func parseClasses(values []string) classes {
	cs := classes{}
	for _, v := range values {
		toks := schemaTokens(v)
		if len(toks) < 2 || toks[0] != "(" {
			continue
		}
		oc := &objectClass{}
		for i := 2; i < len(toks); i++ {
			// list reads a name or a parenthesised "$"-separated list.
			list := func() []string {
				if i+1 >= len(toks) {
					return nil
				}
				i++
				if toks[i] != "(" {
					return []string{toks[i]}
				}
				var out []string
				for i+1 < len(toks) && toks[i+1] != ")" {
					i++
					if toks[i] != "$" {
						out = append(out, toks[i])
					}
				}
				i++
				return out
			}
			switch strings.ToUpper(toks[i]) {
			case "NAME":
				oc.names = list()
			case "SUP":
				oc.sup = list()
			case "MUST":
				oc.must = list()
			case "MAY":
				oc.may = list()
			}
		}
		cs[strings.ToLower(toks[1])] = oc
		for _, n := range oc.names {
			cs[strings.ToLower(n)] = oc
		}
	}
	return cs
}

// Matching rule families, by how they treat case.
type ruleCase int

const (
	ruleOther  ruleCase = iota // integers, DNs, UUIDs, times: case does not apply
	ruleIgnore                 // caseIgnore*
	ruleExact                  // caseExact*, octetString*
)

func classifyRule(rule string) ruleCase {
	r := strings.ToLower(rule)
	switch {
	case strings.HasPrefix(r, "caseignore"), strings.HasPrefix(r, "telephonenumber"):
		return ruleIgnore
	case strings.HasPrefix(r, "caseexact"), strings.HasPrefix(r, "octetstring"):
		return ruleExact
	}
	return ruleOther
}

const (
	syntaxIA5     = "1.3.6.1.4.1.1466.115.121.1.26"
	syntaxBoolean = "1.3.6.1.4.1.1466.115.121.1.7"
	syntaxGenTime = "1.3.6.1.4.1.1466.115.121.1.24"
)

// equalityCase is the case behaviour of an attribute's equality rule; an
// unknown attribute is assumed to be case-insensitive text, the common case.
func (at *attrType) equalityCase() ruleCase {
	if at == nil {
		return ruleIgnore
	}
	return classifyRule(at.equality)
}

func (at *attrType) substrCase() (ruleCase, bool) {
	if at == nil {
		return ruleIgnore, true
	}
	if at.substr == "" {
		return ruleOther, false
	}
	return classifyRule(at.substr), true
}

// exactRule names the extensible-match rule that compares case-sensitively
// (caseSensitive) or not for this attribute's syntax.
func (at *attrType) extensibleRule(caseSensitive bool) string {
	ia5 := at != nil && at.syntax == syntaxIA5
	switch {
	case caseSensitive && ia5:
		return "caseExactIA5Match"
	case caseSensitive:
		return "caseExactMatch"
	case ia5:
		return "caseIgnoreIA5Match"
	}
	return "caseIgnoreMatch"
}

func (c *caps) String() string {
	return fmt.Sprintf("%d controls, %d extensions, %d attribute types", len(c.controls), len(c.extensions), len(c.schema))
}
