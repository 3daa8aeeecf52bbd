package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/config"
)

const oauth2Usage = `Usage: scimbridge oauth2 <subcommand> [flags]

Subcommands:
  urls     print, for every oauth2 block, what to enter in the IdP (Okta's "OAuth 2" mode):
           authorize endpoint, token endpoint, client ID. The URLs start with public_url.
           usage: oauth2 urls --config FILE
  revoke   end every code and token an oauth2 client holds, at once (the store is shared:
           every replica refuses them from the next request); the IdP must be authorized again.
           usage: oauth2 revoke --config FILE NAME [--endpoint E]   (NAME: the oauth2 block's label)
`

func cmdOAuth2(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, oauth2Usage)
		return 2
	}
	switch args[0] {
	case "urls":
		return cmdOAuth2URLs(args[1:], stdout, stderr)
	case "revoke":
		return cmdOAuth2Revoke(args[1:], stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, oauth2Usage)
		return 0
	}
	fmt.Fprintf(stderr, "scimbridge oauth2: unknown subcommand %q\n\n%s", args[0], oauth2Usage)
	return 2
}

func cmdOAuth2URLs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("oauth2 urls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("SCIMBRIDGE_CONFIG"), "configuration file (HCL); default: $SCIMBRIDGE_CONFIG")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "scimbridge oauth2 urls: --config FILE is required")
		return 2
	}
	// The URLs need no secret: an unset variable does not stop them.
	cfg, diags := config.LoadWith(*path, kinds.Types(), nil, config.LoadOptions{Offline: true})
	printDiagnostics(stderr, cfg.Files, diags)
	if diags.HasErrors() {
		return 1
	}
	n := 0
	for _, ep := range cfg.Endpoints {
		authz, token, revoke := bridge.OAuth2URLs(cfg.Settings.PublicURL, ep.BasePath)
		for _, o := range append(ep.OAuth2, ep.OAuth2Disabled...) {
			n++
			fmt.Fprintf(stdout, "endpoint %q, oauth2 %q:\n", ep.Name, o.Name)
			for _, l := range [][2]string{
				{"Authorize endpoint", authz},
				{"Token endpoint", token},
				{"Client ID", o.ClientID},
				{"Client secret", "the secret of client_secret / client_secret_hash (never printed)"},
				{"Revocation (RFC 7009)", revoke},
				{"Redirect URIs allowed", strings.Join(o.RedirectURIs, " ")},
			} {
				fmt.Fprintf(stdout, "  %-22s %s\n", l[0], l[1])
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(stderr, "scimbridge oauth2 urls: no endpoint has an oauth2 block")
		return 1
	}
	if cfg.Settings.PublicURL == "" {
		fmt.Fprintln(stderr, "scimbridge oauth2 urls: public_url is not set: these are paths; put the URL the IdP reaches the bridge at in front (or set public_url)")
	}
	return 0
}

func cmdOAuth2Revoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("oauth2 revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("SCIMBRIDGE_CONFIG"), "configuration file (HCL); default: $SCIMBRIDGE_CONFIG")
	endpoint := fs.String("endpoint", "", "the endpoint of the oauth2 block, when several have one of that name")
	if code, done := parseFlagsUntilArg(fs, args, stdout); done {
		return code
	}
	if *path == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "scimbridge oauth2 revoke: usage: oauth2 revoke --config FILE NAME [--endpoint E]")
		return 2
	}
	name := fs.Arg(0)
	if code, done := parseFlags(fs, fs.Args()[1:], stdout); done {
		return code
	}
	cfg, diags := config.LoadWith(*path, kinds.Types(), nil, config.LoadOptions{})
	printDiagnostics(stderr, cfg.Files, diags)
	if diags.HasErrors() {
		return 1
	}
	type found struct {
		ep string
		o  config.OAuth2
	}
	var hits []found
	for _, ep := range cfg.Endpoints {
		for _, o := range append(ep.OAuth2, ep.OAuth2Disabled...) {
			if o.Name == name && (*endpoint == "" || ep.Name == *endpoint) {
				hits = append(hits, found{ep.Name, o})
			}
		}
	}
	switch {
	case len(hits) == 0:
		fmt.Fprintf(stderr, "scimbridge oauth2 revoke: no oauth2 block %q\n", name)
		return 1
	case len(hits) > 1:
		fmt.Fprintf(stderr, "scimbridge oauth2 revoke: oauth2 %q is in several endpoints; name one with --endpoint\n", name)
		return 2
	}
	h := hits[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := bridge.RevokeOAuth2Client(ctx, h.o.StoreDriver, h.o.StoreDSN, h.ep, h.o.ClientID)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge oauth2 revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "revoked %d code(s) and token(s) of oauth2 %q (client_id %s) of endpoint %q\n", n, name, h.o.ClientID, h.ep)
	return 0
}
