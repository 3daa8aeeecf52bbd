package backends

import (
	"context"
	"time"

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
	// NativeTime reads a timestamp in a form the store writes other than
	// RFC 3339 (LDAP GeneralizedTime, an SQL "2006-01-02 15:04:05");
	// ok is false when s is none of them. The mapping reads the native
	// values of SCIM dateTime attributes as RFC 3339 first, then with
	// NativeTime, and shows them as RFC 3339 in UTC. nil: the store's
	// times are RFC 3339.
	NativeTime func(s string) (t time.Time, ok bool)
}
