package bridge_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// TestGuideExamples: every HCL example of the guide (docs/*.md) is a
// complete configuration that loads; those on SQLite are served, with the
// start-up check of the mapping against the database, and answer.
func TestGuideExamples(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no guide: %v", err)
	}
	block := regexp.MustCompile("(?s)```hcl\n(.*?)```")
	dsn := regexp.MustCompile(`(?m)^(\s*dsn\s*=\s*)"[^"]*"`)
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	n := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range block.FindAllStringSubmatch(string(b), -1) {
			text := m[1]
			name := filepath.Base(path) + "#" + string(rune('1'+i))
			t.Run(name, func(t *testing.T) {
				if !strings.Contains(text, `endpoint "`) {
					t.Fatalf("example %d of %s is not a complete configuration (no endpoint block)", i+1, path)
				}
				n++
				if !strings.Contains(text, `driver = "sqlite"`) {
					// Another store: loaded, not served.
					file := filepath.Join(t.TempDir(), "c.hcl")
					if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
						t.Fatal(err)
					}
					if _, diags := config.Load(file, kinds.Types(), nil); diags.HasErrors() {
						t.Fatalf("example %d of %s: %s", i+1, path, diags.Error())
					}
					return
				}
				text = dsn.ReplaceAllString(text, `${1}"`+filepath.Join(t.TempDir(), "guide.db")+`"`)
				srv := bridgetest.Start(t, text, kinds.Types())
				c := bridgetest.NewClient(t, srv.URL+srv.Config.Endpoints[0].BasePath)
				c.Must(200, "GET", "/ServiceProviderConfig", nil)
				c.Must(200, "GET", "/Users?count=1", nil)
			})
		}
	}
	if n == 0 {
		t.Fatal("no example found in the guide")
	}
}
