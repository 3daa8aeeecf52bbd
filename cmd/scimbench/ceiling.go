package main

// The ceiling reference of issue 15, goals 2 and 3: a minimal hand-written
// HTTP→directory proxy, what the HTTP hop costs at the least. It answers
// GET /Users/{id} and GET /Users?filter=userName eq "x" with one query
// per request (LDAP: one search through a pool of bound go-ldap
// connections; PostgreSQL: ceiling_pg.go), and a PATCH that replaces one
// singular attribute with one write that returns the entry (LDAP: one
// modify with the post-read control at a DN its reads cached;
// PostgreSQL: one UPDATE ... RETURNING), answering a minimal SCIM-shaped
// JSON of the attributes the shipped example maps (encoding/json), on
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
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/valyala/fasthttp"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

// ceilingProxy is the HTTP side; find is the one backend query per request
// (by "id" or by "userName").
type ceilingProxy struct {
	auth []byte
	find func(ctx context.Context, by, value string) ([]ceilingUser, error)
	// patch replaces attr (a SCIM path) of the user id with value and
	// returns the user as it is after (none: no such user).
	patch func(ctx context.Context, id, attr string, value any) ([]ceilingUser, error)
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
	location string   // the proxy's URL
	dns      sync.Map // entryUUID -> DN, of the entries its reads found
	postRead goldap.Control
}

// startCeiling serves the proxy for the users below ou.People of srv with
// poolSize bound connections (the example's pool_size) and a load client
// of clientConns connections, as the bridge's.
func startCeiling(srv *ldaptest.Server, ou ldaptest.OU, token string, poolSize, clientConns int) (*ceilingProxy, error) {
	l := &ldapCeiling{base: ou.People, disabled: ",ou=disabled," + ou.People, conns: make(chan *goldap.Conn, poolSize)}
	sel := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range ldapUserAttrs {
		sel.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "attribute"))
	}
	l.postRead = goldap.NewControlString(ldapPostReadOID, false, string(sel.Bytes()))
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
	p.patch = l.patch
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
		l.dns.Store(users[i].ID, e.DN)
	}
	return users, nil
}

// ldapPostReadOID is the post-read control (RFC 4527).
const ldapPostReadOID = "1.3.6.1.1.13.2"

// patch is one modify with the post-read control at the DN a read of the
// entry cached (a search finds it first otherwise). Only title: what the
// bench patches. No assertion: a DN that names another entry since is
// not this proxy's concern.
func (l *ldapCeiling) patch(ctx context.Context, id, attr string, value any) ([]ceilingUser, error) {
	v, ok := value.(string)
	if attr != "title" || !ok {
		return nil, errCeilingPatch
	}
	dn, cached := l.dns.Load(id)
	if !cached {
		users, err := l.find(ctx, "id", id)
		if err != nil || len(users) == 0 {
			return nil, err
		}
		dn, _ = l.dns.Load(id)
	}
	var c *goldap.Conn
	select {
	case c = <-l.conns:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req := goldap.NewModifyRequest(dn.(string), []goldap.Control{l.postRead})
	req.Replace("title", []string{v})
	res, err := c.ModifyWithResult(req)
	l.conns <- c
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ctl, _ := goldap.FindControl(res.Controls, ldapPostReadOID).(*goldap.ControlString)
	if ctl == nil {
		return nil, errors.New("ceiling: no post-read entry")
	}
	// [APPLICATION 4] SEQUENCE { DN, SEQUENCE OF { type, SET OF value } }
	pkt, err := ber.DecodePacketErr([]byte(ctl.ControlValue))
	if err != nil || len(pkt.Children) != 2 {
		return nil, errors.New("ceiling: bad post-read entry")
	}
	e := &goldap.Entry{DN: string(pkt.Children[0].ByteValue)}
	for _, a := range pkt.Children[1].Children {
		if len(a.Children) != 2 {
			return nil, errors.New("ceiling: bad post-read attribute")
		}
		ea := &goldap.EntryAttribute{Name: string(a.Children[0].ByteValue)}
		for _, v := range a.Children[1].Children {
			ea.Values = append(ea.Values, string(v.ByteValue))
		}
		e.Attributes = append(e.Attributes, ea)
	}
	return []ceilingUser{l.user(e)}, nil
}

var errCeilingPatch = errors.New("only a replace of title (LDAP) or active / title (PostgreSQL)")

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
	if ctx.IsPatch() {
		p.handlePatch(ctx)
		return
	}
	if !ctx.IsGet() {
		p.fail(ctx, 405, "only GET and PATCH")
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

// handlePatch serves PATCH /Users/{id} with one replace operation that
// has a path.
func (p *ceilingProxy) handlePatch(ctx *fasthttp.RequestCtx) {
	id, ok := strings.CutPrefix(string(ctx.Path()), "/scim/v2/Users/")
	if !ok || p.patch == nil {
		p.fail(ctx, 404, "not found")
		return
	}
	var req struct {
		Operations []struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		}
	}
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil || len(req.Operations) != 1 ||
		!strings.EqualFold(req.Operations[0].Op, "replace") {
		p.fail(ctx, 400, "only one replace operation")
		return
	}
	op := req.Operations[0]
	tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	users, err := p.patch(tctx, id, op.Path, op.Value)
	cancel()
	switch {
	case errors.Is(err, errCeilingPatch):
		p.fail(ctx, 400, err.Error())
		return
	case err != nil:
		p.fail(ctx, 503, err.Error())
		return
	case len(users) != 1:
		p.fail(ctx, 404, "no such user")
		return
	}
	b, err := json.Marshal(users[0])
	if err != nil {
		p.fail(ctx, 500, err.Error())
		return
	}
	ctx.SetContentType("application/scim+json")
	ctx.SetBody(b)
}

// patchOne is the client side of a PATCH replacing attr with value.
func (p *ceilingProxy) patchOne(ctx context.Context, id, attr string, value any) error {
	return p.http.call(ctx, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{ldapPatchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": attr, "value": value}}}, nil)
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
