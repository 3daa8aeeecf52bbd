package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// POST {base}/Bulk (RFC 7644 §3.7) carries out a list of POST, PUT, PATCH
// and DELETE operations on Users and Groups. Each operation is the single
// request it stands for: the same scope check (post:users, ...), the same
// Resource methods and so the same validation, per-resource write
// ordering and answers; the body as a whole is read and charged to
// max_body_memory like any other (readBody), after the credential was
// checked and within bulk_max_payload_bytes and bulk_max_operations.
//
// Operations run in the order given. "bulkId:<id>" in an operation's path
// or data stands for the id of the resource that the POST with that bulkId
// created; an operation naming the bulkId of a later POST waits until that
// POST ran. A bulkId whose POST failed, or that no POST defines, fails the
// operations naming it with 409. Circular references (POSTs that wait for
// each other) are broken up where they run through member values or a
// manager: the first such POST is created without them and a PATCH the
// bridge adds sets them once the others exist (RFC 7644 §3.7.1); its
// result shows the resource after that PATCH, or the PATCH's failure.
// Other circles fail with 409 (which RFC 7644 allows). failOnErrors stops the request
// after that many failed operations; the ones not run are left out of the
// answer. Each operation is its own write: an error leaves the operations
// before it in place.

const (
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkIDPrefix       = "bulkId:"
)

// bulkOp is one operation of a BulkRequest.
type bulkOp struct {
	Method, BulkID, Version, Path string
	Data                          any
	// bad is why the operation cannot run at all (missing method, ...).
	bad error
	// followUp: a PATCH the bridge added to complete the POST parent
	// (a circular reference broken up); it has no result of its own.
	followUp bool
	parent   int
}

func (s *Server) bulk(ep *Endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := c.Locals("principal").(*Principal)
		if p == nil {
			return scim.Errorf(401, "", "authentication required")
		}
		limit := s.Settings.BulkMaxPayloadBytes
		if n := c.Request().Header.ContentLength(); n > limit {
			return bulkTooLarge(limit)
		}
		if err := s.readBody(c); err != nil {
			return err
		}
		if len(c.Request().Body()) > limit {
			return bulkTooLarge(limit)
		}
		raw, err := decodeBody(c)
		if err != nil {
			return err
		}
		ops, failOn, err := parseBulk(raw)
		if err != nil {
			return err
		}
		if len(ops) > s.Settings.BulkMaxOperations {
			return scim.Errorf(http.StatusRequestEntityTooLarge, scim.TypeTooMany,
				"the request has %d operations; at most %d are allowed (bulk_max_operations)", len(ops), s.Settings.BulkMaxOperations)
		}
		// One backend slot for the whole request: its operations run one
		// after the other and take none of their own (backendlimit.go).
		release, err := s.backendSlot(c, ep)
		if err != nil {
			return err
		}
		defer release()
		start := time.Now()
		run := &bulkRun{s: s, ep: ep, c: c, ctx: c.UserContext(), p: p, ops: ops, failOn: failOn,
			results: make([]map[string]any, len(ops)), ids: map[string]string{}, failed: map[string]bool{}, posts: map[string]int{}}
		if tr, ok := ep.Backend.(transactor); ok && ep.BulkTransaction {
			if err := run.inTransaction(tr); err != nil {
				return err // the transaction could not begin
			}
		} else {
			run.run()
		}
		if s.audit != nil {
			s.auditBulk(c, ep, run, time.Since(start))
		}
		out := make([]any, 0, len(ops))
		for i, r := range run.results {
			if r != nil && !run.ops[i].followUp {
				out = append(out, r)
			}
		}
		return s.writeJSON(c, 200, map[string]any{"schemas": []string{bulkResponseSchema}, "Operations": out})
	}
}

func bulkTooLarge(limit int) error {
	return scim.Errorf(http.StatusRequestEntityTooLarge, scim.TypeTooMany,
		"the request body is larger than %d bytes (bulk_max_payload_bytes)", limit)
}

