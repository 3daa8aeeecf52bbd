package ldap

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// Two standard controls let a modify of a known entry take one round trip
// instead of three (verify the cached DN, modify, read back):
//
//   - the assertion control (RFC 4528) carries the filter (id=<id>): when
//     the cached DN now names another entry, the server refuses the modify
//     with assertionFailed and nothing is written;
//   - the post-read control (RFC 4527) returns the entry as it is after the
//     modify, in the same response.
//
// Both are used only when the root DSE lists them; otherwise the backend
// verifies and reads back with searches as before.
const (
	oidAssertion = "1.3.6.1.1.12"
	oidPostRead  = "1.3.6.1.1.13.2"
)

// compiledFilters caches the BER form of the resources' own filters
// (r.filter: one per resource type), which every asserted modify repeats.
var compiledFilters sync.Map // filter string -> []byte

// assertionControl asserts that the target entry matches filter (RFC
// 4528), compiled on each call: for filters that change with each request
// (a membership change's, see members.go).
func assertionControl(filter string) (goldap.Control, error) {
	p, err := goldap.CompileFilter(filter)
	if err != nil {
		return nil, err
	}
	return newRawControl(oidAssertion, true, p.Bytes()), nil
}

// idAssertion asserts that the target entry matches
// (&<r.filter>(<id attribute>=<id>)<stamp>), b.idFilter(r, id) and the
// stamp, as one AND whose resource filter is
// compiled once: the BER of an AND is its children's, one after another,
// so the result is the same as compiling the whole filter.
func (b *Backend) idAssertion(r *resource, id, stamp string) (goldap.Control, error) {
	var rf []byte
	if v, ok := compiledFilters.Load(r.filter); ok {
		rf = v.([]byte)
	} else if r.filter != "" {
		p, err := goldap.CompileFilter(r.filter)
		if err != nil {
			return nil, err
		}
		rf = p.Bytes()
		compiledFilters.Store(r.filter, rf)
	}
	var idf []byte
	if v := b.idValue(id); !strings.ContainsRune(v, '\\') {
		// No escapes (entryUUID, nsUniqueId): the value is itself.
		// equalityMatch [3] { attributeDesc, assertionValue }
		attr := b.cfg.IDAttribute
		n := 1 + berLengthSize(len(attr)) + len(attr) + 1 + berLengthSize(len(v)) + len(v)
		idf = append(make([]byte, 0, 1+berLengthSize(n)+n), 0xa3)
		idf = berAppendLength(idf, n)
		idf = berAppendLength(append(idf, 0x04), len(attr))
		idf = berAppendLength(append(append(idf, attr...), 0x04), len(v))
		idf = append(idf, v...)
	} else {
		idp, err := goldap.CompileFilter("(" + b.cfg.IDAttribute + "=" + v + ")")
		if err != nil {
			return nil, err
		}
		idf = idp.Bytes()
	}
	var sf []byte
	if stamp != "" {
		sp, err := goldap.CompileFilter(stamp)
		if err != nil {
			return nil, err
		}
		sf = sp.Bytes()
	}
	n := len(rf) + len(idf) + len(sf)
	and := make([]byte, 0, 6+n)
	and = append(and, 0xa0) // [0] and, constructed
	and = berAppendLength(and, n)
	and = append(append(append(and, rf...), idf...), sf...)
	return newRawControl(oidAssertion, true, and), nil
}

// postReadControl asks for attrs of the entry after the operation. It is
// not critical: a server that ignores it still performs the operation, and
// the caller reads the entry itself.
func postReadControl(attrs []string) goldap.Control {
	// AttributeSelection ::= SEQUENCE OF selector LDAPString
	n := 0
	for _, a := range attrs {
		n += 1 + berLengthSize(len(a)) + len(a)
	}
	sel := make([]byte, 0, 1+berLengthSize(n)+n)
	sel = append(sel, 0x30)
	sel = berAppendLength(sel, n)
	for _, a := range attrs {
		sel = append(sel, 0x04)
		sel = berAppendLength(sel, len(a))
		sel = append(sel, a...)
	}
	return newRawControl(oidPostRead, false, sel)
}

// rawControl is a request control encoded once, when it is made: go-ldap's
// ControlString builds a tree of packets on every send, a PATCH's two
// controls cost more than the modify request around them.
type rawControl struct {
	oid      string
	critical bool
	value    []byte
	body     []byte // the Control SEQUENCE's content
}

