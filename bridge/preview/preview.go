// Package preview reads every entry an endpoint's mappings cover, maps
// each to SCIM and back, and reports what an identity provider would trip
// over: entries that do not map, values that do not round-trip, duplicate
// userNames and e-mails, users without userName, group members outside
// the users read. It is what `scimbridge preview` runs, and what the
// benchmark times. It only reads: it is handed a Reader, which has no
// method that writes.
package preview

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Progress is told how far a scan is.
type Progress interface {
	Start(what string, total int)
	Set(n int)
	Done()
}

type noProgress struct{}

func (noProgress) Start(string, int) {}
func (noProgress) Set(int)           {}
func (noProgress) Done()             {}

// Options are the choices of a preview.
type Options struct {
	// Limit reads at most this many users and this many groups (0: all).
	Limit int
	// Progress, if not nil, is told how far each scan is.
	Progress Progress
}

// Run previews endpoint ep, reading through r.
func Run(ctx context.Context, r Reader, ep *config.Endpoint, o Options) (*Report, error) {
	p := &previewer{r: r, ep: ep, limit: o.Limit, progress: o.Progress}
	if p.progress == nil {
		p.progress = noProgress{}
	}
	return p.run(ctx)
}

// pageSize is how many entries preview reads per search.
const pageSize = 500

// The kinds of Finding preview reports.
const (
	Unmappable         = "unmappable"           // an attribute of the entry does not map to SCIM
	NotRoundTrip       = "not_round_trip"       // a value would be written back differently
	DuplicateUserName  = "duplicate_userName"   // two users share a userName (compared case-insensitively)
	DuplicateEmail     = "duplicate_email"      // two users share an e-mail address
	NoUserName         = "no_userName"          // a user without the identifier IdPs match on
	MemberOutsideScope = "member_outside_scope" // a group member that is not among the users read
)

// Finding is one problem preview found in the directory.
type Finding struct {
	Kind      string `json:"kind"`
	Resource  string `json:"resource"`
	ID        string `json:"id"`
	Attribute string `json:"attribute,omitempty"`
	Detail    string `json:"detail"`
}

// Summary counts what preview read and found.
type Summary struct {
	Users             int            `json:"users"`
	Groups            int            `json:"groups"`
	UsersWithoutEmail int            `json:"usersWithoutEmail"`
	Findings          map[string]int `json:"findings"`
	Limited           bool           `json:"limited,omitempty"` // --limit stopped the read early
	Seconds           float64        `json:"seconds"`
	EntriesPerSecond  float64        `json:"entriesPerSecond"`
}

// Report is what a preview found.
type Report struct {
	Endpoint string    `json:"endpoint"`
	Summary  Summary   `json:"summary"`
	Findings []Finding `json:"findings"`
}

// Reader is all preview may do with a backend: it is handed nothing that
// can write, so it is read-only by construction.
type Reader interface {
	Search(ctx context.Context, resourceType string, q backends.Query) (backends.Page, error)
}

type previewer struct {
	r        Reader
	ep       *config.Endpoint
	limit    int
	progress Progress

	found   []Finding
	userIDs map[string]bool
	names   map[string][]string // lower-case userName → ids
	emails  map[string][]string // lower-case e-mail → ids
	sum     Summary
	// roundTripAttrs are, per mapping, the attributes a PUT writes back
	// from what it read, by lower-case native name.
	roundTripAttrs map[*mapping.Mapping]map[string]*mapping.Attr
}

func (p *previewer) add(kind, resource, id, attr, detail string) {
	p.found = append(p.found, Finding{Kind: kind, Resource: resource, ID: id, Attribute: attr, Detail: detail})
	p.sum.Findings[kind]++
}

