package bridge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// outage wraps a backend with an on/off switch: while down every call fails
// with ErrUnavailable, and a write that was in flight when the switch
// flipped is applied but reported as failed (the worst case for a client:
// the connection died after the directory committed).
type outage struct {
	backends.Backend
	down atomic.Bool
}

func (o *outage) Kill() error  { o.down.Store(true); return nil }
func (o *outage) Start() error { o.down.Store(false); return nil }

func (o *outage) fail() error { return fmt.Errorf("%w: connection refused", backends.ErrUnavailable) }

func (o *outage) Create(ctx context.Context, rt string, a backends.Attrs) (backends.Record, error) {
	if o.down.Load() {
		return backends.Record{}, o.fail()
	}
	r, err := o.Backend.Create(ctx, rt, a)
	if o.down.Load() {
		return backends.Record{}, o.fail()
	}
	return r, err
}

func (o *outage) Get(ctx context.Context, rt, id string, attrs []string) (backends.Record, error) {
	if o.down.Load() {
		return backends.Record{}, o.fail()
	}
	return o.Backend.Get(ctx, rt, id, attrs)
}

func (o *outage) Modify(ctx context.Context, rt, id string, m []backends.Modification, attrs []string) (backends.Record, error) {
	if o.down.Load() {
		return backends.Record{}, o.fail()
	}
	r, err := o.Backend.Modify(ctx, rt, id, m, attrs)
	if o.down.Load() {
		return backends.Record{}, o.fail()
	}
	return r, err
}

func (o *outage) Search(ctx context.Context, rt string, q backends.Query) (backends.Page, error) {
	if o.down.Load() {
		return backends.Page{}, o.fail()
	}
	return o.Backend.Search(ctx, rt, q)
}

// The fault harness itself, over a simulated outage: every request during
// the outage is a 503 with Retry-After, service resumes at once, and the
// store holds every acknowledged write and no duplicate.
func TestFaultHarnessSimulatedOutage(t *testing.T) {
	mem := newMemory()
	o := &outage{Backend: mem}
	srv := bridgetest.Start(t, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(o)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	rep := scimtest.RunFault(t, c, mem, o, scimtest.FaultOptions{
		Before: 500e6, Down: 500e6, After: 500e6,
		UserName: "uid", Active: "status", ActiveTrue: "enabled", ActiveFalse: "disabled", Members: "member",
	})
	if rep.AckedCreates == 0 || rep.OutageAnswers[503] == 0 {
		t.Errorf("the workload did not exercise the outage: %s", rep)
	}
}
