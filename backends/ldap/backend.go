package ldap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/backends"
)

var (
	_ prometheus.Collector = (*Backend)(nil)
	_ backends.Backend     = (*Backend)(nil)
	_ backends.Pinger      = (*Backend)(nil)
)

// Backend stores SCIM records in an LDAP directory.
type Backend struct {
	cfg     *Config
	log     hclog.Logger
	pool    *pool
	cache   *idCache
	moves   *recentMoves
	res     map[string]*resource
	cursors *cursors
	counts  *counts

	capsMu sync.Mutex
	caps   atomic.Pointer[caps]
	// permissive: 0 unknown, 1 the server takes the permissive modify
	// control, -1 it does not (values are then checked before writing).
	permissive atomic.Int32
	// limitLogged is when logLimit last logged (UnixNano).
	limitLogged atomic.Int64
	// sizeLimit is what is known of the server's handling of a search's
	// size limit: limitUnknown until the probe at start (probeSizeLimit)
	// or a first page (firstPage) sees it honoured or ignored.
	sizeLimit atomic.Int32

	metrics *metrics

	// entriesRead: entries searches returned (scimbridge_ldap_entries_read_total).
	entriesRead atomic.Int64
	// stats for tests and logs
	modifies atomic.Int64
	requests atomic.Int64 // operations sent through run

	closeOnce sync.Once
}

// resource is one configured resource type, checked and parsed.
type resource struct {
	typ     string
	cfg     *ResourceConfig
	base    *goldap.DN
	baseDN  string
	scope   int
	filter  string
	rdnAttr string
	refs    []*reference
	// disabled is the parsed disabled_base_dn; nil without one.
	disabled   *goldap.DN
	disabledDN string
	// disabledInside: the disabled container is below the base DN.
	disabledInside bool
	// disabledReady: the disabled container is known to exist (see
	// ensureDisabled, which holds disabledMu while it checks).
	disabledReady atomic.Bool
	disabledMu    sync.Mutex
	// gen changes on every write through the backend, so cursors and
	// snapshots know their totals may be stale.
	gen atomic.Int64
	// count is the maintained count of the whole listing (listcount.go).
	count listCount
	// reads caches planRead's answers by attribute list (at most 256).
	reads  sync.Map
	readsN atomic.Int32
}

type reference struct {
	attr          string
	src, target   *resource
	byValue       bool   // value_kind "rdn"
	valueAttr     string // target attribute stored when byValue
	placeholder   string
	readOnly      bool
	ignoreUnknown bool       // unknown_ids = "ignore"
	inverse       *reference // set for inverse_of: the stored reference it mirrors
	transitive    bool       // inverse found with AD's in-chain rule
}

func (r *resource) ref(attr string) *reference {
	for _, ref := range r.refs {
		if strings.EqualFold(ref.attr, attr) {
			return ref
		}
	}
	return nil
}

func (r *resource) isPassword(attr string) bool {
	return r.cfg.PasswordAttribute != "" && strings.EqualFold(attr, r.cfg.PasswordAttribute)
}

// activeAttr is the virtual attribute of a resource with a disabled
// container: "FALSE" for entries below it, "TRUE" for the others. It is
// never sent to the directory.
const activeAttr = "scimbridgeActive"

// isActiveAttr reports whether attr is r's virtual active attribute.
func (r *resource) isActiveAttr(attr string) bool {
	return (r.disabled != nil || r.cfg.UserAccountControl) && strings.EqualFold(attr, activeAttr)
}

// isDisabled reports whether dn lies in r's disabled container.
func (r *resource) isDisabled(dn string) bool {
	if r.disabled == nil {
		return false
	}
	if r.disabledInside {
		// An entry directly below the base DN (spelled as configured)
		// is not below a container that is itself below the base DN:
		// most reads of active users, without parsing their DN.
		if rdn, ok := strings.CutSuffix(dn, ","+r.baseDN); ok && strings.IndexByte(rdn, '=') > 0 && !strings.ContainsAny(rdn, ",\\") {
			return false
		}
	}
	return depthBelow(dn, r.disabledDN, r.disabled) > 0
}

