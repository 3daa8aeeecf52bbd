package bridge

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Request bodies are streamed (fiber's StreamRequestBody): the HTTP server
// reads the headers and at most a few KiB of the body before the handler
// runs, so the credentials and scopes are checked before any more of the
// body is read or decoded. Only then does readBody take the body, charging
// what it holds to a budget shared by all requests in flight
// (max_body_memory): a flood of large or compressed bodies, authenticated
// or not, cannot grow the process past it. A body nobody read (a refused
// request, a route without one) is discarded without being kept.

// bodyBudget counts the bytes that request bodies hold, across requests.
type bodyBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *bodyBudget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// bodyCharge is what one request holds of the budget; requestContext gives
// it back when the request ends.
type bodyCharge struct {
	s    *Server
	held int64
}

// take charges n more bytes to the request. A request that alone would
// need more than the whole budget is refused for good (413); one that finds
// the budget spent by others is told to come back (503 with Retry-After).
func (bc *bodyCharge) take(n int64) error {
	if n <= 0 {
		return nil
	}
	b := bc.s.budget
	if bc.held+n > b.limit {
		return scim.Errorf(http.StatusRequestEntityTooLarge, scim.TypeTooMany,
			"the request body needs more memory to process than the server allows one request (max_body_memory); send fewer values per request")
	}
	if !b.take(n) {
		bc.s.Metrics.BodyBudgetRefusal()
		return &scim.Error{Status: http.StatusServiceUnavailable, RetryAfter: 2,
			Detail: "the server is busy with other large requests; retry later"}
	}
	bc.held += n
	return nil
}

func (bc *bodyCharge) release() {
	if bc.held > 0 {
		bc.s.budget.give(bc.held)
		bc.held = 0
	}
}

// Parsing a JSON body into Go values costs memory in proportion to its
// size and to the number of values in it (a map or slice and an interface
// per value): measured, a body of n bytes and v values holds at most about
// 2n + 112v bytes once parsed, on top of the n bytes read; the decoder's
// own buffer, grown while it reads, holds up to n more.
const (
	parsedBytesPerByte  = 3
	parsedBytesPerValue = 112
)

// jsonValues counts the values a JSON text opens ({, [ and the commas
// between members and elements), outside strings. It does not validate.
func jsonValues(b []byte) int64 {
	var n int64
	inString, escaped := false, false
	for _, ch := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch ch {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case ch == '"':
			inString = true
		case ch == '{' || ch == '[' || ch == ',':
			n++
		}
	}
	return n + 1
}

// heldBuffer is a growing buffer whose capacity is charged to the request.
type heldBuffer struct {
	charge *bodyCharge
	b      []byte
	max    int // bytes accepted; one more marks the body as too large
}

func (h *heldBuffer) Write(p []byte) (int, error) {
	if len(h.b)+len(p) > h.max {
		p = p[:h.max-len(h.b)]
		h.b = append(h.b, p...)
		return len(p), errTooLarge
	}
	if need := len(h.b) + len(p); need > cap(h.b) {
		grow := max(need, 2*cap(h.b), 32<<10)
		grow = min(grow, h.max)
		if err := h.charge.take(int64(grow - cap(h.b))); err != nil {
			return 0, err
		}
		nb := make([]byte, len(h.b), grow)
		copy(nb, h.b)
		h.b = nb
	}
	h.b = append(h.b, p...)
	return len(p), nil
}

var errTooLarge = errors.New("body too large")

