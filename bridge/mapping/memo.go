package mapping

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// memo remembers the results of a to_native or from_native expression
// that reads nothing but its value: such expressions (an "active" flag
// from a status column, a lock time stamp) see a handful of distinct
// values, and evaluating HCL costs more than the rest of mapping a record.
// It holds at most memoMax results; past that, new values are evaluated
// every time.
type memo struct {
	m sync.Map // key: the input (string or bool); value: the result
	n atomic.Int32
}

const memoMax = 4096

func (c *memo) get(k any) (any, bool) {
	if c == nil {
		return nil, false
	}
	return c.m.Load(k)
}

func (c *memo) put(k, v any) {
	if c == nil || c.n.Load() >= memoMax {
		return
	}
	if _, loaded := c.m.LoadOrStore(k, v); !loaded {
		c.n.Add(1)
	}
}

// impure lists the functions whose results may differ between calls.
// Lookups read tables that are refreshed from the store.
var impure = map[string]bool{"bcrypt": true, "lookup_value": true, "lookup_key": true, "lookup_keys": true}

// memoFor returns a memo for expr when its result depends only on the
// variables in allowed (and on nothing random): nil otherwise.
func memoFor(expr hcl.Expression, allowed ...string) *memo {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	for _, tr := range expr.Variables() {
		found := false
		for _, a := range allowed {
			found = found || tr.RootName() == a
		}
		if !found {
			return nil
		}
	}
	pure := true
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if fc, ok := n.(*hclsyntax.FunctionCallExpr); ok && impure[fc.Name] {
			pure = false
		}
		return nil
	})
	if !pure {
		return nil
	}
	return &memo{}
}

// fromNativeAbsent is the memo key of "no native value".
type fromNativeAbsent struct{}

// memoKey is v as a memo key: scalars only.
func memoKey(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, float64:
		return x, true
	}
	return nil, false
}
