package bridge

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// AuditRecord is one line of the audit trail: who changed what, from
// where, and how it ended. It holds attribute names, never their values.
type AuditRecord struct {
	Time       string   `json:"time"` // RFC 3339 with milliseconds, UTC: when the request ended
	Endpoint   string   `json:"endpoint"`
	Credential string   `json:"credential"` // the token's, Basic user's or jwt block's name
	Address    string   `json:"address"`    // the client's address (see trusted_proxies)
	RequestID  string   `json:"request_id"`
	Operation  string   `json:"operation"` // create, replace, patch, delete
	Resource   string   `json:"resource"`  // User, Group
	ID         string   `json:"id,omitempty"`
	Attributes []string `json:"attributes,omitempty"` // the attributes the request sets or changes, sorted
	Status     int      `json:"status"`
	Result     string   `json:"result"` // success or failure
	LatencyMS  float64  `json:"latency_ms"`
}

// auditLog writes the audit trail, one JSON object a line.
type auditLog struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer // the rotated file; nil for stdout
}

// newAuditLog opens the audit trail the settings ask for; nil when none.
func newAuditLog(s config.Settings) *auditLog {
	switch s.AuditLog {
	case "":
		return nil
	case "stdout":
		return &auditLog{w: os.Stdout}
	}
	f := &lumberjack.Logger{Filename: s.AuditLog, MaxSize: s.AuditLogMaxSizeMB, MaxBackups: s.AuditLogMaxBackups}
	return &auditLog{w: f, c: f}
}

func (a *auditLog) write(r *AuditRecord) {
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	_, _ = a.w.Write(line)
}

func (a *auditLog) close() {
	if a != nil && a.c != nil {
		_ = a.c.Close()
	}
}

// auditOperation names the change a method makes.
var auditOperation = map[string]string{
	fiber.MethodPost: "create", fiber.MethodPut: "replace", fiber.MethodPatch: "patch", fiber.MethodDelete: "delete",
}

// startAudit begins the audit record of a write (called once its body is
// read, before the handler): who, what and which attributes. The record
// is finished and written by finishAudit when the request ends.
func (s *Server) startAudit(c *fiber.Ctx, ep *Endpoint, r *Resource) {
	op, ok := auditOperation[c.Method()]
	if s.audit == nil || !ok {
		return
	}
	rec := &AuditRecord{Endpoint: ep.Name, Address: c.IP(), Operation: op, Resource: r.RT.Name, ID: c.Params("id")}
	if p, _ := c.Locals("principal").(*Principal); p != nil {
		rec.Credential = p.Name
	}
	if op != "delete" {
		rec.Attributes = changedAttributes(op, c.Request().Body())
	}
	c.Locals(keyAudit, rec)
}

// finishAudit writes the record startAudit began, with the outcome.
func (s *Server) finishAudit(c *fiber.Ctx, rid string, status int, took time.Duration) {
	rec, _ := c.Locals(keyAudit).(*AuditRecord)
	if rec == nil {
		return
	}
	rec.Time = time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	rec.RequestID, rec.Status, rec.LatencyMS = rid, status, float64(took.Microseconds())/1000
	rec.Result = "success"
	if status >= 300 {
		rec.Result = "failure"
	}
	if rec.Operation == "create" && status == fiber.StatusCreated {
		if loc := string(c.Response().Header.Peek(fiber.HeaderLocation)); loc != "" {
			rec.ID = loc[strings.LastIndexByte(loc, '/')+1:]
		}
	}
	s.audit.write(rec)
}

// changedAttributes lists the attributes a create, replace or patch body
// names: the top-level attributes of a resource (an extension's by
// "urn:...:attribute"), or the paths and value keys of PATCH operations.
// A body that does not parse yields none (the request fails anyway).
func changedAttributes(op string, body []byte) []string {
	set := map[string]bool{}
	addKeys := func(prefix string, obj map[string]json.RawMessage) {
		for k, v := range obj {
			switch strings.ToLower(k) {
			case "schemas", "meta", "id":
				continue
			}
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				var ext map[string]json.RawMessage
				if json.Unmarshal(v, &ext) == nil {
					for sub := range ext {
						set[k+":"+sub] = true
					}
					continue
				}
			}
			set[prefix+k] = true
		}
	}
	if op == "patch" {
		var req struct {
			Operations []struct {
				Path  string          `json:"path"`
				Value json.RawMessage `json:"value"`
			} `json:"Operations"`
		}
		if json.Unmarshal(body, &req) != nil {
			return nil
		}
		for _, o := range req.Operations {
			if p := o.Path; p != "" {
				// Without its value filter: emails[type eq "work"].value is
				// emails.value (a filter may hold values).
				if i, j := strings.IndexByte(p, '['), strings.LastIndexByte(p, ']'); i >= 0 && j > i {
					p = p[:i] + p[j+1:]
				}
				set[p] = true
				continue
			}
			var obj map[string]json.RawMessage
			if json.Unmarshal(bytes.TrimSpace(o.Value), &obj) == nil {
				addKeys("", obj)
			}
		}
	} else {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			return nil
		}
		addKeys("", obj)
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// auditBulk writes one record per operation of a /Bulk request, once the
// request has run (so that operations a failed transaction undid read as
// failures): the operation's own method, resource, id, attributes and
// status; the time and latency are the whole request's.
func (s *Server) auditBulk(c *fiber.Ctx, ep *Endpoint, run *bulkRun, took time.Duration) {
	rid := string(c.Response().Header.Peek("X-Request-Id")) // set by requestContext
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	for i, op := range run.ops {
		res := run.results[i]
		opName, ok := auditOperation[op.Method]
		if op.followUp || res == nil || !ok {
			continue // completing a POST (its record covers it), or not run
		}
		rec := &AuditRecord{Time: now, Endpoint: ep.Name, Credential: run.p.Name, Address: c.IP(), RequestID: rid,
			Operation: opName, LatencyMS: float64(took.Microseconds()) / 1000}
		typ, id, _ := strings.Cut(strings.TrimPrefix(op.Path, "/"), "/")
		switch {
		case strings.EqualFold(typ, "Users"):
			rec.Resource = "User"
		case strings.EqualFold(typ, "Groups"):
			rec.Resource = "Group"
		default:
			rec.Resource = typ
		}
		if strings.HasPrefix(id, bulkIDPrefix) {
			id = run.ids[strings.TrimPrefix(id, bulkIDPrefix)]
		}
		if loc := bridgeLocationPath(res); op.Method == "POST" && loc != "" {
			id = loc[strings.LastIndexByte(loc, '/')+1:]
		}
		rec.ID = id
		if op.Method != "DELETE" {
			if data, err := json.Marshal(op.Data); err == nil {
				rec.Attributes = changedAttributes(opName, data)
			}
		}
		st, _ := res["status"].(string)
		rec.Status, _ = strconv.Atoi(st)
		rec.Result = "success"
		if rec.Status >= 300 || rec.Status == 0 {
			rec.Result = "failure"
		}
		s.audit.write(rec)
	}
}
