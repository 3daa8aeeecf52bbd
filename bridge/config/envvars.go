package config

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// envUse is one env("NAME") call, without a default, whose variable is
// unset or empty: the attribute holding it gets "".
type envUse struct {
	Name string
	Attr hcl.Range // the whole attribute (name = expression)
}

// missingEnv finds, in every file of the configuration, the env() calls
// whose variable is not set and that have no default.
func missingEnv(files map[string]*hcl.File) []envUse {
	var out []envUse
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body, ok := files[n].Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		_ = hclsyntax.VisitAll(body, func(node hclsyntax.Node) hcl.Diagnostics {
			attr, ok := node.(*hclsyntax.Attribute)
			if !ok {
				return nil
			}
			_ = hclsyntax.VisitAll(attr.Expr, func(node hclsyntax.Node) hcl.Diagnostics {
				call, ok := node.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "env" || len(call.Args) != 1 {
					return nil
				}
				v, d := call.Args[0].Value(nil)
				if d.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
					return nil
				}
				name := v.AsString()
				if val, set := os.LookupEnv(name); set && val != "" {
					return nil
				}
				out = append(out, envUse{Name: name, Attr: attr.SrcRange})
				return nil
			})
			return nil
		})
	}
	// Attributes are visited in map order: put the uses in file order.
	slices.SortStableFunc(out, func(a, b envUse) int {
		if c := strings.Compare(a.Attr.Filename, b.Attr.Filename); c != 0 {
			return c
		}
		return a.Attr.Start.Byte - b.Attr.Start.Byte
	})
	return out
}

// UnsetVar is an environment variable the configuration reads with env()
// and no default, which is not set: where it is used.
type UnsetVar struct {
	Name string
	Uses []hcl.Range
}

// explainMissingEnv tells, in each error about a value that comes from an
// unset environment variable, which variable it is: the admin sets the
// variable rather than edits the file. offline (validate, map: commands
// that check a mapping without connecting) drops those errors instead,
// since the values are not needed there; the returned list names every
// unset variable and where it is used, for the command to say what it
// did not check.
func explainMissingEnv(diags hcl.Diagnostics, missing []envUse, offline bool) (hcl.Diagnostics, []UnsetVar) {
	if len(missing) == 0 {
		return diags, nil
	}
	var unset []UnsetVar
	for _, m := range missing {
		i := slices.IndexFunc(unset, func(u UnsetVar) bool { return u.Name == m.Name })
		if i < 0 {
			unset = append(unset, UnsetVar{Name: m.Name})
			i = len(unset) - 1
		}
		unset[i].Uses = append(unset[i].Uses, m.Attr)
	}
	out := diags[:0:0]
	for _, d := range diags {
		var vars []string
		if d.Severity == hcl.DiagError && d.Subject != nil {
			for _, m := range missing {
				if overlaps(*d.Subject, m.Attr) && !slices.Contains(vars, m.Name) {
					vars = append(vars, m.Name)
				}
			}
		}
		switch {
		case len(vars) == 0:
			out = append(out, d)
		case offline:
			// Not checked: the value is only known where the bridge runs.
		default:
			what := fmt.Sprintf("The environment variable %s is not set (the value is empty).", vars[0])
			if len(vars) > 1 {
				what = fmt.Sprintf("The environment variables %s are not set (their values are empty).", strings.Join(vars, ", "))
			}
			d.Detail = strings.TrimSpace(d.Detail + " " + what)
			out = append(out, d)
		}
	}
	return out, unset
}

// overlaps reports whether two ranges of the same file share a byte.
func overlaps(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return false
	}
	if a.Start.Byte == a.End.Byte { // an empty range: a position
		return b.Start.Byte <= a.Start.Byte && a.Start.Byte <= b.End.Byte
	}
	return a.Start.Byte < b.End.Byte && b.Start.Byte < a.End.Byte
}
