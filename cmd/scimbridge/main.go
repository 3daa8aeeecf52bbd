// Command scimbridge serves SCIM 2.0 to identity providers and carries out
// every operation on an existing directory or database.
//
//	scimbridge serve    --config FILE   run the server
//	scimbridge validate --config FILE   check a configuration, with file:line diagnostics
//	scimbridge map      --config FILE   show how a SCIM resource (stdin) maps to the backend and back
//	scimbridge preview  --config FILE   read the whole directory through the mapping and report problems
//	scimbridge fmt [-check] FILE...     rewrite configuration files in the canonical layout
//	scimbridge token create | hash      make bearer tokens and their hashes
//	scimbridge token list | revoke      list the credentials of a file; remove one
//	scimbridge oauth2 urls | revoke     the URLs of the OAuth 2.0 server; end a client's tokens
//	scimbridge version
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "map":
		return cmdMap(args[1:], stdin, stdout, stderr)
	case "preview":
		return cmdPreview(args[1:], stdout, stderr)
	case "fmt":
		return cmdFmt(args[1:], stdout, stderr)
	case "token":
		return cmdToken(args[1:], stdin, stdout, stderr)
	case "oauth2":
		return cmdOAuth2(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "scimbridge", version)
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "scimbridge: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: scimbridge <command> [flags]

Commands:
  serve --config FILE       run the SCIM server
  validate --config FILE    check a configuration file; problems are printed with file:line:col
  map --config FILE         read a SCIM resource (JSON) on stdin, print the backend record and back
                            flags: --endpoint NAME, --resource User|Group
  preview --config FILE     read every entry through the mapping (read-only) and report what does
                            not map, does not round-trip, duplicate userNames and e-mails, users
                            without userName, members outside the users read
                            flags: --endpoint NAME, --limit N, --format table|json|csv
  fmt [-check] FILE...      rewrite configuration files in the canonical HCL layout;
                            -check lists the unformatted ones and exits 1 (for CI)
  token create              print a new random bearer token and the auth block for the config
                            flags: --name NAME, --scopes LIST, --expires TIME|DURATION, --raw
  token hash                read a token or password on stdin and print its hash (--bcrypt)
  token list --config FILE  list every endpoint's credentials: name, kind, scopes, expiry (no secrets)
  token revoke --config FILE NAME
                            remove that token (or Basic user) block from the file; then send the
                            server SIGHUP (or pass --pid PID). flags: --endpoint E, --pid PID
  oauth2 urls --config FILE print what to enter in the IdP for each oauth2 block (Okta's "OAuth 2"
                            mode): authorize and token endpoints, client ID
  oauth2 revoke --config FILE NAME
                            end every code and token of that oauth2 client at once. flags: --endpoint E
  version                   print the version

On SIGHUP, serve reloads the credentials of the file (README, "Reload").

Settings (server block) can be overridden by SCIMBRIDGE_<NAME> environment
variables and by flags of serve: --listen, --log-level, --log-format.
Every command lists its flags with --help.
`)
}
