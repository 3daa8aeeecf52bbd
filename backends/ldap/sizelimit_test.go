package ldap

import (
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/backends/ldap/sambatest"
)

// TestSizeLimitProbe: slapd ends a search at the size limit the request
// sets, so a first page is one search of count+1 entries there. Samba AD
// ignores the limit and sends every match: the probe at start sees it,
// and first pages read the matches as they arrive, and stop one past the
// limit. Where the probe could not tell, the first page with more
// matches than its count finds out, on either server; a server that
// honoured the probe and then ignores a page's limit is handled too: that
// page reads the matches once, the log says so, and later pages stop
// reading themselves.
func TestSizeLimitProbe(t *testing.T) {
	t.Run("slapd", func(t *testing.T) {
		srv := ldaptest.Shared(t)
		// An empty OU: the probe finds two entries only in a parent.
		s := setup{srv: srv, ou: srv.NewOU(t)}
		b := newBackend(t, s)
		if _, err := b.getCaps(ctxT(t)); err != nil || b.sizeLimit.Load() != limitHonoured {
			t.Fatalf("%v: slapd's size limit not seen honoured (%d)", err, b.sizeLimit.Load())
		}
		// As if the probe could not tell: a lookup does not show it, a
		// first page of 5 of 12 matches does, reading 6 entries.
		const users, count = 12, 5
		srv.AddUsers(t, s.ou.People, "probe", users)
		<-b.counts.first
		b.sizeLimit.Store(limitUnknown)
		one := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "uid", Op: backends.Eq, Value: "probe00007", IgnoreCase: true}}
		if n := readUsers(t, b, one, 1, 1); n != 1 || b.sizeLimit.Load() != limitUnknown {
			t.Fatalf("a lookup read %d entries and left the size limit %d", n, b.sizeLimit.Load())
		}
		some := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "uid", Op: backends.Sw, Value: "probe", IgnoreCase: true}}
		// That search (count+1 entries), the count of the matches
		// (names), the page by a cursor.
		if n := readUsers(t, b, some, count, users); n != count+1+users+count {
			t.Errorf("a first page read %d entries, want %d", n, count+1+users+count)
		}
		if got := b.sizeLimit.Load(); got != limitHonoured {
			t.Errorf("after a first page that reached its limit: %d, want honoured", got)
		}
	})
	t.Run("samba", func(t *testing.T) {
		srv := sambatest.Shared(t)
		ou := srv.NewOU(t)
		conn := srv.Conn(t)
		const users, count = 30, 10
		for i := range users {
			req := goldap.NewAddRequest(fmt.Sprintf("CN=Probe %02d,%s", i, ou.People), nil)
			req.Attribute("objectClass", []string{"user"})
			req.Attribute("sAMAccountName", []string{fmt.Sprintf("probe%02d", i)})
			if err := conn.Add(req); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("TEST_AD_URL", srv.URL)
		t.Setenv("TEST_AD_CA_FILE", srv.CAFile)
		cfg, diags := decode(t, fmt.Sprintf(`
urls            = [env("TEST_AD_URL")]
bind_dn         = %q
bind_password   = %q
ca_file         = env("TEST_AD_CA_FILE")
tls_server_name = %q
id_attribute    = "objectGUID"
resource "User" {
  base_dn        = %q
  scope          = "one"
  rdn_attribute  = "cn"
  object_classes = ["user"]
  filter         = "(objectClass=user)"
}
`, sambatest.ServiceDN, sambatest.ServicePassword, sambatest.ServerName, ou.People))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		var logs strings.Builder
		b, err := New(ctxT(t), cfg, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: &logs}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		<-b.counts.first // the count at start reads every name
		ctx := ctxT(t)
		if _, err := b.getCaps(ctx); err != nil || b.sizeLimit.Load() != limitIgnored {
			t.Fatalf("%v: Samba's ignored size limit not seen (%d)", err, b.sizeLimit.Load())
		}
		// A lookup: one search on a pooled connection, no cursor.
		one := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "sAMAccountName", Op: backends.Eq, Value: "probe07", IgnoreCase: true}}
		dials := testutil.ToFloat64(b.metrics.dials)
		if n := readUsers(t, b, one, 1, 1); n != 1 {
			t.Errorf("a lookup read %d entries, want 1", n)
		}
		if d := testutil.ToFloat64(b.metrics.dials) - dials; d != 0 {
			t.Errorf("a lookup dialled %v connections", d)
		}
		// A longer listing: that search (count+2 entries, the search
		// ended there), the count of the matches (names), the page by a
		// cursor.
		all := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "sAMAccountName", Op: backends.Sw, Value: "probe", IgnoreCase: true}}
		paged := int64(count + 2 + users + count)
		if n := readUsers(t, b, all, count, users); n != paged {
			t.Errorf("a first page read %d entries, want %d", n, paged)
		}
		if logs.Len() > 0 {
			t.Errorf("logged: %s", logs.String())
		}
		// As if the probe could not tell: the same page finds out.
		b.sizeLimit.Store(limitUnknown)
		if n := readUsers(t, b, all, count, users); n != paged || b.sizeLimit.Load() != limitIgnored {
			t.Errorf("with the size limit unknown, a first page read %d entries (want %d) and left it %d",
				n, paged, b.sizeLimit.Load())
		}
		// As if the probe had seen the limit honoured: the plain search
		// gets every match once, the log says so, then pages stop
		// reading at the limit themselves.
		b.sizeLimit.Store(limitHonoured)
		if n := readUsers(t, b, all, count, users); n != int64(users+users+count) {
			t.Errorf("the first page past the probe read %d entries, want %d", n, users+users+count)
		}
		if !strings.Contains(logs.String(), "more entries than a search's size limit asked for") {
			t.Errorf("log: %q", logs.String())
		}
		if n := readUsers(t, b, all, count, users); n != paged {
			t.Errorf("the next first page read %d entries, want %d", n, paged)
		}
	})
}

// readUsers runs q on b's users, checks that the page holds records of
// total, and returns how many entries the directory returned meanwhile.
func readUsers(t *testing.T, b *Backend, q backends.Query, records, total int) int64 {
	t.Helper()
	before := b.entriesRead.Load()
	p, err := b.Search(ctxT(t), "User", q)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != total || len(p.Records) != records {
		t.Fatalf("%d records, total %d; want %d of %d", len(p.Records), p.Total, records, total)
	}
	return b.entriesRead.Load() - before
}
