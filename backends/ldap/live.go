package ldap

import (
	"context"
	"errors"
	"fmt"
	"sort"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

var _ backends.LiveChecker = (*Backend)(nil)

// oidPaging is the Simple Paged Results control (RFC 2696).
const oidPaging = "1.2.840.113556.1.4.319"

// CheckLive checks, on the connected directory, what the configuration
// relies on beyond the attributes the mappings name: every resource's
// base DN (and disabled container) exists and is readable by the bridge's
// account, and the server offers the controls and extended operations the
// backend uses. For validate --live.
func (b *Backend) CheckLive(ctx context.Context) hcl.Diagnostics {
	var diags hcl.Diagnostics
	types := make([]string, 0, len(b.res))
	for t := range b.res {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		r := b.res[t]
		rng := r.cfg.DefRange.Ptr()
		if d := b.checkEntry(ctx, r.baseDN, "base_dn", t, rng); d != nil {
			diags = append(diags, d)
		} else if d := b.checkListing(ctx, r, rng); d != nil {
			diags = append(diags, d)
		}
		if r.disabled != nil && !r.cfg.CreateDisabledContainer {
			if d := b.checkEntry(ctx, r.disabledDN, "disabled_base_dn", t, rng); d != nil {
				diags = append(diags, d)
			}
		}
	}
	c, err := b.getCaps(ctx)
	if err != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Directory not readable",
			Detail: fmt.Sprintf("The root DSE could not be read: %v.", err)})
	}
	// Findings about the server as a whole have no subject: the caller
	// puts them at the backend block.
	top := func(sev hcl.DiagnosticSeverity, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail})
	}
	if len(c.controls) == 0 {
		top(hcl.DiagWarning, "Directory lists no controls",
			"The root DSE shows no supportedControl values to the bridge's account, so the controls below could not be checked (on OpenLDAP, the account may lack read access to the root DSE).")
		return diags
	}
	if !c.controls[oidPaging] {
		top(hcl.DiagError, "Directory lacks paged results",
			"The server does not offer the Simple Paged Results control (1.2.840.113556.1.4.319): imports and filters that read a whole container fail at the server's size limit.")
	}
	if !c.controls[oidAssertion] {
		top(hcl.DiagWarning, "Directory lacks the assertion control",
			"The server does not offer the LDAP Assertion control (RFC 4528, 1.3.6.1.1.12): writes are checked by reading the entry first, which costs a round trip and leaves a short window for a concurrent change.")
	}
	if !c.controls[oidPostRead] {
		top(hcl.DiagWarning, "Directory lacks the post-read control",
			"The server does not offer the Post-Read control (RFC 4527, 1.3.6.1.1.13.2): every write is followed by a read of the entry for the answer.")
	}
	if b.cfg.PasswordModify == "extended" && !c.extensions[oidPasswordModify] {
		top(hcl.DiagError, "Directory lacks the Password Modify operation",
			`password_modify = "extended", but the server does not offer the Password Modify extended operation (RFC 3062, 1.3.6.1.4.1.4203.1.11.1): every password write fails. Use "attribute" or "auto".`)
	}
	return diags
}

// checkEntry reads dn (a base search) and says what is wrong if it cannot.
func (b *Backend) checkEntry(ctx context.Context, dn, setting, typ string, rng *hcl.Range) *hcl.Diagnostic {
	found := false
	err := b.run(ctx, func(conn *goldap.Conn) error {
		res, err := conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
			matchAll, []string{"1.1"}, nil))
		found = err == nil && len(res.Entries) == 1
		return err
	})
	if found {
		return nil
	}
	var le *goldap.Error
	switch {
	case err == nil, errors.As(err, &le) && le.ResultCode == goldap.LDAPResultNoSuchObject:
		// Some servers (389 DS) answer an entry the account may not see
		// with success and no entry.
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Container not found",
			Detail:  fmt.Sprintf("Resource %q: %s %q does not exist in the directory (or the bridge's account cannot see it). Create it, or correct %s.", typ, setting, dn, setting),
			Subject: rng}
	case errors.As(err, &le) && le.ResultCode == goldap.LDAPResultInsufficientAccessRights:
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Container not readable",
			Detail:  fmt.Sprintf("Resource %q: the bridge's account may not read %s %q: grant it read and search access.", typ, setting, dn),
			Subject: rng}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Container not checked",
		Detail: fmt.Sprintf("Resource %q: reading %s %q failed: %v.", typ, setting, dn, err), Subject: rng}
}

// checkListing waits for the count of r's whole listing that the backend
// takes at start (DNs only, as SCIM listings read it; a new one when that
// failed) and reports a limit of the directory's that stopped the bridge's
// account before the end. It finds the limit only once the directory holds
// more entries than it allows; the examples' headers say how to lift it
// beforehand.
func (b *Backend) checkListing(ctx context.Context, r *resource, rng *hcl.Range) *hcl.Diagnostic {
	if _, known := b.counts.awaitCount(ctx, r, true, 0); known {
		return nil
	}
	err := r.count.limitError()
	if err == nil {
		return nil // other failures are the other checks' to report
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Listing stopped by the directory's size limit",
		Detail: fmt.Sprintf("Reading every %s entry below %q, as SCIM listings and the count behind totalResults do, %v. %s.",
			r.typ, r.baseDN, err, limitRemedy),
		Subject: rng}
}
