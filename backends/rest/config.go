package rest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty/function"
)

// Config is the body of a `backend "rest" "<name>" { ... }` block. Decode it
// with DecodeConfig. Expressions (paths, queries, bodies, where the record
// sits in an answer) are kept unevaluated and evaluated per request; see
// docs/rest.md for the variables each one sees.
type Config struct {
	// BaseURL is the API's root: scheme, host and an optional path prefix.
	// Templates add to the path and query; they never change the scheme
	// or the host. Required.
	BaseURL string `hcl:"base_url"`
	// Timeout bounds one HTTP request (connect, send, answer). Default "10s".
	Timeout string `hcl:"timeout,optional"`
	// MaxConcurrency is how many requests run at once; more wait. Default 8.
	MaxConcurrency *int `hcl:"max_concurrency,optional"`
	// MaxResponseBytes bounds one answer's body. Default 8 MiB.
	MaxResponseBytes *int `hcl:"max_response_bytes,optional"`
	// MaxScan bounds the records read to evaluate a filter or a sort the
	// API cannot evaluate. Beyond it the backend says ErrUnsupported and
	// the bridge applies its own max_filter_scan. Default 10000.
	MaxScan *int `hcl:"max_scan,optional"`
	// Headers are sent with every request (not secrets: use auth).
	Headers map[string]string `hcl:"headers,optional"`

	Retry     *RetryConfig      `hcl:"retry,block"`
	Auth      *AuthConfig       `hcl:"auth,block"`
	TLS       *TLSConfig        `hcl:"tls,block"`
	Ping      *PingConfig       `hcl:"ping,block"`
	Errors    []*ErrorRule      `hcl:"error,block"`
	Resources []*ResourceConfig `hcl:"resource,block"`

	BaseURLRange hcl.Range `hcl:"base_url,attr_range"`
	TimeoutRange hcl.Range `hcl:"timeout,attr_range"`

	// filled by DecodeConfig / check
	ectx    *hcl.EvalContext
	env     map[string]string // the environment when the configuration was read
	base    *url.URL
	timeout time.Duration

	funcsOnce sync.Once
	fns       map[string]function.Function
}

// RetryConfig is the `retry { ... }` block.
type RetryConfig struct {
	// Attempts is the number of tries of one request, first included. Default 3.
	Attempts *int `hcl:"attempts,optional"`
	// MinBackoff is the first wait; it doubles, with jitter. Default "200ms".
	MinBackoff string `hcl:"min_backoff,optional"`
	// MaxBackoff caps a wait, Retry-After included. Default "5s".
	MaxBackoff string `hcl:"max_backoff,optional"`

	minBackoff, maxBackoff time.Duration
}

// AuthConfig is the `auth { ... }` block: exactly one way to authenticate.
type AuthConfig struct {
	BearerToken *string       `hcl:"bearer_token,optional"`
	Header      *HeaderAuth   `hcl:"header,block"`
	Basic       *BasicAuth    `hcl:"basic,block"`
	OAuth2      *OAuth2Config `hcl:"oauth2,block"`
	Login       *LoginConfig  `hcl:"login,block"`

	DefRange hcl.Range `hcl:",def_range"`
}

// HeaderAuth sends a fixed header (an API key).
type HeaderAuth struct {
	Name  string `hcl:"name"`
	Value string `hcl:"value"`
}

// BasicAuth sends HTTP Basic credentials.
type BasicAuth struct {
	Username string `hcl:"username"`
	Password string `hcl:"password"`
}

// OAuth2Config is OAuth 2.0 client credentials (RFC 6749 section 4.4).
type OAuth2Config struct {
	TokenURL       string            `hcl:"token_url"`
	ClientID       string            `hcl:"client_id"`
	ClientSecret   string            `hcl:"client_secret"`
	Scopes         []string          `hcl:"scopes,optional"`
	EndpointParams map[string]string `hcl:"endpoint_params,optional"`
}

