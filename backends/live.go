package backends

import (
	"context"

	"github.com/hashicorp/hcl/v2"
)

// LiveChecker is implemented by backends that can check, once connected,
// what their own configuration relies on beyond the attributes a mapping
// names (which Describer covers): that the containers and tables exist,
// that the server offers the controls and extensions the backend uses.
// `scimbridge validate --live` runs it. Findings carry the range of the
// backend block's setting they concern; an error means requests would
// fail, a warning that they work in a lesser way.
type LiveChecker interface {
	CheckLive(ctx context.Context) hcl.Diagnostics
}

// Native value types a Description may give an attribute (NativeAttr.Type),
// coarse enough to compare with SCIM's.
const (
	NativeText    = "text"
	NativeInteger = "integer"
	NativeDecimal = "decimal"
	NativeBoolean = "boolean"
	NativeTime    = "time"
	NativeBinary  = "binary"
)
