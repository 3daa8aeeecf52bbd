package ldap

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/scimbridge/scimbridge/backends"
)

// Config is the body of a `backend "ldap" "<name>"` block. Defaults are
// filled in by DecodeConfig (and again by New for configs built in code).
type Config struct {
	// URLs of the directory servers, tried in order for failover:
	// ldap://host:389 or ldaps://host:636. Required.
	URLs []string `hcl:"urls"`
	// BindDN is the bridge's account; "" binds anonymously. Default "".
	BindDN string `hcl:"bind_dn,optional"`
	// BindPassword is the account's password; use env("...") or file("..."),
	// never a literal. Default "".
	BindPassword string `hcl:"bind_password,optional"`
	// BindPasswordFile, if set, is read (trailing newline removed) each time
	// a connection binds, so a rotated secret is picked up. Default "".
	BindPasswordFile string `hcl:"bind_password_file,optional"`

	// StartTLS upgrades ldap:// connections with the StartTLS extended
	// operation before binding. Default false.
	StartTLS bool `hcl:"start_tls,optional"`
	// CAFile is a PEM bundle of CAs trusted for the servers' certificates;
	// "" uses the system roots. Default "".
	CAFile string `hcl:"ca_file,optional"`
	// ClientCertFile and ClientKeyFile are a PEM client certificate and key
	// presented during TLS (both or neither). Default "".
	ClientCertFile string `hcl:"client_cert_file,optional"`
	ClientKeyFile  string `hcl:"client_key_file,optional"`
	// TLSServerName overrides the name checked in the server certificate.
	// Default "": the host of the URL.
	TLSServerName string `hcl:"tls_server_name,optional"`
	// InsecureSkipVerify disables certificate checks (tests only). Default false.
	InsecureSkipVerify bool `hcl:"insecure_skip_verify,optional"`

	// PoolSize bounds the number of bound connections in use at once. Default 8.
	PoolSize int `hcl:"pool_size,optional"`
	// Timeout bounds every LDAP operation (a shorter context deadline wins).
	// Default "10s".
	Timeout string `hcl:"timeout,optional"`
	// DialTimeout bounds connecting, TLS and binding. Default "5s".
	DialTimeout string `hcl:"dial_timeout,optional"`
	// MaxBackoff caps the wait before a server that failed is dialed again;
	// the wait starts at 100ms and doubles per failure. Default "2s", so
	// that the bridge is back within seconds of the directory.
	MaxBackoff string `hcl:"max_backoff,optional"`

	// IDAttribute holds the stable SCIM id: "entryUUID" (OpenLDAP) or
	// "nsUniqueId" (389 DS). Default "entryUUID".
	IDAttribute string `hcl:"id_attribute,optional"`
	// ReferentialIntegrity says who keeps DN-valued references right when an
	// entry is renamed or deleted: "bridge" (the backend updates the
	// referencing entries itself) or "server" (refint overlay / referential
	// integrity plugin). References holding names (value_kind = "rdn") are
	// always kept by the bridge. Default "bridge".
	ReferentialIntegrity string `hcl:"referential_integrity,optional"`
	// PasswordModify selects how a password attribute is written: "auto"
	// (the Password Modify extended operation when the server announces it,
	// otherwise the attribute), "extended" or "attribute". Default "auto".
	PasswordModify string `hcl:"password_modify,optional"`
	// PageSize is the page size of internal paged searches. Default 500.
	PageSize int `hcl:"page_size,optional"`
	// MaxCursors bounds the open paged-search cursors kept for sequential
	// SCIM paging; each holds one connection of its own. Default 4.
	MaxCursors int `hcl:"max_cursors,optional"`
	// CursorTTL closes a cursor that was not continued for this long.
	// Default "2m".
	CursorTTL string `hcl:"cursor_ttl,optional"`
	// CountRefresh is how often the count of each resource type's whole
	// listing (the totalResults of unfiltered pages) is taken again in
	// the background; it is taken when the backend starts, kept up to date
	// by the backend's own creates and deletes and by listings read to
	// their end. "0" counts only at start. Default "10m".
	CountRefresh string `hcl:"count_refresh,optional"`

	// ValueRange, when set, reads multi-valued references (member,
	// memberOf) in ranges of this many values (member;range=0-1499, then
	// 1500-2999, ...), as Active Directory hands out at most MaxValRange
	// (1500) values of an attribute per read: a group with more members
	// reads back completely. Default 0: attributes are read whole (a
	// server that ranges them anyway is still followed).
	ValueRange int `hcl:"value_range,optional"`

	// Cache configures the id <-> DN cache.
	Cache *CacheConfig `hcl:"cache,block"`
	// Resources places each resource type in the tree. At least one.
	Resources []*ResourceConfig `hcl:"resource,block"`

	// Source ranges, for diagnostics (zero where the file does not set the attribute).
	URLsRange                 hcl.Range `hcl:"urls,attr_range"`
	StartTLSRange             hcl.Range `hcl:"start_tls,attr_range"`
	BindDNRange               hcl.Range `hcl:"bind_dn,attr_range"`
	BindPasswordFileRange     hcl.Range `hcl:"bind_password_file,attr_range"`
	CAFileRange               hcl.Range `hcl:"ca_file,attr_range"`
	ClientCertFileRange       hcl.Range `hcl:"client_cert_file,attr_range"`
	ClientKeyFileRange        hcl.Range `hcl:"client_key_file,attr_range"`
	PoolSizeRange             hcl.Range `hcl:"pool_size,attr_range"`
	TimeoutRange              hcl.Range `hcl:"timeout,attr_range"`
	DialTimeoutRange          hcl.Range `hcl:"dial_timeout,attr_range"`
	MaxBackoffRange           hcl.Range `hcl:"max_backoff,attr_range"`
	IDAttributeRange          hcl.Range `hcl:"id_attribute,attr_range"`
	ReferentialIntegrityRange hcl.Range `hcl:"referential_integrity,attr_range"`
	PasswordModifyRange       hcl.Range `hcl:"password_modify,attr_range"`
	PageSizeRange             hcl.Range `hcl:"page_size,attr_range"`
	MaxCursorsRange           hcl.Range `hcl:"max_cursors,attr_range"`
	CursorTTLRange            hcl.Range `hcl:"cursor_ttl,attr_range"`
	CountRefreshRange         hcl.Range `hcl:"count_refresh,attr_range"`
	ValueRangeRange           hcl.Range `hcl:"value_range,attr_range"`

	bodyRange hcl.Range // where the block ends, for diagnostics about what it lacks

	timeout, dialTimeout, maxBackoff, cursorTTL, countRefresh time.Duration
}

