package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	soakDuration = flag.Duration("soak-duration", 30*time.Minute, "how long -backend soak runs")
	soakRate     = flag.Int("soak-rate", 100, "requests per second during -backend soak")
	soakWindow   = flag.Duration("soak-window", time.Minute, "reporting interval of -backend soak")
)

// runSoak drives the bridge (PostgreSQL example) with a steady mixed load
// at a fixed rate and reports latency, errors and RSS per window: a leak
// shows as RSS that keeps growing, a slowdown as p99 creeping up.
func runSoak(ctx context.Context, o options) error {
	duration, rate, window := *soakDuration, *soakRate, *soakWindow
	if o.quick {
		duration, window = time.Minute, 10*time.Second
	}
	pg, err := startPostgresExample(ctx, o, "soak")
	if err != nil {
		return err
	}
	defer pg.close()
	c := pg.c

	// A working set: users and a group to change.
	const seedUsers = 500
	ids := make([]string, 0, seedUsers)
	for i := range seedUsers {
		id, err := c.createUser(seedName(i))
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	body, err := c.do("POST", "/Groups", map[string]any{"displayName": "soak group"}, 201)
	if err != nil {
		return err
	}
	gid := jsonField(body, "id")

	fmt.Fprintf(o.out, "soak: %d requests/s for %v (mixed: 30%% filter, 20%% get, 15%% create, 15%% PATCH active, 10%% PUT, 10%% membership)\n",
		rate, duration)
	const row = "%8s %9s %7s %5s %9s %9s %9s %11s\n"
	fmt.Fprintf(o.out, row, "elapsed", "requests", "errors", "late", "p50", "p99", "max", "RSS")
	began := time.Now()
	startRSS := processRSS()

	var (
		mu       sync.Mutex
		lat      []time.Duration
		errCount int
		errKinds = map[string]int{}
		late     atomic.Int64
		created  atomic.Int64
		sem      = make(chan struct{}, 32)
		wg       sync.WaitGroup
		totalReq int
		totalErr int
	)
	op := func(rng *rand.Rand) error {
		x := rng.IntN(100)
		k := rng.IntN(len(ids))
		id := ids[k]
		switch {
		case x < 30:
			return c.filterUserName(seedName(rng.IntN(seedUsers)))
		case x < 50:
			return c.get("/Users/" + id)
		case x < 65:
			_, err := c.createUser(fmt.Sprintf("soak.new%08d@example.com", created.Add(1)))
			return err
		case x < 80:
			return c.patchActive(id, rng.IntN(2) == 0)
		case x < 90:
			_, err := c.do("PUT", "/Users/"+id, map[string]any{"userName": seedName(k),
				"name": map[string]any{"givenName": "Soak", "familyName": fmt.Sprint(rng.IntN(1000))}, "active": true}, 200)
			return err
		default:
			if rng.IntN(2) == 0 {
				return c.addMember(gid, id)
			}
			_, err := c.do("PATCH", "/Groups/"+gid, map[string]any{"Operations": []any{
				map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}}}, 204, 200)
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	report := time.NewTicker(window)
	defer report.Stop()
	flushWindow := func() {
		mu.Lock()
		s := sample{lat: lat}
		n, e := len(lat), errCount
		lat, errCount = nil, 0
		mu.Unlock()
		totalReq += n
		totalErr += e
		var maxLat time.Duration
		for _, l := range s.lat {
			maxLat = max(maxLat, l)
		}
		fmt.Fprintf(o.out, row, time.Since(began).Round(time.Second), fmt.Sprint(n), fmt.Sprint(e), fmt.Sprint(late.Swap(0)),
			short(s.percentile(0.5)), short(s.percentile(0.99)), short(maxLat), processRSS())
	}
	seed := uint64(time.Now().UnixNano())
loop:
	for i := uint64(0); ; i++ {
		select {
		case <-ctx.Done():
			break loop
		case <-report.C:
			flushWindow()
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				late.Add(1) // the bridge is not keeping up: count, do not queue
				continue
			}
			wg.Add(1)
			go func(n uint64) {
				defer wg.Done()
				defer func() { <-sem }()
				rng := rand.New(rand.NewPCG(seed, n))
				t0 := time.Now()
				err := op(rng)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && !errors.Is(err, context.Canceled) {
					errCount++
					k := err.Error()
					if len(k) > 60 {
						k = k[:60]
					}
					errKinds[k]++
				}
				mu.Unlock()
			}(i)
		}
	}
	wg.Wait()
	flushWindow()
	fmt.Fprintf(o.out, "\nsoak: %d requests, %d errors; RSS at start %s, at end %s, peak %s\n", totalReq, totalErr, startRSS, processRSS(), processPeakRSS())
	for k, n := range errKinds {
		fmt.Fprintf(o.out, "  error x%d: %s\n", n, k)
	}
	return nil
}

// processRSS is this process's current resident set size (VmRSS).
func processRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func jsonField(body []byte, field string) string {
	key := `"` + field + `":"`
	i := strings.Index(string(body), key)
	if i < 0 {
		return ""
	}
	rest := string(body[i+len(key):])
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

func seedName(i int) string { return fmt.Sprintf("soak.seed%05d@example.com", i) }