// LoginConfig is a login call that returns a session token.
type LoginConfig struct {
	Method string         `hcl:"method,optional"`
	Path   hcl.Expression `hcl:"path"`
	Body   hcl.Expression `hcl:"body,optional"`
	// Token is where the token sits in the login answer (over response).
	Token  hcl.Expression `hcl:"token"`
	Header string         `hcl:"header,optional"`
	Prefix *string        `hcl:"prefix,optional"`
	// TTL: log in again after this long even without a 401. Default: only on 401.
	TTL string `hcl:"ttl,optional"`

	ttl time.Duration
}

// TLSConfig is the `tls { ... }` block.
type TLSConfig struct {
	CAFile     string `hcl:"ca_file,optional"`
	CertFile   string `hcl:"cert_file,optional"`
	KeyFile    string `hcl:"key_file,optional"`
	ServerName string `hcl:"server_name,optional"`
}

// PingConfig is the `ping { ... }` block: a cheap request for readiness.
type PingConfig struct {
	Path hcl.Expression `hcl:"path"`
}

// ErrorRule is one `error { ... }` block: how an answer maps to a SCIM
// error. Rules are tried in order before the defaults.
type ErrorRule struct {
	When      hcl.Expression `hcl:"when"`
	Kind      string         `hcl:"kind"`
	Attribute hcl.Expression `hcl:"attribute,optional"`

	KindRange hcl.Range `hcl:"kind,attr_range"`
}

// ResourceConfig is one `resource "<type>" { ... }` block.
type ResourceConfig struct {
	Type       string             `hcl:"type,label"`
	Attributes []*AttributeConfig `hcl:"attribute,block"`
	// ID is where the id sits in a record. Default record.id.
	ID hcl.Expression `hcl:"id,optional"`
	// Version is the record's optimistic-concurrency version (the update
	// body sees it as version). Default: none.
	Version hcl.Expression `hcl:"version,optional"`
	// IDPattern: ids that do not match are not found without a request.
	IDPattern string `hcl:"id_pattern,optional"`

	// Describe reads the API's schema of the resource for the start-up
	// check of the mapping. Default: the declared attributes only.
	Describe *DescribeConfig `hcl:"describe,block"`

	Create *OpConfig   `hcl:"create,block"`
	Get    *OpConfig   `hcl:"get,block"`
	Update *OpConfig   `hcl:"update,block"`
	Delete *OpConfig   `hcl:"delete,block"`
	List   *ListConfig `hcl:"list,block"`

	DefRange hcl.Range `hcl:",def_range"`

	idRE  *regexp.Regexp
	attrs map[string]*AttributeConfig // by lower-case name
}

// AttributeConfig is one native attribute of a resource.
type AttributeConfig struct {
	Name string `hcl:"name,label"`
	// Read is where the value sits in a record. Default record.<name>.
	Read hcl.Expression `hcl:"read,optional"`
	// Type: "string" (default), "number", "bool": what the body gets.
	Type  string `hcl:"type,optional"`
	Multi bool   `hcl:"multi,optional"`
	// ReadOnly attributes are read, never written.
	ReadOnly bool `hcl:"read_only,optional"`
	// Unique: the bridge refuses a second record with the same value
	// (case-insensitively), for APIs without a unique index.
	Unique bool `hcl:"unique,optional"`
	// Reference names the resource type whose ids the values hold.
	Reference string `hcl:"reference,optional"`
	// Integrity: "api" (default): the API refuses unknown ids and removes
	// the ids of deleted records itself; "bridge": the bridge does both.
	Integrity string `hcl:"integrity,optional"`
	// InverseOf ("members"): read-only; the ids of the Reference records
	// whose attribute of that name holds this record's id.
	InverseOf string `hcl:"inverse_of,optional"`
	// Add / Remove are body fragments (over values) that add or remove
	// values in one request: PocketBase's {"members+" = values}.
	Add    hcl.Expression `hcl:"add,optional"`
	Remove hcl.Expression `hcl:"remove,optional"`
	// AddRequest / RemoveRequest add or remove one value with a request of
	// its own (a sub-resource: POST /groups/{id}/members), one per value.
	AddRequest    *OpConfig `hcl:"add_request,block"`
	RemoveRequest *OpConfig `hcl:"remove_request,block"`

	DefRange       hcl.Range `hcl:",def_range"`
	TypeRange      hcl.Range `hcl:"type,attr_range"`
	IntegrityRange hcl.Range `hcl:"integrity,attr_range"`
}

