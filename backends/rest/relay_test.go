package rest_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// relay is a loopback HTTP relay in front of a real API server: it
// records every request as the server would receive it and can change
// the server's answers (a misbehaving upstream). It is not a mock: every
// request goes to the real server unless answer says otherwise.
type relay struct {
	URL    string
	target string

	mu   sync.Mutex
	seen []seenRequest
	// answer, when set, may replace the server's answer: it gets the
	// request and the real answer and returns what the client sees.
	answer func(r *http.Request, status int, h http.Header, body []byte) (int, http.Header, []byte)
	// before, when set, may answer without asking the server (ok=false
	// forwards).
	before func(r *http.Request) (status int, h http.Header, body []byte, ok bool)
}

type seenRequest struct {
	Method, RequestURI string
	Header             http.Header
	RemoteAddr         string
}

func startRelay(t *testing.T, target string) *relay { return startRelayTLS(t, target, nil) }

// startRelayTLS is startRelay serving HTTPS with tc (which may ask for
// client certificates).
func startRelayTLS(t *testing.T, target string, tc *tls.Config) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if tc != nil {
		ln = tls.NewListener(ln, tc)
		scheme = "https://"
	}
	r := &relay{URL: scheme + ln.Addr().String(), target: strings.TrimRight(target, "/")}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, seenRequest{Method: req.Method, RequestURI: req.RequestURI, Header: req.Header.Clone(), RemoteAddr: req.RemoteAddr})
		before, answer := r.before, r.answer
		r.mu.Unlock()
		if before != nil {
			if status, h, b, ok := before(req); ok {
				write(w, status, h, b)
				return
			}
		}
		out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.RequestURI, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, h := resp.StatusCode, resp.Header.Clone()
		if answer != nil {
			status, h, b = answer(req, status, h, b)
		}
		write(w, status, h, b)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func write(w http.ResponseWriter, status int, h http.Header, b []byte) {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (r *relay) set(before func(*http.Request) (int, http.Header, []byte, bool), answer func(*http.Request, int, http.Header, []byte) (int, http.Header, []byte)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.before, r.answer = before, answer
}

// requests returns the requests seen so far and forgets them.
func (r *relay) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}