// newRawControl encodes Control ::= SEQUENCE { controlType LDAPOID,
// criticality BOOLEAN DEFAULT FALSE, controlValue OCTET STRING OPTIONAL }
// as goldap.ControlString does (criticality only when true, the value
// only when not empty).
func newRawControl(oid string, critical bool, value []byte) *rawControl {
	body := make([]byte, 0, 2*6+len(oid)+len(value)+3)
	body = append(body, 0x04)
	body = berAppendLength(body, len(oid))
	body = append(body, oid...)
	if critical {
		// TRUE as go-ldap (asn1-ber) encodes it, byte for byte what the
		// servers have always been sent (RFC 4511 asks for 0xFF; slapd,
		// 389 DS and AD take any non-zero octet).
		body = append(body, 0x01, 0x01, 0x01)
	}
	if len(value) > 0 {
		body = append(body, 0x04)
		body = berAppendLength(body, len(value))
		body = append(body, value...)
	}
	return &rawControl{oid: oid, critical: critical, value: value, body: slices.Clip(body)}
}

func (c *rawControl) GetControlType() string { return c.oid }

// Encode returns the control as a packet whose content is already
// encoded: go-ldap only appends it to the request (Packet.Bytes writes
// the identifier, the length and Data), and never looks at its children.
func (c *rawControl) Encode() *ber.Packet {
	p := &ber.Packet{Data: bytes.NewBuffer(c.body), Description: "Control"}
	p.ClassType, p.TagType, p.Tag = ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence
	return p
}

func (c *rawControl) String() string {
	return fmt.Sprintf("Control Type: %q Criticality: %t Control Value: %x", c.oid, c.critical, c.value)
}

// berLengthSize is the size of a BER definite length of n.
func berLengthSize(n int) int {
	if n < 0x80 {
		return 1
	}
	size := 1
	for ; n > 0; n >>= 8 {
		size++
	}
	return size
}

// berAppendLength appends the BER definite length n (short form below
// 128, else the long form with as few octets as needed).
func berAppendLength(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	k := berLengthSize(n) - 1
	dst = append(dst, 0x80|byte(k))
	for i := k - 1; i >= 0; i-- {
		dst = append(dst, byte(n>>(8*i)))
	}
	return dst
}

// postReadEntry returns the entry a post-read response control carries;
// nil when controls hold none.
func postReadEntry(controls []goldap.Control) (*goldap.Entry, error) {
	c, ok := goldap.FindControl(controls, oidPostRead).(*goldap.ControlString)
	if !ok || c == nil {
		return nil, nil
	}
	return decodeEntry([]byte(c.ControlValue))
}

var errBadEntry = errors.New("malformed post-read entry")

// decodeEntry decodes a BER SearchResultEntry (RFC 4511 4.5.2):
// [APPLICATION 4] SEQUENCE { objectName, attributes SEQUENCE OF
// SEQUENCE { type, vals SET OF value } }. A small reader of its own: the
// generic BER decoder builds a tree of packets and cost more than the rest
// of a PATCH's LDAP work.
func decodeEntry(data []byte) (*goldap.Entry, error) {
	body, rest, ok := berTLV(data, 0x64) // [APPLICATION 4], constructed
	if !ok || len(rest) != 0 {
		return nil, errBadEntry
	}
	dn, body, ok := berTLV(body, 0x04)
	if !ok || len(dn) == 0 {
		return nil, errBadEntry
	}
	attrs, rest, ok := berTLV(body, 0x30)
	if !ok || len(rest) != 0 {
		return nil, errBadEntry
	}
	// The strings are cut from one copy of data: a slice berTLV returns
	// shares data's array, and starts cap(data)-cap(slice) bytes into it.
	whole := string(data)
	str := func(b []byte) string {
		i := cap(data) - cap(b)
		return whole[i : i+len(b)]
	}
	e := &goldap.Entry{DN: str(dn)}
	for len(attrs) > 0 {
		var attr, name, vals, v []byte
		if attr, attrs, ok = berTLV(attrs, 0x30); !ok {
			return nil, errBadEntry
		}
		if name, attr, ok = berTLV(attr, 0x04); !ok {
			return nil, errBadEntry
		}
		if vals, attr, ok = berTLV(attr, 0x31); !ok || len(attr) != 0 {
			return nil, errBadEntry
		}
		a := &goldap.EntryAttribute{Name: str(name)}
		for len(vals) > 0 {
			if v, vals, ok = berTLV(vals, 0x04); !ok {
				return nil, errBadEntry
			}
			a.Values = append(a.Values, str(v))
			a.ByteValues = append(a.ByteValues, v)
		}
		e.Attributes = append(e.Attributes, a)
	}
	return e, nil
}

// berTLV reads one BER element with the given identifier octet (definite
// length, as LDAP requires) and returns its content and what follows.
func berTLV(data []byte, tag byte) (content, rest []byte, ok bool) {
	if len(data) < 2 || data[0] != tag {
		return nil, nil, false
	}
	n, i := int(data[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(data) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, b := range data[2 : 2+k] {
			n = n<<8 | int(b)
		}
		i += k
	}
	if n < 0 || n > len(data)-i {
		return nil, nil, false
	}
	return data[i : i+n], data[i+n:], true
}
