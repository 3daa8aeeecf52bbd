package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// settle waits for the background counts the backend started and takes
// the count of every resource type again, as count_refresh does.
func settle(b *Backend) {
	<-b.counts.first
	for _, typ := range sortedTypes(b.res) {
		b.counts.refresh(b.res[typ])
	}
}

// forget makes r's maintained count unknown, as just after start.
func forget(r *resource) {
	r.count.mu.Lock()
	r.count.n, r.count.known = 0, false
	r.count.epoch++
	r.count.mu.Unlock()
}

// importLoop reads every user as a SCIM client does: Okta asks for the
// next startIndex until it is past totalResults; Entra until a page
// comes back short. between runs after every page. It returns the uids
// seen, in order, and the last page's total; it checks on every page
// that the total promises the next page while more entries follow.
func importLoop(t *testing.T, ctx context.Context, b *Backend, okta bool, count int, between func(page int, seen []string)) ([]string, int) {
	t.Helper()
	var seen []string
	total := 0
	for start, page := 1, 0; ; page++ {
		if page > 10000 {
			t.Fatal("the import does not end")
		}
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: count, Attrs: []string{"uid"}})
		if err != nil {
			t.Fatalf("page at %d: %v", start, err)
		}
		for _, r := range p.Records {
			seen = append(seen, r.Attrs.Get("uid")[0])
		}
		total = p.Total
		if p.Total < start-1+len(p.Records) {
			t.Fatalf("page at %d: totalResults %d is less than the %d entries up to it", start, p.Total, start-1+len(p.Records))
		}
		if okta {
			start += count
			if start > p.Total {
				return seen, total
			}
		} else {
			if len(p.Records) < count {
				return seen, total
			}
			start += len(p.Records)
		}
		if between != nil {
			between(page, seen)
		}
	}
}

func addUser(t *testing.T, c *goldap.Conn, ou ldaptest.OU, uid string) {
	t.Helper()
	req := goldap.NewAddRequest("uid="+uid+","+ou.People, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{uid})
	req.Attribute("sn", []string{"x"})
	if err := c.Add(req); err != nil {
		t.Fatal(err)
	}
}

