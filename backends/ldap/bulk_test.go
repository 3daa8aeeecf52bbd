package ldap

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// slowLink relays TCP connections to target on loopback and holds every
// chunk the server sends for delay: a directory far away, or busy.
func slowLink(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						time.Sleep(delay)
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return "ldap://" + l.Addr().String()
}

// TestScansOutliveTheOperationTimeout: counting the matches of a filter
// for totalResults and reading a cursor far from its start take many
// round trips; each is bounded by timeout, the whole only by the request.
// On a link where one round trip takes 25 ms, a count of 240 entries in
// pages of 10 takes over half a second, past a 400 ms timeout: the first
// page of a filtered listing and a page deep into it still arrive. (A
// listing without a filter takes its total from the maintained count:
// listcount_test.go.)
func TestScansOutliveTheOperationTimeout(t *testing.T) {
	s := setup{srv: ldaptest.Shared(t), timeout: "400ms", top: "page_size = 10"}
	s.ou = s.srv.NewOU(t)
	const n = 240
	s.srv.AddUsers(t, s.ou.People, "bulk", n)
	t.Setenv("TEST_LDAP_URL", slowLink(t, strings.TrimPrefix(s.srv.URL, "ldap://"), 25*time.Millisecond))
	cfg, diags := decode(t, s.hcl())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := startBackend(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, start := range []int{1, 201} {
		page, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: 20, Attrs: []string{"uid"},
			Filter: backends.Present{Attr: "uid"}})
		if err != nil {
			t.Fatalf("page at %d: %v", start, err)
		}
		if page.Total != n || len(page.Records) != 20 {
			t.Fatalf("page at %d: total %d, %d records", start, page.Total, len(page.Records))
		}
	}
	// A request's own deadline still ends a scan.
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := b.Search(short, "User", backends.Query{StartIndex: 101, Count: 20, Filter: backends.Present{Attr: "uid"}}); err == nil {
		t.Fatal("a scan outlived its request's deadline")
	}
}
