package sql

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

// LookupConfig is one `lookup "<name>" { ... }` block: a query whose rows
// are the pairs of a lookup table, read again every refresh interval.
//
//	lookup "departments" {
//	  sql     = "SELECT code, name FROM departments"
//	  refresh = "5m"
//	}
type LookupConfig struct {
	Name string `hcl:"name,label"`
	// SQL is a SELECT of two columns: the key (stored in the records) first,
	// the value (what SCIM shows) second. Rows with a NULL in either are
	// skipped. Required.
	SQL string `hcl:"sql"`
	// Refresh is how often the table is read again, between 10s and 24h.
	// Default: "5m".
	Refresh string `hcl:"refresh,optional"`

	DefRange     hcl.Range `hcl:",def_range"`
	SQLRange     hcl.Range `hcl:"sql,attr_range"`
	RefreshRange hcl.Range `hcl:"refresh,attr_range"`
}

const (
	defaultLookupRefresh = 5 * time.Minute
	minLookupRefresh     = 10 * time.Second
	maxLookupRefresh     = 24 * time.Hour
)

var (
	lookupNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	selectRE     = regexp.MustCompile(`(?is)^\s*(select|with)\s`)
)

func (c *Config) validateLookups() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, l := range c.Lookups {
		if !lookupNameRE.MatchString(l.Name) {
			diags = append(diags, backends.ConfigDiag(l.DefRange, "Invalid lookup name",
				fmt.Sprintf("%q: a lookup name is letters, digits and underscores, like \"departments\".", l.Name)))
		}
		if prev, ok := seen[l.Name]; ok {
			diags = append(diags, backends.ConfigDiag(l.DefRange, "Duplicate lookup", fmt.Sprintf("A lookup named %q is already defined at %s.", l.Name, prev)))
		}
		seen[l.Name] = l.DefRange
		if !selectRE.MatchString(l.SQL) {
			diags = append(diags, backends.ConfigDiag(l.SQLRange, "Invalid lookup statement",
				"sql must be a SELECT of two columns, the key first and the value second, like \"SELECT code, name FROM departments\"."))
		}
		if l.Refresh != "" {
			d, err := time.ParseDuration(l.Refresh)
			if err != nil || d < minLookupRefresh || d > maxLookupRefresh {
				diags = append(diags, backends.ConfigDiag(l.RefreshRange, "Invalid refresh",
					fmt.Sprintf("refresh must be a duration between %s and %s, like \"5m\"; got %q.", minLookupRefresh, maxLookupRefresh, l.Refresh)))
			}
		}
	}
	return diags
}

// LookupTables declares the configuration's lookup tables to the bridge,
// which checks at load that the mapping names only these.
func (c *Config) LookupTables() []backends.LookupSpec {
	out := make([]backends.LookupSpec, 0, len(c.Lookups))
	for _, l := range c.Lookups {
		out = append(out, backends.LookupSpec{Name: l.Name, Refresh: duration(l.Refresh, defaultLookupRefresh)})
	}
	return out
}

func (c *Config) lookupStatements() map[string]string {
	out := make(map[string]string, len(c.Lookups))
	for _, l := range c.Lookups {
		out[l.Name] = l.SQL
	}
	return out
}

// LookupTable runs the lookup's statement and returns its rows.
func (b *Backend) LookupTable(ctx context.Context, name string) ([][2]string, error) {
	stmt, ok := b.lookups[name]
	if !ok {
		return nil, fmt.Errorf("sql: no lookup %q: %w", name, backends.ErrConfig)
	}
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	rows, err := b.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, b.wrap(ctx, nil, "lookup "+name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, b.wrap(ctx, nil, "lookup "+name, err)
	}
	if len(cols) != 2 {
		return nil, fmt.Errorf("sql: lookup %q selects %d columns, want 2 (key, value): %w", name, len(cols), backends.ErrConfig)
	}
	var out [][2]string
	for rows.Next() {
		var k, v any
		if err := rows.Scan(&k, &v); err != nil {
			return nil, b.wrap(ctx, nil, "lookup "+name, err)
		}
		if k == nil || v == nil {
			continue
		}
		out = append(out, [2]string{lookupString(k), lookupString(v)})
	}
	if err := rows.Err(); err != nil {
		return nil, b.wrap(ctx, nil, "lookup "+name, err)
	}
	return out, nil
}

// lookupString renders a scanned column as the records show it.
func lookupString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// checkLookups runs every lookup statement once at start, so that a
// statement the database refuses (a table or column it lacks) or one that
// does not select two columns stops the start at its line.
func (b *Backend) checkLookups(ctx context.Context, cfg *Config) error {
	var diags hcl.Diagnostics
	for _, l := range cfg.Lookups {
		_, err := b.LookupTable(ctx, l.Name)
		if err == nil || errors.Is(err, backends.ErrUnavailable) {
			continue // an unavailable database is retried by the bridge
		}
		diags = append(diags, backends.ConfigDiag(l.SQLRange, "Lookup statement failed",
			fmt.Sprintf("The lookup %q cannot be read: %v.", l.Name, err)))
	}
	if diags.HasErrors() {
		return diags
	}
	return nil
}
