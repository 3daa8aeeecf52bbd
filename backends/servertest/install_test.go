package servertest

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func TestInstalled(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root, err := CacheRoot()
	if err != nil {
		t.Fatal(err)
	}

	// A failed install leaves nothing; the next call installs again.
	boom := errors.New("boom")
	if _, err := Installed("thing-1", func(tmp string) error {
		return errors.Join(os.WriteFile(filepath.Join(tmp, "half"), nil, 0o644), boom)
	}); !errors.Is(err, boom) {
		t.Fatalf("failed install: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "thing-1")); !os.IsNotExist(err) {
		t.Fatalf("a failed install left its directory: %v", err)
	}

	// Concurrent callers run one install and all get its directory.
	var runs atomic.Int32
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Go(func() {
			dirs[i], errs[i] = Installed("thing-1", func(tmp string) error {
				runs.Add(1)
				return os.WriteFile(filepath.Join(tmp, "bin"), []byte("x"), 0o755)
			})
		})
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("install ran %d times", n)
	}
	for i := range dirs {
		if errs[i] != nil || dirs[i] != filepath.Join(root, "thing-1") {
			t.Fatalf("caller %d: %q %v", i, dirs[i], errs[i])
		}
	}
	if b, err := os.ReadFile(filepath.Join(dirs[0], "bin")); err != nil || string(b) != "x" {
		t.Fatalf("installed file: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "thing-1.tmp")); !os.IsNotExist(err) {
		t.Fatalf("tmp left behind: %v", err)
	}
}
