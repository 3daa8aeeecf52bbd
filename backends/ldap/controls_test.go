package ldap

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// TestModifyOneRequest: with a cached DN, a change of a user's own
// attributes is one LDAP request (assertion + post-read controls), and the
// record it returns is the entry after the change as a Get of the same
// attributes reads it: operational attributes and references (groups,
// manager, their DNs resolved through the id cache) included.
func TestModifyOneRequest(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t), user: `operational_attributes = ["createTimestamp", "modifyTimestamp"]
    reference "memberOf" {
      target    = "Group"
      read_only = true
    }
    reference "manager" {
      target = "User"
    }`}
	b := newBackend(t, s)
	caps, err := b.getCaps(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !caps.controls[oidAssertion] || !caps.controls[oidPostRead] {
		t.Fatalf("slapd does not list the assertion and post-read controls: %v", caps.controls)
	}
	boss := mustCreate(t, b, "User", user("boss"))
	a := user("one")
	a["manager"] = []string{boss.ID}
	u := mustCreate(t, b, "User", a)
	g := mustCreate(t, b, "Group", backends.Attrs{"cn": {"team"}, "member": {u.ID}})
	b.cache.wait()

	// What a bridge mapping reads.
	attrs := []string{"uid", "sn", "mail", "pwdAccountLockedTime", "modifyTimestamp", "createTimestamp", "memberOf", "manager"}
	before := b.requests.Load()
	rec, err := b.Modify(ctxT(t), "User", u.ID, []backends.Modification{
		{Op: backends.ModReplace, Attr: "sn", Values: []string{"After"}},
		{Op: backends.ModReplace, Attr: "pwdAccountLockedTime", Values: []string{ldaptest.PermanentLock}},
		{Op: backends.ModAdd, Attr: "mail", Values: []string{"one@example.org"}},
	}, attrs)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.requests.Load() - before; n != 1 {
		t.Errorf("modify with a cached DN took %d LDAP requests, want 1", n)
	}
	if rec.ID != u.ID {
		t.Errorf("record id %q, want %q", rec.ID, u.ID)
	}
	for attr, want := range map[string]string{"sn": "After", "pwdAccountLockedTime": ldaptest.PermanentLock,
		"mail": "one@example.org", "uid": "one", "memberOf": g.ID, "manager": boss.ID} {
		if got := rec.Attrs.First(attr); got != want {
			t.Errorf("returned %s = %q, want %q (record %v)", attr, got, want, rec.Attrs)
		}
	}
	if rec.Attrs.First("modifyTimestamp") == "" {
		t.Errorf("returned record has no modifyTimestamp: %v", rec.Attrs)
	}
	// What slapd holds.
	e := srv.Entry(t, "uid=one,"+s.ou.People, "sn", "mail")
	if e.GetAttributeValue("sn") != "After" || e.GetAttributeValue("mail") != "one@example.org" {
		t.Errorf("slapd holds sn=%q mail=%q", e.GetAttributeValue("sn"), e.GetAttributeValue("mail"))
	}
	// The same answer as a read.
	got := mustGet(t, b, "User", u.ID, attrs...)
	if !reflect.DeepEqual(got.Attrs, rec.Attrs) {
		t.Errorf("Modify returned %v\nGet reads       %v", rec.Attrs, got.Attrs)
	}
}

// TestModifySwappedDN: the cached DN now names another entry (renamed
// outside the bridge into the old name). The assertion makes slapd refuse
// the write there; the backend finds the right entry by id and writes it.
func TestModifySwappedDN(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	a := mustCreate(t, b, "User", user("alice"))
	mustCreate(t, b, "User", user("bob"))
	b.cache.wait()
	if dn, ok := b.cache.dnOf("User", a.ID); !ok || normDN(dn) != normDN("uid=alice,"+s.ou.People) {
		t.Fatalf("cache holds %q %v", dn, ok)
	}
	c := srv.Conn(t)
	for _, mv := range [][2]string{{"uid=alice", "uid=alice2"}, {"uid=bob", "uid=alice"}} {
		if err := c.ModifyDN(goldap.NewModifyDNRequest(mv[0]+","+s.ou.People, mv[1], true, "")); err != nil {
			t.Fatal(err)
		}
	}
	rec := mustModify(t, b, "User", a.ID, backends.Modification{Op: backends.ModReplace, Attr: "sn", Values: []string{"Written"}})
	if rec.ID != a.ID || rec.Attrs.First("uid") != "alice2" || rec.Attrs.First("sn") != "Written" {
		t.Errorf("returned %s %v", rec.ID, rec.Attrs)
	}
	if got := srv.Entry(t, "uid=alice2,"+s.ou.People, "sn").GetAttributeValue("sn"); got != "Written" {
		t.Errorf("alice (now alice2) sn = %q, want Written", got)
	}
	if got := srv.Entry(t, "uid=alice,"+s.ou.People, "sn").GetAttributeValue("sn"); got != "Family bob" {
		t.Errorf("bob (now at alice's old DN) sn = %q: the write went to the wrong entry", got)
	}
	b.cache.wait()
	if dn, _ := b.cache.dnOf("User", a.ID); normDN(dn) != normDN("uid=alice2,"+s.ou.People) {
		t.Errorf("cache not healed: %q", dn)
	}
}

// testEntryBytes is a SearchResultEntry with one two-valued attribute.
func testEntryBytes() []byte {
	entry := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "entry")
	entry.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "uid=a,dc=x", "dn"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	attr := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
	attr.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "mail", "type"))
	vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
	vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "a@x", "v"))
	vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "b@x", "v"))
	attr.AppendChild(vals)
	attrs.AppendChild(attr)
	entry.AppendChild(attrs)
	return entry.Bytes()
}

