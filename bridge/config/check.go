package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
)

// CheckBackends checks every endpoint's mappings against its opened
// backend (mapping.Check), for backends that can describe their store
// (backends.Describer; others are not checked). `serve` runs it before
// serving and refuses to start on an error. A store that cannot describe
// itself now (down, or its schema hidden from the bridge's account) is a
// warning: its mappings are served unchecked.
func CheckBackends(ctx context.Context, cfg *Config, opened map[string]backends.Backend) hcl.Diagnostics {
	var diags hcl.Diagnostics
	reported := map[string]bool{} // backend-level problems, once per backend
	for _, ep := range cfg.Endpoints {
		d, ok := opened[ep.Backend].(backends.Describer)
		if !ok {
			continue
		}
		for _, m := range []*mapping.Mapping{ep.Users, ep.Groups} {
			if m == nil {
				continue
			}
			desc, err := d.DescribeNative(ctx, m.RT.Name)
			switch {
			case err == nil:
				diags = append(diags, m.Check(desc)...)
			case errors.Is(err, backends.ErrUnsupported):
				diags = append(diags, backends.ConfigDiag(m.Range, "Resource type not in the backend",
					fmt.Sprintf("Endpoint %q maps %s records, but backend %q has none: %v. Add a resource %q block to the backend, or remove this mapping.",
						ep.Name, m.RT.Name, ep.Backend, err, m.RT.Name)))
			case errors.Is(err, backends.ErrUnavailable):
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Mapping not checked against the store",
					Detail: fmt.Sprintf("Backend %q could not describe its %s records (%v), so this mapping is served unchecked: a native attribute the store lacks fails writes with 500 and the log says which.",
						ep.Backend, m.RT.Name, err),
					Subject: m.Range.Ptr()})
			default:
				key := ep.Backend + "\x00" + err.Error()
				if reported[key] {
					continue
				}
				reported[key] = true
				rng := ep.Range
				if b := cfg.Backends[ep.Backend]; b != nil {
					rng = b.Range
				}
				diags = append(diags, backends.ConfigDiag(rng, "Backend does not fit the store", fmt.Sprintf("Backend %q: %v.", ep.Backend, err)))
			}
		}
	}
	return diags
}
