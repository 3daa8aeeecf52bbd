package examples_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// importDirectory is what the import tests need of a served directory.
type importDirectory struct {
	c      *bridgetest.Client
	people string // the container the example lists users from
	conn   func(t testing.TB) *goldap.Conn
}

// runImports: users added and removed behind the bridge's back (by
// another program, after the bridge counted the directory at start) are
// read by Okta's import loop (the next startIndex until it is past
// totalResults) and by Entra's (until a short page), each user once, also
// while another program adds a user and deletes one not yet read after
// every page: every user there from start to end is read, none deleted
// before its page is, and the page that reaches the end gives the exact
// number read. Users added during an import are read by it on slapd,
// whose paged search reads on by entry id; 389 DS's paged search works
// through the candidates it found when it started, so they wait for the
// next import there (both are the directory's own semantics; readsNew
// says which to expect).
func runImports(t *testing.T, d importDirectory, readsNew bool) {
	admin := d.conn(t)
	add := func(uid string) {
		t.Helper()
		req := goldap.NewAddRequest("uid="+uid+","+d.people, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{uid})
		req.Attribute("cn", []string{uid})
		req.Attribute("sn", []string{"Import"})
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	const n, count = 130, 20
	want := map[string]bool{}
	for i := range n {
		uid := fmt.Sprintf("imp%04d", i)
		add(uid)
		want[uid] = true
	}
	for _, okta := range []bool{true, false} {
		var seen []string
		read := map[string]bool{}
		last := 0
		for start, page := 1, 0; ; page++ {
			if page > 100 {
				t.Fatal("the import does not end")
			}
			r := d.c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, count), nil)
			res, _ := r.JSON["Resources"].([]any)
			for _, x := range res {
				u := x.(map[string]any)["userName"].(string)
				if read[u] {
					t.Fatalf("okta=%v: %s read twice", okta, u)
				}
				read[u] = true
				seen = append(seen, u)
			}
			total, _ := strconv.Atoi(str(r, "totalResults"))
			if total < start-1+len(res) {
				t.Fatalf("okta=%v, page at %d: totalResults %d below the %d users up to it", okta, start, total, start-1+len(res))
			}
			last = total
			if okta && start+count > total || !okta && len(res) < count {
				break
			}
			start += count
			// Another program: one user more, one not yet read less.
			uid := fmt.Sprintf("new%d%04d", map[bool]int{true: 1, false: 2}[okta], page)
			add(uid)
			want[uid] = true
			gone := ""
			for u := range want {
				if !read[u] && strings.HasPrefix(u, "imp") && u > gone {
					gone = u
				}
			}
			if gone != "" {
				if err := admin.Del(goldap.NewDelRequest("uid="+gone+","+d.people, nil)); err != nil {
					t.Fatal(err)
				}
				delete(want, gone)
			}
		}
		for u := range want {
			if !read[u] && (readsNew || !strings.HasPrefix(u, "new")) {
				t.Errorf("okta=%v: %s never read", okta, u)
			}
		}
		for _, u := range seen {
			if !want[u] {
				t.Errorf("okta=%v: %s read after it was deleted", okta, u)
			}
		}
		if okta && last != len(seen) {
			t.Errorf("okta: the last page's totalResults is %d, %d users read", last, len(seen))
		}
	}
}

func TestOpenLDAPStockImports(t *testing.T) {
	d := startOpenLDAP(t)
	runImports(t, importDirectory{c: d.c, people: d.ou.People, conn: d.srv.Conn}, true)
}

func TestDS389Imports(t *testing.T) {
	d := startDS389(t)
	runImports(t, importDirectory{c: d.c, people: d.ou.People, conn: d.srv.Conn}, false)
}
