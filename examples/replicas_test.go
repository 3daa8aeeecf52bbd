package examples_test

// Issue #14 item 4, "several replicas, correct": two bridges serve one
// directory, and If-Match and concurrent writes to one resource are decided
// in the directory, not by either bridge's in-process lock. The two bridges
// are two bridge.Server instances in this test process, each with its own
// configuration, opened backend (connection pool, id cache) and listener:
// they share nothing but the directory.

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// replicaUser is a user body the shipped examples accept.
func replicaUser(userName, given string) map[string]any {
	return map[string]any{
		"schemas":  []string{coreUser},
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": "Replica"},
		"emails":   []map[string]any{{"value": userName + "@example.org", "type": "work", "primary": true}},
		"active":   true,
	}
}

// checkReplicas runs the two checks on two bridges (clients a and b) that
// serve one directory; the If-Match one only where the directory decides
// it (ifMatch).
func checkReplicas(t *testing.T, a, b *bridgetest.Client, ifMatch bool) {
	t.Helper()
	clients := []*bridgetest.Client{a, b}
	prefix := fmt.Sprintf("rep%d", len(t.Name())%7)

	// 8 PUTs with the same If-Match, spread over both bridges: one wins.
	// Several rounds, as the race only shows when requests of both
	// bridges read before either writes.
	if ifMatch {
		created := a.Must(201, "POST", "/Users", replicaUser(prefix+"put", "Start"))
		id := bridgetest.Str(created.JSON, "id")
		for round := range 5 {
			putRound(t, clients, id, prefix+"put", round)
		}
	}

	// 16 membership PATCHes (each adds another user), spread over both
	// bridges: none is lost.
	group := a.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": prefix + "team"})
	gid := bridgetest.Str(group.JSON, "id")
	const adds = 16
	users := make([]string, adds)
	for i := range adds {
		r := clients[i%2].Must(201, "POST", "/Users", replicaUser(fmt.Sprintf("%smember%02d", prefix, i), "Member"))
		users[i] = bridgetest.Str(r.JSON, "id")
	}
	patchStatus := make([]int, adds)
	var wg sync.WaitGroup
	for i := range adds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := clients[i%2].Do("PATCH", "/Groups/"+gid, map[string]any{
				"schemas":    []string{patchOp},
				"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": users[i]}}}},
			})
			patchStatus[i] = r.Status
		}()
	}
	wg.Wait()
	for i, s := range patchStatus {
		if s != 200 && s != 204 {
			t.Errorf("membership PATCH %d: status %d", i, s)
		}
	}
	for _, c := range clients {
		got := c.Must(200, "GET", "/Groups/"+gid, nil)
		members, _ := got.JSON["members"].([]any)
		var ids []string
		for _, m := range members {
			if mm, ok := m.(map[string]any); ok {
				ids = append(ids, bridgetest.Str(mm, "value"))
			}
		}
		slices.Sort(ids)
		want := slices.Sorted(slices.Values(users))
		if !slices.Equal(ids, want) {
			t.Errorf("group has %d members %v, want the %d added %v", len(ids), ids, len(want), want)
		}
	}
}

// TestReplicasSQL: postgres.hcl and mysql.hcl, each served twice on one database.
func TestReplicasSQL(t *testing.T) {
	for _, ex := range []example{postgresExample, mysqlExample} {
		t.Run(ex.name, func(t *testing.T) {
			first := start(t, ex)
			second := bridgetest.Start(t, bridgetest.EditFile(t, ex.config), kinds.Types())
			checkReplicas(t, first.c, bridgetest.NewClient(t, second.URL+"/scim/v2"), true)
		})
	}
}

// TestReplicasOpenLDAP: openldap.hcl served twice on one slapd OU (the
// first start set the environment the configuration reads).
func TestReplicasOpenLDAP(t *testing.T) {
	d := startOpenLDAP(t)
	second := bridgetest.StartFile(t, "openldap.hcl", nil, kinds.Types())
	checkReplicas(t, d.c, bridgetest.NewClient(t, second.URL+"/scim/v2"), true)
}

// TestReplicasDS389: 389ds.hcl served twice on one 389 DS OU. 389 DS
// lacks the assertion control: each bridge compares the values it read
// with values read again just before its write, which leaves a round trip
// in which the other bridge's write goes unseen, and concurrent PUTs with
// one If-Match on both bridges can both succeed (README, "Running several
// replicas"). Membership changes are single-value adds in the directory
// and lose nothing.
func TestReplicasDS389(t *testing.T) {
	d := startDS389(t)
	second := bridgetest.StartFile(t, "389ds.hcl", nil, kinds.Types())
	checkReplicas(t, d.c, bridgetest.NewClient(t, second.URL+"/scim/v2"), false)
}

// putRound sends 8 PUTs of the user id with the same If-Match, spread
// over the clients, and checks that exactly one succeeds and that both
// bridges then serve its values and ETag.
func putRound(t *testing.T, clients []*bridgetest.Client, id, userName string, round int) {
	t.Helper()
	etag := clients[round%2].Must(200, "GET", "/Users/"+id, nil).Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on GET")
	}
	const puts = 8
	statuses := make([]int, puts)
	answers := make([]*bridgetest.Response, puts)
	var wg sync.WaitGroup
	for i := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := clients[i%2]
			c := &bridgetest.Client{T: t, Base: base.Base, Auth: base.Auth, HTTP: base.HTTP,
				Headers: map[string]string{"If-Match": etag}}
			r := c.Do("PUT", "/Users/"+id, replicaUser(userName, fmt.Sprintf("Writer%d-%d", round, i)))
			statuses[i], answers[i] = r.Status, r
		}()
	}
	wg.Wait()
	winner := -1
	for i, s := range statuses {
		switch s {
		case 200:
			if winner >= 0 {
				t.Errorf("round %d: PUTs %d and %d with the same If-Match both succeeded (statuses %v)", round, winner, i, statuses)
			}
			winner = i
		case 412:
		default:
			t.Errorf("PUT %d: status %d, want 200 or 412; body %s", i, s, answers[i].Body)
		}
	}
	if winner < 0 {
		t.Fatalf("no PUT succeeded: statuses %v", statuses)
	}
	for _, c := range clients {
		got := c.Must(200, "GET", "/Users/"+id, nil)
		if g := bridgetest.Str(got.JSON, "name", "givenName"); g != fmt.Sprintf("Writer%d-%d", round, winner) {
			t.Errorf("stored givenName %q, want the winner's Writer%d-%d", g, round, winner)
		}
		if e := got.Header.Get("ETag"); e != answers[winner].Header.Get("ETag") {
			t.Errorf("GET ETag %s, the winning PUT answered %s", e, answers[winner].Header.Get("ETag"))
		}
	}
}