// TestImportLoopsEnd: Okta's and Entra's import loops read every entry and
// end, whatever the maintained count says when they start (right, too
// high after deletes behind the bridge's back, too low after adds, not
// known yet), also while another program adds and deletes entries during
// the import, or the bridge itself does. The last page's totalResults is
// exact, and the maintained count after the import is the directory's.
func TestImportLoopsEnd(t *testing.T) {
	srv := ldaptest.Shared(t)
	const n, count = 230, 20
	for _, okta := range []bool{true, false} {
		for _, state := range []string{"exact", "high", "low", "unknown", "churn", "bridge"} {
			client := map[bool]string{true: "okta", false: "entra"}[okta]
			t.Run(client+"/"+state, func(t *testing.T) {
				s := setup{srv: srv, ou: srv.NewOU(t), top: `count_refresh = "0"`}
				srv.AddUsers(t, s.ou.People, "imp", n)
				b := newBackend(t, s)
				ctx := ctxT(t)
				settle(b)
				r := b.res["User"]
				if got, known := r.count.get(); !known || got != n {
					t.Fatalf("maintained count %d (known %v), want %d", got, known, n)
				}
				var between func(int, []string)
				want := map[string]bool{}
				for i := range n {
					want[fmt.Sprintf("imp%05d", i)] = true
				}
				switch state {
				case "high":
					r.count.observe(r.count.mark(), n+57)
				case "low":
					r.count.observe(r.count.mark(), n-57)
				case "unknown":
					forget(r)
				case "churn":
					// Another program adds an entry and deletes one not
					// yet read after every page; the deleted ones are not
					// expected, the added ones are (they come last in
					// the directory's order).
					admin := srv.Conn(t)
					between = func(page int, seen []string) {
						uid := fmt.Sprintf("new%05d", page)
						addUser(t, admin, s.ou, uid)
						want[uid] = true
						read := map[string]bool{}
						for _, u := range seen {
							read[u] = true
						}
						gone := ""
						for u := range want {
							if strings.HasPrefix(u, "imp") && !read[u] && u > gone {
								gone = u
							}
						}
						if gone == "" {
							return
						}
						if err := admin.Del(goldap.NewDelRequest("uid="+gone+","+s.ou.People, nil)); err != nil {
							t.Fatal(err)
						}
						delete(want, gone)
					}
				case "bridge":
					// Through the bridge, after every page: a user already
					// read is deleted (it was read: still expected), one
					// is added (read last).
					between = func(page int, seen []string) {
						uid := fmt.Sprintf("bnew%05d", page)
						mustCreate(t, b, "User", user(uid))
						want[uid] = true
						p, err := b.Search(ctx, "User", backends.Query{Filter: backends.Compare{Attr: "uid", Op: backends.Eq, Value: seen[page]}})
						if err != nil || len(p.Records) != 1 {
							t.Fatalf("%s: %d users, %v", seen[page], len(p.Records), err)
						}
						if err := b.Delete(ctx, "User", p.Records[0].ID); err != nil {
							t.Fatal(err)
						}
					}
				}
				seen, last := importLoop(t, ctx, b, okta, count, between)
				got := map[string]bool{}
				for _, uid := range seen {
					if got[uid] {
						t.Fatalf("%s read twice", uid)
					}
					got[uid] = true
				}
				for uid := range want {
					if !got[uid] {
						t.Errorf("%s never read (%d read)", uid, len(seen))
					}
				}
				if len(seen) != len(want) {
					t.Errorf("read %d entries, want %d", len(seen), len(want))
				}
				if okta && last != len(seen) {
					t.Errorf("last page's totalResults %d, read %d", last, len(seen))
				}
				// The end of the listing set the maintained count, or the
				// bridge's own writes kept it.
				held := len(srv.Search(t, s.ou.People, "(objectClass=inetOrgPerson)", "1.1"))
				if got, known := r.count.get(); !known || got != held {
					t.Errorf("maintained count after the import %d (known %v), the directory holds %d", got, known, held)
				}
			})
		}
	}
}

// TestCountFollowsWrites: creates and deletes through the backend move the
// maintained count, so the totalResults of a first page is right without
// a scan.
func TestCountFollowsWrites(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	srv.AddUsers(t, s.ou.People, "cw", 30)
	b := newBackend(t, s)
	ctx := ctxT(t)
	settle(b)
	u := mustCreate(t, b, "User", user("cwextra"))
	total := func() int {
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: 1, Count: 5})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	if got := total(); got != 31 {
		t.Fatalf("after a create: totalResults %d, want 31", got)
	}
	if err := b.Delete(ctx, "User", u.ID); err != nil {
		t.Fatal(err)
	}
	if got := total(); got != 30 {
		t.Fatalf("after a delete: totalResults %d, want 30", got)
	}
	p, err := b.Search(ctx, "User", backends.Query{CountOnly: true})
	if err != nil || p.Total != 30 {
		t.Fatalf("count only: %d, %v", p.Total, err)
	}
}

