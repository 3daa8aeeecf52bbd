package config

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// LiveOptions are the choices of `validate --live`.
type LiveOptions struct {
	// WriteProbe creates, modifies and deletes one probe user per endpoint,
	// to prove the bridge's account may.
	WriteProbe bool
	// OAuth2Store, when set, opens the token store of oauth2 blocks
	// (driver and DSN as ParseOAuth2Store gives them), creates its table
	// when missing and reads it (bridge.CheckOAuth2Store; config cannot
	// import the bridge).
	OAuth2Store func(ctx context.Context, driver, dsn string) error
}

// OAuth2Stores are the distinct token stores of the configuration's
// oauth2 blocks (those disabled by an empty secret too), each with the
// first block that names it.
func OAuth2Stores(cfg *Config) []OAuth2 {
	var out []OAuth2
	for _, ep := range cfg.Endpoints {
		for _, o := range append(append([]OAuth2{}, ep.OAuth2...), ep.OAuth2Disabled...) {
			if !slices.ContainsFunc(out, func(x OAuth2) bool { return x.Store == o.Store }) {
				out = append(out, o)
			}
		}
	}
	return out
}

// CheckLive is `validate --live`: on connected backends, everything serve
// checks at start (CheckBackends), plus what each backend relies on
// (backends.LiveChecker: containers, controls), whether the store keeps
// userName unique, whether column types fit the SCIM types mapped to
// them, and, with WriteProbe, the account's right to write.
func CheckLive(ctx context.Context, cfg *Config, opened map[string]backends.Backend, opts LiveOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(cfg.Backends))
	for n := range cfg.Backends {
		names = append(names, n)
	}
	sort.Strings(names)
	reachable := map[string]bool{}
	for _, n := range names {
		b, be := cfg.Backends[n], opened[n]
		if be == nil {
			continue
		}
		if p, ok := be.(backends.Pinger); ok {
			if err := p.Ping(ctx); err != nil {
				diags = append(diags, backends.ConfigDiag(b.Range, "Backend not reachable", fmt.Sprintf("Backend %q: %v.", n, err)))
				continue
			}
		}
		reachable[n] = true
		if lc, ok := be.(backends.LiveChecker); ok {
			for _, d := range lc.CheckLive(ctx) {
				if d.Subject == nil {
					d.Subject = b.Range.Ptr()
				}
				d.Detail = fmt.Sprintf("Backend %q: %s", n, d.Detail)
				diags = append(diags, d)
			}
		}
	}
	diags = append(diags, CheckBackends(ctx, cfg, opened)...)
	if opts.OAuth2Store != nil {
		for _, o := range OAuth2Stores(cfg) {
			if err := opts.OAuth2Store(ctx, o.StoreDriver, o.StoreDSN); err != nil {
				diags = append(diags, backends.ConfigDiag(o.Range, "OAuth2 token store not usable",
					fmt.Sprintf("oauth2 %q: the store %s: %v. serve would not start; fix store (and the database's account rights: it creates and reads the table scimbridge_oauth2_tokens).",
						o.Name, redactStore(o.Store), err)))
			}
		}
	}
	for _, ep := range cfg.Endpoints {
		if !reachable[ep.Backend] {
			continue
		}
		d, ok := opened[ep.Backend].(backends.Describer)
		if !ok {
			continue
		}
		for _, m := range []*mapping.Mapping{ep.Users, ep.Groups} {
			if m == nil {
				continue
			}
			desc, err := d.DescribeNative(ctx, m.RT.Name)
			if err != nil {
				continue // CheckBackends said why
			}
			diags = append(diags, checkTypes(m, desc)...)
			if m == ep.Users {
				diags = append(diags, checkUnique(m, desc)...)
				if opts.WriteProbe {
					diags = append(diags, writeProbe(ctx, ep, opened[ep.Backend], desc)...)
				}
			}
		}
	}
	return diags
}

// redactStore is a store as written without its password.
func redactStore(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return s
}

// checkUnique warns when the store does not keep userName unique (or
// keeps it unique only case-exactly, while SCIM's userName is not).
func checkUnique(m *mapping.Mapping, desc *backends.Description) hcl.Diagnostics {
	if !desc.UniqueKnown {
		return nil
	}
	for _, a := range m.Attrs {
		if a.Path.Attr == nil || (a.Path.Schema != nil && a.Path.Schema.ID != scim.UserSchema) || a.Path.Attr.Name != "userName" || a.Native == "" {
			continue
		}
		n := desc.Lookup(a.Native)
		switch {
		case n == nil || n.ID:
		case n.Unique == "":
			return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "userName not unique in the store", Subject: a.Range.Ptr(),
				Detail: fmt.Sprintf("No unique index or constraint covers %s of %s: uniqueness is enforced only by the bridge, which searches before each create and rename. Another writer (or two bridges at once) can still store two users with one userName; a unique index on the column, case-insensitive like SCIM's userName, closes that.", a.Native, desc.Where)}}
		case n.CaseExactUnique:
			return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "userName unique only case-exactly", Subject: a.Range.Ptr(),
				Detail: fmt.Sprintf("%s of %s is kept unique by %s, which tells \"Bob\" from \"bob\"; SCIM's userName does not. The bridge searches case-insensitively before each create, but another writer can store both. An index on lower(%s), or a case-insensitive collation, closes that.", a.Native, desc.Where, n.Unique, a.Native)}}
		}
		return nil
	}
	return nil
}

