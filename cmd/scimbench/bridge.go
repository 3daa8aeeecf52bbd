package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/preview"
)

// benchBridge is a scimbridge serving one shipped example configuration on
// loopback, in this process, and a load client for its /scim/v2 endpoint.
type benchBridge struct {
	cfg    *config.Config
	base   string // SCIM base URL
	app    *bridge.Server
	opened map[string]backends.Backend
	http   *loadClient
}

// serveExample sets env (the example's settings and SCIMBRIDGE_TOKEN =
// token) and serves cfgPath; conns bounds the client's connections.
func serveExample(ctx context.Context, cfgPath, token string, env map[string]string, conns int) (*benchBridge, error) {
	for k, v := range env {
		os.Setenv(k, v)
	}
	os.Setenv("SCIMBRIDGE_TOKEN", token)
	types := kinds.Types()
	cfg, diags := config.Load(cfgPath, types, map[string]any{"listen": "127.0.0.1:0"})
	if diags.HasErrors() {
		return nil, fmt.Errorf("config: %s", diags.Error())
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "scimbench", Level: hclog.Warn, Output: os.Stderr})
	bb := &benchBridge{cfg: cfg, opened: map[string]backends.Backend{}}
	for name, bc := range cfg.Backends {
		be, err := types[bc.Type].Open(ctx, bc.Config, log)
		if err != nil {
			bb.close()
			return nil, fmt.Errorf("open backend %s: %w", name, err)
		}
		bb.opened[name] = be
	}
	app, err := bridge.New(cfg, bb.opened, log)
	if err != nil {
		bb.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		bb.close()
		return nil, err
	}
	go func() { _ = app.App.Listener(ln) }()
	bb.app, bb.base = app, "http://"+ln.Addr().String()+"/scim/v2"
	if bb.http, err = newLoadClient(bb.base, token, conns); err != nil {
		bb.close()
		return nil, err
	}
	// An LDAP backend counts each listing when it starts (a scan of every
	// DN, on the directory's CPU); a count=0 request answers when that
	// count is done, so that no figure includes the start-up work. The
	// answers themselves do not matter here.
	for _, path := range []string{"/Users?count=0", "/Groups?count=0"} {
		_ = bb.http.call(ctx, "GET", path, nil, nil)
	}
	return bb, nil
}

// preview runs `scimbridge preview` on the served endpoint's backend and
// prints its rate: every user and group read, mapped to SCIM and back.
func (bb *benchBridge) preview(ctx context.Context, w io.Writer, label string) error {
	ep := bb.cfg.Endpoints[0]
	rep, err := preview.Run(ctx, bb.opened[ep.Backend], ep, preview.Options{})
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	found := 0
	for _, n := range rep.Summary.Findings {
		found += n
	}
	fmt.Fprintf(w, "preview of %s: %d users and %d groups in %.1f s = %.0f entries/s (%d findings)\n",
		label, rep.Summary.Users, rep.Summary.Groups, rep.Summary.Seconds, rep.Summary.EntriesPerSecond, found)
	return nil
}

func (bb *benchBridge) close() {
	if bb.app != nil {
		_ = bb.app.App.ShutdownWithTimeout(5 * time.Second)
	}
	for _, be := range bb.opened {
		_ = be.Close()
	}
	if bb.http != nil {
		bb.http.close()
	}
}

// do sends one request and decodes a JSON answer into out (when not nil);
// any 2xx status is success.
func (bb *benchBridge) do(ctx context.Context, method, path string, body, out any) error {
	return bb.http.call(ctx, method, path, body, out)
}
