package ldap

import (
	"strings"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// idCache maps ids to DNs (and to names for value_kind "rdn") and back, per
// resource type. Entries are hints: an id -> DN entry is verified by a base
// search with the id in the filter before use, and a miss or a stale entry
// falls back to a search by id.
type idCache struct {
	c   *ristretto.Cache[string, string]
	ttl time.Duration
	// hits and misses count dnOf's lookups (metrics).
	hits, misses prometheus.Counter
}

func newIDCache(size int, ttl time.Duration, hits, misses prometheus.Counter) (*idCache, error) {
	// Every mapping is two entries (both directions), each of cost 1.
	// IgnoreInternalCost: without it ristretto adds its own per-item
	// overhead (tens of "cost units") to the cost of 1, and a cache sized
	// for 100,000 mappings held about 2,000.
	c, err := ristretto.NewCache(&ristretto.Config[string, string]{
		NumCounters:        int64(size) * 20,
		MaxCost:            int64(size) * 2,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	return &idCache{c: c, ttl: ttl, hits: hits, misses: misses}, nil
}

// normDN is the cache key of a DN: attribute types and values folded, so
// that the spellings a server returns in member values and entry names meet.
func normDN(dn string) string {
	if plainDN(dn) {
		return strings.ToLower(dn)
	}
	p, err := goldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	return strings.ToLower(p.String())
}

// plainDN reports whether dn is already in the form ParseDN + String
// gives, up to case: no escapes, quotes, multi-valued RDNs or spaces next
// to separators. Member lists of big groups are almost all plain, and
// parsing each value dominated reading them.
func plainDN(dn string) bool {
	if dn == "" || dn[0] == ' ' || dn[len(dn)-1] == ' ' {
		return false
	}
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == '_' || c == '@':
		case c == ',' || c == '=':
			if i > 0 && dn[i-1] == ' ' || i+1 < len(dn) && dn[i+1] == ' ' {
				return false
			}
		case c == ' ':
		default:
			return false
		}
	}
	return true
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

func (c *idCache) dnOf(typ, id string) (string, bool) {
	dn, ok := c.c.Get(key("i>d", typ, id))
	if ok {
		c.hits.Inc()
	} else {
		c.misses.Inc()
	}
	return dn, ok
}

func (c *idCache) idOfDN(typ, dn string) (string, bool) {
	return c.c.Get(key("d>i", typ, normDN(dn)))
}

func (c *idCache) putDN(typ, id, dn string) {
	c.c.SetWithTTL(key("i>d", typ, id), dn, 1, c.ttl)
	c.c.SetWithTTL(key("d>i", typ, normDN(dn)), id, 1, c.ttl)
}

func (c *idCache) forgetDN(typ, id, dn string) {
	if id != "" {
		c.c.Del(key("i>d", typ, id))
	}
	if dn != "" {
		c.c.Del(key("d>i", typ, normDN(dn)))
	}
}

func (c *idCache) valueOf(typ, attr, id string) (string, bool) {
	return c.c.Get(key("i>v", typ, strings.ToLower(attr), id))
}

func (c *idCache) idOfValue(typ, attr, v string) (string, bool) {
	return c.c.Get(key("v>i", typ, strings.ToLower(attr), strings.ToLower(v)))
}

func (c *idCache) putValue(typ, attr, id, v string) {
	c.c.SetWithTTL(key("i>v", typ, strings.ToLower(attr), id), v, 1, c.ttl)
	c.c.SetWithTTL(key("v>i", typ, strings.ToLower(attr), strings.ToLower(v)), id, 1, c.ttl)
}

func (c *idCache) forgetValue(typ, attr, id, v string) {
	c.c.Del(key("i>v", typ, strings.ToLower(attr), id))
	if v != "" {
		c.c.Del(key("v>i", typ, strings.ToLower(attr), strings.ToLower(v)))
	}
}

// wait makes preceding writes visible (ristretto applies them asynchronously).
func (c *idCache) wait() { c.c.Wait() }

func (c *idCache) close() { c.c.Close() }
