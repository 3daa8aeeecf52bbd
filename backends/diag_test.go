package backends

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestConfigDiag: the subject is the attribute's range when the file sets
// it, else the block's, else none.
func TestConfigDiag(t *testing.T) {
	src := "size = 3\nblock \"x\" {\n  ttl = \"1s\"\n}\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "c.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var cfg struct {
		Size      int       `hcl:"size,optional"`
		SizeRange hcl.Range `hcl:"size,attr_range"`
		Pool      *int      `hcl:"pool,optional"`
		PoolRange hcl.Range `hcl:"pool,attr_range"`
		Blocks    []struct {
			Name     string    `hcl:"name,label"`
			TTL      string    `hcl:"ttl,optional"`
			Max      string    `hcl:"max,optional"`
			MaxRange hcl.Range `hcl:"max,attr_range"`
			DefRange hcl.Range `hcl:",def_range"`
		} `hcl:"block,block"`
	}
	if diags := gohcl.DecodeBody(f.Body, nil, &cfg); diags.HasErrors() {
		t.Fatal(diags)
	}
	line := func(d *hcl.Diagnostic) int {
		if d.Subject == nil {
			return 0
		}
		return d.Subject.Start.Line
	}
	if d := ConfigDiag(cfg.SizeRange, "S", "D", f.Body.MissingItemRange()); line(d) != 1 || d.Summary != "S" || d.Detail != "D" || d.Severity != hcl.DiagError {
		t.Errorf("set attribute: %+v", d)
	}
	if d := ConfigDiag(cfg.Blocks[0].MaxRange, "S", "D", cfg.Blocks[0].DefRange); line(d) != 2 {
		t.Errorf("unset attribute of a block: line %d, want the block's 2", line(d))
	}
	if d := ConfigDiag(cfg.PoolRange, "S", "D", f.Body.MissingItemRange()); line(d) == 0 || d.Subject.Filename != "c.hcl" {
		t.Errorf("unset top-level attribute: %+v, want the body's end", d.Subject)
	}
	if d := ConfigDiag(hcl.Range{}, "S", "D"); d.Subject != nil {
		t.Errorf("no range: subject %v", d.Subject)
	}
}
