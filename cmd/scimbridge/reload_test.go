package main

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer is a log the test reads while the process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for up to 20 s (no timing assertion: only a bound on
// how long the test waits for the server).
func waitFor(t *testing.T, what string, logs *syncBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// exampleWithAuth is config.example.hcl with its auth block's tokens
// replaced by auth (token blocks) and the server block by server.
func exampleWithAuth(t *testing.T, server, auth string) string {
	t.Helper()
	src, err := os.ReadFile("../../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	tok := regexp.MustCompile(`(?s)    token "env" \{\n      value = env\("SCIMBRIDGE_TOKEN"\)\n    \}\n`)
	if !tok.MatchString(s) {
		t.Fatal("config.example.hcl: the token \"env\" block is not where the test expects it")
	}
	s = tok.ReplaceAllLiteralString(s, auth)
	srv := regexp.MustCompile(`(?s)\nserver \{.*?\n\}\n`)
	return srv.ReplaceAllLiteralString(s, "\n"+server+"\n")
}

func tokenBlock(name, token string) string {
	return fmt.Sprintf("    token %q {\n      hash = %q\n    }\n", name, tokenHash(token))
}

// jwtBlock is a jwt block accepting tokens signed by key, whose public
// key it writes to a JWK Set file in dir.
func jwtBlock(t *testing.T, dir, name string, key *rsa.PrivateKey) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	raw, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": name, "use": "sig", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	path := filepath.Join(dir, name+".jwks.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("    jwt %q {\n      jwks_file = %q\n      issuer    = \"https://idp.example.com/\"\n      audience  = [\"scimbridge\"]\n    }\n", name, path)
}

func signedJWT(t *testing.T, kid string, key *rsa.PrivateKey) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://idp.example.com/", "aud": "scimbridge",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServeReloadsOnSIGHUP runs the real binary: SIGHUP swaps the tokens
// and jwt blocks (a new one works, a removed one gets 401, a request
// authenticated before the reload finishes); an invalid file or one that does not fit the
// directory is refused with file:line and the last good one stays; a
// change of the server block is logged as needing a restart.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const (
		tokA    = "sb_reloadA_Vb0Qx7LkP2mZ9sT4wYc1NdE8fGhJ3uRi"
		tokB    = "sb_reloadB_Kp5Wn2QzX8vL1cM7tR4yH9bD6sF3gJ0e"
		tokSlow = "sb_reloadS_Hq3Jm8VtB1xN6cZ4wK9pL2rY7dF5gS0a"
	)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	server := fmt.Sprintf("server {\n  listen         = %q\n  metrics_listen = %q\n}", addr, metricsAddr)
	path := filepath.Join(dir, "config.hcl")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyOld, keyNew := rsaKey(t), rsaKey(t)
	jwtOld, jwtNew := signedJWT(t, "idpold", keyOld), signedJWT(t, "idpnew", keyNew)
	write(exampleWithAuth(t, server, tokenBlock("a", tokA)+tokenBlock("slow", tokSlow)+jwtBlock(t, dir, "idpold", keyOld)))
	cmd := exec.Command(bin, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_SQLITE_PATH="+filepath.Join(dir, "t.db"))
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	status := func(tok string) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users?count=1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the server to answer", logs, func() bool { return status(tokA) != -1 })
	if got := status(tokA); got != 200 {
		t.Fatalf("token a: status %d", got)
	}
	if got := status(tokB); got != 401 {
		t.Fatalf("token b before the reload: status %d", got)
	}
	if got, gotNew := status(jwtOld), status(jwtNew); got != 200 || gotNew != 401 {
		t.Fatalf("before the reload: a JWT of jwt block idpold: %d, of idpnew (not yet configured): %d", got, gotNew)
	}
	metrics := func() string {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	// A create whose body is still coming when the reload happens, on a
	// token the reload removes: once the last-used gauge names it, it has
	// been authenticated. The server reads the first 8 KiB of a body before
	// it runs the handler, so the body is longer (JSON white space) and
	// its last part is sent after the reload.
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"inflight@example.com"` + strings.Repeat(" ", 12000) + "}"
	const first = 10000
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n%s",
		tokSlow, len(body), body[:first])
	waitFor(t, "the slow request to be authenticated", logs, func() bool {
		return strings.Contains(metrics(), `scimbridge_token_last_used_timestamp_seconds{credential="slow",endpoint="default"}`)
	})

	// Reload: b replaces a and slow, jwt block idpnew replaces idpold;
	// the server block changes too.
	server2 := strings.Replace(server, "\n}", "\n  max_results = 50\n}", 1)
	write(exampleWithAuth(t, server2, "    # rotated\n"+tokenBlock("b", tokB)+jwtBlock(t, dir, "idpnew", keyNew)))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload", logs, func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	if got := status(tokB); got != 200 {
		t.Errorf("token b after the reload: status %d", got)
	}
	if got := status(tokA); got != 401 {
		t.Errorf("removed token a after the reload: status %d", got)
	}
	if got := status(tokSlow); got != 401 {
		t.Errorf("removed token slow after the reload: status %d", got)
	}
	if got, gotNew := status(jwtOld), status(jwtNew); got != 401 || gotNew != 200 {
		t.Errorf("after the reload: a JWT of the removed block idpold: %d, of the added block idpnew: %d", got, gotNew)
	}
	if !regexp.MustCompile(`need a restart.*server changed`).MatchString(logs.String()) {
		t.Errorf("the server block's change is not logged as needing a restart:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "endpoint \"default\" changed") {
		t.Errorf("a token change is reported as needing a restart:\n%s", logs.String())
	}

	// The in-flight request finishes on the configuration it started with.
	if _, err := io.WriteString(conn, body[first:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("in-flight request started before the reload: status %d", resp.StatusCode)
	}

	// An invalid file: refused with its file:line, the last good one stays.
	good := exampleWithAuth(t, server2, tokenBlock("b", tokB))
	bad := strings.Replace(good, `base_path = "/scim/v2"`, `base_path = "/scim/v2"`+"\n  no_such_setting = 1", 1)
	line := strings.Count(bad[:strings.Index(bad, "no_such_setting")], "\n") + 1
	write(bad)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", logs, func() bool { return strings.Contains(logs.String(), "reload refused: the configuration has errors") })
	if want := fmt.Sprintf("%s:%d:", path, line); !strings.Contains(logs.String(), want) {
		t.Errorf("the refusal does not name %s:\n%s", want, logs.String())
	}
	if got := status(tokB); got != 200 {
		t.Errorf("token b after a refused reload: status %d", got)
	}

	// A mapping that does not fit the directory: refused too.
	unfit := strings.Replace(good, `native = "email_addr"`, `native = "email_adr"`, 1)
	unfit = strings.Replace(unfit, tokenBlock("b", tokB), tokenBlock("a", tokA), 1)
	write(unfit)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second refusal", logs, func() bool { return strings.Contains(logs.String(), "reload refused: the configuration does not fit") })
	if !strings.Contains(logs.String(), "email_adr") {
		t.Errorf("the refusal does not name the column:\n%s", logs.String())
	}
	if got := status(tokB); got != 200 {
		t.Errorf("token b after a refused reload: status %d", got)
	}
	if got := status(tokA); got != 401 {
		t.Errorf("token a of a refused file: status %d", got)
	}

	// token revoke --pid: the file loses the block and the server its token.
	write(exampleWithAuth(t, server2, tokenBlock("b", tokB)+tokenBlock("slow", tokSlow)))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second reload", logs, func() bool { return strings.Count(logs.String(), "configuration reloaded") == 2 })
	if got := status(tokSlow); got != 200 {
		t.Fatalf("token slow, added back: status %d", got)
	}
	code, out, errs := runCmd(t, "", "token", "revoke", "--config", path, "slow", "--pid", fmt.Sprint(cmd.Process.Pid))
	if code != 0 || !strings.Contains(out, "Sent SIGHUP") {
		t.Fatalf("token revoke --pid: exit %d\n%s%s", code, out, errs)
	}
	waitFor(t, "the reload after revoke", logs, func() bool { return strings.Count(logs.String(), "configuration reloaded") == 3 })
	if got := status(tokSlow); got != 401 {
		t.Errorf("revoked token: status %d", got)
	}
	if got := status(tokB); got != 200 {
		t.Errorf("token b after revoking another: status %d", got)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	for _, tok := range []string{tokA, tokB, tokSlow} {
		if strings.Contains(logs.String(), tok) {
			t.Error("a token appears in the log")
		}
	}
}