func (p *previewer) run(ctx context.Context) (*Report, error) {
	start := time.Now()
	p.userIDs, p.names, p.emails = map[string]bool{}, map[string][]string{}, map[string][]string{}
	p.roundTripAttrs = map[*mapping.Mapping]map[string]*mapping.Attr{}
	p.sum.Findings = map[string]int{}
	if m := p.ep.Users; m != nil {
		n, err := p.scan(ctx, m, p.user)
		if err != nil {
			return nil, err
		}
		p.sum.Users = n
		p.duplicates(DuplicateUserName, "userName", p.names, "Okta and Entra match an existing user by userName: only one of them can be linked")
		p.duplicates(DuplicateEmail, "emails", p.emails, "an identity provider that matches by e-mail links only one of them")
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
	if p.found == nil {
		p.found = []Finding{}
	}
	return &Report{Endpoint: p.ep.Name, Summary: p.sum, Findings: p.found}, nil
}

// scan reads every record of m's resource type, page by page, and hands
// each to check with its SCIM form.
func (p *previewer) scan(ctx context.Context, m *mapping.Mapping, check func(*mapping.Mapping, backends.Record, scim.Doc)) (int, error) {
	rt := m.RT.Name
	read, total := 0, -1
	for {
		count := pageSize
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
			p.progress.Start(rt, total)
		}
		for _, rec := range page.Records {
			doc, err := m.FromNative(rec)
			var problems mapping.ReadProblems
			unmapped := map[string]bool{}
			switch {
			case errors.As(err, &problems):
				for _, pr := range problems {
					unmapped[pr.Attr] = true
					p.add(Unmappable, rt, rec.ID, pr.Attr, fmt.Sprintf("left out of the SCIM resource: %s (mapping at %s)", pr.Err, pr.Range))
				}
			case err != nil:
				p.add(Unmappable, rt, rec.ID, "", err.Error())
				continue
			}
			p.roundTrip(m, rec, doc, unmapped)
			check(m, rec, doc)
		}
		read += len(page.Records)
		p.progress.Set(read)
		if len(page.Records) == 0 || read >= page.Total || (p.limit > 0 && read >= p.limit) {
			if p.limit > 0 && read < page.Total {
				p.sum.Limited = true
			}
			p.progress.Done()
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
		p.add(NotRoundTrip, m.RT.Name, rec.ID, "", "the resource as read cannot be written back: "+err.Error())
		return
	}
	// What a PUT writes back from what it read: attributes read and
	// written by one mapping (not read-only ones, not write-only ones such
	// as a password, not member lists, not computed attributes).
	checked := p.roundTripAttrs[m]
	if checked == nil { // once per mapping, not per entry
		checked = map[string]*mapping.Attr{}
		for _, a := range m.Attrs {
			if a.ReadOnly || a.WriteOnly || m.Lists[a.Path.Attr.Name] == a || a.Native == "" {
				continue
			}
			checked[strings.ToLower(a.Native)] = a
		}
		p.roundTripAttrs[m] = checked
	}
	natives := make([]string, 0, len(back))
	for k := range back {
		natives = append(natives, k)
	}
	sort.Strings(natives)
	for _, k := range natives {
		a := checked[strings.ToLower(k)]
		if a == nil || unmapped[a.Label] {
			continue
		}
		stored, written := nonEmpty(rec.Attrs.Get(k)), nonEmpty(back[k])
		if sameValues(stored, written) || (len(stored) == 0 && a.Default != nil) {
			continue
		}
		p.add(NotRoundTrip, m.RT.Name, rec.ID, a.Label, fmt.Sprintf("%s stores %s, which reads as a SCIM value that writes back as %s: the identity provider cannot tell them apart, and a PUT that changes it writes the latter",
			k, quoteList(stored), quoteList(written)))
	}
}

func (p *previewer) user(m *mapping.Mapping, rec backends.Record, doc scim.Doc) {
	p.userIDs[rec.ID] = true
	name, _ := doc["userName"].(string)
	if strings.TrimSpace(name) == "" {
		p.add(NoUserName, backends.User, rec.ID, "userName", "no userName: an identity provider can neither match nor update this user")
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
	p.add(MemberOutsideScope, backends.Group, rec.ID, "members", fmt.Sprintf("%d member(s) are not among the users of this endpoint: %s%s",
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

// Write prints the report as table, json or csv.
func (rep *Report) Write(w io.Writer, format string) error {
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
