package bridge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// readCounting counts the reads of a backend.
type readCounting struct {
	backends.Backend
	userGets, searches atomic.Int64
}

func (c *readCounting) Get(ctx context.Context, rt, id string, attrs []string) (backends.Record, error) {
	if rt == backends.User {
		c.userGets.Add(1)
	}
	return c.Backend.Get(ctx, rt, id, attrs)
}

func (c *readCounting) Search(ctx context.Context, rt string, q backends.Query) (backends.Page, error) {
	c.searches.Add(1)
	return c.Backend.Search(ctx, rt, q)
}

// TestMemberDisplayReads: the display names of a group's 1,200 members
// are read with a search per 500 users, not a read per member; a GET
// without the members reads nothing more than the group.
func TestMemberDisplayReads(t *testing.T) {
	b := &readCounting{Backend: newMemory()}
	srv := bridgetest.Start(t, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(b)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	var members []any
	for i := range 1200 {
		rec, err := b.Backend.Create(context.Background(), backends.User, backends.Attrs{"uid": {fmt.Sprintf("u%04d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, map[string]any{"value": rec.ID})
	}
	gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{"displayName": "big", "members": members}).JSON, "id")
	b.userGets.Store(0)
	b.searches.Store(0)
	r := c.Must(200, "GET", "/Groups/"+gid, nil)
	list, _ := r.JSON["members"].([]any)
	named := 0
	for _, el := range list {
		if m := el.(map[string]any); m["display"] != nil {
			named++
		}
	}
	if len(list) != 1200 || named != 1200 {
		t.Errorf("%d members, %d with display; want 1200 and 1200", len(list), named)
	}
	if g, s := b.userGets.Load(), b.searches.Load(); g != 0 || s != 3 {
		t.Errorf("GET of a group of 1200: %d user reads and %d searches, want 0 and 3", g, s)
	}
	b.searches.Store(0)
	c.Must(200, "GET", "/Groups/"+gid+"?excludedAttributes=members", nil)
	c.Must(200, "GET", "/Groups?excludedAttributes=members", nil)
	if g, s := b.userGets.Load(), b.searches.Load(); g != 0 || s != 1 {
		t.Errorf("GETs without members: %d user reads and %d searches, want 0 and 1 (the list itself)", g, s)
	}
}