// readBody reads and decodes the request body after the request passed
// authentication and its scope check. max_body_bytes holds for the body as
// sent and, for a gzip or deflate body, as decoded (a small compressed body
// can expand to gigabytes); other encodings are 415.
func (s *Server) readBody(c *fiber.Ctx) error {
	req := c.Request()
	if !req.IsBodyStream() {
		return nil
	}
	charge, _ := c.Locals(keyBodyCharge).(*bodyCharge)
	if charge == nil {
		return errors.New("request without a body charge")
	}
	limit := s.Settings.MaxBodyBytes
	enc := strings.ToLower(strings.TrimSpace(string(req.Header.Peek(fiber.HeaderContentEncoding))))
	switch enc {
	case "", "identity", "gzip", "x-gzip", "deflate":
	default:
		return scim.Errorf(415, "", "Content-Encoding %q is not supported: send the body as is, or gzip or deflate", enc)
	}
	n := req.Header.ContentLength()
	if n > limit {
		return tooLarge(limit)
	}
	var raw []byte
	stream := req.BodyStream()
	if n >= 0 {
		if err := charge.take(int64(n)); err != nil {
			return err
		}
		raw = make([]byte, n)
		if _, err := io.ReadFull(stream, raw); err != nil {
			return bodyReadError(err)
		}
	} else {
		// Chunked: the length is known only at the end.
		hb := &heldBuffer{charge: charge, max: limit}
		if _, err := io.Copy(hb, stream); err != nil {
			if err == errTooLarge {
				return tooLarge(limit)
			}
			if e, ok := scim.AsError(err); ok {
				return e
			}
			return bodyReadError(err)
		}
		raw = hb.b
	}
	body := raw
	if enc == "gzip" || enc == "x-gzip" || enc == "deflate" {
		var r io.ReadCloser
		var err error
		if enc == "deflate" {
			r, err = zlib.NewReader(bytes.NewReader(raw))
		} else {
			r, err = gzip.NewReader(bytes.NewReader(raw))
		}
		if err != nil {
			return scim.BadRequest(scim.TypeInvalidSyntax, "the %s body does not decode: %v", enc, err)
		}
		hb := &heldBuffer{charge: charge, max: limit}
		if n := gzipSize(enc, raw); n > 0 && n <= limit {
			// The size gzip records lets the buffer be made once, not
			// grown by doubling (each step garbage until collected).
			if err := charge.take(int64(n)); err != nil {
				r.Close()
				return err
			}
			hb.b = make([]byte, 0, n)
		}
		_, err = io.Copy(hb, r)
		r.Close()
		switch {
		case err == errTooLarge:
			return tooLarge(limit)
		case err != nil:
			if e, ok := scim.AsError(err); ok {
				return e
			}
			return scim.BadRequest(scim.TypeInvalidSyntax, "the %s body does not decode: %v", enc, err)
		}
		body = hb.b
		req.Header.Del(fiber.HeaderContentEncoding)
	}
	// The parsed form is charged before it exists.
	if err := charge.take(parsedBytesPerByte*int64(len(body)) + parsedBytesPerValue*jsonValues(body)); err != nil {
		return err
	}
	req.SetBodyRaw(body)
	return nil
}

// gzipSize is the decoded size a gzip body records in its last four bytes
// (modulo 4 GiB; a wrong one only costs a regrown buffer), 0 for other
// bodies.
func gzipSize(enc string, raw []byte) int {
	if enc == "deflate" || len(raw) < 18 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
}

func bodyReadError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return scim.Errorf(http.StatusRequestTimeout, "", "the request body was not sent in time")
	}
	return scim.BadRequest(scim.TypeInvalidSyntax, "the request body ended before its declared length")
}

// discardBody reads and drops what is left of a body nobody read, so that
// the connection can carry the next request and the client, still writing,
// gets the answer instead of a reset. It keeps nothing and stops after
// readBodyLimit bytes or drainTimeout; then the connection is closed.
func (s *Server) discardBody(c *fiber.Ctx) {
	req := c.Request()
	if !req.IsBodyStream() {
		return
	}
	max := int64(readBodyLimit(s.Settings.MaxBodyBytes))
	if n := req.Header.ContentLength(); n > int(max) {
		c.Context().SetConnectionClose()
		return
	}
	if conn := c.Context().Conn(); conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(drainTimeout))
	}
	n, err := io.CopyN(io.Discard, req.BodyStream(), max+1)
	if n > max || (err != nil && err != io.EOF) {
		c.Context().SetConnectionClose()
	}
}

const drainTimeout = 5 * time.Second

// readBodyLimit is how much of a body nobody needs is read and discarded
// before the connection is closed instead: as much again as the limit, at
// least 1 MiB.
func readBodyLimit(soft int) int {
	extra := max(soft, 1<<20)
	if soft > math.MaxInt32-extra {
		return math.MaxInt32
	}
	return soft + extra
}

func tooLarge(limit int) error {
	return scim.Errorf(413, scim.TypeTooMany, "the request body is larger than %d bytes (max_body_bytes)", limit)
}
