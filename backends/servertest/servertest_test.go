package servertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTailFiles(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 5000) + "END"
	for name, data := range map[string]string{"errors": "first\nlast", "empty": "", "big": long} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := TailFiles(filepath.Join(dir, "errors"), filepath.Join(dir, "missing"), filepath.Join(dir, "empty"), filepath.Join(dir, "big"))
	want := "--- errors:\nfirst\nlast\n--- big:\n" + long[len(long)-4000:] + "\n"
	if got != want {
		t.Errorf("TailFiles = %q\nwant %q", got, want)
	}
	if got := TailFiles(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("TailFiles of a missing file = %q, want empty", got)
	}
}
