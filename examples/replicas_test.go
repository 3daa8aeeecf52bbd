package examples_test

// Issue #14 item 4, "several replicas, correct": two bridges serve one
// directory, and If-Match and concurrent writes to one resource are decided
// in the directory, not by either bridge's in-process lock. The first
// bridge runs in this test process; the second is the scimbridge binary,
// built from cmd/scimbridge and run as its own OS process on the same
// configuration file: they share nothing but the directory.

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

	// 8 PUTs without If-Match, spread over both bridges: a write that finds
	// the user changed since its read reads again, so every one succeeds.
	blind := a.Must(201, "POST", "/Users", replicaUser(prefix+"blind", "Start"))
	blindID := bridgetest.Str(blind.JSON, "id")
	blindStatus := make([]int, 8)
	var bw sync.WaitGroup
	for i := range blindStatus {
		bw.Add(1)
		go func() {
			defer bw.Done()
			r := clients[i%2].Do("PUT", "/Users/"+blindID, replicaUser(prefix+"blind", fmt.Sprintf("Blind%d", i)))
			blindStatus[i] = r.Status
		}()
	}
	bw.Wait()
	for i, s := range blindStatus {
		if s != 200 {
			t.Errorf("PUT %d without If-Match: status %d, want 200 (statuses %v)", i, s, blindStatus)
		}
	}
	if g := bridgetest.Str(b.Must(200, "GET", "/Users/"+blindID, nil).JSON, "name", "givenName"); !strings.HasPrefix(g, "Blind") {
		t.Errorf("stored givenName %q, want one of the PUTs'", g)
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
			checkReplicas(t, first.c, startProcess(t, ex.config), true)
		})
	}
}

// TestReplicasOpenLDAP: openldap.hcl served twice on one slapd OU (the
// first start set the environment the configuration reads).
func TestReplicasOpenLDAP(t *testing.T) {
	d := startOpenLDAP(t)
	checkReplicas(t, d.c, startProcess(t, "openldap.hcl"), true)
}

// TestReplicasDS389: 389ds.hcl served twice on one 389 DS OU. 389 DS
// lacks the assertion control: the PUTs' replacements are sent as deletes
// of the values read and adds of the new ones, which the directory refuses
// when a value read is gone.
func TestReplicasDS389(t *testing.T) {
	d := startDS389(t)
	checkReplicas(t, d.c, startProcess(t, "389ds.hcl"), true)
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

// startProcess builds cmd/scimbridge and serves config with it in its own
// process, with this process's environment (which the first bridge's start
// set for the configuration), on a free loopback port; it returns a
// client of its /scim/v2 endpoint once it answers.
func startProcess(t *testing.T, config string) *bridgetest.Client {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimbridge")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/scimbridge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", config, "--listen", addr)
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_TOKEN="+bridgetest.Token, "SCIMBRIDGE_METRICS_LISTEN="+freeAddr(t))
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("second bridge's log:\n%s", logs.String())
		}
	})
	c := bridgetest.NewClient(t, "http://"+addr+"/scim/v2")
	for deadline := time.Now().Add(30 * time.Second); ; {
		req, _ := http.NewRequest("GET", c.Base+"/ServiceProviderConfig", nil)
		req.Header.Set("Authorization", c.Auth)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		select {
		case <-exited:
			t.Fatalf("the second bridge exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second bridge does not answer (%v):\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