// CacheConfig is the `cache` block.
type CacheConfig struct {
	// Size is the maximum number of cached mappings. Default 100000.
	Size int `hcl:"size,optional"`
	// TTL is how long a mapping is trusted without use. Default "10m".
	TTL string `hcl:"ttl,optional"`

	// Source ranges, for diagnostics.
	SizeRange hcl.Range `hcl:"size,attr_range"`
	TTLRange  hcl.Range `hcl:"ttl,attr_range"`
	DefRange  hcl.Range `hcl:",def_range"`

	ttl time.Duration
}

// ResourceConfig is one `resource "<type>"` block.
type ResourceConfig struct {
	// Type is the resource type ("User", "Group").
	Type string `hcl:"type,label"`
	// BaseDN is where entries of this type are created and searched. Required.
	BaseDN string `hcl:"base_dn"`
	// Scope of searches below BaseDN: "sub" or "one". Default "sub".
	Scope string `hcl:"scope,optional"`
	// RDNAttribute names new entries: <rdn_attribute>=<value>,<base_dn>. A
	// change of its value renames the entry (ModifyDN). Default "cn".
	RDNAttribute string `hcl:"rdn_attribute,optional"`
	// ObjectClasses of new entries. Required.
	ObjectClasses []string `hcl:"object_classes"`
	// Filter scopes which entries below BaseDN are of this type. Default:
	// all of ObjectClasses, e.g. (&(objectClass=inetOrgPerson)).
	Filter string `hcl:"filter,optional"`
	// PasswordAttribute is written (see Config.PasswordModify) and never
	// read back. Default "": no password.
	PasswordAttribute string `hcl:"password_attribute,optional"`
	// OperationalAttributes are operational attributes (which a directory
	// returns only when they are named, not for "*") that belong to the
	// record: they are read with the user attributes when a caller asks
	// for all attributes, e.g. pwdAccountLockedTime (OpenLDAP ppolicy),
	// nsAccountLock (389 DS), createTimestamp. Attributes the mapping
	// names are always read. Default: none.
	OperationalAttributes []string `hcl:"operational_attributes,optional"`
	// DisabledBaseDN deactivates by moving: entries below it are inactive,
	// the others active. It must lie below BaseDN (with scope "sub", so
	// searches find both). The record carries the virtual attribute
	// scimbridgeActive ("TRUE"/"FALSE"), which the mapping maps to active;
	// writing FALSE moves the entry here (ModifyDN with a new superior),
	// TRUE moves it back directly below BaseDN; a create with FALSE places
	// it here. The id stays; references follow as on a rename. Default "":
	// deactivation is an attribute of the mapping.
	DisabledBaseDN string `hcl:"disabled_base_dn,optional"`
	// CreateDisabledContainer lets the bridge add DisabledBaseDN as an
	// organizationalUnit (its RDN must then be ou=<name>) when it does not
	// exist: at start, or on first use if the directory was down then. The
	// account needs the right to add it; when the directory refuses, the
	// bridge does not start. Default false: the container must exist, and
	// deactivations fail (500, logged) while it does not.
	CreateDisabledContainer bool `hcl:"create_disabled_container,optional"`
	// UserAccountControl (Active Directory) makes the record's virtual
	// attribute scimbridgeActive ("TRUE"/"FALSE") bit 0x2 (ACCOUNTDISABLE)
	// of userAccountControl: the bridge sets and clears that bit with a
	// read-modify-write that keeps every other bit (the modify deletes the
	// value read and adds the new one, so a concurrent change makes it
	// fail and it is read again); a new entry gets 512 (NORMAL_ACCOUNT) or
	// 514 (disabled); filters on it use the bitwise rule
	// 1.2.840.113556.1.4.803. When the domain refuses to enable a new
	// account without a password, it is created disabled. A user's
	// sAMAccountName, when not given, is made from the userPrincipalName
	// (the part before the @, characters AD refuses as _, at most 20).
	// Default false.
	UserAccountControl bool `hcl:"user_account_control,optional"`
	// UPNSuffix (Active Directory) completes a userPrincipalName written
	// without an @: "jane" is stored as "jane@<upn_suffix>". Default "":
	// values are written as given.
	UPNSuffix string `hcl:"upn_suffix,optional"`
	// MustChangePassword (Active Directory) writes pwdLastSet = 0 with
	// every password the bridge sets, so the user must choose a new one at
	// the next logon. Default false.
	MustChangePassword bool `hcl:"must_change_password,optional"`
	// References declares the attributes that hold ids of other records.
	References []*ReferenceConfig `hcl:"reference,block"`

	// Source ranges, for diagnostics.
	BaseDNRange                  hcl.Range `hcl:"base_dn,attr_range"`
	ScopeRange                   hcl.Range `hcl:"scope,attr_range"`
	RDNAttributeRange            hcl.Range `hcl:"rdn_attribute,attr_range"`
	ObjectClassesRange           hcl.Range `hcl:"object_classes,attr_range"`
	FilterRange                  hcl.Range `hcl:"filter,attr_range"`
	PasswordAttributeRange       hcl.Range `hcl:"password_attribute,attr_range"`
	OperationalAttributesRange   hcl.Range `hcl:"operational_attributes,attr_range"`
	DisabledBaseDNRange          hcl.Range `hcl:"disabled_base_dn,attr_range"`
	CreateDisabledContainerRange hcl.Range `hcl:"create_disabled_container,attr_range"`
	UserAccountControlRange      hcl.Range `hcl:"user_account_control,attr_range"`
	MustChangePasswordRange      hcl.Range `hcl:"must_change_password,attr_range"`

	DefRange hcl.Range `hcl:",def_range"`
}