// activeValue is the virtual active attribute of the entry at dn.
func (r *resource) activeValue(dn string) string {
	if r.isDisabled(dn) {
		return "FALSE"
	}
	return "TRUE"
}

// contains reports whether dn is an entry of r's subtree (scope-wise).
func (r *resource) contains(dn string) bool {
	d := depthBelow(dn, r.baseDN, r.base)
	return d > 0 && (r.scope != goldap.ScopeSingleLevel || d == 1)
}

// depthBelow returns how many RDNs dn has below parent (spelled parentDN
// in the configuration), 0 when it is not below it. Most DNs come back
// spelled as configured: one plain RDN, then the parent; anything else is
// parsed.
func depthBelow(dn, parentDN string, parent *goldap.DN) int {
	if rdn, ok := strings.CutSuffix(dn, ","+parentDN); ok && strings.IndexByte(rdn, '=') > 0 && !strings.ContainsAny(rdn, ",\\") {
		return 1
	}
	p, err := goldap.ParseDN(dn)
	if err != nil || !parent.AncestorOfFold(p) {
		return 0
	}
	return len(p.RDNs) - len(parent.RDNs)
}

// New connects to the directory described by cfg. A directory that is down
// does not fail New: the backend reconnects on use and Ping reports it.
func New(ctx context.Context, cfg *Config, log hclog.Logger) (*Backend, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: ldap: nil config", backends.ErrInvalid)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, log: log.Named("ldap"), res: map[string]*resource{}}
	var err error
	b.metrics = newMetrics()
	if b.pool, err = newPool(cfg, b.log, b.metrics.dials); err != nil {
		return nil, err
	}
	b.metrics.watchPool(b.pool)
	b.metrics.watchReads(&b.entriesRead)
	b.moves = newRecentMoves()
	if b.cache, err = newIDCache(cfg.Cache.Size, cfg.Cache.ttl,
		b.metrics.cache.WithLabelValues("hit"), b.metrics.cache.WithLabelValues("miss")); err != nil {
		return nil, err
	}
	for _, rc := range cfg.Resources {
		base, _ := goldap.ParseDN(rc.BaseDN)
		r := &resource{typ: rc.Type, cfg: rc, base: base, baseDN: rc.BaseDN, scope: goldap.ScopeWholeSubtree,
			filter: rc.Filter, rdnAttr: rc.RDNAttribute}
		if rc.Scope == "one" {
			r.scope = goldap.ScopeSingleLevel
		}
		if rc.DisabledBaseDN != "" {
			r.disabled, _ = goldap.ParseDN(rc.DisabledBaseDN)
			r.disabledDN = rc.DisabledBaseDN
			r.disabledInside = base != nil && r.disabled != nil && base.AncestorOfFold(r.disabled)
		}
		if !strings.HasPrefix(r.filter, "(") {
			r.filter = "(" + r.filter + ")"
		}
		b.res[rc.Type] = r
	}
	for _, rc := range cfg.Resources {
		r := b.res[rc.Type]
		for _, refc := range rc.References {
			r.refs = append(r.refs, &reference{attr: refc.Attribute, src: r, target: b.res[refc.Target],
				byValue: refc.ValueKind == "rdn", valueAttr: refc.ValueAttribute, placeholder: refc.EmptyPlaceholder,
				readOnly: refc.ReadOnly || refc.InverseOf != "", ignoreUnknown: refc.UnknownIDs == "ignore",
				transitive: refc.Transitive})
		}
	}
	for _, rc := range cfg.Resources {
		for _, refc := range rc.References {
			if refc.InverseOf != "" {
				b.res[rc.Type].ref(refc.Attribute).inverse = b.res[refc.Target].ref(refc.InverseOf)
			}
		}
	}
	b.cursors = newCursors(b)
	b.counts = newCounts(b)
	if _, err := b.getCaps(ctx); err != nil {
		b.log.Warn("ldap directory not reachable at start; will retry on use", "error", err)
	} else if err := b.prepareDisabled(ctx); err != nil {
		b.Close()
		return nil, err
	}
	b.counts.start()
	return b, nil
}

