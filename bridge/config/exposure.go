package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Settings about how the bridge faces its clients: the size of the
// values they may send, the proxies whose forwarded headers are believed
// and the URL they reach the bridge at.

// checkExposure normalises trusted_proxies (a comma-separated string from
// the environment becomes a list; addresses and ranges in canonical form)
// and public_url (no trailing slash), and reports every value that is not
// valid.
func checkExposure(s *Settings, attrs hcl.Attributes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	at := func(name, summary, detail string) {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
		if a, ok := attrs[name]; ok {
			d.Subject = a.Range.Ptr()
		}
		diags = append(diags, d)
	}
	if s.AuditLogMaxSizeMB < 1 || s.AuditLogMaxBackups < 0 {
		at("audit_log_max_size_mb", "Invalid server settings", "audit_log_max_size_mb must be at least 1 and audit_log_max_backups not negative.")
	}
	switch {
	case s.MaxValueBytes < 1:
		at("max_value_bytes", "Invalid server settings", "max_value_bytes must be at least 1.")
	case s.MaxValueBytes > s.MaxBodyBytes:
		s.MaxValueBytes = s.MaxBodyBytes // no value can be larger than its body
	}
	switch {
	case s.BulkMaxOperations < 0:
		at("bulk_max_operations", "Invalid server settings", "bulk_max_operations must be 0 (no /Bulk) or more.")
	case s.BulkMaxPayloadBytes < 1:
		at("bulk_max_payload_bytes", "Invalid server settings", "bulk_max_payload_bytes must be at least 1.")
	case s.BulkMaxPayloadBytes > s.MaxBodyBytes:
		s.BulkMaxPayloadBytes = s.MaxBodyBytes // a body is never larger
	}
	var proxies []string
	for _, item := range s.TrustedProxies {
		for _, p := range strings.Split(item, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			canon, ok := CanonicalProxy(p)
			if !ok {
				at("trusted_proxies", "Invalid trusted proxy", fmt.Sprintf("%q is not an IP address or a CIDR range such as 10.0.0.0/8.", p))
				continue
			}
			proxies = append(proxies, canon)
		}
	}
	s.TrustedProxies = proxies
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
			at("public_url", "Invalid public URL", fmt.Sprintf("public_url %q must be an absolute http or https URL such as https://scim.example.com.", s.PublicURL))
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s.PublicURL, "?") || strings.HasSuffix(s.PublicURL, "#"):
			at("public_url", "Invalid public URL", fmt.Sprintf("public_url %q must not hold credentials, a query or a fragment.", s.PublicURL))
		default:
			s.PublicURL = strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
		}
	}
	return diags
}

// CanonicalProxy returns an IP address or CIDR range in canonical form
// (a range with its host bits cleared), or false.
func CanonicalProxy(s string) (string, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", false
		}
		return p.Masked().String(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return a.Unmap().String(), true
}

// stringList returns a list or tuple of strings as a Go slice.
func stringList(v cty.Value) ([]any, bool) {
	t := v.Type()
	if !t.IsListType() && !t.IsTupleType() && !t.IsSetType() {
		return nil, false
	}
	out := []any{}
	for it := v.ElementIterator(); it.Next(); {
		_, el := it.Element()
		if el.IsNull() || !el.IsKnown() || el.Type() != cty.String {
			return nil, false
		}
		out = append(out, el.AsString())
	}
	return out, true
}
