package backends

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
)

// Kind is one entry of the registry of backend kinds: how a backend block
// of its type ("sql", "ldap") is decoded and opened. Package backends/kinds
// holds the map from type name to Kind that the command uses; tests build
// their own maps (a Kind that hands out an in-memory backend).
type Kind struct {
	// Decode checks the block body and returns the backend's own
	// configuration; its diagnostics point into the body.
	Decode func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics)
	// Open connects, given what Decode returned.
	Open func(ctx context.Context, cfg any, log hclog.Logger) (Backend, error)
}
