// Command install builds PocketBase and installs json-server into the
// user's cache directory, as the REST test harnesses (pbtest, jsontest)
// would on first use, so that CI pays for it once, before go test runs:
//
//	go run ./backends/rest/install
//
// It prints where each server is and how long it took; an up-to-date cache
// takes no time. It exits 1 when either cannot be made.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
)

func main() {
	failed := false
	for _, s := range []struct {
		name string
		make func() (string, error)
	}{
		{"PocketBase " + pbtest.Version, pbtest.Binary},
		{"json-server " + jsontest.Version, jsontest.Script},
	} {
		start := time.Now()
		path, err := s.make()
		if err != nil {
			fmt.Fprintf(os.Stderr, "install: %s: %v\n", s.name, err)
			failed = true
			continue
		}
		fmt.Printf("install: %s: %s (%s)\n", s.name, path, time.Since(start).Round(100*time.Millisecond))
	}
	if failed {
		os.Exit(1)
	}
}
