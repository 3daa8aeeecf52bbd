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
// ignores the limit and sends every match: the probe at start sees it, and
// first pages go through the paged results control. A server the probe
// could not judge, or one that honoured the probe and then ignores a
// page's limit, is handled too: the first such page reads the matches
// once, the log says so, and later pages use the control.
func TestSizeLimitProbe(t *testing.T) {
	t.Run("slapd", func(t *testing.T) {
		srv := ldaptest.Shared(t)
		// An empty OU: the probe finds two entries only in a parent.
		b := newBackend(t, setup{srv: srv, ou: srv.NewOU(t)})
		if c, err := b.getCaps(ctxT(t)); err != nil || !c.sizeLimit {
			t.Fatalf("caps %v, %v: slapd's size limit not seen honoured", c, err)
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
		c, err := b.getCaps(ctx)
		if err != nil || c.sizeLimit {
			t.Fatalf("caps %v, %v: Samba's ignored size limit not seen", c, err)
		}
		search := func(q backends.Query, records, total int) int64 {
			t.Helper()
			before := b.entriesRead.Load()
			p, err := b.Search(ctx, "User", q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != total || len(p.Records) != records {
				t.Fatalf("%d records, total %d; want %d of %d", len(p.Records), p.Total, records, total)
			}
			return b.entriesRead.Load() - before
		}
		// A lookup: one paged search on a pooled connection, no cursor.
		one := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "sAMAccountName", Op: backends.Eq, Value: "probe07", IgnoreCase: true}}
		dials := testutil.ToFloat64(b.metrics.dials)
		if n := search(one, 1, 1); n != 1 {
			t.Errorf("a lookup read %d entries, want 1", n)
		}
		if d := testutil.ToFloat64(b.metrics.dials) - dials; d != 0 {
			t.Errorf("a lookup dialled %v connections", d)
		}
		// A longer listing: that search (count+1 entries, its paging state
		// released), the count of the matches (names), the page by a cursor.
		all := backends.Query{StartIndex: 1, Count: count,
			Filter: backends.Compare{Attr: "sAMAccountName", Op: backends.Sw, Value: "probe", IgnoreCase: true}}
		paged := int64(count + 1 + users + count)
		if n := search(all, count, users); n != paged {
			t.Errorf("a first page read %d entries, want %d", n, paged)
		}
		if logs.Len() > 0 {
			t.Errorf("logged: %s", logs.String())
		}
		// As if the probe had seen the limit honoured: the plain search
		// gets every match once, the log says so, then the control is used.
		honoured := *c
		honoured.sizeLimit = true
		b.caps.Store(&honoured)
		if n := search(all, count, users); n != int64(users+users+count) {
			t.Errorf("the first page past the probe read %d entries, want %d", n, users+users+count)
		}
		if !strings.Contains(logs.String(), "more entries than a search's size limit asked for") {
			t.Errorf("log: %q", logs.String())
		}
		if n := search(all, count, users); n != paged {
			t.Errorf("the next first page read %d entries, want %d", n, paged)
		}
	})
}
