package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// loadClient is the load generator's HTTP client: keep-alive connections
// through fasthttp's client, which writes and reads on the calling
// goroutine. On this 2-core machine the client shares the CPU with the
// bridge and the directory, so a heavy client (net/http runs two
// goroutines per connection) would be measured as bridge overhead; load
// tools such as wrk keep their own share small for the same reason.
type loadClient struct {
	base        string // scheme://host:port/path-prefix
	token       string
	contentType string // of request bodies: application/scim+json unless set
	hc          *fasthttp.HostClient
}

func newLoadClient(base, token string, conns int) (*loadClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("load client: %s: only http:// is supported", base)
	}
	return &loadClient{
		base:  strings.TrimRight(base, "/"),
		token: "Bearer " + token,
		hc: &fasthttp.HostClient{
			Addr:                u.Host,
			MaxConns:            conns,
			MaxIdleConnDuration: time.Minute,
			ReadTimeout:         2 * time.Minute,
			WriteTimeout:        time.Minute,
		},
	}, nil
}

// do sends one request (body marshalled to JSON when not nil) and returns
// the status and a copy of the answer's body.
func (c *loadClient) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(c.base + path)
	req.Header.Set("Authorization", c.token)
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		ct := c.contentType
		if ct == "" {
			ct = "application/scim+json"
		}
		req.Header.SetContentType(ct)
		req.SetBodyRaw(buf)
	}
	deadline := time.Now().Add(2 * time.Minute)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
}

// call is do for callers that accept any 2xx and decode a JSON answer
// into out (when not nil).
func (c *loadClient) call(ctx context.Context, method, path string, body, out any) error {
	status, data, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		if len(data) > 2000 {
			data = data[:2000]
		}
		return fmt.Errorf("%s %s: status %d: %s", method, path, status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (c *loadClient) close() { c.hc.CloseIdleConnections() }

// oneResult reports whether a ListResponse says totalResults is 1.
func oneResult(body []byte) bool {
	const key = `"totalResults":1`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return false
	}
	rest := body[i+len(key):]
	return len(rest) > 0 && (rest[0] == ',' || rest[0] == '}' || rest[0] == ' ')
}
