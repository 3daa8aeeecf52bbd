package scimtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// Directory is a directory server a fault test can kill and restart on the
// same address and data.
type Directory interface {
	// Kill stops the server abruptly (SIGKILL).
	Kill() error
	// Start starts it again and returns when it accepts connections.
	Start() error
}

// FaultOptions tune RunFault.
type FaultOptions struct {
	Workers  int           // concurrent clients; default 4
	Before   time.Duration // load before the kill; default 2s
	Down     time.Duration // how long the server stays down; default 3s
	After    time.Duration // load after the restart; default 4s
	Deadline time.Duration // the longest any answer may take; default 20s
	// UserName, Active, ActiveTrue, ActiveFalse, Members are native
	// attribute names and values, to read the directory directly.
	UserName, Active, ActiveTrue, ActiveFalse, Members string
}

// FaultReport is what happened.
type FaultReport struct {
	Requests, DuringOutage       int
	OutageAnswers                map[int]int
	SlowestOutageAnswer          time.Duration
	Recovery                     time.Duration
	AckedCreates, AckedPatches   int
	AckedMemberships, Duplicates int
	Missing, HalfApplied         int
	StatusCounts                 map[int]int
}

func (r FaultReport) String() string {
	return fmt.Sprintf("requests %d (during outage %d, answered %v, slowest %v); recovery %v after restart; "+
		"acknowledged: %d creates, %d PATCHes, %d member adds; missing %d, half-applied %d, duplicates %d; all answers %v",
		r.Requests, r.DuringOutage, r.OutageAnswers, r.SlowestOutageAnswer.Round(time.Millisecond), r.Recovery.Round(time.Millisecond),
		r.AckedCreates, r.AckedPatches, r.AckedMemberships, r.Missing, r.HalfApplied, r.Duplicates, r.StatusCounts)
}

type userLog struct {
	name    string
	id      string
	acked   bool   // the create was acknowledged (or a retry found it)
	lastAck string // last acknowledged active value ("true"/"false"), "" none
	tried   []string
	inGroup bool // an acknowledged membership add
}