// TestFirstPageDoesNotWaitForTheCount: on a directory so slow that
// counting its users takes longer than the client waits for a page, the
// first page of an import still arrives, and the import reads every
// user. Each of the count's 60 round trips is held 50 ms (3 s in all);
// the client waits 2 s for the first page, of which the first page waits
// for the count 1 s (what the per-operation timeout leaves), then answers
// the lower bound. Before the maintained count, the first page counted in
// front of its answer and failed.
func TestFirstPageDoesNotWaitForTheCount(t *testing.T) {
	const n = 300
	b := slowCountBackend(t, "slow", n)
	var seen []string
	for start, count := 1, 5; ; start += count {
		wait := time.Minute
		if start == 1 {
			wait = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		p, err := b.Search(ctx, "User", backends.Query{StartIndex: start, Count: count, Attrs: []string{"uid"}})
		cancel()
		if err != nil {
			t.Fatalf("page at %d: %v", start, err)
		}
		for _, r := range p.Records {
			seen = append(seen, r.Attrs.Get("uid")[0])
		}
		if start+count > p.Total {
			if p.Total != n || len(seen) != n {
				t.Fatalf("import ended at %d with totalResults %d, %d read; want %d", start, p.Total, len(seen), n)
			}
			return
		}
		if start == 1 {
			// The rest of the import in a few pages: the link is slow.
			start, count = 1+count-100, 100
		}
	}
}

// TestFirstPageWaitsForTheFirstCount: just after start, while the first
// count is still running (3 s on the slow link), a first page whose
// request leaves the time waits for it and answers the exact
// totalResults, not a lower bound a client could stop at.
func TestFirstPageWaitsForTheFirstCount(t *testing.T) {
	const n = 300
	b := slowCountBackend(t, "wait", n)
	if _, known := b.res["User"].count.get(); known {
		t.Fatal("the first count ended before the first page was asked; the test needs it running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.Search(ctx, "User", backends.Query{StartIndex: 1, Count: 5, Attrs: []string{"uid"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != n || len(p.Records) != 5 {
		t.Fatalf("first page: totalResults %d with %d records; want %d with 5", p.Total, len(p.Records), n)
	}
}

// slowCountBackend starts a backend (count_refresh "0": one count, at
// start) on n users behind a link that holds each answer 50 ms, so that
// counting them in pages of 5 takes 3 s.
func slowCountBackend(t *testing.T, prefix string, n int) *Backend {
	s := setup{srv: ldaptest.Shared(t), timeout: "1s", top: "page_size = 5\ncount_refresh = \"0\""}
	s.ou = s.srv.NewOU(t)
	s.srv.AddUsers(t, s.ou.People, prefix, n)
	t.Setenv("TEST_LDAP_URL", slowLink(t, strings.TrimPrefix(s.srv.URL, "ldap://"), 50*time.Millisecond))
	cfg, diags := decode(t, s.hcl())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return startBackend(t, cfg)
}

// TestCountRefreshSetting: count_refresh takes a duration, "0" (count
// only at start) and refuses a negative one or a word.
func TestCountRefreshSetting(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{{"", 10 * time.Minute, true}, {"0", 0, true}, {"1h", time.Hour, true}, {"-1m", 0, false}, {"often", 0, false}} {
		s := setup{ou: ldaptest.OU{People: "ou=people,dc=example,dc=org", Groups: "ou=groups,dc=example,dc=org"}}
		if tc.value != "" {
			s.top = fmt.Sprintf("count_refresh = %q", tc.value)
		}
		t.Setenv("TEST_LDAP_URL", "ldap://127.0.0.1:1")
		cfg, diags := decode(t, s.hcl())
		if !tc.ok {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), "count_refresh") {
				t.Errorf("count_refresh = %q: %v, want an error naming it", tc.value, diags)
			}
			continue
		}
		if diags.HasErrors() {
			t.Errorf("count_refresh = %q: %v", tc.value, diags)
			continue
		}
		if cfg.countRefresh != tc.want {
			t.Errorf("count_refresh = %q: %s, want %s", tc.value, cfg.countRefresh, tc.want)
		}
	}
}