// Close releases the connections and cursors.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.counts.close()
		b.cursors.close()
		b.pool.close()
		b.cache.close()
	})
	return nil
}

// Ping reads the root DSE.
func (b *Backend) Ping(ctx context.Context) error {
	err := b.run(ctx, func(c *goldap.Conn) error {
		_, err := c.Search(goldap.NewSearchRequest("", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
			matchAll, []string{"1.1"}, nil))
		return err
	})
	return b.mapErr(ctx, "ping", "", err)
}

func (b *Backend) getCaps(ctx context.Context) (*caps, error) {
	if c := b.caps.Load(); c != nil {
		return c, nil
	}
	b.capsMu.Lock()
	defer b.capsMu.Unlock()
	if c := b.caps.Load(); c != nil {
		return c, nil
	}
	c, err := b.loadCaps(ctx)
	if err != nil {
		return nil, err
	}
	b.log.Debug("ldap server capabilities", "caps", c.String())
	b.caps.Store(c)
	return c, nil
}

func (b *Backend) resource(typ string) (*resource, error) {
	r := b.res[typ]
	if r == nil {
		return nil, fmt.Errorf("%w: ldap backend has no resource type %q", backends.ErrUnsupported, typ)
	}
	return r, nil
}

var (
	uuidRE       = hexGroups{8, 4, 4, 4, 12}
	nsUniqueIDRE = hexGroups{8, 8, 8, 8}
)

// hexGroups matches groups of hex digits of the given lengths joined by
// dashes (a UUID: 8-4-4-4-12), as a regexp would, without one (every
// request checks its id).
type hexGroups []int

func (g hexGroups) MatchString(s string) bool {
	i := 0
	for n, size := range g {
		if n > 0 {
			if i >= len(s) || s[i] != '-' {
				return false
			}
			i++
		}
		for range size {
			if i >= len(s) {
				return false
			}
			switch c := s[i]; {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			default:
				return false
			}
			i++
		}
	}
	return i == len(s)
}

// validID rejects ids that cannot be values of the id attribute, so that
// they are not found without asking the directory.
func (b *Backend) validID(id string) bool {
	switch strings.ToLower(b.cfg.IDAttribute) {
	case "entryuuid":
		return uuidRE.MatchString(id)
	case "nsuniqueid":
		return nsUniqueIDRE.MatchString(id)
	case "objectguid":
		return uuidRE.MatchString(id)
	}
	if id == "" || len(id) > 256 {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// listFilter selects every entry of r: the LDAP filter of a listing
// without a SCIM filter.
func (r *resource) listFilter() string { return "(&" + matchAll + r.filter + ")" }

// idFilter selects the entry of r with id (id must be valid).
func (b *Backend) idFilter(r *resource, id string) string {
	return "(&" + r.filter + "(" + b.cfg.IDAttribute + "=" + b.idValue(id) + "))"
}

// searchAll runs a search with paged results (so server size limits do not
// cut it short) and returns every entry.
func (b *Backend) searchAll(ctx context.Context, base string, scope int, filter string, attrs []string) ([]*goldap.Entry, error) {
	var out []*goldap.Entry
	err := b.runBulk(ctx, func(c *goldap.Conn) error {
		out = out[:0]
		return b.pagedSearch(c, base, scope, filter, attrs, func(e *goldap.Entry) { out = append(out, e) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b *Backend) pagedSearch(c *goldap.Conn, base string, scope int, filter string, attrs []string, fn func(*goldap.Entry)) error {
	paging := goldap.NewControlPaging(uint32(b.cfg.PageSize))
	req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, int(b.cfg.timeout/time.Second), false,
		filter, attrs, []goldap.Control{paging})
	for {
		res, err := c.Search(req)
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			fn(e)
		}
		b.entriesRead.Add(int64(len(res.Entries)))
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// baseSearch reads one entry; nil when it does not exist or does not match filter.
func baseSearch(c *goldap.Conn, dn, filter string, attrs []string) (*goldap.Entry, error) {
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}