func TestDecodeEntry(t *testing.T) {
	data := testEntryBytes()
	e, err := decodeEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	if e.DN != "uid=a,dc=x" || len(e.GetAttributeValues("mail")) != 2 || e.GetAttributeValues("mail")[1] != "b@x" {
		t.Fatalf("decoded %s %v", e.DN, e.GetAttributeValues("mail"))
	}
	// Truncated or foreign input is an error, never a panic.
	for i := range len(data) {
		if _, err := decodeEntry(data[:i]); err == nil {
			t.Errorf("decoded a %d-byte prefix of %d", i, len(data))
		}
	}
	other := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "not an entry")
	if _, err := decodeEntry(other.Bytes()); err == nil {
		t.Error("decoded a SEQUENCE as an entry")
	}
}

// FuzzDecodeEntry: any input decodes or is refused without a panic, and
// what decodes agrees with the generic BER decoder.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(testEntryBytes())
	f.Add([]byte{0x64, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x64, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		p, perr := ber.DecodePacketErr(data)
		if perr != nil || len(p.Children) != 2 {
			t.Fatalf("decoded %q, which the BER decoder refuses: %v", data, perr)
		}
		if got := octets(p.Children[0]); got != e.DN {
			t.Fatalf("dn %q, BER decoder %q", e.DN, got)
		}
		if len(p.Children[1].Children) != len(e.Attributes) {
			t.Fatalf("%d attributes, BER decoder %d", len(e.Attributes), len(p.Children[1].Children))
		}
		for i, a := range p.Children[1].Children {
			if octets(a.Children[0]) != e.Attributes[i].Name || len(a.Children[1].Children) != len(e.Attributes[i].Values) {
				t.Fatalf("attribute %d differs", i)
			}
			for j, v := range a.Children[1].Children {
				if octets(v) != e.Attributes[i].Values[j] {
					t.Fatalf("attribute %d value %d: %q, BER decoder %q", i, j, e.Attributes[i].Values[j], octets(v))
				}
			}
		}
	})
}

// octets is the content of a primitive BER string the generic decoder read.
func octets(p *ber.Packet) string {
	if s, ok := p.Value.(string); ok {
		return s
	}
	if p.Data != nil {
		return p.Data.String()
	}
	return ""
}

// TestRawControlEncoding: the controls encoded once are byte for byte what
// go-ldap's ControlString and the generic BER encoder send, for values of
// every length form (short, one, two and three length octets).
func TestRawControlEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 70000} {
		value := strings.Repeat("v", n)
		for _, critical := range []bool{false, true} {
			want := goldap.NewControlString("1.2.3.4", critical, value).Encode().Bytes()
			got := newRawControl("1.2.3.4", critical, []byte(value)).Encode().Bytes()
			if !bytes.Equal(got, want) {
				t.Errorf("value of %d bytes, critical %v: encoded %x..., want %x...", n, critical, got[:min(len(got), 16)], want[:min(len(want), 16)])
			}
		}
	}
	// Inside a request, as go-ldap appends controls.
	attrs := []string{"entryUUID", "createTimestamp", strings.Repeat("a", 200), "memberOf"}
	sel := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range attrs {
		sel.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "attribute"))
	}
	wantReq := goldap.NewModifyRequest("uid=a,dc=x", []goldap.Control{goldap.NewControlString(oidPostRead, false, string(sel.Bytes()))})
	gotReq := goldap.NewModifyRequest("uid=a,dc=x", []goldap.Control{postReadControl(attrs)})
	for _, r := range []*goldap.ModifyRequest{wantReq, gotReq} {
		r.Replace("title", []string{"x"})
	}
	encode := func(r *goldap.ModifyRequest) []byte {
		// A request's controls go out as [0] SEQUENCE OF Control.
		p := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range r.Controls {
			p.AppendChild(c.Encode())
		}
		return p.Bytes()
	}
	if got, want := encode(gotReq), encode(wantReq); !bytes.Equal(got, want) {
		t.Errorf("post-read control %x, want %x", got, want)
	}
	// Encode can be called again (a resent request) with the same result.
	c := postReadControl(attrs)
	if !bytes.Equal(c.Encode().Bytes(), c.Encode().Bytes()) {
		t.Error("a second Encode differs")
	}
}

// TestIDAssertion: the assertion built from the resource filter compiled
// once is the compiled filter b.idFilter names, with and without a change
// stamp, for ids that need escaping too.
func TestIDAssertion(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	b := newBackend(t, setup{srv: srv, ou: srv.NewOU(t)})
	for _, typ := range []string{"User", "Group"} {
		r, err := b.resource(typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"88194518-8558-1041-8d23-81c9ad391418", `a*b(c)\d`} {
			for _, stamp := range []string{"", "(entryCSN=20261206003427.419023Z#000000#000#000000)"} {
				want, err := goldap.CompileFilter("(&" + r.filter + "(" + b.cfg.IDAttribute + "=" + b.idValue(id) + ")" + stamp + ")")
				if err != nil {
					t.Fatal(err)
				}
				for range 2 { // the second finds the resource filter compiled
					c, err := b.idAssertion(r, id, stamp)
					if err != nil {
						t.Fatal(err)
					}
					if got := c.(*rawControl).value; !bytes.Equal(got, want.Bytes()) {
						t.Errorf("%s %q %q: %x, want %x", typ, id, stamp, got, want.Bytes())
					}
				}
			}
		}
	}
}
