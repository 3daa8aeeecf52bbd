package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// loadConfig parses the flags of a command that reads a configuration
// (--config; serve also takes --listen, --log-level and --log-format, which
// override the file) and loads it, printing diagnostics with source
// snippets. A nil configuration ends the command with code: 0 after
// --help, 2 for wrong flags, 1 for a configuration with errors.
func loadConfig(name string, args []string, stdout, stderr io.Writer, extra func(fs *flag.FlagSet)) (*config.Config, int) {
	cfg, _, code := loadConfigOverrides(name, args, stdout, stderr, extra)
	return cfg, code
}

// loadConfigOverrides is loadConfig that also returns the settings the
// flags override (serve reloads with them).
func loadConfigOverrides(name string, args []string, stdout, stderr io.Writer, extra func(fs *flag.FlagSet)) (*config.Config, map[string]any, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("SCIMBRIDGE_CONFIG"), "configuration file (HCL); default: $SCIMBRIDGE_CONFIG")
	overridable := name == "serve"
	if overridable {
		fs.String("listen", "", "listen address (overrides the file and SCIMBRIDGE_LISTEN)")
		fs.String("log-level", "", "log level: trace, debug, info, warn, error")
		fs.String("log-format", "", "log format: text or json")
	}
	if extra != nil {
		extra(fs)
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return nil, nil, code
	}
	if *path == "" {
		fmt.Fprintf(stderr, "scimbridge %s: --config FILE is required\n", name)
		return nil, nil, 2
	}
	overrides := map[string]any{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen", "log-level", "log-format":
			overrides[strings.ReplaceAll(f.Name, "-", "_")] = f.Value.String()
		}
	})
	// validate and map check a mapping without connecting: they need no
	// credentials, and an unset variable is a warning naming it.
	offline := name == "map" || (name == "validate" && fs.Lookup("live").Value.String() != "true")
	cfg, diags := config.LoadWith(*path, kinds.Types(), overrides, config.LoadOptions{Offline: offline})
	printDiagnostics(stderr, cfg.Files, diags)
	if diags.HasErrors() {
		return nil, nil, 1
	}
	if offline && len(cfg.Unset) > 0 {
		fmt.Fprintf(stderr, "scimbridge %s: these environment variables are not set, so the values that use them were not checked (serve needs them):\n", name)
		for _, u := range cfg.Unset {
			var at []string
			for _, r := range u.Uses {
				at = append(at, fmt.Sprintf("%s:%d", r.Filename, r.Start.Line))
			}
			fmt.Fprintf(stderr, "  %s  (%s)\n", u.Name, strings.Join(at, ", "))
		}
	}
	return cfg, overrides, 0
}

func newLogger(s config.Settings, w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name: "scimbridge", Level: hclog.LevelFromString(s.LogLevel), JSONFormat: s.LogFormat == "json", Output: w,
	})
}

// openBackends connects every backend an endpoint uses.
func openBackends(ctx context.Context, cfg *config.Config, log hclog.Logger) (map[string]backends.Backend, error) {
	opened := map[string]backends.Backend{}
	for name := range cfg.Backends {
		be, err := openBackend(ctx, cfg, name, log)
		if err != nil {
			closeAll(opened)
			return nil, err
		}
		opened[name] = be
	}
	return opened, nil
}

// openBackend connects the one backend named name.
func openBackend(ctx context.Context, cfg *config.Config, name string, log hclog.Logger) (backends.Backend, error) {
	b := cfg.Backends[name]
	be, err := kinds.Types()[b.Type].Open(ctx, b.Config, log.Named("backend").Named(name))
	if err != nil {
		return nil, fmt.Errorf("backend %q (%s, %s): %w", name, b.Type, b.Range, err)
	}
	return be, nil
}

func closeAll(opened map[string]backends.Backend) {
	for _, b := range opened {
		_ = b.Close()
	}
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	cfg, overrides, code := loadConfigOverrides("serve", args, stdout, stderr, nil)
	if cfg == nil {
		return code
	}
	// SIGHUP reloads (reload.go); one that arrives while starting is
	// handled once serving, instead of ending the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := newLogger(cfg.Settings, stderr)
	gogc := bridge.ApplyGCDefault()
	memLimit := bridge.ApplyMemoryLimitDefault(cfg.Settings.MaxBodyMemory)
	log.Debug("runtime", "gogc", gogc, "memory_limit", memLimit)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	opened, err := openBackends(ctx, cfg, log)
	cancel()
	if err != nil {
		log.Error("cannot open backend", "error", err)
		return 1
	}
	defer closeAll(opened)
	// The mappings against what the stores have: a typo in a native name
	// stops here, with its file:line, not on every write of the IdP.
	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	diags := config.CheckBackends(ctx, cfg, opened)
	cancel()
	printDiagnostics(stderr, cfg.Files, diags)
	if diags.HasErrors() {
		log.Error("the configuration does not fit the directory; not serving (see the problems above)")
		return 1
	}
	srv, err := bridge.New(cfg, opened, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	defer srv.Close()
	ln, err := listen(cfg.Settings)
	if err != nil {
		log.Error("cannot listen", "address", cfg.Settings.Listen, "error", err)
		return 1
	}
	warnPlainHTTP(log, cfg.Settings, ln.Addr())
	if cfg.Settings.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(srv.Metrics.Registry, promhttp.HandlerOpts{}))
		ms := &http.Server{Addr: cfg.Settings.MetricsListen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener failed", "error", err)
			}
		}()
		defer ms.Close()
	}
	for _, ep := range cfg.Endpoints {
		log.Info("serving SCIM endpoint", "endpoint", ep.Name, "url", scheme(cfg.Settings)+"://"+ln.Addr().String()+ep.BasePath, "backend", ep.Backend, "protocol", ep.Protocol)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.App.Listener(ln) }()
	r := &reloader{path: cfg.Path, overrides: overrides, running: cfg, srv: srv, opened: opened, log: log}
	for {
		select {
		case err := <-done:
			if err != nil {
				log.Error("server stopped", "error", err)
				return 1
			}
			return 0
		case <-hup:
			log.Info("SIGHUP: reloading the configuration", "file", cfg.Path)
			r.reload()
			continue
		case s := <-sig:
			log.Info("shutting down: finishing in-flight requests", "signal", s.String(), "timeout", cfg.Settings.ShutdownTimeout)
			if err := srv.App.ShutdownWithTimeout(cfg.Settings.ShutdownTimeout); err != nil {
				log.Warn("shutdown timed out", "error", err)
			}
			<-done
			log.Info("stopped")
			return 0
		}
	}
}

