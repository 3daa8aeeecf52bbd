package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// credBlock is a credential block of an endpoint's auth block, as written
// in the file.
type credBlock struct {
	endpoint, kind, name string
	auth                 *hclwrite.Body
	block                *hclwrite.Block
}

// readCredentials parses path (syntax only: the file need not be valid
// otherwise, and no variable need be set) and returns its token, basic
// and jwt blocks.
func readCredentials(path string) (*hclwrite.File, []credBlock, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
		return nil, nil, diags
	}
	f, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	var out []credBlock
	for _, ep := range f.Body().Blocks() {
		if ep.Type() != "endpoint" || len(ep.Labels()) != 1 {
			continue
		}
		for _, auth := range ep.Body().Blocks() {
			if auth.Type() != "auth" {
				continue
			}
			for _, b := range auth.Body().Blocks() {
				switch b.Type() {
				case "token", "basic", "jwt", "oauth2":
					if len(b.Labels()) == 1 {
						out = append(out, credBlock{endpoint: ep.Labels()[0], kind: b.Type(), name: b.Labels()[0], auth: auth.Body(), block: b})
					}
				}
			}
		}
	}
	return f, out, nil
}

// exprText is the source of an attribute's expression, on one line.
func exprText(b *hclwrite.Block, name string) string {
	a := b.Body().GetAttribute(name)
	if a == nil {
		return ""
	}
	return strings.Join(strings.Fields(string(a.Expr().BuildTokens(nil).Bytes())), " ")
}

// describe says what kind of credential c is and where its secret comes
// from, never the secret.
func (c credBlock) describe() string {
	switch c.kind {
	case "token":
		if h := exprText(c.block, "hash"); h != "" {
			return "token (sha256 hash in the file)"
		}
		return "token (value " + source(exprText(c.block, "value")) + ")"
	case "basic":
		if h := exprText(c.block, "password_hash"); h != "" {
			if strings.HasPrefix(strings.Trim(h, `"`), "$2") {
				return "basic (bcrypt hash in the file)"
			}
			return "basic (sha256 hash in the file)"
		}
		return "basic (password " + source(exprText(c.block, "password")) + ")"
	}
	if c.kind == "oauth2" {
		return "oauth2 (client_id " + exprText(c.block, "client_id") + "; `scimbridge oauth2 revoke` ends its tokens)"
	}
	return "jwt (issuer " + exprText(c.block, "issuer") + ")"
}

func source(expr string) string {
	switch {
	case strings.Contains(expr, "env("):
		return "from the environment"
	case strings.Contains(expr, "file("):
		return "from a file"
	case expr == "":
		return "not set"
	}
	return "written in the file"
}

func cmdTokenList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("SCIMBRIDGE_CONFIG"), "configuration file (HCL); default: $SCIMBRIDGE_CONFIG")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "scimbridge token list: --config FILE is required")
		return 2
	}
	_, creds, err := readCredentials(*path)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tNAME\tKIND\tSCOPES\tEXPIRES")
	now := time.Now()
	for _, c := range creds {
		scopes := exprText(c.block, "scopes")
		if scopes == "" {
			scopes = "all"
		}
		expires := "never"
		switch c.kind {
		case "jwt":
			expires = "(in each JWT)"
		case "oauth2":
			expires = "(access_token_ttl)"
		}
		if e := exprText(c.block, "expires"); e != "" {
			expires = strings.Trim(e, `"`)
			if t, err := time.Parse(time.RFC3339, expires); err == nil && now.After(t) {
				expires += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.endpoint, c.name, c.describe(), scopes, expires)
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout, "\nLast use is not in the file: a running server exports it as the metric scimbridge_token_last_used_timestamp_seconds{endpoint,credential}.")
	return 0
}

func cmdTokenRevoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("SCIMBRIDGE_CONFIG"), "configuration file (HCL); default: $SCIMBRIDGE_CONFIG")
	endpoint := fs.String("endpoint", "", "the endpoint whose credential to remove (needed when several have one of that name)")
	pid := fs.Int("pid", 0, "after the change, send SIGHUP to this process (the running scimbridge serve) so that it reloads")
	// NAME may stand before or after the flags.
	var names []string
	rest := args
	for {
		if code, done := parseFlagsUntilArg(fs, rest, stdout); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(names) != 1 {
		fmt.Fprintln(stderr, "scimbridge token revoke: give the name of one token (or Basic user name): token revoke --config FILE NAME [--endpoint E]")
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "scimbridge token revoke: --config FILE is required")
		return 2
	}
	name := names[0]
	_, creds, err := readCredentials(*path)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	src, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	var found []credBlock
	for _, c := range creds {
		if (c.kind == "token" || c.kind == "basic") && c.name == name && (*endpoint == "" || c.endpoint == *endpoint) {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 0:
		where := "any endpoint"
		if *endpoint != "" {
			where = fmt.Sprintf("endpoint %q", *endpoint)
		}
		fmt.Fprintf(stderr, "scimbridge token revoke: no token or basic block %q in %s of %s\n", name, where, *path)
		if slices.ContainsFunc(creds, func(c credBlock) bool { return c.kind == "oauth2" && c.name == name }) {
			fmt.Fprintf(stderr, "%q is an oauth2 block: `scimbridge oauth2 revoke --config %s %s` ends its tokens\n", name, *path, name)
		}
		return 1
	case len(found) > 1:
		var eps []string
		for _, c := range found {
			eps = append(eps, fmt.Sprintf("%s (%s)", c.endpoint, c.kind))
		}
		fmt.Fprintf(stderr, "scimbridge token revoke: %q is in several places: %s; choose with --endpoint\n", name, strings.Join(eps, ", "))
		return 2
	}
	c := found[0]
	// hclwrite would re-format the whole file when writing it: cut the
	// block's lines out of the source instead, so that the rest stays as
	// written, comments included.
	out, removed, ok := cutBlock(src, *path, c)
	if !ok {
		fmt.Fprintf(stderr, "scimbridge token revoke: cannot find the lines of %s %q in %s\n", c.kind, name, *path)
		return 1
	}
	// The result must still load, or a reload would refuse it and the
	// token would stay in force: check a copy before replacing the file.
	info, err := os.Stat(*path)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	tmp, err := os.CreateTemp(filepath.Dir(*path), "."+filepath.Base(*path)+".*")
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), info.Mode().Perm())
	}
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	_, diags := config.LoadWith(tmp.Name(), kinds.Types(), nil, config.LoadOptions{Offline: true})
	if diags.HasErrors() {
		fmt.Fprintf(stderr, "scimbridge token revoke: %s is unchanged: without %s %q it would not load (a reload would refuse it): %s\n",
			*path, c.kind, name, strings.ReplaceAll(problemList(diags), tmp.Name(), *path))
		return 1
	}
	if err := os.Rename(tmp.Name(), *path); err != nil {
		fmt.Fprintf(stderr, "scimbridge token revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Removed from endpoint %q of %s:\n%s\n", c.endpoint, *path, removed)
	if *pid > 0 {
		if err := syscall.Kill(*pid, syscall.SIGHUP); err != nil {
			fmt.Fprintf(stderr, "scimbridge token revoke: the file is changed, but SIGHUP to process %d failed: %v\n", *pid, err)
			return 1
		}
		fmt.Fprintf(stdout, "Sent SIGHUP to process %d: the server reloads its credentials (its log says whether it did).\n", *pid)
		return 0
	}
	fmt.Fprintln(stdout, "The running server still accepts it until it reloads: send it SIGHUP (kill -HUP <pid>, or --pid), or restart it.")
	return 0
}

// cutBlock returns src without the lines of c's block (from the line of
// its type to the line of its closing brace) and those lines.
func cutBlock(src []byte, path string, c credBlock) (out []byte, removed string, ok bool) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, "", false
	}
	var rng hcl.Range
	for _, ep := range f.Body.(*hclsyntax.Body).Blocks {
		if ep.Type != "endpoint" || len(ep.Labels) != 1 || ep.Labels[0] != c.endpoint {
			continue
		}
		for _, auth := range ep.Body.Blocks {
			if auth.Type != "auth" {
				continue
			}
			for _, b := range auth.Body.Blocks {
				if b.Type == c.kind && len(b.Labels) == 1 && b.Labels[0] == c.name {
					rng, ok = b.Range(), true
				}
			}
		}
	}
	if !ok {
		return nil, "", false
	}
	start := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	end := rng.End.Byte
	if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		end = len(src)
	}
	removed = strings.TrimRight(string(src[start:end]), "\n")
	out = append(append([]byte{}, src[:start]...), src[end:]...)
	return out, removed, true
}

// parseFlagsUntilArg is parseFlags that leaves positional arguments in
// fs.Args() instead of refusing them.
func parseFlagsUntilArg(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	stderr := fs.Output()
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "Usage of scimbridge %s:\n", fs.Name())
		fs.PrintDefaults()
		return 0, true
	case err != nil:
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 2, true
	}
	return 0, false
}
