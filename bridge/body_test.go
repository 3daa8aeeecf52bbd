package bridge_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBodyLimitAndEncoding: max_body_bytes (64 KiB in the test config)
// holds for the body as sent and as decoded; a body over the limit is
// answered 413 with an Error body on a connection that stays usable; gzip
// and deflate bodies are accepted, other encodings are 415; nothing is
// stored by a refused request.
func TestBodyLimitAndEncoding(t *testing.T) {
	_, c, mem := startMemory(t)
	before := snapshot(t, mem)
	oversized := `{"userName":"big","title":"` + strings.Repeat("x", 100<<10) + `"}`
	// Many times over one keep-alive connection: the body is read whole,
	// so the client always gets the answer, never a reset.
	for i := 0; i < 50; i++ {
		r := c.Do("POST", "/Users", oversized)
		if r.Status != 413 || bridgetest.Str(r.JSON, "scimType") != "tooMany" || !strings.Contains(bridgetest.Str(r.JSON, "detail"), "65536") {
			t.Fatalf("oversized body, try %d: %d %s", i, r.Status, r.Body)
		}
	}
	bomb := gzipped(t, `{"userName":"bomb","title":"`+strings.Repeat("0", 8<<20)+`"}`)
	if len(bomb) > 65536 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	for _, tc := range []struct {
		name, encoding string
		body           any
		status         int
	}{
		{"gzip bomb", "gzip", bomb, 413},
		{"broken gzip", "gzip", []byte("not gzip at all"), 400},
		{"truncated gzip", "gzip", gzipped(t, `{"userName":"cut"}`)[:20], 400},
		{"brotli", "br", []byte("whatever"), 415},
		{"two encodings", "gzip, deflate", gzipped(t, `{"userName":"two"}`), 415},
	} {
		cl := *c
		cl.T = t
		cl.Headers = map[string]string{"Content-Encoding": tc.encoding}
		r := cl.Do("POST", "/Users", tc.body)
		if r.Status != tc.status || !strings.Contains(string(r.Body), "urn:ietf:params:scim:api:messages:2.0:Error") {
			t.Fatalf("%s: %d %s, want %d with an Error body", tc.name, r.Status, r.Body, tc.status)
		}
	}
	if after := snapshot(t, mem); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused bodies changed the store:\nbefore %v\nafter  %v", before, after)
	}

	// Compressed bodies within the limit work.
	cl := *c
	cl.Headers = map[string]string{"Content-Encoding": "gzip"}
	r := cl.Must(201, "POST", "/Users", gzipped(t, `{"userName":"zipped","title":"`+strings.Repeat("t", 200)+`"}`))
	if bridgetest.Str(r.JSON, "userName") != "zipped" {
		t.Fatalf("gzip create: %s", r.Body)
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write([]byte(`{"userName":"deflated"}`))
	zw.Close()
	cl.Headers = map[string]string{"Content-Encoding": "deflate"}
	cl.Must(201, "POST", "/Users", buf.Bytes())
}
