package config

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// evalFunctions are available in the configuration file outside mapping
// expressions: env() and file() bring secrets in without writing them
// into the file.
func evalFunctions(baseDir string) map[string]function.Function {
	return map[string]function.Function{
		"env": function.New(&function.Spec{
			Description: "env(name) or env(name, default): the value of an environment variable.",
			Params:      []function.Parameter{{Name: "name", Type: cty.String}},
			VarParam:    &function.Parameter{Name: "default", Type: cty.String},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				if v, ok := os.LookupEnv(args[0].AsString()); ok && v != "" {
					return cty.StringVal(v), nil
				}
				if len(args) > 1 {
					return args[1], nil
				}
				return cty.StringVal(""), nil
			},
		}),
		"file": function.New(&function.Spec{
			Description: "file(path): the contents of a file (for secrets), without trailing newline.",
			Params:      []function.Parameter{{Name: "path", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				p := args[0].AsString()
				if !filepath.IsAbs(p) {
					p = filepath.Join(baseDir, p)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return cty.NilVal, err
				}
				return cty.StringVal(strings.TrimRight(string(b), "\r\n")), nil
			},
		}),
		"format": stdlib.FormatFunc,
		"join":   stdlib.JoinFunc,
		"lower":  stdlib.LowerFunc,
		"upper":  stdlib.UpperFunc,
	}
}
