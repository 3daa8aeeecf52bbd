package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
)

// lookupDeclarer is a backend configuration that declares lookup tables
// (the SQL backend's lookup blocks).
type lookupDeclarer interface {
	LookupTables() []backends.LookupSpec
}

func lookupsOf(bc any) *mapping.Lookups {
	if d, ok := bc.(lookupDeclarer); ok {
		return mapping.NewLookups(d.LookupTables())
	}
	return mapping.NewLookups(nil)
}

// bindLookups gives the endpoint's mappings their backend's lookup tables
// and reports calls that name a table the backend does not declare.
func bindLookups(ep *Endpoint, l *mapping.Lookups) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range []*mapping.Mapping{ep.Users, ep.Groups} {
		if m != nil {
			diags = append(diags, m.BindLookups(l)...)
		}
	}
	return diags
}
