// Package config loads scimbridge's HCL configuration file: flat server
// settings (layered with koanf under SCIMBRIDGE_* environment variables and
// command-line flags), custom schema extensions, backends and endpoints with
// their credentials and attribute mappings. Every problem is reported as an
// hcl.Diagnostic with file, line and column.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Settings are the flat server settings. Each can be set in the file's
// `server` block, overridden by SCIMBRIDGE_<UPPER_NAME> in the environment,
// and by a command-line flag.
type Settings struct {
	// Listen is the address to serve on. Default 127.0.0.1:8080.
	Listen string `koanf:"listen"`
	// LogLevel: trace, debug, info, warn, error. Default info.
	LogLevel string `koanf:"log_level"`
	// LogFormat: text or json. Default text.
	LogFormat string `koanf:"log_format"`
	// TLSCertFile and TLSKeyFile enable HTTPS (TLS 1.2 or later) when both are set.
	TLSCertFile string `koanf:"tls_cert_file"`
	TLSKeyFile  string `koanf:"tls_key_file"`
	// MaxBodyBytes bounds request bodies. Default 10 MiB.
	MaxBodyBytes int `koanf:"max_body_bytes"`
	// MaxBodyMemory bounds the memory that the bodies of all requests in
	// flight hold together: as read, as decoded and as parsed (estimated
	// before parsing). Past it a request is answered 503 with Retry-After.
	// Default 128 MiB.
	MaxBodyMemory int `koanf:"max_body_memory"`
	// HeaderTimeout bounds the wait for a request's headers once its first
	// byte arrived. Default 10s.
	HeaderTimeout time.Duration `koanf:"header_timeout"`
	// MaxConnections bounds the connections served at once. Default 1024.
	MaxConnections int `koanf:"max_connections"`
	// RequestTimeout bounds every request, backend calls included. Default
	// 50s, below Okta's 60 s give-up time.
	RequestTimeout time.Duration `koanf:"request_timeout"`
	// MaxResults is the largest "count" a client may ask for. Default 1000.
	MaxResults int `koanf:"max_results"`
	// DefaultCount is the page size when the client gives none. Default 100.
	DefaultCount int `koanf:"default_count"`
	// MaxOperations bounds the operations of one PATCH. Default 1000.
	MaxOperations int `koanf:"max_operations"`
	// MaxMembersPerPatch bounds the member values one request may change. Default 100000.
	MaxMembersPerPatch int `koanf:"max_members_per_request"`
	// BulkMaxOperations bounds the operations of one /Bulk request; 0
	// turns /Bulk off (404, and "supported": false in
	// /ServiceProviderConfig). Default 1000.
	BulkMaxOperations int `koanf:"bulk_max_operations"`
	// BulkMaxPayloadBytes bounds the body of one /Bulk request (at most
	// max_body_bytes). Default 1 MiB.
	BulkMaxPayloadBytes int `koanf:"bulk_max_payload_bytes"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM. Default 30s.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// MetricsListen, when set, serves Prometheus metrics on that address.
	MetricsListen string `koanf:"metrics_listen"`
	// MaxFilterScan bounds the records one list request may read to
	// evaluate a filter or sort the directory cannot run; past it the
	// request is refused with 400 invalidFilter. 0 refuses every such
	// query. Default 50000.
	MaxFilterScan int `koanf:"max_filter_scan"`
	// MaxConcurrentScans bounds the list requests one credential may have
	// evaluating a filter or sort in memory at once; past it: 429 with
	// Retry-After. Default 2.
	MaxConcurrentScans int `koanf:"max_concurrent_scans_per_credential"`
	// AuthFailureLimit is how many failed authentications one source
	// address, or one Basic user name, may have within AuthFailureWindow;
	// further attempts are answered 429 with Retry-After, unchecked, until
	// the window ends, except credentials known good without a password
	// check (a configured token; Basic credentials verified from that
	// address in the last 5 minutes). Default 10.
	AuthFailureLimit int `koanf:"auth_failure_limit"`
	// AuthFailureWindow is the period failures are counted over, from the
	// first one. Default 1m.
	AuthFailureWindow time.Duration `koanf:"auth_failure_window"`
	// MaxValueBytes bounds every string value a client sends in a POST,
	// PUT or PATCH body (bytes of UTF-8), and attribute names. Default
	// 32768 (at most max_body_bytes).
	MaxValueBytes int `koanf:"max_value_bytes"`
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// ranges) whose X-Forwarded-For, X-Forwarded-Proto and
	// X-Forwarded-Host headers are believed. Default none: the headers
	// are ignored. In the environment: a comma-separated list.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// PublicURL is the URL clients reach the bridge at
	// (https://scim.example.com, optionally with a path prefix): Location
	// headers, meta.location and $ref are built from it. Default none:
	// from the request (see TrustedProxies).
	PublicURL string `koanf:"public_url"`
	// AuditLog is where the audit trail goes: one JSON line per change
	// (create, replace, patch, delete). "" (default): no audit trail;
	// "stdout"; or a file path, rotated by size.
	AuditLog string `koanf:"audit_log"`
	// AuditLogMaxSizeMB rotates the audit file at this size. Default 100.
	AuditLogMaxSizeMB int `koanf:"audit_log_max_size_mb"`
	// AuditLogMaxBackups is how many rotated audit files are kept (0: all). Default 10.
	AuditLogMaxBackups int `koanf:"audit_log_max_backups"`
	// RateLimit is the requests a second each credential may make on each
	// endpoint (a token bucket); past it: 429 with Retry-After. 0 (the
	// default): no limit. A credential block's rate_limit overrides it.
	RateLimit int `koanf:"rate_limit"`
	// RateLimitBurst is the bucket's size: how many requests a credential
	// may make at once after a quiet spell. 0 (the default): twice the
	// rate.
	RateLimitBurst int `koanf:"rate_limit_burst"`
	// BackendMaxConcurrency bounds the SCIM operations in flight toward
	// each backend (a /Bulk request is one); further ones wait up to
	// BackendQueueTimeout, then get 503 with Retry-After. 0: no limit.
	// Default 16.
	BackendMaxConcurrency int `koanf:"backend_max_concurrency"`
	// BackendQueueTimeout bounds that wait. Default 10s.
	BackendQueueTimeout time.Duration `koanf:"backend_queue_timeout"`
}

// DefaultSettings returns the defaults.
func DefaultSettings() Settings {
	return Settings{
		Listen: "127.0.0.1:8080", LogLevel: "info", LogFormat: "text",
		MaxBodyBytes: 10 << 20, MaxBodyMemory: 128 << 20, HeaderTimeout: 10 * time.Second, MaxConnections: 1024,
		RequestTimeout: 50 * time.Second,
		MaxResults:     1000, DefaultCount: 100, MaxOperations: 1000, MaxMembersPerPatch: 100000,
		ShutdownTimeout: 30 * time.Second,
		MaxFilterScan:   50000, MaxConcurrentScans: 2,
		AuthFailureLimit: 10, AuthFailureWindow: time.Minute,
		MaxValueBytes:     32 << 10,
		BulkMaxOperations: 1000, BulkMaxPayloadBytes: 1 << 20,
		AuditLogMaxSizeMB: 100, AuditLogMaxBackups: 10,
		BackendMaxConcurrency: 16, BackendQueueTimeout: 10 * time.Second,
	}
}

// BackendType is the former name of backends.Kind.
//
// Deprecated: use backends.Kind.
type BackendType = backends.Kind

// Backend is one decoded backend block.
type Backend struct {
	Type, Name string
	Config     any
	Range      hcl.Range
	// Lookups are the lookup tables the backend's configuration declares
	// (empty when none), shared by the mappings of its endpoints; the
	// server loads and refreshes them once the backend is open.
	Lookups *mapping.Lookups
}

// Token is a bearer token credential; only its SHA-256 is kept.
type Token struct {
	Name    string
	Hash    [32]byte
	Scopes  []string
	Expires time.Time
	// Rate is the token's own rate limit; nil: the server's.
	Rate *RateLimit
}

// Basic is an HTTP Basic credential.
type Basic struct {
	Username     string
	PasswordHash string // bcrypt ($2...) or sha256:<hex>
	Scopes       []string
	// Rate is the user's own rate limit; nil: the server's.
	Rate *RateLimit
}

// RateLimit is a credential's own rate limit (rate_limit and
// rate_limit_burst in its block).
type RateLimit struct {
	// PerSecond is the requests a second; 0: no limit; -1: the server's
	// rate_limit (only the burst is set).
	PerSecond int
	// Burst is the bucket's size; 0: the server's rate_limit_burst (or
	// twice the rate).
	Burst int
}

// Endpoint is one SCIM service.
type Endpoint struct {
	Name     string
	BasePath string
	Backend  string
	Tokens   []Token
	Basic    []Basic
	JWTs     []JWT
	OAuth2   []OAuth2
	Users    *mapping.Mapping
	Groups   *mapping.Mapping
	// UnknownAttributes is what a write naming attributes that SCIM and
	// the endpoint's schemas do not define gets: "reject" (400, the
	// default) or "ignore" (dropped, each name logged once).
	UnknownAttributes string
	// UnknownManager is what a user write whose manager names no user
	// gets: "ignore" (the manager is left out, the default) or "reject" (400).
	UnknownManager string
	// BulkTransaction runs each /Bulk request in one transaction of the
	// backend (SQL only): all of its operations or none. Default false.
	BulkTransaction bool
	Range           hcl.Range
	// Protocol is the SCIM version served: ProtocolSCIM2 (the default) or
	// ProtocolSCIM11 (Okta's on-premises Provisioning Agent).
	Protocol string
	// OAuth2Disabled are the oauth2 blocks whose secret is empty (an
	// unset variable): not served; `oauth2 urls` lists them.
	OAuth2Disabled []OAuth2
}

// The values of an endpoint's protocol.
const (
	ProtocolSCIM2  = "scim2"
	ProtocolSCIM11 = "scim1.1"
)

// Config is a loaded configuration file.
type Config struct {
	Path      string
	Settings  Settings
	Backends  map[string]*Backend
	Endpoints []*Endpoint
	// Files holds the parsed sources, for printing diagnostics with snippets.
	Files map[string]*hcl.File
	// Unset lists the environment variables the file reads (without a
	// default) that are not set. An offline load did not check the values
	// that use them.
	Unset []UnsetVar
}

// LoadOptions changes how Load checks a file.
type LoadOptions struct {
	// Offline: the configuration is checked without being served or
	// connected (validate, map). A value that comes from an unset
	// environment variable (a token, a directory URL) is then not an error:
	// the problems it would cause are left out, and Config.Unset lists the
	// variables and where they are used.
	Offline bool
}

type fileSchema struct {
	Server    *serverBlock    `hcl:"server,block"`
	Schemas   []schemaBlock   `hcl:"schema,block"`
	Backends  []backendBlock  `hcl:"backend,block"`
	Endpoints []endpointBlock `hcl:"endpoint,block"`
}

type serverBlock struct {
	Body hcl.Body `hcl:",remain"`
}

type schemaBlock struct {
	ID          string           `hcl:"id,label"`
	Name        string           `hcl:"name,optional"`
	Resource    string           `hcl:"resource"`
	Description string           `hcl:"description,optional"`
	Attributes  []schemaAttBlock `hcl:"attribute,block"`
	DefRange    hcl.Range        `hcl:",def_range"`
}

type schemaAttBlock struct {
	Name          string           `hcl:"name,label"`
	Type          string           `hcl:"type,optional"`
	MultiValued   bool             `hcl:"multi_valued,optional"`
	Required      bool             `hcl:"required,optional"`
	CaseExact     bool             `hcl:"case_exact,optional"`
	Mutability    string           `hcl:"mutability,optional"`
	Description   string           `hcl:"description,optional"`
	Canonical     []string         `hcl:"canonical_values,optional"`
	SubAttributes []schemaAttBlock `hcl:"sub_attribute,block"`
	DefRange      hcl.Range        `hcl:",def_range"`
}

type backendBlock struct {
	Type     string    `hcl:"type,label"`
	Name     string    `hcl:"name,label"`
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

type endpointBlock struct {
	Name     string         `hcl:"name,label"`
	BasePath string         `hcl:"base_path"`
	Backend  string         `hcl:"backend"`
	Protocol *string        `hcl:"protocol,optional"`
	ProtoR   hcl.Range      `hcl:"protocol,attr_range"`
	Auth     *authBlock     `hcl:"auth,block"`
	BackendR hcl.Range      `hcl:"backend,attr_range"`
	Mappings []mappingBlock `hcl:"mapping,block"`
	// UnknownAttributes: "reject" (default) or "ignore".
	UnknownAttributes  string    `hcl:"unknown_attributes,optional"`
	UnknownAttributesR hcl.Range `hcl:"unknown_attributes,attr_range"`
	// UnknownManager: "ignore" (default) or "reject".
	UnknownManager  string    `hcl:"unknown_manager,optional"`
	UnknownManagerR hcl.Range `hcl:"unknown_manager,attr_range"`
	// BulkTransaction: see Endpoint.
	BulkTransaction bool      `hcl:"bulk_transaction,optional"`
	DefRange        hcl.Range `hcl:",def_range"`
}

type authBlock struct {
	Tokens []tokenBlock  `hcl:"token,block"`
	Basic  []basicBlock  `hcl:"basic,block"`
	JWTs   []jwtBlock    `hcl:"jwt,block"`
	OAuth2 []oauth2Block `hcl:"oauth2,block"`
}

type tokenBlock struct {
	Name     string    `hcl:"name,label"`
	Value    *string   `hcl:"value,optional"`
	Hash     *string   `hcl:"hash,optional"`
	Scopes   []string  `hcl:"scopes,optional"`
	Expires  *string   `hcl:"expires,optional"`
	Rate     *int      `hcl:"rate_limit,optional"`
	Burst    *int      `hcl:"rate_limit_burst,optional"`
	ValueR   hcl.Range `hcl:"value,attr_range"`
	DefRange hcl.Range `hcl:",def_range"`
}

type basicBlock struct {
	Username     string    `hcl:"username,label"`
	Password     *string   `hcl:"password,optional"`
	PasswordHash *string   `hcl:"password_hash,optional"`
	Scopes       []string  `hcl:"scopes,optional"`
	Rate         *int      `hcl:"rate_limit,optional"`
	Burst        *int      `hcl:"rate_limit_burst,optional"`
	PasswordR    hcl.Range `hcl:"password,attr_range"`
	DefRange     hcl.Range `hcl:",def_range"`
}

type mappingBlock struct {
	Resource string    `hcl:"resource,label"`
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

// AllScopes are the scopes a credential has when it lists none.
var AllScopes = []string{
	"get:users", "post:users", "put:users", "patch:users", "delete:users",
	"get:groups", "post:groups", "put:groups", "patch:groups", "delete:groups",
}

var basePathRE = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// Load reads and checks a configuration file. flagOverrides holds settings
// given on the command line (only the ones the user set). With open false
// the backends are decoded but not connected (validate).
func Load(path string, types map[string]backends.Kind, flagOverrides map[string]any) (*Config, hcl.Diagnostics) {
	return LoadWith(path, types, flagOverrides, LoadOptions{})
}

// LoadWith is Load with options. Every error about a value that comes from
// an unset environment variable names the variable.
func LoadWith(path string, types map[string]backends.Kind, flagOverrides map[string]any, opts LoadOptions) (*Config, hcl.Diagnostics) {
	cfg, diags := loadFile(path, types, flagOverrides)
	diags, cfg.Unset = explainMissingEnv(diags, missingEnv(cfg.Files), opts.Offline)
	return cfg, diags
}

func loadFile(path string, types map[string]backends.Kind, flagOverrides map[string]any) (*Config, hcl.Diagnostics) {
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(path)
	cfg := &Config{Path: path, Files: parser.Files(), Backends: map[string]*Backend{}}
	if diags.HasErrors() {
		return cfg, diags
	}
	ectx := &hcl.EvalContext{Functions: evalFunctions(filepath.Dir(path)), Variables: map[string]cty.Value{}}
	var fs fileSchema
	diags = append(diags, gohcl.DecodeBody(f.Body, ectx, &fs)...)
	if diags.HasErrors() {
		return cfg, diags
	}

	settings, d := loadSettings(fs.Server, ectx, flagOverrides)
	diags = append(diags, d...)
	cfg.Settings = settings

	userExts := []scim.Extension{{Schema: scim.EnterpriseUser()}}
	var groupExts []scim.Extension
	for _, sb := range fs.Schemas {
		s, d := decodeSchema(sb)
		diags = append(diags, d...)
		if s == nil {
			continue
		}
		switch sb.Resource {
		case backends.User:
			userExts = append(userExts, scim.Extension{Schema: s})
		case backends.Group:
			groupExts = append(groupExts, scim.Extension{Schema: s})
		default:
			diags = append(diags, backends.ConfigDiag(sb.DefRange, "Unknown resource type", fmt.Sprintf("resource must be %q or %q, not %q.", backends.User, backends.Group, sb.Resource)))
		}
	}

	for _, bb := range fs.Backends {
		bt, ok := types[bb.Type]
		if !ok {
			names := make([]string, 0, len(types))
			for n := range types {
				names = append(names, n)
			}
			sort.Strings(names)
			diags = append(diags, backends.ConfigDiag(bb.DefRange, "Unknown backend type", fmt.Sprintf("There is no backend type %q; available: %s.", bb.Type, strings.Join(names, ", "))))
			continue
		}
		if _, dup := cfg.Backends[bb.Name]; dup {
			diags = append(diags, backends.ConfigDiag(bb.DefRange, "Duplicate backend", fmt.Sprintf("A backend named %q is already defined.", bb.Name)))
			continue
		}
		bc, d := bt.Decode(bb.Body, ectx)
		diags = append(diags, d...)
		cfg.Backends[bb.Name] = &Backend{Type: bb.Type, Name: bb.Name, Config: bc, Range: bb.DefRange, Lookups: lookupsOf(bc)}
	}

	paths := map[string]bool{}
	for _, eb := range fs.Endpoints {
		ep, d := decodeEndpoint(eb, ectx, userExts, groupExts)
		diags = append(diags, d...)
		if ep == nil {
			continue
		}
		if b, ok := cfg.Backends[ep.Backend]; !ok {
			diags = append(diags, backends.ConfigDiag(eb.BackendR, "Unknown backend", fmt.Sprintf("Endpoint %q uses backend %q, which is not defined.", eb.Name, ep.Backend)))
		} else {
			diags = append(diags, bindLookups(ep, b.Lookups)...)
			for _, m := range []*mapping.Mapping{ep.Users, ep.Groups} {
				if m != nil {
					m.NativeTime = types[b.Type].NativeTime
				}
			}
		}
		if paths[ep.BasePath] {
			diags = append(diags, backends.ConfigDiag(eb.DefRange, "Duplicate base path", fmt.Sprintf("Another endpoint already serves %q.", ep.BasePath)))
		}
		paths[ep.BasePath] = true
		cfg.Endpoints = append(cfg.Endpoints, ep)
	}
	if len(fs.Endpoints) == 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No endpoint", Detail: "Define at least one endpoint block.", Subject: f.Body.MissingItemRange().Ptr()})
	}
	return cfg, diags
}

func loadSettings(sb *serverBlock, ectx *hcl.EvalContext, flags map[string]any) (Settings, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	fileVals := map[string]any{}
	var attrs hcl.Attributes
	if sb != nil {
		var d hcl.Diagnostics
		attrs, d = sb.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range attrs {
			v, d := a.Expr.Value(ectx)
			diags = append(diags, d...)
			if d.HasErrors() || v.IsNull() {
				continue
			}
			switch v.Type() {
			case cty.String:
				fileVals[name] = v.AsString()
			case cty.Number:
				i, _ := v.AsBigFloat().Int64()
				fileVals[name] = i
			case cty.Bool:
				fileVals[name] = v.True()
			default:
				if list, ok := stringList(v); ok {
					fileVals[name] = list
					continue
				}
				diags = append(diags, backends.ConfigDiag(a.Range, "Invalid setting", "Server settings are strings, numbers, booleans or lists of strings."))
			}
		}
	}
	def := DefaultSettings()
	k := koanf.New(".")
	_ = k.Load(confmap.Provider(settingValues(def), "."), nil)
	_ = k.Load(confmap.Provider(fileVals, "."), nil)
	_ = k.Load(env.Provider(".", env.Opt{Prefix: "SCIMBRIDGE_", TransformFunc: func(key, v string) (string, any) {
		key = strings.ToLower(strings.TrimPrefix(key, "SCIMBRIDGE_"))
		if _, known := knownSettings[key]; !known {
			return "", nil
		}
		return key, v
	}}), nil)
	_ = k.Load(confmap.Provider(flags, "."), nil)
	var s Settings
	if err := k.UnmarshalWithConf("", &s, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings", Detail: err.Error()})
	}
	for key := range fileVals {
		if _, known := knownSettings[key]; !known {
			diags = append(diags, backends.ConfigDiag(attrs[key].Range, "Unknown server setting", fmt.Sprintf("%q is not a server setting.", key)))
		}
	}
	if s.MaxResults < 1 || s.DefaultCount < 0 || s.MaxBodyBytes < 1024 || s.RequestTimeout <= 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings",
			Detail: "max_results must be at least 1, default_count not negative, max_body_bytes at least 1024 and request_timeout positive."})
	}
	if s.MaxBodyMemory < 2*s.MaxBodyBytes || s.HeaderTimeout <= 0 || s.MaxConnections < 1 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings",
			Detail: "max_body_memory must be at least twice max_body_bytes (a body is held as read and as parsed), header_timeout positive and max_connections at least 1."})
	}
	if s.MaxFilterScan < 0 || s.MaxConcurrentScans < 1 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings",
			Detail: "max_filter_scan must not be negative (0 refuses every filter the directory cannot evaluate) and max_concurrent_scans_per_credential must be at least 1."})
	}
	if s.AuthFailureLimit < 1 || s.AuthFailureWindow < time.Second || s.AuthFailureWindow > 24*time.Hour {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings",
			Detail: "auth_failure_limit must be at least 1 and auth_failure_window between 1s and 24h."})
	}
	if s.RateLimit < 0 || s.RateLimitBurst < 0 || s.BackendMaxConcurrency < 0 || s.BackendQueueTimeout <= 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid server settings",
			Detail: "rate_limit and rate_limit_burst must not be negative (0: no limit; twice the rate), backend_max_concurrency not negative (0: no limit) and backend_queue_timeout positive."})
	}
	for key, addr := range map[string]string{"listen": s.Listen, "metrics_listen": s.MetricsListen} {
		if addr == "" && key == "metrics_listen" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid listen address",
				Detail: fmt.Sprintf("%s = %q is not host:port; write \"0.0.0.0:%s\" to listen on every address, \"127.0.0.1:8080\" on loopback only.", key, addr, strings.TrimPrefix(addr, ":"))}
			if a, ok := attrs[key]; ok {
				d.Subject = a.Range.Ptr()
			}
			diags = append(diags, d)
		}
	}
	if s.DefaultCount > s.MaxResults {
		s.DefaultCount = s.MaxResults
	}
	diags = append(diags, checkExposure(&s, attrs)...)
	return s, diags
}

// knownSettings are the names of the server settings: the koanf tags of
// Settings, so that a field added there is a setting everywhere (file,
// environment, flags, the documentation test).
var knownSettings = func() map[string]struct{} {
	out := map[string]struct{}{}
	t := reflect.TypeOf(Settings{})
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("koanf"); tag != "" {
			out[tag] = struct{}{}
		}
	}
	return out
}()

// settingValues lists the non-zero settings of s by name, durations as
// text (how koanf reads them from the file and the environment).
func settingValues(s Settings) map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		tag := v.Type().Field(i).Tag.Get("koanf")
		f := v.Field(i)
		if tag == "" || f.IsZero() {
			continue
		}
		if d, ok := f.Interface().(time.Duration); ok {
			out[tag] = d.String()
			continue
		}
		out[tag] = f.Interface()
	}
	return out
}

var attrTypes = map[string]bool{
	scim.TypeString: true, scim.TypeBoolean: true, scim.TypeDecimal: true, scim.TypeInteger: true,
	scim.TypeDateTime: true, scim.TypeBinary: true, scim.TypeReference: true, scim.TypeComplex: true,
}

func decodeSchema(sb schemaBlock) (*scim.Schema, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if !strings.HasPrefix(sb.ID, "urn:") {
		return nil, hcl.Diagnostics{backends.ConfigDiag(sb.DefRange, "Invalid schema URN", fmt.Sprintf("%q must be a URN, like urn:ietf:params:scim:schemas:extension:acme:2.0:User.", sb.ID))}
	}
	s := &scim.Schema{ID: sb.ID, Name: sb.Name, Description: sb.Description}
	if s.Name == "" {
		parts := strings.Split(sb.ID, ":")
		s.Name = parts[len(parts)-2] + parts[len(parts)-1]
	}
	for _, ab := range sb.Attributes {
		a, d := decodeSchemaAttr(ab)
		diags = append(diags, d...)
		if a != nil {
			s.Attributes = append(s.Attributes, a)
		}
	}
	return s, diags
}

func decodeSchemaAttr(ab schemaAttBlock) (*scim.Attribute, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	a := &scim.Attribute{Name: ab.Name, Type: ab.Type, MultiValued: ab.MultiValued, Required: ab.Required,
		CaseExact: ab.CaseExact, Mutability: ab.Mutability, Description: ab.Description, Returned: "default",
		Uniqueness: "none", CanonicalTypes: ab.Canonical}
	if a.Type == "" {
		a.Type = scim.TypeString
	}
	if a.Mutability == "" {
		a.Mutability = scim.ReadWrite
	}
	if !scim.IsAttrName(ab.Name) {
		diags = append(diags, backends.ConfigDiag(ab.DefRange, "Invalid attribute name", fmt.Sprintf("%q is not a valid SCIM attribute name.", ab.Name)))
	}
	if !attrTypes[a.Type] {
		diags = append(diags, backends.ConfigDiag(ab.DefRange, "Invalid attribute type", fmt.Sprintf("%q is not a SCIM type (string, boolean, decimal, integer, dateTime, binary, reference, complex).", a.Type)))
	}
	switch a.Mutability {
	case scim.ReadOnly, scim.ReadWrite, scim.Immutable, scim.WriteOnly:
	default:
		diags = append(diags, backends.ConfigDiag(ab.DefRange, "Invalid mutability", fmt.Sprintf("%q is not readOnly, readWrite, immutable or writeOnly.", a.Mutability)))
	}
	if a.Mutability == scim.WriteOnly {
		a.Returned = "never"
	}
	for _, sub := range ab.SubAttributes {
		s, d := decodeSchemaAttr(sub)
		diags = append(diags, d...)
		if s != nil {
			a.SubAttributes = append(a.SubAttributes, s)
		}
	}
	if a.Type == scim.TypeComplex && len(a.SubAttributes) == 0 {
		diags = append(diags, backends.ConfigDiag(ab.DefRange, "Complex attribute without sub-attributes", "Declare its sub_attribute blocks."))
	}
	return a, diags
}

func decodeEndpoint(eb endpointBlock, ectx *hcl.EvalContext, userExts, groupExts []scim.Extension) (*Endpoint, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ep := &Endpoint{Name: eb.Name, BasePath: strings.TrimRight(eb.BasePath, "/"), Backend: eb.Backend, Range: eb.DefRange}
	if !basePathRE.MatchString(ep.BasePath) {
		diags = append(diags, backends.ConfigDiag(eb.DefRange, "Invalid base path", fmt.Sprintf("base_path %q must look like /scim/v2.", eb.BasePath)))
	}
	choice := func(name, value, def string, rng hcl.Range) string {
		switch value {
		case "":
			return def
		case "reject", "ignore":
			return value
		}
		diags = append(diags, backends.ConfigDiag(rng, "Invalid "+name, fmt.Sprintf("%s must be \"reject\" or \"ignore\", not %q.", name, value)))
		return def
	}
	ep.UnknownAttributes = choice("unknown_attributes", eb.UnknownAttributes, "reject", eb.UnknownAttributesR)
	ep.UnknownManager = choice("unknown_manager", eb.UnknownManager, "ignore", eb.UnknownManagerR)
	ep.BulkTransaction = eb.BulkTransaction
	ep.Protocol = ProtocolSCIM2
	if eb.Protocol != nil {
		switch p := strings.ToLower(strings.TrimSpace(*eb.Protocol)); p {
		case ProtocolSCIM2, "scim2.0", "2.0":
		case ProtocolSCIM11, "1.1":
			ep.Protocol = ProtocolSCIM11
		default:
			diags = append(diags, backends.ConfigDiag(eb.ProtoR, "Unknown protocol",
				fmt.Sprintf("protocol %q: use %q (the default) or %q (Okta's on-premises Provisioning Agent).", *eb.Protocol, ProtocolSCIM2, ProtocolSCIM11)))
		}
	}
	if eb.Auth != nil {
		for _, tb := range eb.Auth.Tokens {
			t, d := decodeToken(tb)
			diags = append(diags, d...)
			if t != nil {
				ep.Tokens = append(ep.Tokens, *t)
			}
		}
		for _, bb := range eb.Auth.Basic {
			b, d := decodeBasic(bb)
			diags = append(diags, d...)
			if b != nil {
				ep.Basic = append(ep.Basic, *b)
			}
		}
		for _, jb := range eb.Auth.JWTs {
			j, d := decodeJWT(jb)
			diags = append(diags, d...)
			if j != nil {
				ep.JWTs = append(ep.JWTs, *j)
			}
		}
		for _, ob := range eb.Auth.OAuth2 {
			o, d := decodeOAuth2(ob)
			diags = append(diags, d...)
			switch {
			case o != nil && o.Disabled:
				ep.OAuth2Disabled = append(ep.OAuth2Disabled, *o)
			case o != nil:
				ep.OAuth2 = append(ep.OAuth2, *o)
			}
		}
		diags = append(diags, oauth2Unique(ep.OAuth2)...)
	}
	if len(ep.Tokens) == 0 && len(ep.Basic) == 0 && len(ep.JWTs) == 0 && len(ep.OAuth2) == 0 && !diags.HasErrors() {
		d := backends.ConfigDiag(eb.DefRange, "Endpoint without credentials",
			fmt.Sprintf("Endpoint %q accepts no token or password: add an auth block.", eb.Name))
		if at := emptyCredential(eb.Auth); at != nil {
			// Point at the value that came out empty (an unset variable):
			// that is what to fix.
			d.Subject, d.Context = at, eb.DefRange.Ptr()
			d.Detail = fmt.Sprintf("Endpoint %q accepts no token or password: every credential of its auth block is empty.", eb.Name)
		}
		diags = append(diags, d)
	}
	for _, mb := range eb.Mappings {
		switch mb.Resource {
		case backends.User:
			rt := &scim.ResourceType{Name: "User", Endpoint: "/Users", Description: "User Account", Schema: scim.CoreUser(), Extensions: userExts}
			m, d := mapping.Decode(mb.Body, rt)
			diags = append(diags, d...)
			m.Range = mb.DefRange
			ep.Users = m
		case backends.Group:
			rt := &scim.ResourceType{Name: "Group", Endpoint: "/Groups", Description: "Group", Schema: scim.CoreGroup(), Extensions: groupExts}
			m, d := mapping.Decode(mb.Body, rt)
			diags = append(diags, d...)
			m.Range = mb.DefRange
			ep.Groups = m
		default:
			diags = append(diags, backends.ConfigDiag(mb.DefRange, "Unknown resource type", fmt.Sprintf("mapping must be for %q or %q, not %q.", backends.User, backends.Group, mb.Resource)))
		}
	}
	if ep.Users == nil {
		diags = append(diags, backends.ConfigDiag(eb.DefRange, "No User mapping", fmt.Sprintf("Endpoint %q needs a mapping \"User\" block.", eb.Name)))
	}
	return ep, diags
}

func checkScopes(scopes []string, rng hcl.Range) ([]string, hcl.Diagnostics) {
	if len(scopes) == 0 {
		return AllScopes, nil
	}
	valid := map[string]bool{}
	for _, s := range AllScopes {
		valid[s] = true
	}
	for _, s := range scopes {
		if !valid[s] {
			return nil, hcl.Diagnostics{backends.ConfigDiag(rng, "Unknown scope", fmt.Sprintf("%q is not a scope; scopes look like %s.", s, strings.Join(AllScopes[:3], ", ")))}
		}
	}
	return scopes, nil
}

// emptyCredential returns the range of the first token value or password
// of an auth block that is empty, or nil.
func emptyCredential(ab *authBlock) *hcl.Range {
	if ab == nil {
		return nil
	}
	for _, tb := range ab.Tokens {
		if tb.Value != nil && *tb.Value == "" && (tb.Hash == nil || *tb.Hash == "") {
			return tb.ValueR.Ptr()
		}
	}
	for _, bb := range ab.Basic {
		if bb.Password != nil && *bb.Password == "" && (bb.PasswordHash == nil || *bb.PasswordHash == "") {
			return bb.PasswordR.Ptr()
		}
	}
	for _, ob := range ab.OAuth2 {
		if ob.ClientSecret != nil && *ob.ClientSecret == "" && ob.ClientSecretHash == nil {
			return ob.SecretR.Ptr()
		}
	}
	return nil
}

func decodeToken(tb tokenBlock) (*Token, hcl.Diagnostics) {
	t := &Token{Name: tb.Name}
	scopes, diags := checkScopes(tb.Scopes, tb.DefRange)
	t.Scopes = scopes
	rate, d := decodeRate(tb.Rate, tb.Burst, tb.DefRange)
	if d != nil {
		return nil, append(diags, d)
	}
	t.Rate = rate
	switch {
	case tb.Hash != nil && *tb.Hash != "":
		h := strings.TrimPrefix(*tb.Hash, "sha256:")
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 || !strings.HasPrefix(*tb.Hash, "sha256:") {
			return nil, append(diags, backends.ConfigDiag(tb.DefRange, "Invalid token hash", "hash must be \"sha256:\" and 64 hex digits, as printed by `scimbridge token create`."))
		}
		copy(t.Hash[:], b)
	case tb.Value != nil && *tb.Value != "":
		if len(*tb.Value) < 16 {
			return nil, append(diags, backends.ConfigDiag(tb.DefRange, "Token too short", "Tokens must have at least 16 characters; create one with `scimbridge token create`."))
		}
		if d := weakSecret(*tb.Value, fmt.Sprintf("token %q", tb.Name), tb.ValueR, tb.DefRange); d != nil {
			return nil, append(diags, d)
		}
		t.Hash = sha256.Sum256([]byte(*tb.Value))
	default:
		// An empty value (an unset environment variable) disables the token.
		return nil, diags
	}
	if tb.Expires != nil && *tb.Expires != "" {
		exp, err := time.Parse(time.RFC3339, *tb.Expires)
		if err != nil {
			return nil, append(diags, backends.ConfigDiag(tb.DefRange, "Invalid expiry", "expires must be an RFC 3339 time such as 2027-01-31T00:00:00Z."))
		}
		t.Expires = exp
	}
	return t, diags
}

func decodeBasic(bb basicBlock) (*Basic, hcl.Diagnostics) {
	b := &Basic{Username: bb.Username}
	scopes, diags := checkScopes(bb.Scopes, bb.DefRange)
	b.Scopes = scopes
	rate, d := decodeRate(bb.Rate, bb.Burst, bb.DefRange)
	if d != nil {
		return nil, append(diags, d)
	}
	b.Rate = rate
	switch {
	case bb.PasswordHash != nil && *bb.PasswordHash != "":
		h := *bb.PasswordHash
		if !strings.HasPrefix(h, "$2") && !strings.HasPrefix(h, "sha256:") {
			return nil, append(diags, backends.ConfigDiag(bb.DefRange, "Invalid password hash", "password_hash must be a bcrypt hash ($2...) or sha256:<hex>."))
		}
		b.PasswordHash = h
	case bb.Password != nil && *bb.Password != "":
		if d := weakSecret(*bb.Password, fmt.Sprintf("the password of basic %q", bb.Username), bb.PasswordR, bb.DefRange); d != nil {
			return nil, append(diags, d)
		}
		sum := sha256.Sum256([]byte(*bb.Password))
		b.PasswordHash = "sha256:" + hex.EncodeToString(sum[:])
	default:
		return nil, diags
	}
	return b, diags
}

// weakSecret is the diagnostic for a secret given in clear (often through
// env()) that CheckSecret refuses, at the attribute when it is known. The
// snippet printed with it shows the expression: env("...") for a secret
// from the environment, the secret itself only when the file holds it.
func weakSecret(secret, what string, attr, block hcl.Range) *hcl.Diagnostic {
	summary, detail := CheckSecret(secret)
	if summary == "" {
		return nil
	}
	rng := attr
	if rng.Filename == "" {
		rng = block
	}
	return backends.ConfigDiag(rng, summary, fmt.Sprintf("The value of %s is refused. %s", what, detail))
}

// decodeRate reads a credential block's rate_limit and rate_limit_burst:
// nil when neither is set.
func decodeRate(perSecond, burst *int, rng hcl.Range) (*RateLimit, *hcl.Diagnostic) {
	if perSecond == nil && burst == nil {
		return nil, nil
	}
	r := &RateLimit{PerSecond: -1}
	if perSecond != nil {
		if *perSecond < 0 {
			return nil, backends.ConfigDiag(rng, "Invalid rate_limit", "rate_limit must not be negative (0: no limit).")
		}
		r.PerSecond = *perSecond
	}
	if burst != nil {
		if *burst < 1 {
			return nil, backends.ConfigDiag(rng, "Invalid rate_limit_burst", "rate_limit_burst must be at least 1.")
		}
		r.Burst = *burst
	}
	return r, nil
}