// DescribeConfig is the `describe { ... }` block of a resource.
type DescribeConfig struct {
	Path hcl.Expression `hcl:"path"`
	// Fields (over response): a list of objects with name and, optionally,
	// required and read_only.
	Fields hcl.Expression `hcl:"fields"`
}

// OpConfig is one operation: create, get, update, delete.
type OpConfig struct {
	Method  string         `hcl:"method,optional"`
	Path    hcl.Expression `hcl:"path"`
	Query   hcl.Expression `hcl:"query,optional"`
	Headers hcl.Expression `hcl:"headers,optional"`
	Body    hcl.Expression `hcl:"body,optional"`
	// Record is where the record sits in the answer. Default response.
	Record hcl.Expression `hcl:"record,optional"`

	DefRange    hcl.Range `hcl:",def_range"`
	MethodRange hcl.Range `hcl:"method,attr_range"`
}

// ListConfig is the `list { ... }` block.
type ListConfig struct {
	Method  string         `hcl:"method,optional"`
	Path    hcl.Expression `hcl:"path"`
	Query   hcl.Expression `hcl:"query,optional"`
	Headers hcl.Expression `hcl:"headers,optional"`
	// Items is where the records sit in the answer. Default response.
	Items hcl.Expression `hcl:"items,optional"`
	// Total is the number of records over all pages. Default: unknown
	// (the backend counts by reading every page).
	Total hcl.Expression `hcl:"total,optional"`
	// Paging: "page", "offset", "cursor", "next_link" or "none".
	Paging string `hcl:"paging,optional"`
	// PageSize is the page size the backend asks for. Default 100.
	PageSize *int `hcl:"page_size,optional"`
	// Next: the next cursor (paging "cursor") or link ("next_link"); null ends.
	Next    hcl.Expression `hcl:"next,optional"`
	Filters []*FilterRule  `hcl:"filter,block"`

	DefRange    hcl.Range `hcl:",def_range"`
	PagingRange hcl.Range `hcl:"paging,attr_range"`
}

// FilterRule is one `filter "<attribute>" { ... }` block: a comparison on
// a native attribute the API can narrow a list by.
type FilterRule struct {
	Attr string `hcl:"attribute,label"`
	// Ops lists the operators served. Default ["eq"].
	Ops []string `hcl:"ops,optional"`
	// When (over value, op, ignore_case): the rule applies only when true.
	When hcl.Expression `hcl:"when,optional"`
	// Query (over value, op, ignore_case): parameters added to the list query.
	Query hcl.Expression `hcl:"query"`

	DefRange hcl.Range `hcl:",def_range"`
}

// DecodeConfig decodes a backend "rest" block's body. ectx provides env()
// and file(); it is kept to evaluate the expressions per request.
func DecodeConfig(body hcl.Body, ectx *hcl.EvalContext) (*Config, hcl.Diagnostics) {
	cfg := &Config{}
	diags := gohcl.DecodeBody(body, ectx, cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	cfg.ectx = ectx
	cfg.env = snapshotEnv()
	diags = append(diags, cfg.check()...)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, diags
}

func isSet(e hcl.Expression) bool {
	if e == nil {
		return false
	}
	// gohcl fills an absent optional expression with a static null.
	if len(e.Variables()) > 0 {
		return true
	}
	v, diags := e.Value(nil)
	return diags.HasErrors() || !v.IsNull()
}

func errAt(r hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: r.Ptr()}
}

func parseDuration(s, def string) (time.Duration, error) {
	if s == "" {
		s = def
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration")
	}
	return d, err
}

