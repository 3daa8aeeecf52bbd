package main

// The ceiling reference of issue 15, goal 2: a minimal hand-written
// HTTP→directory proxy, what the HTTP hop costs at the least. It answers
// GET /Users/{id} and GET /Users?filter=userName eq "x" with one query
// per request (LDAP: one search through a pool of bound go-ldap
// connections; PostgreSQL: ceiling_pg.go) and a minimal SCIM-shaped JSON
// of the attributes the shipped example maps (encoding/json), on
// fasthttp, in this process on loopback. It checks the bearer token as
// the bridge does and nothing else: no mapping configuration, no schema,
// no cache, no ETags, no attribute selection, no reference lookups. The
// bridge's reads are measured against it in the same rounds, with the
// same client load.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/valyala/fasthttp"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// ceilingProxy is the HTTP side; find is the one backend query per request
// (by "id" or by "userName").
type ceilingProxy struct {
	auth  []byte
	find  func(ctx context.Context, by, value string) ([]ceilingUser, error)
	srv   *fasthttp.Server
	url   string // http://host:port/scim/v2
	http  *loadClient
	close func()
}

// serveCeiling starts the HTTP side on loopback with a load client of
// clientConns connections, as the bridge's.
func serveCeiling(token string, clientConns int, find func(ctx context.Context, by, value string) ([]ceilingUser, error), closeBackend func()) (*ceilingProxy, error) {
	p := &ceilingProxy{auth: []byte("Bearer " + token), find: find}
	p.close = func() {
		if p.http != nil {
			p.http.close()
		}
		if p.srv != nil {
			_ = p.srv.Shutdown()
		}
		closeBackend()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.close()
		return nil, err
	}
	p.srv = &fasthttp.Server{Handler: p.handle, Name: "ceiling"}
	go func() { _ = p.srv.Serve(ln) }()
	p.url = "http://" + ln.Addr().String() + "/scim/v2"
	if p.http, err = newLoadClient(p.url, token, clientConns); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// ldapCeiling is the LDAP side: a pool of bound connections, one search.
type ldapCeiling struct {
	base     string // the people container (scope sub, as the example)
	disabled string // ",ou=disabled,..." suffix of inactive users
	conns    chan *goldap.Conn
	location string // the proxy's URL
}

// startCeiling serves the proxy for the users below ou.People of srv with
// poolSize bound connections (the example's pool_size) and a load client
// of clientConns connections, as the bridge's.
func startCeiling(srv *ldaptest.Server, ou ldaptest.OU, token string, poolSize, clientConns int) (*ceilingProxy, error) {
	l := &ldapCeiling{base: ou.People, disabled: ",ou=disabled," + ou.People, conns: make(chan *goldap.Conn, poolSize)}
	closeConns := func() {
		for {
			select {
			case c := <-l.conns:
				c.Close()
			default:
				return
			}
		}
	}
	for range poolSize {
		c, err := srv.DialAdmin()
		if err != nil {
			closeConns()
			return nil, err
		}
		l.conns <- c
	}
	p, err := serveCeiling(token, clientConns, l.find, closeConns)
	if err != nil {
		return nil, err
	}
	l.location = p.url
	return p, nil
}

func (l *ldapCeiling) find(ctx context.Context, by, value string) ([]ceilingUser, error) {
	filter := "(&(objectClass=inetOrgPerson)(entryUUID=" + goldap.EscapeFilter(value) + "))"
	if by == "userName" {
		filter = "(&(objectClass=inetOrgPerson)(uid=" + goldap.EscapeFilter(value) + "))"
	}
	var c *goldap.Conn
	select {
	case c = <-l.conns:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res, err := c.Search(goldap.NewSearchRequest(l.base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 10, false,
		filter, ldapUserAttrs, nil))
	l.conns <- c
	if err != nil {
		return nil, err
	}
	users := make([]ceilingUser, len(res.Entries))
	for i, e := range res.Entries {
		users[i] = l.user(e)
	}
	return users, nil
}

func (p *ceilingProxy) fail(ctx *fasthttp.RequestCtx, status int, detail string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/scim+json")
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status": status, "detail": detail})
	ctx.SetBody(b)
}

func (p *ceilingProxy) handle(ctx *fasthttp.RequestCtx) {
	if subtle.ConstantTimeCompare(ctx.Request.Header.Peek("Authorization"), p.auth) != 1 {
		p.fail(ctx, 401, "unauthorized")
		return
	}
	if !ctx.IsGet() {
		p.fail(ctx, 405, "only GET")
		return
	}
	path := string(ctx.Path())
	by, value := "id", ""
	list := false
	switch {
	case strings.HasPrefix(path, "/scim/v2/Users/"):
		value = path[len("/scim/v2/Users/"):]
	case path == "/scim/v2/Users":
		f := string(ctx.QueryArgs().Peek("filter"))
		name, ok := strings.CutPrefix(f, `userName eq "`)
		if !ok || !strings.HasSuffix(name, `"`) {
			p.fail(ctx, 400, "only userName eq filters")
			return
		}
		by, value, list = "userName", strings.TrimSuffix(name, `"`), true
	default:
		p.fail(ctx, 404, "not found")
		return
	}
	tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	users, err := p.find(tctx, by, value)
	cancel()
	if err != nil {
		p.fail(ctx, 503, err.Error())
		return
	}
	var body any
	if list {
		body = ceilingList{Schemas: []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			TotalResults: len(users), StartIndex: 1, ItemsPerPage: len(users), Resources: users}
	} else if len(users) != 1 {
		p.fail(ctx, 404, "no such user")
		return
	} else {
		body = users[0]
	}
	b, err := json.Marshal(body)
	if err != nil {
		p.fail(ctx, 500, err.Error())
		return
	}
	ctx.SetContentType("application/scim+json")
	ctx.SetBody(b)
}

type ceilingList struct {
	Schemas      []string      `json:"schemas"`
	TotalResults int           `json:"totalResults"`
	StartIndex   int           `json:"startIndex"`
	ItemsPerPage int           `json:"itemsPerPage"`
	Resources    []ceilingUser `json:"Resources"`
}

type ceilingValue struct {
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
}

type ceilingName struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type ceilingEnterprise struct {
	EmployeeNumber string        `json:"employeeNumber,omitempty"`
	Department     string        `json:"department,omitempty"`
	Manager        *ceilingValue `json:"manager,omitempty"`
}

type ceilingUser struct {
	Schemas           []string           `json:"schemas"`
	ID                string             `json:"id"`
	ExternalID        string             `json:"externalId,omitempty"`
	UserName          string             `json:"userName"`
	Name              *ceilingName       `json:"name,omitempty"`
	DisplayName       string             `json:"displayName,omitempty"`
	Emails            []ceilingValue     `json:"emails,omitempty"`
	PhoneNumbers      []ceilingValue     `json:"phoneNumbers,omitempty"`
	Title             string             `json:"title,omitempty"`
	PreferredLanguage string             `json:"preferredLanguage,omitempty"`
	Active            bool               `json:"active"`
	Groups            []ceilingValue     `json:"groups,omitempty"`
	Enterprise        *ceilingEnterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta              struct {
		ResourceType string `json:"resourceType"`
		Created      string `json:"created,omitempty"`
		LastModified string `json:"lastModified,omitempty"`
		Location     string `json:"location"`
	} `json:"meta"`
}

// user maps an entry the way examples/openldap.hcl does, without the
// reference lookups (memberOf and manager DNs go out as they are).
func (p *ldapCeiling) user(e *goldap.Entry) ceilingUser {
	get := e.GetAttributeValue
	u := ceilingUser{Schemas: []string{ldapCoreUser}, ID: get("entryUUID"), UserName: get("uid"),
		DisplayName: get("displayName"), Title: get("title"), PreferredLanguage: get("preferredLanguage"),
		Active: !strings.HasSuffix(e.DN, p.disabled)}
	if g, f := get("givenName"), get("sn"); g != "" || (f != "" && f != u.UserName) {
		u.Name = &ceilingName{g, f}
		if f == u.UserName {
			u.Name.FamilyName = ""
		}
	}
	if v := get("mail"); v != "" {
		u.Emails = []ceilingValue{{Type: "work", Value: v}}
	}
	if v := get("telephoneNumber"); v != "" {
		u.PhoneNumbers = append(u.PhoneNumbers, ceilingValue{Type: "work", Value: v})
	}
	if v := get("mobile"); v != "" {
		u.PhoneNumbers = append(u.PhoneNumbers, ceilingValue{Type: "mobile", Value: v})
	}
	for _, g := range e.GetAttributeValues("memberOf") {
		u.Groups = append(u.Groups, ceilingValue{Value: g})
	}
	if n, d, m := get("employeeNumber"), get("departmentNumber"), get("manager"); n != "" || d != "" || m != "" {
		u.Enterprise = &ceilingEnterprise{EmployeeNumber: n, Department: d}
		if m != "" {
			u.Enterprise.Manager = &ceilingValue{Value: m}
		}
	}
	u.Meta.ResourceType = "User"
	u.Meta.Created = ceilingTime(get("createTimestamp"))
	u.Meta.LastModified = ceilingTime(get("modifyTimestamp"))
	u.Meta.Location = p.location + "/Users/" + u.ID
	return u
}

// ceilingTime turns a GeneralizedTime into RFC 3339 ("" stays "").
func ceilingTime(s string) string {
	t, err := time.Parse("20060102150405Z", s)
	if err != nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// get is the client side of GET /Users/{id}.
func (p *ceilingProxy) get(ctx context.Context, id string) error {
	return p.http.call(ctx, "GET", "/Users/"+id, nil, nil)
}

// filterOne is the client side of the userName eq filter, checked as the
// bridge's answer is.
func (p *ceilingProxy) filterOne(ctx context.Context, path string) error {
	status, body, err := p.http.do(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	if status != 200 || !oneResult(body) {
		return errors.New("ceiling filter: " + string(body))
	}
	return nil
}
