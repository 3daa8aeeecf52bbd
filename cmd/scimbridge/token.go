package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// newToken returns a random 256-bit token, URL-safe.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "sb_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func tokenHash(t string) string {
	sum := sha256.Sum256([]byte(t))
	return "sha256:" + hex.EncodeToString(sum[:])
}

const tokenUsage = `Usage: scimbridge token <subcommand> [flags]

Subcommands:
  create   make a random bearer token; print it once and the auth block for the config
           flags: --name NAME, --scopes LIST, --expires TIME|DURATION, --raw
  hash     read a token or password on standard input and print its hash
           flags: --bcrypt (for Basic passwords)
  list     list the credentials of every endpoint: name, kind, scopes, expiry (no secrets)
           flags: --config FILE
  revoke   remove a token (or Basic user) block from the file, keeping the rest as written;
           the server drops it on SIGHUP. Exit 1 when not found.
           usage: token revoke --config FILE NAME [--endpoint E] [--pid PID]
`

func cmdToken(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return 2
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(args[1:], stdout, stderr)
	case "hash":
		return cmdTokenHash(args[1:], stdin, stdout, stderr)
	case "list":
		return cmdTokenList(args[1:], stdout, stderr)
	case "revoke":
		return cmdTokenRevoke(args[1:], stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, tokenUsage)
		return 0
	}
	fmt.Fprintf(stderr, "scimbridge token: unknown subcommand %q\n\n%s", args[0], tokenUsage)
	return 2
}

func cmdTokenCreate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "okta", "credential name used in the printed auth block")
	raw := fs.Bool("raw", false, "print only the token")
	scopes := fs.String("scopes", "", "comma-separated scopes of the credential (get:users,patch:users,...); default: all")
	expires := fs.String("expires", "", "when the token stops working: an RFC 3339 time (2027-01-31T00:00:00Z) or a duration from now (720h)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	var scopeList []string
	for _, sc := range strings.Split(*scopes, ",") {
		if sc = strings.TrimSpace(sc); sc == "" {
			continue
		}
		if !slices.Contains(config.AllScopes, sc) {
			fmt.Fprintf(stderr, "scimbridge token create: unknown scope %q; scopes are %s\n", sc, strings.Join(config.AllScopes, ", "))
			return 2
		}
		scopeList = append(scopeList, sc)
	}
	var expiry string
	if *expires != "" {
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			d, derr := time.ParseDuration(*expires)
			if derr != nil || d <= 0 {
				fmt.Fprintf(stderr, "scimbridge token create: --expires %q is neither an RFC 3339 time nor a positive duration\n", *expires)
				return 2
			}
			t = time.Now().Add(d)
		}
		expiry = t.UTC().Format(time.RFC3339)
	}
	t, err := newToken()
	if err != nil {
		fmt.Fprintln(stderr, "scimbridge token create:", err)
		return 1
	}
	if *raw {
		fmt.Fprintln(stdout, t)
		return 0
	}
	fmt.Fprintf(stdout, "Token (shown once; give it to the identity provider):\n  %s\n\n", t)
	fmt.Fprintf(stdout, "Put its hash in the endpoint's auth block:\n  token %q {\n    hash    = %q\n", *name, tokenHash(t))
	if len(scopeList) > 0 {
		quoted := make([]string, len(scopeList))
		for i, sc := range scopeList {
			quoted[i] = fmt.Sprintf("%q", sc)
		}
		fmt.Fprintf(stdout, "    scopes  = [%s]\n", strings.Join(quoted, ", "))
	}
	if expiry != "" {
		fmt.Fprintf(stdout, "    expires = %q\n", expiry)
	}
	fmt.Fprintln(stdout, "  }")
	return 0
}

func cmdTokenHash(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token hash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	useBcrypt := fs.Bool("bcrypt", false, "hash with bcrypt (for Basic passwords)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(stderr, "scimbridge token hash:", err)
		return 1
	}
	secret := strings.TrimRight(line, "\r\n")
	if secret == "" {
		fmt.Fprintln(stderr, "scimbridge token hash: nothing on standard input")
		return 1
	}
	// A hash cannot be checked once in the configuration: check here.
	if summary, detail := config.CheckSecret(secret); summary != "" {
		fmt.Fprintf(stderr, "scimbridge token hash: %s. %s\n", summary, detail)
		return 1
	}
	if *useBcrypt {
		h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
		if err != nil {
			fmt.Fprintln(stderr, "scimbridge token hash:", err)
			return 1
		}
		fmt.Fprintln(stdout, string(h))
		return 0
	}
	fmt.Fprintln(stdout, tokenHash(secret))
	return 0
}

// parseFlags parses args; done reports that the command ends with code:
// after --help (its flags printed to stdout, exit 0) or a wrong flag
// (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	stderr := fs.Output()
	fs.Usage = func() {} // printed below, where it belongs
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
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "scimbridge %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, true
	}
	return 0, false
}
