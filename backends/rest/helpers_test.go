package rest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/scimbridge/scimbridge/backends/rest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// openExample decodes the backend block of an example configuration (with
// edits made as bridgetest.EditFile makes them) under env and opens it.
func openExample(t *testing.T, path string, env map[string]string, edits ...[2]string) *rest.Backend {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	src := bridgetest.EditFile(t, path, edits...)
	return openText(t, src)
}

// openText decodes the first backend "rest" block of a configuration text.
func openText(t *testing.T, src string) *rest.Backend {
	t.Helper()
	cfg := decodeText(t, src)
	b, err := rest.New(context.Background(), cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func decodeText(t *testing.T, src string) *rest.Config {
	t.Helper()
	cfg, diags := tryDecode(src)
	if diags.HasErrors() {
		t.Fatalf("decoding the rest backend: %s", diags.Error())
	}
	return cfg
}

func tryDecode(src string) (*rest.Config, hcl.Diagnostics) {
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		return nil, diags
	}
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type", "name"}}}})
	if diags.HasErrors() {
		return nil, diags
	}
	for _, b := range content.Blocks {
		if b.Labels[0] == "rest" {
			return rest.DecodeConfig(b.Body, &hcl.EvalContext{Functions: map[string]function.Function{"env": envFunc, "file": fileFunc}})
		}
	}
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "no backend \"rest\" block"}}
}

var envFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "name", Type: cty.String}},
	VarParam: &function.Parameter{Name: "default", Type: cty.String},
	Type:     function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if v := os.Getenv(args[0].AsString()); v != "" {
			return cty.StringVal(v), nil
		}
		if len(args) > 1 {
			return args[1], nil
		}
		return cty.StringVal(""), nil
	},
})

var fileFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "path", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := os.ReadFile(args[0].AsString())
		return cty.StringVal(strings.TrimRight(string(b), "\r\n")), err
	},
})

func example(name string) string { return filepath.Join("..", "..", "examples", name) }

func writeTemp(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.hcl")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