func (c *Config) check() hcl.Diagnostics {
	var diags hcl.Diagnostics
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		diags = append(diags, errAt(c.BaseURLRange, "Invalid base_url",
			"base_url must be an http:// or https:// URL with a host and no query, fragment or credentials; got %q", c.BaseURL))
	} else {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		c.base = u
	}
	if c.timeout, err = parseDuration(c.Timeout, "10s"); err != nil || c.timeout == 0 {
		diags = append(diags, errAt(c.TimeoutRange, "Invalid timeout", "timeout must be a positive duration such as \"10s\""))
	}
	for name, p := range map[string]**int{"max_concurrency": &c.MaxConcurrency, "max_response_bytes": &c.MaxResponseBytes, "max_scan": &c.MaxScan} {
		if *p != nil && **p < 1 {
			diags = append(diags, errAt(c.BaseURLRange, "Invalid "+name, "%s must be at least 1", name))
		}
	}
	def := func(p **int, v int) {
		if *p == nil {
			*p = &v
		}
	}
	def(&c.MaxConcurrency, 8)
	def(&c.MaxResponseBytes, 8<<20)
	def(&c.MaxScan, 10000)
	if c.Retry == nil {
		c.Retry = &RetryConfig{}
	}
	def(&c.Retry.Attempts, 3)
	if c.Retry.minBackoff, err = parseDuration(c.Retry.MinBackoff, "200ms"); err != nil {
		diags = append(diags, errAt(c.BaseURLRange, "Invalid retry.min_backoff", "%v", err))
	}
	if c.Retry.maxBackoff, err = parseDuration(c.Retry.MaxBackoff, "5s"); err != nil {
		diags = append(diags, errAt(c.BaseURLRange, "Invalid retry.max_backoff", "%v", err))
	}
	if c.Auth != nil {
		n := 0
		for _, set := range []bool{c.Auth.BearerToken != nil, c.Auth.Header != nil, c.Auth.Basic != nil, c.Auth.OAuth2 != nil, c.Auth.Login != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			diags = append(diags, errAt(c.Auth.DefRange, "Invalid auth block",
				"auth takes exactly one of bearer_token, header, basic, oauth2 or login; found %d", n))
		}
		if l := c.Auth.Login; l != nil {
			if l.ttl, err = parseDuration(l.TTL, "0s"); err != nil {
				diags = append(diags, errAt(c.Auth.DefRange, "Invalid login ttl", "%v", err))
			}
		}
	}
	kinds := map[string]bool{}
	for _, e := range c.Errors {
		if _, ok := errorKinds[e.Kind]; !ok {
			diags = append(diags, errAt(e.KindRange, "Unknown error kind",
				"kind must be one of %s; got %q", strings.Join(errorKindNames(), ", "), e.Kind))
		}
	}
	_ = kinds
	types := map[string]*ResourceConfig{}
	for _, r := range c.Resources {
		if types[r.Type] != nil {
			diags = append(diags, errAt(r.DefRange, "Duplicate resource", "resource %q is declared twice", r.Type))
		}
		types[r.Type] = r
	}
	if len(c.Resources) == 0 {
		diags = append(diags, errAt(c.BaseURLRange, "No resources", "a rest backend needs at least one resource block"))
	}
	for _, r := range c.Resources {
		diags = append(diags, r.check(types)...)
	}
	return diags
}

