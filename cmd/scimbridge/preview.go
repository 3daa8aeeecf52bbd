package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// previewPageSize is how many entries preview reads per search.
const previewPageSize = 500

// The kinds of finding preview reports.
const (
	findUnmappable   = "unmappable"           // an attribute of the entry does not map to SCIM
	findRoundTrip    = "not_round_trip"       // a value would be written back differently
	findDupUserName  = "duplicate_userName"   // two users share a userName (compared case-insensitively)
	findDupEmail     = "duplicate_email"      // two users share an e-mail address
	findNoUserName   = "no_userName"          // a user without the identifier IdPs match on
	findOutsideScope = "member_outside_scope" // a group member that is not among the users read
)

// finding is one problem preview found in the directory.
type finding struct {
	Kind      string `json:"kind"`
	Resource  string `json:"resource"`
	ID        string `json:"id"`
	Attribute string `json:"attribute,omitempty"`
	Detail    string `json:"detail"`
}

// previewSummary counts what preview read and found.
type previewSummary struct {
	Users             int            `json:"users"`
	Groups            int            `json:"groups"`
	UsersWithoutEmail int            `json:"usersWithoutEmail"`
	Findings          map[string]int `json:"findings"`
	Limited           bool           `json:"limited,omitempty"` // --limit stopped the read early
	Seconds           float64        `json:"seconds"`
	EntriesPerSecond  float64        `json:"entriesPerSecond"`
}

type previewReport struct {
	Endpoint string         `json:"endpoint"`
	Summary  previewSummary `json:"summary"`
	Findings []finding      `json:"findings"`
}

// reader is all preview may do with a backend: it is handed nothing that
// can write, so it is read-only by construction.
type reader interface {
	Search(ctx context.Context, resourceType string, q backends.Query) (backends.Page, error)
}

