package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// reloader re-reads the configuration on SIGHUP. What it changes in the
// running server is the credentials: the token, basic, jwt and oauth2
// blocks of each endpoint's auth block, swapped atomically (a request is
// checked against the set in force when it arrives, and runs to its end
// on what it started with; bridge.Server.ReloadCredentials); an oauth2
// block's store too (opened before the swap). Every other change
// (server block, backends, mappings, endpoints added or removed) needs a
// restart: it is logged, and the running values stay. A credential kind
// added to the auth block later is reloaded by adding it to
// ReloadCredentials and to credentialBlocks.
type reloader struct {
	path      string
	overrides map[string]any
	// running is the configuration the server was started with: what
	// other than credentials is served.
	running *config.Config
	srv     *bridge.Server
	opened  map[string]backends.Backend
	log     hclog.Logger
}

// reload loads, checks and applies the file; it reports whether the new
// credentials are in force.
func (r *reloader) reload() bool {
	cfg, diags := config.LoadWith(r.path, kinds.Types(), r.overrides, config.LoadOptions{})
	if diags.HasErrors() {
		r.log.Error("reload refused: the configuration has errors; still serving the previous one",
			"file", r.path, "problems", problemList(diags))
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	diags = config.CheckBackends(ctx, cfg, r.opened)
	cancel()
	if diags.HasErrors() {
		r.log.Error("reload refused: the configuration does not fit the directory; still serving the previous one",
			"file", r.path, "problems", problemList(diags))
		return false
	}
	restart := restartNeeded(r.running, cfg)
	applied, err := r.srv.ReloadCredentials(cfg.Endpoints)
	if err != nil {
		r.log.Error("reload refused: a credential cannot be set up; still serving the previous ones",
			"file", r.path, "error", err)
		return false
	}
	r.log.Info("configuration reloaded: credentials replaced", "file", r.path, "endpoints", strings.Join(applied, ", "))
	if len(restart) > 0 {
		r.log.Warn("these changes need a restart; until then the previous values are served",
			"file", r.path, "changes", strings.Join(restart, "; "))
	}
	return true
}

// problemList puts the errors of diags on one line: "file:line:col: summary; ...".
func problemList(diags hcl.Diagnostics) string {
	var out []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
		if d.Subject != nil {
			s = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, s)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// restartNeeded compares two configurations apart from what a reload
// changes (credentialBlocks in endpoints' auth blocks) and says what
// differs: the source text of each file without those blocks, formatted.
func restartNeeded(old, cur *config.Config) []string {
	var out []string
	names := map[string]bool{}
	for n := range old.Files {
		names[n] = true
	}
	for n := range cur.Files {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		a, b := old.Files[n], cur.Files[n]
		switch {
		case a == nil:
			out = append(out, n+" is new")
		case b == nil:
			out = append(out, n+" is no longer read")
		default:
			if what := differs(a.Bytes, b.Bytes); what != "" {
				out = append(out, n+": "+what)
			}
		}
	}
	return out
}

// differs names the top-level blocks (server, backend "x", endpoint "y"
// ...) whose text differs once the credential blocks are left out.
func differs(a, b []byte) string {
	ba, bb := topBlocks(a), topBlocks(b)
	var out []string
	for k, v := range ba {
		if w, ok := bb[k]; !ok {
			out = append(out, k+" removed")
		} else if v != w {
			out = append(out, k+" changed")
		}
	}
	for k := range bb {
		if _, ok := ba[k]; !ok {
			out = append(out, k+" added")
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// credentialBlocks are the blocks of an endpoint's auth block that a
// reload puts in force.
var credentialBlocks = []string{"token", "basic", "jwt", "oauth2"}

// topBlocks returns the formatted text of each top-level block and
// attribute, keyed by its type and labels, without the credential
// blocks of endpoints' auth blocks and without comments.
func topBlocks(src []byte) map[string]string {
	f, diags := hclwrite.ParseConfig(src, "", hcl.InitialPos)
	out := map[string]string{}
	if diags.HasErrors() {
		out["(file)"] = string(src)
		return out
	}
	body := f.Body()
	for name, attr := range body.Attributes() {
		out[name] = string(hclwrite.Format(stripComments(attr.BuildTokens(nil))))
	}
	for _, blk := range body.Blocks() {
		key := strings.Join(append([]string{blk.Type()}, quoted(blk.Labels())...), " ")
		if blk.Type() == "endpoint" {
			for _, auth := range blk.Body().Blocks() {
				if auth.Type() != "auth" {
					continue
				}
				for _, c := range auth.Body().Blocks() {
					if slices.Contains(credentialBlocks, c.Type()) {
						auth.Body().RemoveBlock(c)
					}
				}
			}
		}
		out[key] += string(hclwrite.Format(stripComments(blk.BuildTokens(nil))))
	}
	return out
}

func quoted(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = fmt.Sprintf("%q", l)
	}
	return out
}

// stripComments drops comments and blank lines, so that they do not count
// as changes.
func stripComments(toks hclwrite.Tokens) []byte {
	var buf bytes.Buffer
	for _, t := range toks {
		if t.Type == hclsyntax.TokenComment {
			if bytes.HasSuffix(t.Bytes, []byte("\n")) {
				buf.WriteByte('\n')
			}
			continue
		}
		buf.WriteString(strings.Repeat(" ", t.SpacesBefore))
		buf.Write(t.Bytes)
	}
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}
