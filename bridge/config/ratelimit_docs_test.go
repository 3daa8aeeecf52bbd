package config

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestDocumentedCredentialRateLimits: the README's auth block with
// per-credential rate limits decodes, and each credential gets the
// limits it shows.
func TestDocumentedCredentialRateLimits(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var example []byte
	for _, m := range hclBlock.FindAllSubmatch(b, -1) {
		if strings.HasPrefix(string(m[1]), "auth {") && strings.Contains(string(m[1]), "rate_limit") {
			example = m[1]
		}
	}
	if example == nil {
		t.Fatal("no auth block with rate_limit in the README")
	}
	f, diags := hclsyntax.ParseConfig(example, "README.md", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var fs struct {
		Auth authBlock `hcl:"auth,block"`
	}
	if d := gohcl.DecodeBody(f.Body, nil, &fs); d.HasErrors() {
		t.Fatal(d.Error())
	}
	got := map[string]RateLimit{}
	for _, tb := range fs.Auth.Tokens {
		tok, d := decodeToken(tb)
		if d.HasErrors() || tok.Rate == nil {
			t.Fatalf("token %q: %v %v", tb.Name, d, tok)
		}
		got[tok.Name] = *tok.Rate
	}
	for _, bb := range fs.Auth.Basic {
		bc, d := decodeBasic(bb)
		if d.HasErrors() || bc.Rate == nil {
			t.Fatalf("basic %q: %v %v", bb.Username, d, bc)
		}
		got[bc.Username] = *bc.Rate
	}
	for _, jb := range fs.Auth.JWTs {
		j, d := decodeJWT(jb)
		if d.HasErrors() || j.Rate == nil {
			t.Fatalf("jwt %q: %v %v", jb.Name, d, j)
		}
		got[j.Name] = *j.Rate
	}
	want := map[string]RateLimit{"okta": {PerSecond: 100}, "onelogin": {PerSecond: 10, Burst: 50}, "entra": {PerSecond: 0}}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	// Invalid values are refused.
	neg := -1
	if _, d := decodeRate(&neg, nil, hcl.Range{}); d == nil {
		t.Error("rate_limit = -1 accepted")
	}
	zero := 0
	if _, d := decodeRate(nil, &zero, hcl.Range{}); d == nil {
		t.Error("rate_limit_burst = 0 accepted")
	}
}
