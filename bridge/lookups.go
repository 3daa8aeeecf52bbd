package bridge

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// lookupLoadTimeout bounds the first read of the lookup tables at start.
const lookupLoadTimeout = 10 * time.Second

// startLookups reads every backend's lookup tables once, then refreshes
// them in the background until Close. A table that cannot be read at
// start is logged and retried: until it is read, writes that need it are
// answered 503 and reads leave out the attributes that need it.
func (s *Server) startLookups(cfg *config.Config, opened map[string]backends.Backend, log hclog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopLookups = cancel
	names := make([]string, 0, len(cfg.Backends))
	for name := range cfg.Backends {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b := cfg.Backends[name]
		if b.Lookups == nil || len(b.Lookups.Names()) == 0 || opened[name] == nil {
			continue
		}
		src, ok := opened[name].(backends.Lookuper)
		if !ok {
			cancel()
			return fmt.Errorf("backend %q declares lookup tables but cannot read them", name)
		}
		llog := log.Named("lookups").With("backend", name)
		first, done := context.WithTimeout(ctx, lookupLoadTimeout)
		if err := b.Lookups.Load(first, src); err != nil {
			llog.Warn("lookup tables not read at start; retrying in the background", "error", err)
		}
		done()
		go b.Lookups.Run(ctx, src, llog)
	}
	return nil
}

// Close stops the background work of the server (refreshing lookup
// tables); the backends are the caller's to close.
func (s *Server) Close() {
	if s.stopLookups != nil {
		s.stopLookups()
	}
	if s.stopJWKS != nil {
		s.stopJWKS()
	}
	s.audit.close()
	s.oauth2Mu.Lock()
	for _, d := range s.oauth2DBs {
		d.Close()
	}
	s.oauth2Mu.Unlock()
}