// cmdPreview reads every entry an endpoint's mappings cover, maps each to
// SCIM and back, and reports what an identity provider would trip over.
func cmdPreview(args []string, stdout, stderr io.Writer) int {
	var endpoint, format *string
	var limit *int
	cfg, code := loadConfig("preview", args, stdout, stderr, func(fs *flag.FlagSet) {
		endpoint = fs.String("endpoint", "", "endpoint name (default: the first)")
		limit = fs.Int("limit", 0, "read at most this many users and this many groups (0: all)")
		format = fs.String("format", "table", "report format: table, json or csv")
	})
	if cfg == nil {
		return code
	}
	if !slices.Contains([]string{"table", "json", "csv"}, *format) || *limit < 0 {
		fmt.Fprintf(stderr, "scimbridge preview: --format must be table, json or csv and --limit not negative\n")
		return 2
	}
	ep := findEndpoint(cfg, *endpoint)
	if ep == nil {
		fmt.Fprintf(stderr, "scimbridge preview: no endpoint %q\n", *endpoint)
		return 1
	}
	log := newLogger(cfg.Settings, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	be, err := openBackend(ctx, cfg, ep.Backend, log)
	cancel()
	if err != nil {
		log.Error("cannot open backend", "error", err)
		return 1
	}
	defer be.Close()
	if b := cfg.Backends[ep.Backend]; b.Lookups != nil && len(b.Lookups.Names()) > 0 {
		src, ok := be.(backends.Lookuper)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if ok {
			err = b.Lookups.Load(ctx, src)
		} else {
			err = errors.New("the backend cannot read lookup tables")
		}
		cancel()
		if err != nil {
			log.Error("cannot read the lookup tables", "error", err)
			return 1
		}
	}
	p := &previewer{r: be, ep: ep, limit: *limit, progress: newProgress(stderr)}
	rep, err := p.run(context.Background())
	if err != nil {
		log.Error("preview stopped: cannot read the directory", "error", err)
		return 1
	}
	if err := writeReport(stdout, rep, *format); err != nil {
		fmt.Fprintln(stderr, "scimbridge preview:", err)
		return 1
	}
	return 0
}

func findEndpoint(cfg *config.Config, name string) *config.Endpoint {
	for _, e := range cfg.Endpoints {
		if name == "" || e.Name == name {
			return e
		}
	}
	return nil
}

// openBackend connects the one backend named name.
func openBackend(ctx context.Context, cfg *config.Config, name string, log hclog.Logger) (backends.Backend, error) {
	b := cfg.Backends[name]
	be, err := kinds.Types()[b.Type].Open(ctx, b.Config, log.Named("backend").Named(name))
	if err != nil {
		return nil, fmt.Errorf("backend %q (%s, %s): %w", name, b.Type, b.Range, err)
	}
	return be, nil
}

type previewer struct {
	r        reader
	ep       *config.Endpoint
	limit    int
	progress progress

	findings []finding
	userIDs  map[string]bool
	names    map[string][]string // lower-case userName → ids
	emails   map[string][]string // lower-case e-mail → ids
	sum      previewSummary
}

func (p *previewer) add(kind, resource, id, attr, detail string) {
	p.findings = append(p.findings, finding{Kind: kind, Resource: resource, ID: id, Attribute: attr, Detail: detail})
	p.sum.Findings[kind]++
}

func (p *previewer) run(ctx context.Context) (*previewReport, error) {
	start := time.Now()
	p.userIDs, p.names, p.emails = map[string]bool{}, map[string][]string{}, map[string][]string{}
	p.sum.Findings = map[string]int{}
	if m := p.ep.Users; m != nil {
		n, err := p.scan(ctx, m, p.user)
		if err != nil {
			return nil, err
		}
		p.sum.Users = n
		p.duplicates(findDupUserName, "userName", p.names, "Okta and Entra match an existing user by userName: only one of them can be linked")
		p.duplicates(findDupEmail, "emails", p.emails, "an identity provider that matches by e-mail links only one of them")
	}
	if m := p.ep.Groups; m != nil {
		n, err := p.scan(ctx, m, p.group)
		if err != nil {
			return nil, err
		}
		p.sum.Groups = n
	}
	p.sum.Seconds = time.Since(start).Seconds()
	if p.sum.Seconds > 0 {
		p.sum.EntriesPerSecond = float64(p.sum.Users+p.sum.Groups) / p.sum.Seconds
	}
	if p.findings == nil {
		p.findings = []finding{}
	}
	return &previewReport{Endpoint: p.ep.Name, Summary: p.sum, Findings: p.findings}, nil
}

// scan reads every record of m's resource type, page by page, and hands
// each to check with its SCIM form.
func (p *previewer) scan(ctx context.Context, m *mapping.Mapping, check func(*mapping.Mapping, backends.Record, scim.Doc)) (int, error) {
	rt := m.RT.Name
	read, total := 0, -1
	for {
		count := previewPageSize
		if p.limit > 0 {
			count = min(count, p.limit-read)
		}
		page, err := p.r.Search(ctx, rt, backends.Query{StartIndex: read + 1, Count: count})
		if err != nil {
			return read, fmt.Errorf("reading %s entries %d-%d: %w", rt, read+1, read+count, err)
		}
		if total < 0 {
			total = page.Total
			if p.limit > 0 && p.limit < total {
				total = p.limit
			}
			p.progress.start(rt, total)
		}
		for _, rec := range page.Records {
			doc, err := m.FromNative(rec)
			var problems mapping.ReadProblems
			unmapped := map[string]bool{}
			switch {
			case errors.As(err, &problems):
				for _, pr := range problems {
					unmapped[pr.Attr] = true
					p.add(findUnmappable, rt, rec.ID, pr.Attr, fmt.Sprintf("left out of the SCIM resource: %s (mapping at %s)", pr.Err, pr.Range))
				}
			case err != nil:
				p.add(findUnmappable, rt, rec.ID, "", err.Error())
				continue
			}
			p.roundTrip(m, rec, doc, unmapped)
			check(m, rec, doc)
		}
		read += len(page.Records)
		p.progress.set(read)
		if len(page.Records) == 0 || read >= page.Total || (p.limit > 0 && read >= p.limit) {
			if p.limit > 0 && read < page.Total {
				p.sum.Limited = true
			}
			p.progress.done()
			return read, nil
		}
	}
}

// roundTrip maps doc back to native values, as a PUT of the resource an
// identity provider read would, and reports every native attribute that
// would change: a value the mapping reads but cannot write back as found.
// Attributes that did not map (unmapped, by label) are reported already.
func (p *previewer) roundTrip(m *mapping.Mapping, rec backends.Record, doc scim.Doc, unmapped map[string]bool) {
	back, err := m.ToNativeFrom(doc, &rec)
	if err != nil {
		p.add(findRoundTrip, m.RT.Name, rec.ID, "", "the resource as read cannot be written back: "+err.Error())
		return
	}
	// What a PUT writes back from what it read: attributes read and
	// written by one mapping (not read-only ones, not write-only ones such
	// as a password, not member lists, not computed attributes).
	checked := map[string]*mapping.Attr{}
	for _, a := range m.Attrs {
		if a.ReadOnly || a.WriteOnly || m.Lists[a.Path.Attr.Name] == a || a.Native == "" || unmapped[a.Label] {
			continue
		}
		checked[strings.ToLower(a.Native)] = a
	}
	natives := make([]string, 0, len(back))
	for k := range back {
		natives = append(natives, k)
	}
	sort.Strings(natives)
	for _, k := range natives {
		a := checked[strings.ToLower(k)]
		if a == nil {
			continue
		}
		stored, written := nonEmpty(rec.Attrs.Get(k)), nonEmpty(back[k])
		if sameValues(stored, written) || (len(stored) == 0 && a.Default != nil) {
			continue
		}
		p.add(findRoundTrip, m.RT.Name, rec.ID, a.Label, fmt.Sprintf("%s stores %s, which reads as a SCIM value that writes back as %s: the identity provider cannot tell them apart, and a PUT that changes it writes the latter",
			k, quoteList(stored), quoteList(written)))
	}
}

func (p *previewer) user(m *mapping.Mapping, rec backends.Record, doc scim.Doc) {
	p.userIDs[rec.ID] = true
	name, _ := doc["userName"].(string)
	if strings.TrimSpace(name) == "" {
		p.add(findNoUserName, backends.User, rec.ID, "userName", "no userName: an identity provider can neither match nor update this user")
	} else {
		k := strings.ToLower(name)
		p.names[k] = append(p.names[k], rec.ID)
	}
	emails, _ := doc["emails"].([]any)
	seen := map[string]bool{}
	for _, e := range emails {
		em, _ := e.(map[string]any)
		v, _ := em["value"].(string)
		if k := strings.ToLower(strings.TrimSpace(v)); k != "" && !seen[k] {
			seen[k] = true
			p.emails[k] = append(p.emails[k], rec.ID)
		}
	}
	if len(seen) == 0 {
		p.sum.UsersWithoutEmail++
	}
}

func (p *previewer) group(m *mapping.Mapping, rec backends.Record, _ scim.Doc) {
	list := m.Lists["members"]
	if list == nil || p.ep.Users == nil || p.sum.Limited {
		return // without every user read, a member not seen may be in scope
	}
	var outside []string
	for _, id := range rec.Attrs.Get(list.Native) {
		if id != "" && !p.userIDs[id] {
			outside = append(outside, id)
		}
	}
	if len(outside) == 0 {
		return
	}
	shown := outside
	if len(shown) > 10 {
		shown = shown[:10]
	}
	p.add(findOutsideScope, backends.Group, rec.ID, "members", fmt.Sprintf("%d member(s) are not among the users of this endpoint: %s%s",
		len(outside), strings.Join(shown, ", "), map[bool]string{true: ", ...", false: ""}[len(outside) > 10]))
}

// duplicates reports each value shared by more than one user, once, with
// every id that has it, in the order they were read.
func (p *previewer) duplicates(kind, attr string, seen map[string][]string, why string) {
	keys := make([]string, 0, len(seen))
	for k, ids := range seen {
		if len(ids) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ids := seen[k]
		p.add(kind, backends.User, ids[0], attr, fmt.Sprintf("%q is shared by %d users (%s): %s", k, len(ids), strings.Join(ids, ", "), why))
	}
}

func nonEmpty(vals []string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// sameValues compares two value lists as sets.
func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func quoteList(vals []string) string {
	if len(vals) == 0 {
		return "(nothing)"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func writeReport(w io.Writer, rep *previewReport, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"kind", "resource", "id", "attribute", "detail"})
		for _, f := range rep.Findings {
			_ = cw.Write([]string{f.Kind, f.Resource, f.ID, f.Attribute, f.Detail})
		}
		cw.Flush()
		return cw.Error()
	}
	s := rep.Summary
	fmt.Fprintf(w, "Endpoint %q: %d users, %d groups read in %.1f s (%.0f entries/s)", rep.Endpoint, s.Users, s.Groups, s.Seconds, s.EntriesPerSecond)
	if s.Limited {
		fmt.Fprint(w, " (stopped at --limit; members outside the scope not checked)")
	}
	fmt.Fprintf(w, "\n%d users have no e-mail address.\n", s.UsersWithoutEmail)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "No problems found.")
		return nil
	}
	kinds := make([]string, 0, len(s.Findings))
	for k := range s.Findings {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-22s %d\n", k, s.Findings[k])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tRESOURCE\tID\tATTRIBUTE\tDETAIL")
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Kind, f.Resource, f.ID, f.Attribute, f.Detail)
	}
	return tw.Flush()
}

