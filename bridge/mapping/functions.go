package mapping

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"golang.org/x/crypto/bcrypt"
)

// functions is built once: evaluation contexts share it. Its lookup
// functions fail until a mapping's tables are bound (BindLookups).
var functions = func() map[string]function.Function {
	f := Functions()
	for k, v := range unboundLookups() {
		f[k] = v
	}
	return f
}()

// Functions is the allow-list of functions available in mapping
// expressions: pure text, number and collection helpers from go-cty's
// stdlib and a few hashing helpers for password columns. Nothing here
// reads files, the environment or the network.
func Functions() map[string]function.Function {
	return map[string]function.Function{
		"upper":         stdlib.UpperFunc,
		"lower":         stdlib.LowerFunc,
		"title":         stdlib.TitleFunc,
		"trim":          stdlib.TrimFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"substr":        stdlib.SubstrFunc,
		"strlen":        stdlib.StrlenFunc,
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"formatdate":    stdlib.FormatDateFunc,
		"join":          stdlib.JoinFunc,
		"split":         stdlib.SplitFunc,
		"replace":       stdlib.ReplaceFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"coalesce":      stdlib.CoalesceFunc,
		// try(a, b, ...) gives the first argument that evaluates without
		// an error (record.status when there is no record, a lookup that
		// misses); can(x) says whether x does.
		"try":          tryfunc.TryFunc,
		"can":          tryfunc.CanFunc,
		"concat":       stdlib.ConcatFunc,
		"contains":     stdlib.ContainsFunc,
		"compact":      stdlib.CompactFunc,
		"distinct":     stdlib.DistinctFunc,
		"element":      stdlib.ElementFunc,
		"flatten":      stdlib.FlattenFunc,
		"length":       stdlib.LengthFunc,
		"lookup":       stdlib.LookupFunc,
		"keys":         stdlib.KeysFunc,
		"values":       stdlib.ValuesFunc,
		"min":          stdlib.MinFunc,
		"max":          stdlib.MaxFunc,
		"abs":          stdlib.AbsoluteFunc,
		"ceil":         stdlib.CeilFunc,
		"floor":        stdlib.FloorFunc,
		"parseint":     stdlib.ParseIntFunc,
		"int":          stdlib.IntFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"tostring":     toFunc(cty.String),
		"tonumber":     toFunc(cty.Number),
		"tobool":       toFunc(cty.Bool),
		"base64encode": stringFunc(func(s string) (string, error) { return base64.StdEncoding.EncodeToString([]byte(s)), nil }),
		"base64decode": stringFunc(func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			return string(b), err
		}),
		"sha256": stringFunc(func(s string) (string, error) { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]), nil }),
		"sha512": stringFunc(func(s string) (string, error) { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]), nil }),
		"bcrypt": stringFunc(func(s string) (string, error) {
			if len(s) > 72 {
				return "", &ValueError{Reason: bcryptTooLong}
			}
			b, err := bcrypt.GenerateFromPassword([]byte(s), bcrypt.DefaultCost)
			return string(b), err
		}),
	}
}

func stringFunc(f func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			out, err := f(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(out), nil
		},
	})
}

func toFunc(t cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
		Type:   function.StaticReturnType(t),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convertTo(args[0], t)
		},
	})
}
