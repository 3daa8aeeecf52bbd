package bridge

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Behind a reverse proxy that terminates TLS, the bridge sees the proxy's
// address and a plain-HTTP request for an internal host name. The proxy
// says what the client used in X-Forwarded-For, X-Forwarded-Proto and
// X-Forwarded-Host, but any client can send those headers too: they are
// believed only from the addresses in trusted_proxies (Fiber's
// EnableTrustedProxyCheck, so c.Protocol and c.Hostname follow the same
// rule), and public_url, when set, replaces them for every URL the bridge
// writes (Location, meta.location, $ref, discovery documents).

// clientIPHeader carries the client address the bridge derived from
// X-Forwarded-For of a trusted proxy; Fiber's c.IP() reads it (ProxyHeader)
// only for requests from a trusted proxy. A client's own copy is removed.
const clientIPHeader = "X-Scimbridge-Client-Ip"

// proxies are the trusted_proxies as prefixes (an address is a /32 or /128).
type proxies []netip.Prefix

func parseProxies(list []string) proxies {
	var out proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func (ps proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor runs first for every request: it sets clientIPHeader to the
// client's address when the connection comes from a trusted proxy, so that
// c.IP() (rate limits, logs) names the client there and the peer
// everywhere else.
func (s *Server) forwardedFor(c *fiber.Ctx) error {
	h := &c.Request().Header
	h.Del(clientIPHeader)
	if len(s.proxies) > 0 {
		if peer, ok := netip.AddrFromSlice(c.Context().RemoteIP()); ok && s.proxies.trusts(peer) {
			h.Set(clientIPHeader, s.proxies.client(peer.Unmap(), h.PeekAll(fiber.HeaderXForwardedFor)).String())
		}
	}
	return c.Next()
}

// client walks X-Forwarded-For from the right (the hop nearest to the
// bridge) past the trusted proxies: the first address that is not one of
// them is the client. Everything left of it was written by the client
// itself and proves nothing. A malformed entry stops the walk at the last
// address known good.
func (ps proxies) client(peer netip.Addr, headers [][]byte) netip.Addr {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(string(h), ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !ps.trusts(a) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("203.0.113.9:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// hostRE is a host with an optional port, as a URL may hold it.
var hostRE = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$`)

// baseURL is the scheme, host and path prefix that clients reach the
// bridge at: public_url when set; else the request's own scheme and Host,
// or those a trusted proxy forwarded. A host that could not be part of a
// URL falls back to the address the request came in on.
func (s *Server) baseURL(c *fiber.Ctx) string {
	if s.Settings.PublicURL != "" {
		return s.Settings.PublicURL
	}
	scheme := strings.ToLower(c.Protocol()) // X-Forwarded-Proto only from a trusted proxy
	if scheme != "http" && scheme != "https" {
		scheme = "http"
		if c.Context().IsTLS() {
			scheme = "https"
		}
	}
	host := c.Hostname() // X-Forwarded-Host only from a trusted proxy
	if last := s.lastHost.Load(); last != nil && *last == host {
		return scheme + "://" + host // checked on an earlier request
	}
	if hostRE.MatchString(host) {
		// A copy: fiber's strings point into buffers that the next
		// request reuses.
		kept := strings.Clone(host)
		s.lastHost.Store(&kept)
	} else {
		host = string(c.Request().URI().Host())
	}
	if !hostRE.MatchString(host) {
		host = c.Context().LocalAddr().String()
	}
	return scheme + "://" + host
}