// checkTypes warns about attributes mapped without expressions to a
// native attribute whose type cannot hold every value of the SCIM type.
func checkTypes(m *mapping.Mapping, desc *backends.Description) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range m.Attrs {
		if a.Native == "" || a.ToNative != nil || a.FromNative != nil || a.Target == nil || a.Path.Attr == nil || m.Lists[a.Path.Attr.Name] == a {
			continue
		}
		if a.Path.Sub != nil && a.Path.Sub.Name == "value" && a.Path.Attr.Sub("$ref") != nil {
			continue // an id of another record (manager.value): stored as the store keeps ids
		}
		n := desc.Lookup(a.Native)
		if n == nil || n.Type == "" || n.ID {
			continue
		}
		if why := typeMisfit(a.Target.Type, n.Type); why != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Native type does not fit", Subject: a.Range.Ptr(),
				Detail: fmt.Sprintf("%s is a SCIM %s, but %s of %s holds %s values: %s. Map it to another attribute, or convert with to_native and from_native.",
					a.Label, a.Target.Type, a.Native, desc.Where, n.Type, why)})
		}
	}
	return diags
}

// typeMisfit says why native values of type native cannot hold a SCIM
// attribute of type scimType, or "".
func typeMisfit(scimType, native string) string {
	switch native {
	case backends.NativeText:
		return "" // every SCIM value has a text form
	case backends.NativeBinary:
		if scimType != scim.TypeBinary {
			return "text is stored as bytes, and the store may refuse what is not in its encoding"
		}
		return ""
	}
	switch scimType {
	case scim.TypeString, scim.TypeReference:
		return "a client's text that is not a " + native + " value is refused by the store"
	case scim.TypeInteger:
		if native == backends.NativeInteger || native == backends.NativeDecimal {
			return ""
		}
	case scim.TypeDecimal:
		if native == backends.NativeDecimal {
			return ""
		}
		if native == backends.NativeInteger {
			return "a fraction is refused or cut off"
		}
	case scim.TypeBoolean:
		if native == backends.NativeBoolean {
			return ""
		}
	case scim.TypeDateTime:
		if native == backends.NativeTime {
			return ""
		}
	case scim.TypeBinary:
		return "base64 text is refused as a " + native
	}
	return "the values do not convert"
}

// writeProbe creates a user with only the attributes the store requires,
// renames it, and deletes it, reporting the first step the bridge's
// account may not take. The probe's userName starts with
// "scimbridge-probe-", so a leftover (the delete refused) is easy to find.
func writeProbe(ctx context.Context, ep *Endpoint, be backends.Backend, desc *backends.Description) hcl.Diagnostics {
	m := ep.Users
	var userName *mapping.Attr
	for _, a := range m.Attrs {
		if a.Path.Attr != nil && a.Path.Attr.Name == "userName" && a.Native != "" && !a.ReadOnly && (a.Path.Schema == nil || a.Path.Schema.ID == scim.UserSchema) {
			userName = a
		}
	}
	if userName == nil {
		return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Write probe not run", Subject: m.Range.Ptr(),
			Detail: fmt.Sprintf("Endpoint %q maps userName to no writable native attribute, so the probe cannot name its user.", ep.Name)}}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := "scimbridge-probe-" + hex.EncodeToString(suffix[:])
	attrs := backends.Attrs{userName.Native: {name}}
	for _, n := range desc.Attrs {
		if n.Required == "" || n.ID || n.ReadOnly != "" || len(attrs.Get(n.Name)) > 0 {
			continue
		}
		attrs[n.Name] = []string{probeValue(n.Type, name)}
	}
	fail := func(step string, err error) hcl.Diagnostics {
		summary, what := "Write probe failed", fmt.Sprintf("the %s", step)
		if errors.Is(err, backends.ErrPermission) {
			summary = "Bridge account may not write"
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Subject: m.Range.Ptr(),
			Detail: fmt.Sprintf("Endpoint %q, backend %q: %s of probe user %q failed: %v.", ep.Name, ep.Backend, what, name, err)}}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, err := be.Create(ctx, m.RT.Name, attrs)
	if err != nil {
		return fail("create", err)
	}
	var diags hcl.Diagnostics
	if _, err := be.Modify(ctx, m.RT.Name, rec.ID, []backends.Modification{{Op: backends.ModReplace, Attr: userName.Native, Values: []string{name + "-renamed"}}}, []string{}); err != nil {
		diags = fail("modify", err)
	}
	if err := be.Delete(ctx, m.RT.Name, rec.ID); err != nil {
		diags = append(diags, fail("delete", err)...)
		diags[len(diags)-1].Detail += fmt.Sprintf(" Remove the probe (id %s) by hand.", rec.ID)
	}
	return diags
}

// probeValue is a value of a required attribute of the probe user.
func probeValue(typ, name string) string {
	switch typ {
	case backends.NativeInteger, backends.NativeDecimal:
		return "0"
	case backends.NativeBoolean:
		return "false"
	case backends.NativeTime:
		return time.Now().UTC().Format(time.RFC3339)
	}
	return name
}