// progress shows how far a scan is: a bar with entries/s and the time
// left on a terminal, plain lines every few seconds otherwise.
type progress interface {
	start(what string, total int)
	set(n int)
	done()
}

func newProgress(w io.Writer) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: 5 * time.Second}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *barProgress) start(what string, total int) {
	b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("entries"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }))
}
func (b *barProgress) set(n int) { _ = b.bar.Set(n) }
func (b *barProgress) done()     { _ = b.bar.Finish() }

type lineProgress struct {
	w          io.Writer
	every      time.Duration
	what       string
	total, n   int
	began, out time.Time
}

func (l *lineProgress) start(what string, total int) {
	l.what, l.total, l.n, l.began, l.out = what, total, 0, time.Now(), time.Now()
}

func (l *lineProgress) set(n int) {
	l.n = n
	if time.Since(l.out) >= l.every {
		l.out = time.Now()
		l.line()
	}
}

func (l *lineProgress) done() { l.line() }

func (l *lineProgress) line() {
	secs := time.Since(l.began).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(l.n) / secs
	}
	eta := "-"
	if rate > 0 && l.total > l.n {
		eta = (time.Duration(float64(l.total-l.n)/rate) * time.Second).String()
	}
	fmt.Fprintf(l.w, "preview: %s %d/%d (%.0f/s, %s left)\n", l.what, l.n, l.total, rate, eta)
}
