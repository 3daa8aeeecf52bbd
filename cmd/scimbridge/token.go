package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"

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

func cmdToken(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: scimbridge token create [--name NAME] [--raw] | token hash [--bcrypt]")
		return 2
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "okta", "credential name used in the printed config snippet")
	raw := fs.Bool("raw", false, "print only the token")
	useBcrypt := fs.Bool("bcrypt", false, "hash with bcrypt (for Basic passwords)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch args[0] {
	case "create":
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
		fmt.Fprintf(stdout, "Put its hash in the endpoint's auth block:\n  token %q {\n    hash = %q\n  }\n", *name, tokenHash(t))
		return 0
	case "hash":
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
	fmt.Fprintf(stderr, "scimbridge token: unknown subcommand %q\n", args[0])
	return 2
}
