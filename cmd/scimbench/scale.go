package main

// The scale benchmark (-backend scale, `make bench-scale`): a directory of
// a million users, loaded the fast way (slapadd into a stopped slapd;
// INSERT ... SELECT generate_series inside PostgreSQL, which like COPY
// never goes through SCIM or the client), then an Okta-style import
// through the bridge: GET /Users?startIndex=N&count=200 until startIndex
// > totalResults. It prints the first page's latency on a freshly loaded
// server and a freshly started bridge (on slapd twice: the moment the
// bridge is up, when it waits for the count taken at start, then cold
// with the count known) and again after the import (warm), the page p50 / p99, the import time and the peak RSS of the
// bridge (scimbridge serve, built and started as a process of its own, as
// in production), each next to its goal, and a raw paged read of the same
// data for the ratio. It takes minutes and gigabytes of disk; `make
// bench` does not run it.

import (
	"bufio"
	"context"
	dbsql "database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// scaleUsers is -users: the sizes of the scale benchmark's directory, a
// comma-separated list (each size is a run of its own).
var scaleUsers string

const scalePage = 200

// scaleRow is one line of the summary table.
type scaleRow struct {
	backend string
	n       int
	imp     scaleImport
	raw     sample
}

func runScale(ctx context.Context, o options) error {
	var sizes []int
	for _, f := range strings.Split(scaleUsers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-users %q: want a number of users, or several separated by commas", scaleUsers)
		}
		if o.quick && n == 1000000 {
			n = 20000
		}
		sizes = append(sizes, n)
	}
	var rows []scaleRow
	for _, n := range sizes {
		fmt.Fprintf(o.out, "scale benchmark: %d users, Okta-style import in pages of %d\n", n, scalePage)
		row, err := scaleLDAP(ctx, o, n)
		if err != nil {
			return fmt.Errorf("slapd: %w", err)
		}
		rows = append(rows, row)
		if row, err = scalePostgres(ctx, o, n); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		rows = append(rows, row)
	}
	printScaleTable(o, rows)
	return nil
}

// printScaleTable prints the runs as the README's scale table (Markdown).
func printScaleTable(o options, rows []scaleRow) {
	fmt.Fprintf(o.out, "\n== scale summary (Markdown; an Okta-style import, count=%d, through scimbridge serve)\n", scalePage)
	fmt.Fprintln(o.out, "| users | backend | import | users/s | page p50 | page p99 | slowest page | first page, cold | bridge RSS | raw import |")
	fmt.Fprintln(o.out, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(o.out, "| %d | %s | %s | %.0f | %s | %s | %s | %s | %.0f MB | %s |\n", r.n, r.backend,
			short(r.imp.pages.total), float64(r.imp.seen)/r.imp.pages.total.Seconds(), short(r.imp.pages.percentile(0.50)),
			short(r.imp.pages.percentile(0.99)), short(r.imp.pages.percentile(1)), short(r.imp.first), r.imp.rssMB, short(r.raw.total))
	}
}

// procStatus reads one kB figure (VmRSS, VmHWM) of a process.
func procStatus(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// childBridge is `scimbridge serve` as its own process, as it runs in
// production (its own GC settings), so that its RSS is its own.
type childBridge struct {
	cmd  *exec.Cmd
	done chan struct{}
	http *loadClient
	log  string
}

// buildBridge builds cmd/scimbridge into dir.
func buildBridge(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "scimbridge")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/scimbridge").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/scimbridge: %v: %s", err, out)
	}
	return bin, nil
}