func scheme(s config.Settings) string {
	if s.TLSCertFile != "" {
		return "https"
	}
	return "http"
}

// warnPlainHTTP warns, prominently, when credentials would cross the
// network in clear: no TLS, on an address other than loopback. It reports
// whether it did.
func warnPlainHTTP(log hclog.Logger, s config.Settings, addr net.Addr) bool {
	if s.TLSCertFile != "" {
		return false
	}
	if tcp, ok := addr.(*net.TCPAddr); !ok || tcp.IP.IsLoopback() {
		return false
	}
	log.Warn("INSECURE: serving SCIM over plain HTTP on an address other than loopback: bearer tokens, Basic passwords "+
		"and the directory's personal data cross the network in clear, and anyone on the path can read and replay them",
		"listen", addr.String(),
		"fix", "set tls_cert_file and tls_key_file, or listen on 127.0.0.1 behind a TLS-terminating proxy "+
			"(on Kubernetes: an ingress or mesh with TLS, and the pod reachable only from it)")
	return true
}

func listen(s config.Settings) (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, err
	}
	if s.TLSCertFile == "" && s.TLSKeyFile == "" {
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("loading TLS certificate: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}), nil
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	var live, probe *bool
	cfg, code := loadConfig("validate", args, stdout, stderr, func(fs *flag.FlagSet) {
		live = fs.Bool("live", false, "also connect to every backend with the configured credentials and check the mapping against what is there")
		probe = fs.Bool("write-probe", false, "with --live: create, rename and delete a probe user per endpoint, to prove the account's rights")
	})
	if cfg == nil {
		return code
	}
	if *probe && !*live {
		fmt.Fprintln(stderr, "scimbridge validate: --write-probe needs --live")
		return 2
	}
	if *live {
		log := newLogger(cfg.Settings, stderr)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		opened, err := openBackends(ctx, cfg, log)
		if err != nil {
			fmt.Fprintf(stderr, "scimbridge validate: cannot connect: %v\n", err)
			return 1
		}
		defer closeAll(opened)
		diags := config.CheckLive(ctx, cfg, opened, config.LiveOptions{WriteProbe: *probe, OAuth2Store: bridge.CheckOAuth2Store})
		printDiagnostics(stderr, cfg.Files, diags)
		if diags.HasErrors() {
			return 1
		}
		stores := ""
		if n := len(config.OAuth2Stores(cfg)); n > 0 {
			stores = fmt.Sprintf(", %d oauth2 store(s)", n)
		}
		fmt.Fprintf(stdout, "%s: configuration is valid and fits the directory (%d endpoint(s), %d backend(s)%s checked live%s)\n",
			cfg.Path, len(cfg.Endpoints), len(cfg.Backends), stores, map[bool]string{true: ", write probe passed", false: ""}[*probe])
		return 0
	}
	fmt.Fprintf(stdout, "%s: configuration is valid (%d endpoint(s), %d backend(s))\n", cfg.Path, len(cfg.Endpoints), len(cfg.Backends))
	return 0
}

// printDiagnostics prints each problem once: a line "file:line:col: error:
// summary" (the form editors and CI annotate), then HCL's source snippet
// and the detail. HCL's own heading ("Error: summary") is left out, since
// it would say the summary a second time.
func printDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	var buf bytes.Buffer
	wr := hcl.NewDiagnosticTextWriter(&buf, files, 100, false)
	for _, d := range diags {
		sev, heading := "error", "Error"
		if d.Severity == hcl.DiagWarning {
			sev, heading = "warning", "Warning"
		}
		if d.Subject != nil {
			fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, sev, d.Summary)
		} else {
			fmt.Fprintf(w, "%s: %s\n", sev, d.Summary)
		}
		buf.Reset()
		_ = wr.WriteDiagnostic(d)
		body := bytes.TrimPrefix(buf.Bytes(), []byte(heading+": "+d.Summary+"\n"))
		_, _ = w.Write(body)
	}
	if n := len(diags); n > 0 {
		fmt.Fprintf(w, "%d problem(s)\n", n)
	}
}
