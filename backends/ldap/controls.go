package ldap

import (
	"errors"

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

// assertionControl asserts that the target entry matches filter.
func assertionControl(filter string) (goldap.Control, error) {
	p, err := goldap.CompileFilter(filter)
	if err != nil {
		return nil, err
	}
	return goldap.NewControlString(oidAssertion, true, string(p.Bytes())), nil
}

// postReadControl asks for attrs of the entry after the operation. It is
// not critical: a server that ignores it still performs the operation, and
// the caller reads the entry itself.
func postReadControl(attrs []string) goldap.Control {
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range attrs {
		seq.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "attribute"))
	}
	return goldap.NewControlString(oidPostRead, false, string(seq.Bytes()))
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
	e := &goldap.Entry{DN: string(dn)}
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
		a := &goldap.EntryAttribute{Name: string(name)}
		for len(vals) > 0 {
			if v, vals, ok = berTLV(vals, 0x04); !ok {
				return nil, errBadEntry
			}
			a.Values = append(a.Values, string(v))
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
