package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CacheRoot is the directory where harnesses keep servers they build or
// install themselves (PocketBase, json-server): os.UserCacheDir()/scimbridge,
// that is $XDG_CACHE_HOME/scimbridge or ~/.cache/scimbridge on Linux.
func CacheRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "scimbridge"), nil
}

// Installed returns CacheRoot()/name, running install first when that
// directory does not exist yet. install fills the empty directory tmp; on
// success tmp is renamed to CacheRoot()/name, so the directory exists only
// when complete, and a failed or interrupted install leaves nothing
// behind but a stale tmp that the next install removes. An exclusive file
// lock (CacheRoot()/name.lock) makes concurrent callers — test packages
// that go test runs in parallel — wait for one install instead of each
// running their own.
func Installed(name string, install func(tmp string) error) (string, error) {
	root, err := CacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, name)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil // another process installed it while we waited
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", err
	}
	if err := install(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}
