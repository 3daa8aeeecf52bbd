package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsOnSIGTERM runs the real binary on the example config and
// checks that it answers, then exits 0 on SIGTERM.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := mln.Addr().String()
	mln.Close()
	cmd := exec.Command(bin, "serve", "--config", "../../config.example.hcl", "--listen", addr)
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_TOKEN=sb_serve_Q2Gc1keAZow6hdgzX0TeBS5Z_fW6-lVv", "SCIMBRIDGE_SQLITE_PATH="+filepath.Join(dir, "t.db"),
		"SCIMBRIDGE_METRICS_LISTEN="+metricsAddr)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users?filter=userName%20eq%20%22x%22", nil)
		req.Header.Set("Authorization", "Bearer sb_serve_Q2Gc1keAZow6hdgzX0TeBS5Z_fW6-lVv")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Prometheus metrics on their own address count the request.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `scimbridge_requests_total{method="GET",route="/scim/v2/Users",status="200"} 1`) {
		t.Errorf("metrics lack the request:\n%s", body)
	}
	// The SQL backend's connection pool, labelled with its name.
	if !strings.Contains(string(body), `go_sql_max_open_connections{backend="legacy",db_name="sqlite"}`) {
		t.Errorf("metrics lack the backend's pool:\n%s", body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "sb_serve_Q2Gc1keAZow6hdgzX0TeBS5Z") {
		t.Error("the token appears in the log")
	}
	if strings.Contains(logs.String(), "INSECURE") {
		t.Errorf("plain HTTP on loopback was warned about:\n%s", logs.String())
	}
}
