package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// docFiles are the documents whose HCL examples must hold.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../../README.md"}
	more, _ := filepath.Glob("../../docs/*.md")
	return append(files, more...)
}

var hclBlock = regexp.MustCompile("(?s)```hcl\n(.*?)```")

// TestDocumentedSettings: every `server` block in the README and docs/
// is loaded as the server loads it (unknown settings and invalid values
// are errors), and every setting the server knows is documented.
func TestDocumentedSettings(t *testing.T) {
	var all strings.Builder
	found := 0
	for _, path := range docFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		for i, m := range hclBlock.FindAllSubmatch(b, -1) {
			f, diags := hclsyntax.ParseConfig(m[1], path, hcl.InitialPos)
			if diags.HasErrors() {
				continue // an outline with "..." in it, not a configuration
			}
			var fs struct {
				Server *serverBlock `hcl:"server,block"`
				Rest   hcl.Body     `hcl:",remain"`
			}
			if d := gohcl.DecodeBody(f.Body, nil, &fs); d.HasErrors() || fs.Server == nil {
				continue
			}
			found++
			if _, d := loadSettings(fs.Server, &hcl.EvalContext{Functions: evalFunctions(".")}, nil); d.HasErrors() {
				t.Errorf("%s, example %d: %s", path, i+1, d.Error())
			}
		}
	}
	if found == 0 {
		t.Fatal("no server block found in the documentation")
	}
	text := all.String()
	var missing []string
	for key := range knownSettings {
		if !strings.Contains(text, "`"+key+"`") && !regexp.MustCompile(`(?m)^\s*`+key+`\s*=`).MatchString(text) {
			missing = append(missing, key)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("settings not documented in the README or docs/: %v", missing)
	}
}
