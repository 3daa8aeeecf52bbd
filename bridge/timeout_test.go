package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// stalled is a backend whose reads hang until the context ends, like a
// directory that accepts connections but never answers.
type stalled struct{ backends.Backend }

func (s stalled) Search(ctx context.Context, rt string, q backends.Query) (backends.Page, error) {
	<-ctx.Done()
	return backends.Page{}, fmt.Errorf("%w: %v", backends.ErrUnavailable, ctx.Err())
}

func (s stalled) Get(ctx context.Context, rt, id string, attrs []string) (backends.Record, error) {
	<-ctx.Done()
	return backends.Record{}, ctx.Err()
}

func TestStalledBackendGives503InTime(t *testing.T) {
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  request_timeout = \"300ms\"", 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(stalled{newMemory()})})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	for _, path := range []string{"/Users?filter=userName%20eq%20%22x%22", "/Users/some-id"} {
		start := time.Now()
		r := c.Do("GET", path, nil)
		elapsed := time.Since(start)
		if r.Status != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "urn:ietf:params:scim:api:messages:2.0:Error") {
			t.Errorf("GET %s: %d %v %s, want 503 with Retry-After and an error body", path, r.Status, r.Header, r.Body)
		}
		if elapsed > 5*time.Second {
			t.Errorf("GET %s took %v with a 300ms request timeout", path, elapsed)
		}
	}
}