// RunFault runs a steady mixed workload (create with retry, PATCH active,
// PUT, membership adds) against the bridge, kills the directory, restarts
// it, and then reads the directory to check that every acknowledged write
// is there, nothing unacknowledged is half-applied and retried creates left
// no duplicates.
func RunFault(t *testing.T, c *bridgetest.Client, b backends.Backend, dir Directory, o FaultOptions) FaultReport {
	t.Helper()
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.Before == 0 {
		o.Before = 2 * time.Second
	}
	if o.Down == 0 {
		o.Down = 3 * time.Second
	}
	if o.After == 0 {
		o.After = 4 * time.Second
	}
	if o.Deadline == 0 {
		o.Deadline = 20 * time.Second
	}
	gid := id(c.Must(201, "POST", "/Groups", map[string]any{"displayName": "fault group"}))
	var (
		phase     atomic.Int32 // 0 before, 1 down, 2 after restart
		restarted atomic.Int64 // unix nanos of the restart
		firstOK   atomic.Int64 // unix nanos of the first 2xx after restart
		mu        sync.Mutex
		rep       = FaultReport{OutageAnswers: map[int]int{}, StatusCounts: map[int]int{}}
		logs      []*userLog
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	record := func(status int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		rep.Requests++
		rep.StatusCounts[status]++
		if phase.Load() == 1 {
			rep.DuringOutage++
			rep.OutageAnswers[status]++
			if took > rep.SlowestOutageAnswer {
				rep.SlowestOutageAnswer = took
			}
		}
		if took > o.Deadline {
			t.Errorf("an answer took %v (deadline %v)", took, o.Deadline)
		}
		if status >= 200 && status < 300 && phase.Load() == 2 {
			firstOK.CompareAndSwap(0, time.Now().UnixNano())
		}
	}
	do := func(cl *bridgetest.Client, method, path string, body any) *bridgetest.Response {
		start := time.Now()
		r := cl.Do(method, path, body)
		record(r.Status, time.Since(start))
		if r.Status >= 500 && r.Status != 503 {
			t.Errorf("%s %s answered %d: %s", method, path, r.Status, trunc(r.Body))
		}
		if r.Status == 503 && r.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		return r
	}
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			cl.T = t
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := &userLog{name: fmt.Sprintf("fault.w%d.%04d@example.com", w, i)}
				mu.Lock()
				logs = append(logs, u)
				mu.Unlock()
				// Create, retrying on 503 as an IdP does; a 409 on a retry
				// means an earlier attempt was applied: look it up.
				for attempt := 0; attempt < 50 && u.id == ""; attempt++ {
					r := do(&cl, "POST", "/Users", map[string]any{"userName": u.name, "name": map[string]any{"givenName": "F", "familyName": strconv.Itoa(i)}, "active": true})
					switch {
					case r.Status == 201:
						u.id, u.acked, u.lastAck = id(r), true, "true"
					case r.Status == 409:
						l := do(&cl, "GET", "/Users?filter="+q(`userName eq "`+u.name+`"`), nil)
						if l.Status == 200 && Str(l, "totalResults") == "1" {
							u.id, u.acked, u.lastAck = Str(l, "Resources[0].id"), true, "true"
						}
					default:
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
					}
				}
				if u.id == "" {
					continue
				}
				for k, active := range []bool{false, true, false} {
					v := strconv.FormatBool(active)
					u.tried = append(u.tried, v)
					var r *bridgetest.Response
					if k == 1 {
						r = do(&cl, "PUT", "/Users/"+u.id, map[string]any{"userName": u.name, "name": map[string]any{"givenName": "F", "familyName": strconv.Itoa(i)}, "active": active})
					} else {
						r = do(&cl, "PATCH", "/Users/"+u.id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
							map[string]any{"op": "replace", "value": map[string]any{"active": active}}}})
					}
					if r.Status == 200 {
						u.lastAck, u.tried = v, nil
						mu.Lock()
						rep.AckedPatches++
						mu.Unlock()
					}
				}
				r := do(&cl, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
					map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u.id}}}}})
				if r.Status == 204 || r.Status == 200 {
					u.inGroup = true
				}
			}
		}()
	}
	time.Sleep(o.Before)
	phase.Store(1)
	if err := dir.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	time.Sleep(o.Down)
	if err := dir.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	restarted.Store(time.Now().UnixNano())
	phase.Store(2)
	time.Sleep(o.After)
	close(stop)
	wg.Wait()
	if f := firstOK.Load(); f != 0 {
		rep.Recovery = time.Duration(f - restarted.Load())
	} else {
		t.Errorf("no request succeeded after the restart")
	}

	// Read the directory directly.
	ctx := context.Background()
	// The directory is back, but a backend may still be backing off.
	var page backends.Page
	var err error
	for wait := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if page, err = b.Search(ctx, backends.User, backends.Query{}); err == nil || time.Now().After(wait) {
			break
		}
	}
	if err != nil {
		t.Fatalf("reading users after the test: %v", err)
	}
	byName := map[string][]backends.Record{}
	for _, r := range page.Records {
		n := r.Attrs.First(o.UserName)
		byName[n] = append(byName[n], r)
	}
	g, err := b.Get(ctx, backends.Group, gid, []string{o.Members})
	if err != nil {
		t.Fatalf("reading the group: %v", err)
	}
	members := map[string]bool{}
	for _, m := range g.Attrs.Get(o.Members) {
		members[m] = true
	}
	for _, u := range logs {
		recs := byName[u.name]
		if len(recs) > 1 {
			rep.Duplicates++
			t.Errorf("%s is stored %d times", u.name, len(recs))
		}
		if u.acked {
			rep.AckedCreates++
			if len(recs) == 0 {
				rep.Missing++
				t.Errorf("acknowledged user %s is missing", u.name)
				continue
			}
		}
		if len(recs) == 0 {
			continue
		}
		got := recs[0].Attrs.First(o.Active)
		ok := u.lastAck == "" || got == map[string]string{"true": o.ActiveTrue, "false": o.ActiveFalse}[u.lastAck]
		for _, v := range u.tried {
			if got == map[string]string{"true": o.ActiveTrue, "false": o.ActiveFalse}[v] {
				ok = true
			}
		}
		if !ok {
			rep.HalfApplied++
			t.Errorf("%s: stored active %q, last acknowledged %q, unacknowledged attempts %v", u.name, got, u.lastAck, u.tried)
		}
		if u.inGroup {
			rep.AckedMemberships++
			if !members[recs[0].ID] {
				rep.Missing++
				t.Errorf("acknowledged membership of %s is missing", u.name)
			}
		}
	}
	if rep.DuringOutage == 0 {
		t.Errorf("no request was made while the directory was down")
	}
	for s := range rep.OutageAnswers {
		if s != 503 && (s < 200 || s >= 300) && s != 409 {
			t.Errorf("during the outage a request was answered %d", s)
		}
	}
	if rep.Recovery > 5*time.Second {
		t.Errorf("recovery took %v, want under 5s", rep.Recovery)
	}
	t.Logf("fault test: %s", rep)
	return rep
}