// ReferenceConfig is one `reference "<attribute>"` block.
type ReferenceConfig struct {
	// Attribute is the native attribute (member, uniqueMember, memberUid,
	// manager, memberOf, or a name of your choice with inverse_of).
	Attribute string `hcl:"attribute,label"`
	// Target is the resource type referenced. Required.
	Target string `hcl:"target"`
	// ValueKind is what the attribute stores: "dn" (the target's DN) or
	// "rdn" (the value of value_attribute of the target, e.g. memberUid
	// holding uids). Default "dn".
	ValueKind string `hcl:"value_kind,optional"`
	// ValueAttribute is the target's attribute stored with value_kind
	// "rdn". Default: the target's rdn_attribute.
	ValueAttribute string `hcl:"value_attribute,optional"`
	// ReadOnly marks an attribute maintained by the directory (memberOf
	// overlay); writes to it are ignored. Default false.
	ReadOnly bool `hcl:"read_only,optional"`
	// InverseOf computes the reference by search instead of reading an
	// attribute: the target records whose reference InverseOf holds this
	// record (a user's groups when there is no memberOf overlay). Implies
	// read_only. Default "".
	InverseOf string `hcl:"inverse_of,optional"`
	// EmptyPlaceholder is a DN written when the list would become empty (the
	// attribute is MUST, as member of groupOfNames); it is never returned.
	// Default "": an empty list removes the attribute.
	EmptyPlaceholder string `hcl:"empty_placeholder,optional"`
	// UnknownIDs is what a write naming an id that is no record of the
	// target does: "reject" answers 400 invalidValue and writes nothing;
	// "ignore" leaves that id out (logged as a warning) and writes the
	// rest. Default "reject". No dangling value is written either way.
	UnknownIDs string `hcl:"unknown_ids,optional"`
	// Transitive (with inverse_of, Active Directory) also finds the records
	// that hold this one through others, with AD's in-chain matching rule
	// 1.2.840.113556.1.4.1941: a user's groups including the groups its
	// groups are members of. Default false: direct references only.
	Transitive bool `hcl:"transitive,optional"`

	// Source ranges, for diagnostics.
	TargetRange           hcl.Range `hcl:"target,attr_range"`
	ValueKindRange        hcl.Range `hcl:"value_kind,attr_range"`
	ValueAttributeRange   hcl.Range `hcl:"value_attribute,attr_range"`
	InverseOfRange        hcl.Range `hcl:"inverse_of,attr_range"`
	EmptyPlaceholderRange hcl.Range `hcl:"empty_placeholder,attr_range"`
	UnknownIDsRange       hcl.Range `hcl:"unknown_ids,attr_range"`
	TransitiveRange       hcl.Range `hcl:"transitive,attr_range"`

	DefRange hcl.Range `hcl:",def_range"`
}

var attrNameRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)(?:;[A-Za-z0-9-]+)*$`)

// validAttrName reports whether s is an LDAP attribute description, so that
// it can be put into a filter or request without escaping.
func validAttrName(s string) bool { return attrNameRE.MatchString(s) }

// DecodeConfig decodes and checks the body of a backend "ldap" block. All
// problems are reported together, each with its source range.
func DecodeConfig(body hcl.Body, ectx *hcl.EvalContext) (*Config, hcl.Diagnostics) {
	cfg := &Config{}
	diags := gohcl.DecodeBody(body, ectx, cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	cfg.bodyRange = body.MissingItemRange()
	diags = append(diags, cfg.check()...)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, diags
}

func defaultString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func defaultInt(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}

// applyDefaults fills in every default documented on the fields.
func (c *Config) applyDefaults() {
	defaultInt(&c.PoolSize, 8)
	defaultString(&c.Timeout, "10s")
	defaultString(&c.DialTimeout, "5s")
	defaultString(&c.MaxBackoff, "2s")
	defaultString(&c.IDAttribute, "entryUUID")
	defaultString(&c.ReferentialIntegrity, "bridge")
	defaultString(&c.PasswordModify, "auto")
	defaultInt(&c.PageSize, 500)
	defaultInt(&c.MaxCursors, 4)
	defaultString(&c.CursorTTL, "2m")
	defaultString(&c.CountRefresh, "10m")
	if c.Cache == nil {
		c.Cache = &CacheConfig{}
	}
	defaultInt(&c.Cache.Size, 100000)
	defaultString(&c.Cache.TTL, "10m")
	for _, res := range c.Resources {
		if res == nil {
			continue
		}
		defaultString(&res.Scope, "sub")
		defaultString(&res.RDNAttribute, "cn")
		if res.Filter == "" && len(res.ObjectClasses) > 0 {
			var b strings.Builder
			b.WriteString("(&")
			for _, oc := range res.ObjectClasses {
				fmt.Fprintf(&b, "(objectClass=%s)", goldap.EscapeFilter(oc))
			}
			b.WriteString(")")
			res.Filter = b.String()
		}
		for _, ref := range res.References {
			if ref != nil {
				defaultString(&ref.ValueKind, "dn")
			}
		}
	}
}

// check applies defaults and validates; a configuration built in code has
// no source ranges, and its diagnostics no subject.
func (c *Config) check() hcl.Diagnostics {
	c.applyDefaults()
	var diags hcl.Diagnostics
	// add reports at rng, else at the first of the enclosing blocks' ranges
	// that is set, else where the backend block ends.
	add := func(rng hcl.Range, summary, detail string, blocks ...hcl.Range) {
		diags = append(diags, backends.ConfigDiag(rng, summary, detail, append(blocks, c.bodyRange)...))
	}

	if len(c.URLs) == 0 {
		add(c.URLsRange, "No LDAP server URL", "urls needs at least one ldap:// or ldaps:// URL.")
	}
	for _, raw := range c.URLs {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Host == "":
			add(c.URLsRange, "Invalid LDAP URL", fmt.Sprintf("%q is not a URL like ldap://host:389.", raw))
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			add(c.URLsRange, "Invalid LDAP URL", fmt.Sprintf("%q: the scheme must be ldap or ldaps.", raw))
		case u.Scheme == "ldaps" && c.StartTLS:
			add(c.StartTLSRange, "StartTLS with ldaps://", fmt.Sprintf("%q already uses TLS; start_tls applies to ldap:// only.", raw))
		}
	}
	if c.BindPassword != "" && c.BindPasswordFile != "" {
		add(c.BindPasswordFileRange, "Two bind secrets", "Set bind_password or bind_password_file, not both.")
	}
	for _, f := range []struct {
		name, path string
		rng        hcl.Range
	}{
		{"bind_password_file", c.BindPasswordFile, c.BindPasswordFileRange}, {"ca_file", c.CAFile, c.CAFileRange},
		{"client_cert_file", c.ClientCertFile, c.ClientCertFileRange}, {"client_key_file", c.ClientKeyFile, c.ClientKeyFileRange},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			add(f.rng, "File not readable", fmt.Sprintf("%s: %v", f.name, err))
		}
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		add(c.ClientKeyFileRange, "Incomplete client certificate", "Set both client_cert_file and client_key_file, or neither.")
	}
	if c.BindDN != "" {
		if _, err := goldap.ParseDN(c.BindDN); err != nil {
			add(c.BindDNRange, "Invalid bind DN", err.Error())
		}
	}
	if c.PoolSize < 1 {
		add(c.PoolSizeRange, "Invalid pool size", "pool_size must be at least 1.")
	}
	if c.PageSize < 1 {
		add(c.PageSizeRange, "Invalid page size", "page_size must be at least 1.")
	}
	if c.ValueRange < 0 {
		add(c.ValueRangeRange, "Invalid value range", "value_range must not be negative (0 reads attributes whole).")
	}
	plainURL := ""
	for _, raw := range c.URLs {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "ldap" && !c.StartTLS {
			plainURL = raw
		}
	}
	if c.MaxCursors < 0 {
		add(c.MaxCursorsRange, "Invalid cursor count", "max_cursors must not be negative (0 disables cursors).")
	}
	dur := func(rng, block hcl.Range, name, s string, dst *time.Duration) {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			add(rng, "Invalid duration", fmt.Sprintf("%s = %q: want a positive duration like \"10s\".", name, s), block)
			return
		}
		*dst = d
	}
	dur(c.TimeoutRange, hcl.Range{}, "timeout", c.Timeout, &c.timeout)
	dur(c.DialTimeoutRange, hcl.Range{}, "dial_timeout", c.DialTimeout, &c.dialTimeout)
	dur(c.MaxBackoffRange, hcl.Range{}, "max_backoff", c.MaxBackoff, &c.maxBackoff)
	dur(c.CursorTTLRange, hcl.Range{}, "cursor_ttl", c.CursorTTL, &c.cursorTTL)
	if d, err := time.ParseDuration(c.CountRefresh); err != nil || d < 0 {
		add(c.CountRefreshRange, "Invalid duration", fmt.Sprintf("count_refresh = %q: want a duration like \"10m\", or \"0\" to count only at start.", c.CountRefresh))
	} else {
		c.countRefresh = d
	}
	if c.Cache.Size < 1 {
		add(c.Cache.SizeRange, "Invalid cache size", "cache size must be at least 1.", c.Cache.DefRange)
	}
	dur(c.Cache.TTLRange, c.Cache.DefRange, "cache ttl", c.Cache.TTL, &c.Cache.ttl)
	if !validAttrName(c.IDAttribute) {
		add(c.IDAttributeRange, "Invalid attribute name", fmt.Sprintf("id_attribute %q is not an LDAP attribute name.", c.IDAttribute))
	}
	switch c.ReferentialIntegrity {
	case "bridge", "server":
	default:
		add(c.ReferentialIntegrityRange, "Invalid referential_integrity", `Use "bridge" or "server".`)
	}
	switch c.PasswordModify {
	case "auto", "extended", "attribute":
	default:
		add(c.PasswordModifyRange, "Invalid password_modify", `Use "auto", "extended" or "attribute".`)
	}

	if len(c.Resources) == 0 {
		add(hcl.Range{}, "No resource types", `Declare at least one resource "User" { ... } block.`)
	}
	byType := map[string]*ResourceConfig{}
	for _, res := range c.Resources {
		if byType[res.Type] != nil {
			add(res.DefRange, "Duplicate resource type", fmt.Sprintf("resource %q is declared twice.", res.Type))
			continue
		}
		byType[res.Type] = res
		if res.Type == "" {
			add(res.DefRange, "Empty resource type", "The resource label must name a resource type such as \"User\".")
		}
		if dn, err := goldap.ParseDN(res.BaseDN); err != nil || len(dn.RDNs) == 0 {
			add(res.BaseDNRange, "Invalid base DN", fmt.Sprintf("base_dn %q is not a DN.", res.BaseDN), res.DefRange)
		}
		if res.Scope != "sub" && res.Scope != "one" {
			add(res.ScopeRange, "Invalid scope", `Use "sub" or "one".`, res.DefRange)
		}
		if res.DisabledBaseDN != "" {
			base, _ := goldap.ParseDN(res.BaseDN)
			dis, err := goldap.ParseDN(res.DisabledBaseDN)
			switch {
			case err != nil || len(dis.RDNs) == 0:
				add(res.DisabledBaseDNRange, "Invalid disabled base DN", fmt.Sprintf("disabled_base_dn %q is not a DN.", res.DisabledBaseDN), res.DefRange)
			case base == nil || !base.AncestorOfFold(dis):
				add(res.DisabledBaseDNRange, "Disabled container outside the base", fmt.Sprintf("disabled_base_dn %q must lie below base_dn %q, so that searches find active and inactive entries.", res.DisabledBaseDN, res.BaseDN), res.DefRange)
			case res.Scope != "sub":
				add(res.DisabledBaseDNRange, "Disabled container with scope \"one\"", "A disabled container needs scope = \"sub\": with \"one\" searches would not find its entries.", res.DefRange)
			case res.CreateDisabledContainer && (len(dis.RDNs[0].Attributes) != 1 || !strings.EqualFold(dis.RDNs[0].Attributes[0].Type, "ou")):
				add(res.CreateDisabledContainerRange, "Container the bridge cannot create", fmt.Sprintf("create_disabled_container adds an organizationalUnit: disabled_base_dn %q must start with ou=<name>.", res.DisabledBaseDN), res.DefRange)
			}
		} else if res.CreateDisabledContainer {
			add(res.CreateDisabledContainerRange, "create_disabled_container without disabled_base_dn", "create_disabled_container creates the container named by disabled_base_dn; set that too.", res.DefRange)
		}
		if !validAttrName(res.RDNAttribute) {
			add(res.RDNAttributeRange, "Invalid attribute name", fmt.Sprintf("rdn_attribute %q is not an LDAP attribute name.", res.RDNAttribute), res.DefRange)
		}
		if len(res.ObjectClasses) == 0 {
			add(res.ObjectClassesRange, "No object classes", "object_classes needs at least one class.", res.DefRange)
		}
		for _, oc := range res.ObjectClasses {
			if !validAttrName(oc) {
				add(res.ObjectClassesRange, "Invalid object class", fmt.Sprintf("%q is not an object class name.", oc), res.DefRange)
			}
		}
		if _, err := goldap.CompileFilter(res.Filter); err != nil {
			add(res.FilterRange, "Invalid LDAP filter", fmt.Sprintf("filter %q: %v", res.Filter, err), res.DefRange)
		}
		if isUnicodePwd(res.PasswordAttribute) && plainURL != "" {
			add(res.PasswordAttributeRange, "unicodePwd without TLS", fmt.Sprintf("Active Directory accepts unicodePwd only over an encrypted connection, and %q is plain LDAP: use an ldaps:// URL or start_tls = true.", plainURL), res.DefRange)
		}
		if res.UserAccountControl && res.DisabledBaseDN != "" {
			add(res.UserAccountControlRange, "Two ways to deactivate", "Set user_account_control or disabled_base_dn, not both.", res.DefRange)
		}
		if res.MustChangePassword && res.PasswordAttribute == "" {
			add(res.MustChangePasswordRange, "must_change_password without a password attribute", "must_change_password applies to passwords the bridge sets: set password_attribute too.", res.DefRange)
		}
		if res.PasswordAttribute != "" && !validAttrName(res.PasswordAttribute) {
			add(res.PasswordAttributeRange, "Invalid attribute name", fmt.Sprintf("password_attribute %q is not an LDAP attribute name.", res.PasswordAttribute), res.DefRange)
		}
		for _, a := range res.OperationalAttributes {
			if !validAttrName(a) {
				add(res.OperationalAttributesRange, "Invalid attribute name", fmt.Sprintf("operational_attributes: %q is not an LDAP attribute name.", a), res.DefRange)
			}
		}
		seen := map[string]bool{}
		for _, ref := range res.References {
			key := strings.ToLower(ref.Attribute)
			if seen[key] {
				add(ref.DefRange, "Duplicate reference", fmt.Sprintf("reference %q is declared twice in resource %q.", ref.Attribute, res.Type))
			}
			seen[key] = true
			if !validAttrName(ref.Attribute) {
				add(ref.DefRange, "Invalid attribute name", fmt.Sprintf("reference %q is not an LDAP attribute name.", ref.Attribute))
			}
			if strings.EqualFold(ref.Attribute, res.RDNAttribute) {
				add(ref.DefRange, "Reference names the entry", fmt.Sprintf("reference %q is the rdn_attribute of %q.", ref.Attribute, res.Type))
			}
		}
	}
	// References are checked once all resource types are known.
	for _, res := range c.Resources {
		for _, ref := range res.References {
			target := byType[ref.Target]
			if target == nil {
				add(ref.TargetRange, "Unknown reference target", fmt.Sprintf("reference %q targets %q, which has no resource block.", ref.Attribute, ref.Target), ref.DefRange)
			}
			switch ref.ValueKind {
			case "dn":
				if ref.ValueAttribute != "" {
					add(ref.ValueAttributeRange, "value_attribute without value_kind = \"rdn\"", "value_attribute applies to value_kind = \"rdn\" only.", ref.DefRange)
				}
			case "rdn":
				if ref.ValueAttribute == "" && target != nil {
					ref.ValueAttribute = target.RDNAttribute
				}
				if ref.ValueAttribute != "" && !validAttrName(ref.ValueAttribute) {
					add(ref.ValueAttributeRange, "Invalid attribute name", fmt.Sprintf("value_attribute %q is not an LDAP attribute name.", ref.ValueAttribute), ref.DefRange)
				}
				if ref.EmptyPlaceholder != "" {
					add(ref.EmptyPlaceholderRange, "Placeholder with value_kind = \"rdn\"", "empty_placeholder is a DN and applies to value_kind = \"dn\" only.", ref.DefRange)
				}
			default:
				add(ref.ValueKindRange, "Invalid value_kind", `Use "dn" or "rdn".`, ref.DefRange)
			}
			switch ref.UnknownIDs {
			case "":
				ref.UnknownIDs = "reject"
			case "reject", "ignore":
			default:
				add(ref.UnknownIDsRange, "Invalid unknown_ids", `Use "reject" or "ignore".`, ref.DefRange)
			}
			if ref.EmptyPlaceholder != "" {
				if _, err := goldap.ParseDN(ref.EmptyPlaceholder); err != nil {
					add(ref.EmptyPlaceholderRange, "Invalid placeholder DN", err.Error(), ref.DefRange)
				}
			}
			if ref.Transitive && (ref.InverseOf == "" || ref.ValueKind != "dn") {
				add(ref.TransitiveRange, "transitive without inverse_of", "transitive applies to a reference computed with inverse_of from DN values.", ref.DefRange)
			}
			if ref.InverseOf != "" {
				ref.ReadOnly = true
				var inverse *ReferenceConfig
				if target != nil {
					for _, tr := range target.References {
						if strings.EqualFold(tr.Attribute, ref.InverseOf) {
							inverse = tr
						}
					}
				}
				if target != nil && (inverse == nil || inverse.Target != res.Type || inverse.InverseOf != "") {
					add(ref.InverseOfRange, "Unknown inverse reference", fmt.Sprintf("inverse_of %q must name a stored reference of %q that targets %q.", ref.InverseOf, ref.Target, res.Type), ref.DefRange)
				}
			}
		}
	}
	return diags
}

// validate is check for configs built in code.
func (c *Config) validate() error {
	diags := c.check()
	if diags.HasErrors() {
		return fmt.Errorf("%w: ldap config: %s", backends.ErrInvalid, diags.Error())
	}
	return nil
}