func (r *ResourceConfig) check(types map[string]*ResourceConfig) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if r.IDPattern != "" {
		re, err := regexp.Compile("^(?:" + r.IDPattern + ")$")
		if err != nil {
			diags = append(diags, errAt(r.DefRange, "Invalid id_pattern", "%v", err))
		}
		r.idRE = re
	}
	for name, op := range map[string]*OpConfig{"create": r.Create, "get": r.Get, "update": r.Update, "delete": r.Delete} {
		if op == nil {
			diags = append(diags, errAt(r.DefRange, "Missing operation", "resource %q needs a %s block", r.Type, name))
			continue
		}
		if op.Method == "" {
			op.Method = map[string]string{"create": "POST", "get": "GET", "update": "PATCH", "delete": "DELETE"}[name]
		}
		op.Method = strings.ToUpper(op.Method)
		if !validMethod(op.Method) {
			diags = append(diags, errAt(op.MethodRange, "Invalid method", "method %q is not GET, POST, PUT, PATCH or DELETE", op.Method))
		}
		if (name == "create" || name == "update") && !isSet(op.Body) {
			if name == "update" && r.Create != nil && isSet(r.Create.Body) {
				op.Body = r.Create.Body
			} else {
				diags = append(diags, errAt(op.DefRange, "Missing body", "the %s operation of resource %q needs a body expression", name, r.Type))
			}
		}
	}
	if r.List == nil {
		diags = append(diags, errAt(r.DefRange, "Missing operation", "resource %q needs a list block", r.Type))
	} else {
		l := r.List
		if l.Method == "" {
			l.Method = "GET"
		}
		l.Method = strings.ToUpper(l.Method)
		switch l.Paging {
		case "":
			l.Paging = "none"
		case "none", "page", "offset":
		case "cursor", "next_link":
			if !isSet(l.Next) {
				diags = append(diags, errAt(l.PagingRange, "Missing next", "paging %q needs a next expression", l.Paging))
			}
		default:
			diags = append(diags, errAt(l.PagingRange, "Invalid paging", "paging must be \"page\", \"offset\", \"cursor\", \"next_link\" or \"none\"; got %q", l.Paging))
		}
		if l.PageSize == nil {
			n := 100
			l.PageSize = &n
		} else if *l.PageSize < 1 {
			diags = append(diags, errAt(l.DefRange, "Invalid page_size", "page_size must be at least 1"))
		}
	}
	r.attrs = map[string]*AttributeConfig{}
	for _, a := range r.Attributes {
		k := strings.ToLower(a.Name)
		if r.attrs[k] != nil {
			diags = append(diags, errAt(a.DefRange, "Duplicate attribute", "attribute %q is declared twice", a.Name))
		}
		r.attrs[k] = a
		switch a.Type {
		case "":
			a.Type = "string"
		case "string", "number", "bool":
		default:
			diags = append(diags, errAt(a.TypeRange, "Invalid type", "type must be \"string\", \"number\" or \"bool\"; got %q", a.Type))
		}
		switch a.Integrity {
		case "":
			a.Integrity = "api"
		case "api", "bridge":
		default:
			diags = append(diags, errAt(a.IntegrityRange, "Invalid integrity", "integrity must be \"api\" or \"bridge\"; got %q", a.Integrity))
		}
		if a.Reference != "" && types[a.Reference] == nil {
			diags = append(diags, errAt(a.DefRange, "Unknown reference", "attribute %q references resource %q, which has no resource block", a.Name, a.Reference))
		}
		if a.InverseOf != "" {
			if a.Reference == "" {
				diags = append(diags, errAt(a.DefRange, "Missing reference", "inverse_of needs reference (the resource type whose %q holds this record's id)", a.InverseOf))
			}
			a.ReadOnly = true
			a.Multi = true
		}
		if a.Reference != "" {
			a.Type = "string"
		}
		for name, op := range map[string]*OpConfig{"add_request": a.AddRequest, "remove_request": a.RemoveRequest} {
			if op == nil {
				continue
			}
			if op.Method == "" {
				op.Method = map[string]string{"add_request": "POST", "remove_request": "DELETE"}[name]
			}
			op.Method = strings.ToUpper(op.Method)
			if !validMethod(op.Method) {
				diags = append(diags, errAt(op.MethodRange, "Invalid method", "method %q is not GET, POST, PUT, PATCH or DELETE", op.Method))
			}
			if isSet(a.Add) || isSet(a.Remove) {
				diags = append(diags, errAt(op.DefRange, "Two ways to change members", "attribute %q has both add/remove fragments and %s; use one", a.Name, name))
			}
		}
	}
	if r.List != nil {
		for _, f := range r.List.Filters {
			if len(f.Ops) == 0 {
				f.Ops = []string{"eq"}
			}
		}
	}
	return diags
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}
