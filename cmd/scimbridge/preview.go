package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/preview"
)

// cmdPreview reads every entry an endpoint's mappings cover, maps each to
// SCIM and back, and reports what an identity provider would trip over.
func cmdPreview(args []string, stdout, stderr io.Writer) int {
	var endpoint, format *string
	var limit *int
	cfg, code := loadConfig("preview", args, stdout, stderr, func(fs *flag.FlagSet) {
		endpoint = fs.String("endpoint", "", "endpoint name (default: the first)")
		limit = fs.Int("limit", 0, "read at most this many users and this many groups (0: all)")
		format = fs.String("format", "table", "report format: table, json or csv")
	})
	if cfg == nil {
		return code
	}
	if !slices.Contains([]string{"table", "json", "csv"}, *format) || *limit < 0 {
		fmt.Fprintf(stderr, "scimbridge preview: --format must be table, json or csv and --limit not negative\n")
		return 2
	}
	ep := findEndpoint(cfg, *endpoint)
	if ep == nil {
		fmt.Fprintf(stderr, "scimbridge preview: no endpoint %q\n", *endpoint)
		return 1
	}
	log := newLogger(cfg.Settings, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	be, err := openBackend(ctx, cfg, ep.Backend, log)
	cancel()
	if err != nil {
		log.Error("cannot open backend", "error", err)
		return 1
	}
	defer be.Close()
	if b := cfg.Backends[ep.Backend]; b.Lookups != nil && len(b.Lookups.Names()) > 0 {
		src, ok := be.(backends.Lookuper)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if ok {
			err = b.Lookups.Load(ctx, src)
		} else {
			err = errors.New("the backend cannot read lookup tables")
		}
		cancel()
		if err != nil {
			log.Error("cannot read the lookup tables", "error", err)
			return 1
		}
	}
	rep, err := preview.Run(context.Background(), be, ep, preview.Options{Limit: *limit, Progress: newProgress(stderr)})
	if err != nil {
		log.Error("preview stopped: cannot read the directory", "error", err)
		return 1
	}
	if err := rep.Write(stdout, *format); err != nil {
		fmt.Fprintln(stderr, "scimbridge preview:", err)
		return 1
	}
	return 0
}

func findEndpoint(cfg *config.Config, name string) *config.Endpoint {
	for _, e := range cfg.Endpoints {
		if name == "" || e.Name == name {
			return e
		}
	}
	return nil
}

// newProgress shows how far a scan is: a bar with entries/s and the time
// left on a terminal, plain lines every few seconds otherwise.
func newProgress(w io.Writer) preview.Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: 5 * time.Second}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *barProgress) Start(what string, total int) {
	b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("entries"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }))
}
func (b *barProgress) Set(n int) { _ = b.bar.Set(n) }
func (b *barProgress) Done()     { _ = b.bar.Finish() }

type lineProgress struct {
	w          io.Writer
	every      time.Duration
	what       string
	total, n   int
	began, out time.Time
}

func (l *lineProgress) Start(what string, total int) {
	l.what, l.total, l.n, l.began, l.out = what, total, 0, time.Now(), time.Now()
}

func (l *lineProgress) Set(n int) {
	l.n = n
	if time.Since(l.out) >= l.every {
		l.out = time.Now()
		l.line()
	}
}

func (l *lineProgress) Done() { l.line() }

func (l *lineProgress) line() {
	secs := time.Since(l.began).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(l.n) / secs
	}
	eta := "-"
	if rate > 0 && l.total > l.n {
		eta = (time.Duration(float64(l.total-l.n)/rate) * time.Second).String()
	}
	fmt.Fprintf(l.w, "preview: %s %d/%d (%.0f/s, %s left)\n", l.what, l.n, l.total, rate, eta)
}