// parseBulk reads a BulkRequest: its operations and failOnErrors (0: no
// limit). A malformed operation is kept with why, to fail on its own.
func parseBulk(raw map[string]any) ([]bulkOp, int, error) {
	var ops []bulkOp
	failOn := 0
	found := false
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "failonerrors":
			n, ok := wholeNumber(v)
			if !ok || n < 1 {
				return nil, 0, scim.BadRequest(scim.TypeInvalidValue, "failOnErrors must be a positive integer")
			}
			failOn = n
		case "operations":
			found = true
			list, ok := v.([]any)
			if !ok {
				return nil, 0, scim.BadRequest(scim.TypeInvalidSyntax, "Operations must be an array")
			}
			for _, el := range list {
				ops = append(ops, parseBulkOp(el))
			}
		}
	}
	if !found {
		return nil, 0, scim.BadRequest(scim.TypeInvalidSyntax, "a BulkRequest needs Operations")
	}
	return ops, failOn, nil
}

func wholeNumber(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(x.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func parseBulkOp(el any) bulkOp {
	m, ok := el.(map[string]any)
	if !ok {
		return bulkOp{bad: scim.BadRequest(scim.TypeInvalidSyntax, "each operation must be an object")}
	}
	var op bulkOp
	for k, v := range m {
		str, isStr := v.(string)
		switch strings.ToLower(k) {
		case "method":
			op.Method = strings.ToUpper(strings.TrimSpace(str))
		case "bulkid":
			op.BulkID = str
			if !isStr && v != nil {
				op.bad = scim.BadRequest(scim.TypeInvalidValue, "bulkId must be a string")
			}
		case "version":
			op.Version = str
		case "path":
			op.Path = strings.TrimSpace(str)
		case "data":
			op.Data = v
		}
	}
	switch {
	case op.bad != nil:
	case op.Method != "POST" && op.Method != "PUT" && op.Method != "PATCH" && op.Method != "DELETE":
		op.bad = scim.BadRequest(scim.TypeInvalidValue, "method must be POST, PUT, PATCH or DELETE")
	case op.Path == "":
		op.bad = scim.BadRequest(scim.TypeInvalidPath, "the operation needs a path such as /Users or /Users/{id}")
	case op.Method == "POST" && op.BulkID == "":
		op.bad = scim.BadRequest(scim.TypeInvalidValue, "a POST operation needs a bulkId")
	case len(op.BulkID) > 256:
		op.bad = scim.BadRequest(scim.TypeInvalidValue, "bulkId is too long")
	}
	return op
}

// bulkRun carries out the operations of one request.
type bulkRun struct {
	s       *Server
	ep      *Endpoint
	c       *fiber.Ctx
	ctx     context.Context // the request's, or the transaction's
	p       *Principal
	ops     []bulkOp
	failOn  int
	errors  int
	results []map[string]any
	ids     map[string]string // bulkId -> id of the created resource
	failed  map[string]bool   // bulkIds whose POST failed
	posts   map[string]int    // bulkId -> index of its POST
}

func (b *bulkRun) run() {
	pending := make([]int, 0, len(b.ops))
	for i, op := range b.ops {
		if op.bad == nil && op.Method == "POST" {
			if _, dup := b.posts[op.BulkID]; dup {
				b.ops[i].bad = scim.BadRequest(scim.TypeUniqueness, "bulkId %q is used by an earlier operation", op.BulkID)
			} else {
				b.posts[op.BulkID] = i
			}
		}
		pending = append(pending, i)
	}
	for len(pending) > 0 {
		var waiting []int
		for _, i := range pending {
			if b.stopped() {
				return
			}
			if !b.ready(i) {
				waiting = append(waiting, i)
				continue
			}
			b.runOne(i)
		}
		if len(waiting) == len(pending) {
			// Nothing ran: the rest wait for each other. Break the
			// circle at the first POST whose waiting references are
			// member values or a manager: it is created without them,
			// and a PATCH adds them once the others exist.
			at := -1
			for k, i := range waiting {
				if b.split(i) {
					at = k
					break
				}
			}
			if at < 0 {
				for _, i := range waiting {
					if b.stopped() {
						return
					}
					b.fail(i, scim.Errorf(409, "", "circular bulkId references: the operations naming %s wait for each other", strings.Join(b.unresolved(i), ", ")))
				}
				return
			}
			i := waiting[at]
			waiting = append(waiting[:at:at], waiting[at+1:]...)
			b.runOne(i)
			if st, _ := b.results[i]["status"].(string); strings.HasPrefix(st, "2") {
				waiting = append(waiting, len(b.ops)-1) // its follow-up
			}
		}
		pending = waiting
	}
}

// waits reports whether bulkId ref names a POST that has not run yet.
func (b *bulkRun) waits(ref string) bool {
	j, ok := b.posts[ref]
	return ok && b.results[j] == nil
}

// split takes out of POST i the member values and manager that name
// POSTs not run yet, and queues the PATCH that adds them after it; false
// (nothing changed) when other references would still wait.
func (b *bulkRun) split(i int) bool {
	op := b.ops[i]
	obj, ok := op.Data.(map[string]any)
	if op.bad != nil || op.Method != "POST" || !ok {
		return false
	}
	data := scim.DeepCopy(obj).(map[string]any)
	var deferred []any
	waiting := func(v any) bool {
		s, _ := v.(string)
		ref, ok := strings.CutPrefix(s, bulkIDPrefix)
		return ok && b.waits(ref)
	}
	for k, v := range data {
		switch {
		case strings.EqualFold(k, "members"):
			list, _ := v.([]any)
			var keep, later []any
			for _, el := range list {
				if m, ok := el.(map[string]any); ok && waiting(m["value"]) {
					later = append(later, map[string]any{"value": m["value"]})
				} else {
					keep = append(keep, el)
				}
			}
			if len(later) > 0 {
				data[k] = keep
				deferred = append(deferred, map[string]any{"op": "add", "path": "members", "value": later})
			}
		case strings.EqualFold(k, scim.EnterpriseSchema):
			ext, _ := v.(map[string]any)
			for ek, ev := range ext {
				if !strings.EqualFold(ek, "manager") {
					continue
				}
				mv := ev
				if m, ok := ev.(map[string]any); ok {
					mv = m["value"]
				}
				if waiting(mv) {
					delete(ext, ek)
					deferred = append(deferred, map[string]any{"op": "replace", "path": scim.EnterpriseSchema + ":manager", "value": map[string]any{"value": mv}})
				}
			}
		}
	}
	if len(deferred) == 0 {
		return false
	}
	for _, ref := range bulkRefs(bulkOp{Data: data}) {
		if b.waits(ref) && ref != op.BulkID {
			return false
		}
	}
	b.ops[i].Data = data
	b.ops = append(b.ops, bulkOp{Method: "PATCH", Path: strings.TrimRight(op.Path, "/") + "/" + bulkIDPrefix + op.BulkID,
		Data: map[string]any{"Operations": deferred}, followUp: true, parent: i})
	b.results = append(b.results, nil)
	return true
}

// transactor is a backend that can run several calls in one transaction
// (SQL): ctx carries it to every call made with it.
type transactor interface {
	InTransaction(ctx context.Context, fn func(ctx context.Context) error) error
}

// errRolledBack makes InTransaction roll back after a failed operation.
var errRolledBack = errors.New("a bulk operation failed")

// inTransaction runs the operations in one transaction of the backend
// (bulk_transaction = true): the first failure stops the request and
// undoes every operation; the operations that had succeeded then answer
// 424 (Failed Dependency), naming the one that failed.
func (b *bulkRun) inTransaction(tr transactor) error {
	b.failOn = 1
	began := false
	err := tr.InTransaction(b.c.UserContext(), func(ctx context.Context) error {
		began = true
		b.ctx = ctx
		b.run()
		if b.errors > 0 {
			return errRolledBack
		}
		return nil
	})
	if err == nil {
		return nil
	}
	if !began {
		return err
	}
	failed := -1
	for i, r := range b.results {
		if st, _ := r["status"].(string); r != nil && !b.ops[i].followUp && !strings.HasPrefix(st, "2") {
			failed = i
		}
	}
	for i, r := range b.results {
		if r == nil || i == failed || b.ops[i].followUp {
			continue
		}
		cause := err
		if errors.Is(err, errRolledBack) {
			cause = scim.Errorf(http.StatusFailedDependency, "", "rolled back: operation %d of the request failed (bulk_transaction)", failed+1)
		}
		_, body := b.s.errorBody(b.c, cause)
		r["status"], r["response"] = bodyStatus(body), body
		delete(r, "location")
		delete(r, "version")
	}
	return nil
}

func bodyStatus(body map[string]any) string {
	s, _ := body["status"].(string)
	return s
}

func (b *bulkRun) stopped() bool { return b.failOn > 0 && b.errors >= b.failOn }

// ready reports whether every bulkId that operation i names is resolved
// (or can never be: the operation then fails when it runs).
func (b *bulkRun) ready(i int) bool {
	for _, ref := range bulkRefs(b.ops[i]) {
		if _, ok := b.ids[ref]; ok || b.failed[ref] {
			continue
		}
		if j, ok := b.posts[ref]; ok && j != i && b.results[j] == nil {
			return false
		}
	}
	return true
}

func (b *bulkRun) unresolved(i int) []string {
	var out []string
	for _, ref := range bulkRefs(b.ops[i]) {
		if _, ok := b.ids[ref]; !ok {
			out = append(out, strconv.Quote(bulkIDPrefix+ref))
		}
	}
	return out
}

// bulkRefs lists the bulkIds an operation's path and data name.
func bulkRefs(op bulkOp) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if id, ok := strings.CutPrefix(x, bulkIDPrefix); ok && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	if i := strings.Index(op.Path, bulkIDPrefix); i >= 0 {
		walk(op.Path[i:])
	}
	walk(op.Data)
	return out
}

// resolve replaces every "bulkId:<id>" in v by the id it stands for.
func (b *bulkRun) resolve(v any) (any, error) {
	switch x := v.(type) {
	case string:
		ref, ok := strings.CutPrefix(x, bulkIDPrefix)
		if !ok {
			return x, nil
		}
		if id, ok := b.ids[ref]; ok {
			return id, nil
		}
		if b.failed[ref] {
			return nil, scim.Errorf(409, "", "%q names a resource whose POST failed", x)
		}
		return nil, scim.Errorf(409, "", "%q names no POST operation of this request", x)
	case map[string]any:
		for k, e := range x {
			r, err := b.resolve(e)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := b.resolve(e)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

func (b *bulkRun) fail(i int, err error) {
	op := b.ops[i]
	e, body := b.s.errorBody(b.c, err)
	res := map[string]any{"status": strconv.Itoa(e.Status), "response": body}
	if op.Method != "" {
		res["method"] = op.Method
	}
	if op.BulkID != "" {
		res["bulkId"] = op.BulkID
		if op.Method == "POST" {
			b.failed[op.BulkID] = true
		}
	}
	if op.Path != "" {
		res["path"] = op.Path
	}
	b.results[i] = res
	b.errors++
}

// runOne carries out operation i and records its result.
func (b *bulkRun) runOne(i int) {
	op := b.ops[i]
	if op.bad != nil {
		b.fail(i, op.bad)
		return
	}
	res, err := b.exec(op)
	if op.followUp {
		b.completed(i, res, err)
		return
	}
	if err != nil {
		b.fail(i, err)
		return
	}
	res["method"] = op.Method
	if op.BulkID != "" {
		res["bulkId"] = op.BulkID
	}
	b.results[i] = res
}

// completed records the outcome of follow-up i in its POST's result: the
// resource as it is now, or the failure (the resource stays, created
// without the references).
func (b *bulkRun) completed(i int, res map[string]any, err error) {
	b.results[i] = map[string]any{} // ran
	parent := b.results[b.ops[i].parent]
	if err == nil {
		var h *handler
		var id string
		h, id, err = b.target("GET", strings.TrimPrefix(bridgeLocationPath(parent), "/"))
		if err == nil {
			var doc scim.Doc
			if doc, err = h.r.Get(b.ctx, id, h.access(b.c).readable("members")); err == nil {
				h.access(b.c).strip(doc)
				h.decorate(b.c, doc)
				parent["response"], parent["version"] = doc, doc["meta"].(map[string]any)["version"]
				return
			}
		}
	}
	e, body := b.s.errorBody(b.c, err)
	body["detail"] = "the resource was created without its references to resources of later operations, which then failed: " + e.Detail
	parent["status"], parent["response"] = strconv.Itoa(e.Status), body
	delete(parent, "version")
	b.errors++
}

// bridgeLocationPath is the /Users/{id} or /Groups/{id} of a result's
// location.
func bridgeLocationPath(res map[string]any) string {
	loc, _ := res["location"].(string)
	for _, t := range []string{"/Users/", "/Groups/"} {
		if i := strings.LastIndex(loc, t); i >= 0 {
			return loc[i:]
		}
	}
	return loc
}

func (b *bulkRun) exec(op bulkOp) (map[string]any, error) {
	path := op.Path
	if strings.Contains(path, bulkIDPrefix) {
		i := strings.Index(path, bulkIDPrefix)
		id, err := b.resolve(path[i:])
		if err != nil {
			return nil, err
		}
		path = path[:i] + id.(string)
	}
	data, err := b.resolve(op.Data)
	if err != nil {
		return nil, err
	}
	h, id, err := b.target(op.Method, path)
	if err != nil {
		return nil, err
	}
	verb := strings.ToLower(op.Method)
	if scope := verb + ":" + h.scope; !b.p.Scopes[scope] {
		return nil, scim.Errorf(403, "", "the credential lacks the %q scope", scope)
	}
	obj, isObj := data.(map[string]any)
	if op.Method != "DELETE" && !isObj {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "a %s operation needs an object as data", op.Method)
	}
	ctx := b.ctx
	var doc scim.Doc
	status := 200
	switch op.Method {
	case "POST":
		doc, err = h.r.Create(ctx, obj)
		status = 201
	case "PUT":
		doc, err = h.r.Replace(ctx, id, obj, op.Version)
	case "PATCH":
		var ops []scim.PatchOp
		if ops, err = patchOps(obj); err == nil {
			if err = h.access(b.c).checkPatchPaths(ops); err == nil {
				doc, err = h.r.Patch(ctx, id, ops, op.Version)
			}
		}
		if err == nil && h.r.RT.Name == backends.Group {
			status = 204 // as a single Group PATCH answers
		}
	case "DELETE":
		err = h.r.Delete(ctx, id)
		status = 204
	}
	if err != nil {
		return nil, err
	}
	res := map[string]any{"status": strconv.Itoa(status)}
	if doc == nil {
		return res, nil
	}
	newID, _ := doc["id"].(string)
	if op.Method == "POST" {
		b.ids[op.BulkID] = newID
	}
	h.access(b.c).strip(doc)
	h.decorate(b.c, doc)
	res["location"] = h.location(b.c, newID)
	res["version"] = doc["meta"].(map[string]any)["version"]
	if status != 204 {
		res["response"] = doc
	}
	return res, nil
}

// target resolves an operation's path to a resource type and id.
func (b *bulkRun) target(method, path string) (*handler, string, error) {
	rest := strings.TrimPrefix(path, "/")
	typ, id, _ := strings.Cut(rest, "/")
	var h *handler
	switch {
	case strings.EqualFold(typ, "Users"):
		h = &handler{s: b.s, ep: b.ep, r: b.ep.Users, scope: "users"}
	case strings.EqualFold(typ, "Groups") && b.ep.Groups != nil:
		h = &handler{s: b.s, ep: b.ep, r: b.ep.Groups, scope: "groups"}
	default:
		return nil, "", scim.BadRequest(scim.TypeInvalidPath, "path %q names no resource type of this endpoint (/Users or /Groups)", path)
	}
	switch {
	case method == "POST" && id != "":
		return nil, "", scim.BadRequest(scim.TypeInvalidPath, "a POST operation's path is the resource type (/%s), not %q", typ, path)
	case method != "POST" && (id == "" || strings.Contains(id, "/") || len(id) > 1024):
		return nil, "", scim.BadRequest(scim.TypeInvalidPath, "a %s operation's path is /%s/{id}, not %q", method, typ, path)
	}
	return h, id, nil
}

// bulkConfig is what /ServiceProviderConfig says of /Bulk.
func (s *Server) bulkConfig() map[string]any {
	return map[string]any{"supported": s.Settings.BulkMaxOperations > 0,
		"maxOperations": s.Settings.BulkMaxOperations, "maxPayloadSize": s.Settings.BulkMaxPayloadBytes}
}