// TestCountSettlesWritesByTheLast: a DN the backend wrote while a count
// ran is settled by what its last write left there, whatever the scan
// returned; a write still under way when the count ends changes the
// figure only when it adds an entry the figure lacks or deletes one it
// holds. A delete begun during the scan of an entry that existed before
// (the scan may have returned it unnoted) leaves the count unsettled: it
// is set aside when the figure is known, counted again when it is not,
// and the last time taken as the lower bound. Ten other entries exist
// throughout; pre says the DN held an entry before the count. Before,
// a DN created, returned and deleted during the scan stayed in the
// figure, as did a pre-existing one returned before its delete
// (TestCountDuringWrites: 241 for 240).
func TestCountSettlesWritesByTheLast(t *testing.T) {
	const dn = "uid=w,ou=people,dc=example,dc=org"
	for _, tc := range []struct {
		name       string
		pre, known bool
		during     string // steps: visit (the scan returns the DN unnoted), saw, bc/bd (a create/delete begins), add, del, fail
		late       string // steps after the count's end
		want       int
		unsettled  bool // with a retry left, the count begins again
	}{
		{name: "created, returned, deleted", known: true, during: "bc add saw bd del", want: 10},
		{name: "created and deleted unreturned", known: true, during: "bc add bd del", want: 10},
		{name: "created, unreturned", known: true, during: "bc add", want: 11},
		{name: "created, returned", known: true, during: "bc add saw", want: 11},
		{name: "created, returned, deleted, created again, returned", known: true, during: "bc add saw bd del bc add saw", want: 11},
		{name: "returned, then deleted", pre: true, known: true, during: "visit bd del", want: 10},
		{name: "deleted unreturned", pre: true, known: true, during: "bd del", want: 10},
		{name: "returned, deleted, created again, returned", pre: true, known: true, during: "visit bd del bc add saw", want: 11},
		{name: "first count: returned, then deleted", pre: true, during: "visit bd del", want: 10, unsettled: true},
		{name: "first count: deleted unreturned (lower bound)", pre: true, during: "bd del", want: 9, unsettled: true},
		{name: "a create refused (exists), returned after", pre: true, known: true, during: "bc fail saw", want: 11},
		{name: "a create refused (exists), returned before", pre: true, known: true, during: "visit bc fail", want: 11},
		{name: "first count: a create refused (exists)", pre: true, during: "visit bc fail", want: 11},
		{name: "create ending late, returned", known: true, during: "bc saw", late: "add", want: 11},
		{name: "create ending late, unreturned", known: true, during: "bc", late: "add", want: 11},
		{name: "delete ending late", pre: true, known: true, during: "visit bd", late: "del", want: 10},
		{name: "first count: delete ending late", pre: true, during: "visit bd", late: "del", want: 10, unsettled: true},
		{name: "created, then a delete ending late", known: true, during: "bc add bd", late: "del", want: 10},
		{name: "created, returned, a delete and a create ending late", known: true, during: "bc add saw bd bc", late: "del add", want: 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// count plays the steps around one count, which ends with
			// retry, and returns the figure and whether it began again.
			count := func(retry bool) (n int, known, again bool) {
				var lc listCount
				if tc.known {
					lc.observe(lc.mark(), 10+btoi(tc.pre))
				}
				epoch, _, started := lc.startCount()
				if !started {
					t.Fatal("no count started")
				}
				scanned := 10
				play := func(steps string) {
					for _, s := range strings.Fields(steps) {
						switch s {
						case "visit", "saw":
							scanned++
							lc.saw(dn)
						case "bc", "bd":
							lc.begin(dn, s == "bd")
						case "add", "del", "fail":
							lc.done(dn, map[string]int{"add": 1, "del": -1, "fail": 0}[s])
						default:
							t.Fatalf("step %q", s)
						}
					}
				}
				play(tc.during)
				if _, _, again = lc.endCount(epoch, scanned, true, retry); again {
					return 0, false, true
				}
				play(tc.late)
				if len(lc.inflight) != 0 || len(lc.late) != 0 {
					t.Errorf("left in flight %v, late %v", lc.inflight, lc.late)
				}
				n, known = lc.get()
				return n, known, false
			}
			n, known, again := count(true)
			if again != tc.unsettled {
				t.Fatalf("with a retry left, begun again: %v, want %v", again, tc.unsettled)
			}
			if again {
				n, known, _ = count(false)
			}
			if !known || n != tc.want {
				t.Errorf("count %d (known %v), want %d", n, known, tc.want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestObserveOnlyWithoutWrites: a complete read of the listing sets the
// count only when the backend created or deleted nothing since it began;
// otherwise the count the backend kept stands.
func TestObserveOnlyWithoutWrites(t *testing.T) {
	const dn = "uid=w,ou=people,dc=example,dc=org"
	var lc listCount
	lc.observe(lc.mark(), 10)
	if n, known := lc.get(); !known || n != 10 {
		t.Fatalf("a read without writes: %d (known %v), want 10", n, known)
	}
	mark := lc.mark()
	lc.begin(dn, true)
	lc.done(dn, -1)
	lc.observe(mark, 10) // the read held the deleted entry
	if n, _ := lc.get(); n != 9 {
		t.Errorf("a read during a delete set %d, want the kept 9", n)
	}
	lc.begin(dn, false)
	if m := lc.mark(); m != -1 {
		t.Errorf("mark during a create: %d, want -1", m)
	}
	mark = lc.mark()
	lc.done(dn, 1)
	lc.observe(mark, 9) // the read began while the create was under way
	if n, _ := lc.get(); n != 10 {
		t.Errorf("a read begun during a create set %d, want the kept 10", n)
	}
	lc.observe(lc.mark(), 12) // others added two
	if n, _ := lc.get(); n != 12 {
		t.Errorf("a read without writes set %d, want 12", n)
	}
}

// TestCountAroundWritesUnderItsScan: users are deleted and renamed through
// the backend while the count's scan goes on (pages of 5 on a link that
// holds each answer 50 ms).
//   - A user the scan has already returned is deleted. With the figure
//     known, the count is set aside and the figure the backend kept stays
//     exact; with it unknown (just after start), the count is taken
//     again, and the figure is exact too. Before, the count kept the
//     deleted user.
//   - A user the scan has returned and one it has not reached are renamed
//     (uid is the RDN), the figure made wrong before: slapd keeps an
//     entry's id across a rename, its paged search returns each entry
//     once, and the count sets the directory's figure.
func TestCountAroundWritesUnderItsScan(t *testing.T) {
	const n = 100
	b := slowCountBackend(t, "cdel", n)
	<-b.counts.first
	ctx := ctxT(t)
	r := b.res["User"]
	srv := ldaptest.Shared(t)
	// slapd returns a search's entries in the same order each time: the
	// count's scan returns these first, and the last one last.
	order := srv.Search(t, r.baseDN, "(objectClass=inetOrgPerson)", "uid")
	last := len(order) - 1
	ids := map[int]string{}
	for _, i := range []int{0, 1, 2, last} {
		uid := order[i].GetAttributeValue("uid")
		found, err := b.Search(ctx, "User", backends.Query{Filter: backends.Compare{Attr: "uid", Op: backends.Eq, Value: uid}})
		if err != nil || len(found.Records) != 1 {
			t.Fatalf("%s: %d users, %v", uid, len(found.Records), err)
		}
		ids[i] = found.Records[0].ID
	}
	rename := func(i int) {
		mustModify(t, b, "User", ids[i], backends.Modification{Op: backends.ModReplace, Attr: "uid", Values: []string{fmt.Sprintf("renamed%d", i)}})
	}
	for _, tc := range []struct {
		name   string
		before func() // ahead of the count
		under  func() // once the scan has read 10 entries
		twice  bool   // the count scans twice
	}{
		{"delete, figure known", nil, func() { mustDelete(t, b, ids[0]) }, false},
		{"delete, figure unknown", func() { forget(r) }, func() { mustDelete(t, b, ids[1]) }, true},
		{"renames, figure wrong", func() { r.count.observe(r.count.mark(), 3*n) }, func() {
			var wg sync.WaitGroup
			wg.Go(func() { rename(2) })
			wg.Go(func() { rename(last) })
			wg.Wait()
		}, false},
	} {
		if tc.before != nil {
			tc.before()
		}
		before := b.entriesRead.Load()
		counted := make(chan struct{})
		go func() {
			defer close(counted)
			b.counts.refresh(r)
		}()
		for deadline := time.Now().Add(10 * time.Second); b.entriesRead.Load()-before < 10; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the count read fewer than 10 entries in 10 s", tc.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
		began := time.Now()
		tc.under()
		t.Logf("%s: the writes took %s", tc.name, time.Since(began))
		r.count.mu.Lock()
		running := r.count.running
		r.count.mu.Unlock()
		if !running {
			t.Fatalf("%s: the count ended before the writes did; the test needs it running", tc.name)
		}
		<-counted
		t.Logf("%s: the count took %s more", tc.name, time.Since(began))
		want := len(srv.Search(t, r.baseDN, "(objectClass=inetOrgPerson)", "1.1"))
		if got, ok := r.count.get(); !ok || got != want {
			t.Errorf("%s: after the count %d (known %v), the directory holds %d", tc.name, got, ok, want)
		}
		if read := b.entriesRead.Load() - before; tc.twice && read < int64(2*want-5) {
			t.Errorf("%s: the count read %d entries, want it taken twice (about %d)", tc.name, read, 2*want)
		}
	}
}

// mustDelete deletes the user id through b.
func mustDelete(t *testing.T, b *Backend, id string) {
	t.Helper()
	if err := b.Delete(ctxT(t), "User", id); err != nil {
		t.Fatal(err)
	}
}

// TestCountDuringWrites: counts taken again and again while the backend
// creates users, deletes some of them and deletes users that were there
// before end with the directory's exact number: a write the scan may or
// may not have seen is settled by its DN, never counted twice or lost.
func TestCountDuringWrites(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t), top: `count_refresh = "0"`}
	srv.AddUsers(t, s.ou.People, "cdw", 200)
	b := newBackend(t, s)
	ctx := ctxT(t)
	settle(b)
	r := b.res["User"]
	before, err := b.Search(ctx, "User", backends.Query{StartIndex: 1, Count: 20, Attrs: []string{"uid"}})
	if err != nil || len(before.Records) != 20 {
		t.Fatalf("%d users, %v", len(before.Records), err)
	}
	stop := make(chan struct{})
	counted := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				counted <- n
				return
			default:
			}
			b.counts.refresh(r)
			n++
		}
	}()
	var ids []string
	for i := range 60 {
		u := mustCreate(t, b, "User", user(fmt.Sprintf("cdwnew%02d", i)))
		ids = append(ids, u.ID)
		if i%3 == 2 {
			if err := b.Delete(ctx, "User", ids[0]); err != nil {
				t.Fatal(err)
			}
			ids = ids[1:]
		}
		if i%3 == 1 {
			if err := b.Delete(ctx, "User", before.Records[i/3].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	rounds := <-counted
	want := len(srv.Search(t, s.ou.People, "(objectClass=inetOrgPerson)", "1.1"))
	if got, known := r.count.get(); !known || got != want {
		t.Fatalf("maintained count %d (known %v) after %d counts during the writes; the directory holds %d", got, known, rounds, want)
	}
	t.Logf("%d counts ran during 60 creates and 40 deletes", rounds)
}

// TestListingsBeyondTheServerSizeLimit: slapd's size limit (olcSizeLimit
// 500, the default) bounds paged searches too, for every account but the
// root DN. Bound as the documented service account on a stock slapd with
// 620 users, listings stop at 500: the request is refused as the
// directory's refusal of the bridge's account (ErrPermission: 502), the
// log names the remedy, and validate --live reports it at the resource.
// With the documented olcLimits rule, a filtered first page of 600 (a
// single search asking a size limit of 601, then the paged cursor), a
// page of all, a single-entry filter and a page of the whole listing
// answer completely.
func TestListingsBeyondTheServerSizeLimit(t *testing.T) {
	srv := ldaptest.Own(t, ldaptest.Options{Stock: true})
	s := setup{srv: srv, ou: srv.NewOU(t)}
	srv.GrantService(t, s.ou)
	const n = 620
	srv.AddUsers(t, s.ou.People, "lim", n)
	hcl := strings.Replace(s.hcl(), `env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.URL), 1)
	hcl = strings.Replace(hcl, `env("TEST_LDAP_BIND_DN")`, fmt.Sprintf("%q", ldaptest.ServiceDN), 1)
	hcl = strings.Replace(hcl, `env("TEST_LDAP_BIND_PASSWORD", "")`, fmt.Sprintf("%q", ldaptest.ServicePassword), 1)
	cfg, diags := decode(t, hcl)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var logged strings.Builder
	var mu sync.Mutex
	log := hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	})})
	b, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx := ctxT(t)
	sw := backends.Compare{Attr: "uid", Op: backends.Sw, Value: "lim"}

	// As the server is set up: the limit stops the listing.
	_, err = b.Search(ctx, "User", backends.Query{StartIndex: 1, Count: 600, Attrs: []string{"uid"}, Filter: sw})
	if !errors.Is(err, backends.ErrPermission) {
		t.Fatalf("a listing past the server's size limit: %v; want the directory's refusal of the account (ErrPermission)", err)
	}
	// The line is logged once a minute: by this refusal, or by the count
	// at start, which may meet the limit first and still be writing it.
	says := func(text string) bool {
		return strings.Contains(text, "size limit for the bridge's account") && strings.Contains(text, `olcLimits: dn.exact=\"<bind_dn>\" size=unlimited`)
	}
	var text string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		text = logged.String()
		mu.Unlock()
		if says(text) || time.Now().After(deadline) {
			break
		}
	}
	if !says(text) {
		t.Fatalf("the log does not say what stopped the listing and how to lift it:\n%s", text)
	}
	live := b.CheckLive(ctx)
	found := false
	for _, d := range live {
		if d.Summary == "Listing stopped by the directory's size limit" && strings.Contains(d.Detail, "stopped after 500 entries") && strings.Contains(d.Detail, "olcLimits") {
			found = true
		}
	}
	if !found {
		t.Fatalf("validate --live does not report the limit: %v", live)
	}

	srv.LiftServiceLimits(t)
	for _, d := range b.CheckLive(ctx) {
		if strings.HasPrefix(d.Summary, "Listing stopped") {
			t.Fatalf("validate --live still reports the limit once lifted: %v", d)
		}
	}
	for _, tc := range []struct {
		name   string
		filter backends.Filter
		count  int
		want   int // records on the page
		total  int
	}{
		{"filter, page over the server's limit", sw, 600, 600, n},
		{"filter, page of all", sw, 1000, n, n},
		{"filter, one entry", backends.Compare{Attr: "uid", Op: backends.Eq, Value: "lim00042"}, 100, 1, 1},
		{"whole listing, page over the limit", nil, 550, 550, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := b.Search(ctx, "User", backends.Query{StartIndex: 1, Count: tc.count, Attrs: []string{"uid"}, Filter: tc.filter})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tc.want || p.Total != tc.total {
				t.Fatalf("%d records, totalResults %d; want %d, %d", len(p.Records), p.Total, tc.want, tc.total)
			}
			seen := map[string]bool{}
			for _, r := range p.Records {
				uid := r.Attrs.Get("uid")[0]
				if seen[uid] || !strings.HasPrefix(uid, "lim") {
					t.Fatalf("record %q repeated or not asked for", uid)
				}
				seen[uid] = true
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStartCountsWhatNoRequestCounted: the counts taken at start go type
// by type; a type that a request counted meanwhile (its first page, or
// count=0, waits for a count of its own) is not counted a second time,
// which at a million users would be a second scan of every name.
func TestStartCountsWhatNoRequestCounted(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	const n = 40
	srv.AddUsers(t, s.ou.People, "sc", n)
	b := newBackend(t, s)
	<-b.counts.first
	users, groups := b.res["User"], b.res["Group"]
	// As at start: no count known; a request has counted the users.
	forget(users)
	forget(groups)
	if _, known := b.counts.awaitCount(ctxT(t), users, true, 0); !known {
		t.Fatal("the request's count did not end")
	}
	before := b.entriesRead.Load()
	b.counts.countAll(true)
	if read := b.entriesRead.Load() - before; read != 0 {
		t.Errorf("the counts at start read %d names again (the OU has no groups)", read)
	}
	if got, known := groups.count.get(); !known || got != 0 {
		t.Errorf("groups: count %d, known %v", got, known)
	}
	// Later rounds count every type.
	before = b.entriesRead.Load()
	b.counts.countAll(false)
	if read := b.entriesRead.Load() - before; read != n {
		t.Errorf("a refresh read %d names, want %d", read, n)
	}
}
