package bridgetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
)

// LogBuffer collects what a server logs from its goroutines (Options.Log,
// StartLogged), for tests of what is logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Line returns the first JSON log line with the given request id, or nil.
func (b *LogBuffer) Line(rid string) map[string]any {
	sc := bufio.NewScanner(bytes.NewReader([]byte(b.String())))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["request_id"] == rid {
			return m
		}
	}
	return nil
}
