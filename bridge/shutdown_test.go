package bridge_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// slowCreate delays writes, so a request is in flight when shutdown starts.
type slowCreate struct {
	backends.Backend
	started chan struct{}
}

func (s slowCreate) Create(ctx context.Context, rt string, attrs backends.Attrs) (backends.Record, error) {
	close(s.started)
	time.Sleep(400 * time.Millisecond)
	return s.Backend.Create(ctx, rt, attrs)
}

func TestShutdownFinishesInFlightWrites(t *testing.T) {
	mem := newMemory()
	b := slowCreate{Backend: mem, started: make(chan struct{})}
	srv := bridgetest.Start(t, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(b)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	done := make(chan *bridgetest.Response, 1)
	go func() {
		cl := *c
		done <- cl.Do("POST", "/Users", map[string]any{"userName": "in.flight"})
	}()
	<-b.started
	if err := srv.Bridge.App.ShutdownWithTimeout(10 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	r := <-done
	if r.Status != 201 {
		t.Fatalf("the in-flight create answered %d: %s", r.Status, r.Body)
	}
	p, err := mem.Search(context.Background(), backends.User, backends.Query{Filter: backends.Compare{Attr: "uid", Op: backends.Eq, Value: "in.flight"}})
	if err != nil || p.Total != 1 {
		t.Fatalf("the acknowledged user is not stored: %v %+v", err, p)
	}
	// New requests are refused once the server has stopped.
	if _, err := http.Get(srv.URL + "/healthz"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a request after shutdown got through: %v", err)
	}
}
