package bridge

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"math"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// readBodyLimit is where the HTTP server stops reading a body: past it,
// fasthttp answers 413 and closes the connection while the client may
// still be writing, and the client often sees a reset instead of the
// answer. Up to it the body is read whole and max_body_bytes (soft) is
// enforced by checkBody, with a proper Error body on a connection that
// stays usable. The slack is as large as the limit, at least 1 MiB.
func readBodyLimit(soft int) int {
	extra := max(soft, 1<<20)
	if soft > math.MaxInt32-extra {
		return math.MaxInt32
	}
	return soft + extra
}

// checkBody enforces max_body_bytes on the body as sent and, for a body
// with a Content-Encoding, as decoded: a gzip or deflate body is expanded
// here, never past the limit (a small compressed body can expand to
// gigabytes), and replaces the encoded one. Other encodings are 415.
func (s *Server) checkBody(c *fiber.Ctx) error {
	req := c.Request()
	limit := s.Settings.MaxBodyBytes
	raw := req.Body()
	if len(raw) > limit {
		return tooLarge(limit)
	}
	enc := strings.ToLower(strings.TrimSpace(string(req.Header.Peek(fiber.HeaderContentEncoding))))
	if enc == "" || enc == "identity" {
		return nil
	}
	var r io.ReadCloser
	var err error
	switch enc {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(raw))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(raw))
	default:
		return scim.Errorf(415, "", "Content-Encoding %q is not supported: send the body as is, or gzip or deflate", enc)
	}
	if err != nil {
		return scim.BadRequest(scim.TypeInvalidSyntax, "the %s body does not decode: %v", enc, err)
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return scim.BadRequest(scim.TypeInvalidSyntax, "the %s body does not decode: %v", enc, err)
	}
	if len(out) > limit {
		return tooLarge(limit)
	}
	req.SetBodyRaw(out)
	req.Header.Del(fiber.HeaderContentEncoding)
	return nil
}

func tooLarge(limit int) error {
	return scim.Errorf(413, scim.TypeTooMany, "the request body is larger than %d bytes (max_body_bytes)", limit)
}