func startChildBridge(ctx context.Context, bin, cfg, token string, env map[string]string) (*childBridge, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cb := &childBridge{done: make(chan struct{}), log: filepath.Join(filepath.Dir(bin), "bridge.log")}
	logf, err := os.Create(cb.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cb.cmd = exec.Command(bin, "serve", "--config", cfg, "--listen", addr, "--log-level", "warn")
	cb.cmd.Env = append(os.Environ(), "SCIMBRIDGE_TOKEN="+token)
	for k, v := range env {
		cb.cmd.Env = append(cb.cmd.Env, k+"="+v)
	}
	cb.cmd.Stdout, cb.cmd.Stderr = logf, logf
	cb.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cb.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cb.cmd.Wait(); close(cb.done) }()
	if cb.http, err = newLoadClient("http://"+addr+"/scim/v2", token, 4); err != nil {
		cb.close()
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		status, _, err := cb.http.do(ctx, "GET", "/ServiceProviderConfig", nil)
		if err == nil && status == 200 {
			return cb, nil
		}
		select {
		case <-cb.done:
			out, _ := os.ReadFile(cb.log)
			return nil, fmt.Errorf("scimbridge serve ended: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			cb.close()
			return nil, fmt.Errorf("scimbridge serve not answering on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (cb *childBridge) do(ctx context.Context, method, path string, body, out any) error {
	return cb.http.call(ctx, method, path, body, out)
}

// peakMB is the bridge process's peak RSS so far.
func (cb *childBridge) peakMB() float64 {
	return float64(procStatus(cb.cmd.Process.Pid, "VmHWM")) / 1024
}

func (cb *childBridge) close() {
	if cb.http != nil {
		cb.http.close()
	}
	_ = cb.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-cb.done:
	case <-time.After(10 * time.Second):
		_ = cb.cmd.Process.Kill()
		<-cb.done
	}
}

// scaleImport is one Okta-style import through the bridge.
type scaleImport struct {
	first    time.Duration // the first page
	firstTot int           // its totalResults
	pages    sample        // every page, the first included
	seen     int
	lastTot  int
	rssMB    float64
	// atStart is a first page asked the moment the bridge is up: on LDAP
	// it waits for the count the backend takes at start.
	atStart    time.Duration
	atStartTot int
}

// oktaImport reads every user as Okta does: the next startIndex until it
// is past totalResults.
func oktaImport(ctx context.Context, bb *childBridge) (scaleImport, error) {
	var out scaleImport
	t0 := time.Now()
	for start := 1; ; start += scalePage {
		var page struct {
			TotalResults int
			Resources    []struct {
				ID string `json:"id"`
			}
		}
		t := time.Now()
		if err := bb.do(ctx, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, scalePage), nil, &page); err != nil {
			return out, fmt.Errorf("page at %d: %w", start, err)
		}
		d := time.Since(t)
		if start == 1 {
			out.first, out.firstTot = d, page.TotalResults
		}
		out.pages.lat = append(out.pages.lat, d)
		out.seen += len(page.Resources)
		out.lastTot = page.TotalResults
		if start+scalePage > page.TotalResults {
			break
		}
	}
	out.pages.total = time.Since(t0)
	out.rssMB = bb.peakMB()
	return out, nil
}

// firstPage times one first page.
func firstPage(ctx context.Context, bb *childBridge) (time.Duration, int, error) {
	var page struct{ TotalResults int }
	t := time.Now()
	err := bb.do(ctx, "GET", fmt.Sprintf("/Users?startIndex=1&count=%d", scalePage), nil, &page)
	return time.Since(t), page.TotalResults, err
}

func (s scaleImport) print(o options, label string, n int, warmFirst time.Duration, warmTot int, raw sample) {
	fmt.Fprintf(o.out, "\n== %s: Okta-style import of %d users, count=%d\n", label, n, scalePage)
	row := func(what, got, want string, ok bool) {
		verdict := ""
		if want != "" {
			verdict = "met"
			if !ok {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(o.out, "  %-36s %12s   %-10s %s\n", what, got, want, verdict)
	}
	if s.atStart > 0 {
		row("first page the moment the bridge is up", short(s.atStart), "", true)
		row("  (waits for the start count)", strconv.Itoa(s.atStartTot), strconv.Itoa(n), s.atStartTot == n)
	}
	row("first page, cold", short(s.first), "< 1 s", s.first < time.Second)
	row("  its totalResults", strconv.Itoa(s.firstTot), "", true)
	row("first page, warm (after the import)", short(warmFirst), "< 1 s", warmFirst < time.Second)
	row("  its totalResults", strconv.Itoa(warmTot), strconv.Itoa(n), warmTot == n)
	row("page p50", short(s.pages.percentile(0.50)), "", true)
	row("page p99", short(s.pages.percentile(0.99)), "", true)
	slowest := s.pages.percentile(1)
	row("slowest page", short(slowest), "< 1 s", slowest < time.Second)
	row("pages", strconv.Itoa(len(s.pages.lat)), "", true)
	row("import time", short(s.pages.total), "", true)
	row("users read", strconv.Itoa(s.seen), strconv.Itoa(n), s.seen == n)
	row("last page's totalResults", strconv.Itoa(s.lastTot), strconv.Itoa(n), s.lastTot == n)
	row("bridge peak RSS (scimbridge serve)", fmt.Sprintf("%.1f MB", s.rssMB), "< 64 MB", s.rssMB < 64)
	if raw.total > 0 {
		row("raw paged read, same pages", short(raw.total), "", true)
		row("raw page p50", short(raw.percentile(0.50)), "", true)
		row("import time, bridge/raw", fmt.Sprintf("%.2fx", s.pages.total.Seconds()/raw.total.Seconds()), "", true)
	}
}

// --- slapd ---------------------------------------------------------------

func scaleLDAP(ctx context.Context, o options, n int) (scaleRow, error) {
	cfg, err := findLDAPExample()
	if err != nil {
		return scaleRow{}, err
	}
	fmt.Fprintf(o.out, "\nstarting slapd as Debian's package sets it up (mdb; indexes objectClass, cn, uid; memberof, refint) ...\n")
	srv, err := ldaptest.Start(ldaptest.Options{Stock: true})
	if err != nil {
		return scaleRow{}, err
	}
	defer srv.Stop()
	ou, err := srv.CreateOU("scale")
	if err != nil {
		return scaleRow{}, err
	}
	t0 := time.Now()
	ldif := filepath.Join(srv.Dir, "scale.ldif")
	if err := writeScaleLDIF(ldif, ou.People, n); err != nil {
		return scaleRow{}, err
	}
	t1 := time.Now()
	if err := srv.Load(ldif); err != nil {
		return scaleRow{}, err
	}
	_ = os.Remove(ldif)
	serverPID.Store(int64(srv.PID()))
	defer serverPID.Store(0)
	fmt.Fprintf(o.out, "LDIF of %d users written in %s, slapadd -q into the stopped slapd in %s; slapd restarted (freshly loaded)\n",
		n, t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))

	// The count that every first page used to wait for: every DN, paged.
	conn, err := srv.DialAdmin()
	if err != nil {
		return scaleRow{}, err
	}
	defer conn.Close()
	t := time.Now()
	dns, err := rawLDAPRead(conn, ou.People, []string{"1.1"}, 1000, nil)
	if err != nil {
		return scaleRow{}, err
	}
	fmt.Fprintf(o.out, "raw paged read of all %d DNs (the count behind totalResults before, first after load): %s\n", dns, short(time.Since(t)))

	bin, err := buildBridge(ctx, srv.Dir)
	if err != nil {
		return scaleRow{}, err
	}
	lb, err := startChildBridge(ctx, bin, cfg, ldapBenchToken, srv.ExampleEnv(ou))
	if err != nil {
		return scaleRow{}, err
	}
	defer lb.close()
	atStart, atStartTot, err := firstPage(ctx, lb)
	if err != nil {
		return scaleRow{}, err
	}
	imp, err := oktaImport(ctx, lb)
	if err != nil {
		return scaleRow{}, err
	}
	imp.atStart, imp.atStartTot = atStart, atStartTot
	warm, warmTot, err := firstPage(ctx, lb)
	if err != nil {
		return scaleRow{}, err
	}
	var raw sample
	seen, err := rawLDAPRead(conn, ou.People, ldapUserAttrs, scalePage, &raw)
	if err != nil {
		return scaleRow{}, err
	}
	if seen != n {
		return scaleRow{}, fmt.Errorf("raw read saw %d users, want %d", seen, n)
	}
	imp.print(o, "slapd (examples/openldap.hcl)", n, warm, warmTot, raw)
	return scaleRow{backend: "OpenLDAP (slapd)", n: n, imp: imp, raw: raw}, nil
}

// writeScaleLDIF writes n inetOrgPerson entries below people.
func writeScaleLDIF(path, people string, n int) error { return writeUsersLDIF(path, people, "s", n) }

// writeUsersLDIF writes n inetOrgPerson entries named prefix0000000 ...
// below people.
func writeUsersLDIF(path, people, prefix string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		name := ldapUserName(prefix, i)
		fmt.Fprintf(w, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: Given Family %s\nsn: Family %s\ngivenName: Given\nmail: %s@example.org\ndisplayName: Given Family %s\n\n",
			name, people, name, name, name, name, name)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rawLDAPRead reads every entry below base with Simple Paged Results, as
// a raw go-ldap client importing the directory would; each page is timed
// into s when not nil. It returns the number of entries.
func rawLDAPRead(c *goldap.Conn, base string, attrs []string, size int, s *sample) (int, error) {
	paging := goldap.NewControlPaging(uint32(size))
	req := goldap.NewSearchRequest(base, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", attrs, []goldap.Control{paging})
	n := 0
	t0 := time.Now()
	for {
		t := time.Now()
		res, err := c.Search(req)
		if err != nil {
			return n, err
		}
		if s != nil {
			s.lat = append(s.lat, time.Since(t))
		}
		n += len(res.Entries)
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			break
		}
		paging.SetCookie(ctrl.Cookie)
	}
	if s != nil {
		s.total = time.Since(t0)
	}
	return n, nil
}

// --- PostgreSQL ----------------------------------------------------------

func scalePostgres(ctx context.Context, o options, n int) (scaleRow, error) {
	pg, err := startPostgresExample(ctx, o, "scale")
	if err != nil {
		return scaleRow{}, err
	}
	defer pg.close()
	serverPID.Store(int64(pg.srv.PID()))
	defer serverPID.Store(0)
	raw, err := dbsql.Open("pgx", pg.url)
	if err != nil {
		return scaleRow{}, err
	}
	defer raw.Close()
	t := time.Now()
	if err := bulkUsers(ctx, raw, "scl", 0, n); err != nil {
		return scaleRow{}, err
	}
	fmt.Fprintf(o.out, "%d rows loaded with INSERT ... SELECT generate_series and ANALYZE in %s\n", n, time.Since(t).Round(time.Millisecond))
	for _, when := range []string{"first", "second"} {
		var c int
		t := time.Now()
		if err := raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM hr_person").Scan(&c); err != nil {
			return scaleRow{}, err
		}
		fmt.Fprintf(o.out, "raw SELECT COUNT(*) over %d rows (%s): %s\n", c, when, short(time.Since(t)))
	}
	// A bridge of its own, started after the rows were loaded: its first
	// page is a fresh bridge's.
	dir, err := os.MkdirTemp("", "scimbench-scale-")
	if err != nil {
		return scaleRow{}, err
	}
	defer os.RemoveAll(dir)
	bin, err := buildBridge(ctx, dir)
	if err != nil {
		return scaleRow{}, err
	}
	cfg, err := filepath.Abs(filepath.Join(o.examples, "postgres.hcl"))
	if err != nil {
		return scaleRow{}, err
	}
	pb, err := startChildBridge(ctx, bin, cfg, pgBenchToken, map[string]string{"DATABASE_URL": pg.url})
	if err != nil {
		return scaleRow{}, err
	}
	defer pb.close()
	imp, err := oktaImport(ctx, pb)
	if err != nil {
		return scaleRow{}, err
	}
	warm, warmTot, err := firstPage(ctx, pb)
	if err != nil {
		return scaleRow{}, err
	}
	var rs sample
	var last int64
	t0 := time.Now()
	for range (n + scalePage - 1) / scalePage {
		t := time.Now()
		if last, err = rawPage(ctx, raw, last, scalePage); err != nil {
			return scaleRow{}, err
		}
		rs.lat = append(rs.lat, time.Since(t))
	}
	rs.total = time.Since(t0)
	imp.print(o, "PostgreSQL (examples/postgres.hcl)", n, warm, warmTot, rs)
	return scaleRow{backend: "PostgreSQL", n: n, imp: imp, raw: rs}, nil
}
