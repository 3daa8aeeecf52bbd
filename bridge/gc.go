package bridge

import (
	"os"
	"runtime/debug"
	"strconv"
)

// GCPercent is the garbage collector target the binary runs with unless
// the GOGC environment variable says otherwise. Go's default (100) keeps
// the heap small at the cost of CPU; a bridge's live heap is a few MB
// (caches included), and collecting half as often saves a tenth of the CPU
// of a request while adding a few MB of peak heap.
const GCPercent = 200

// ApplyGCDefault sets GCPercent when GOGC is not set; it returns the
// setting in force.
func ApplyGCDefault() string {
	if v := os.Getenv("GOGC"); v != "" {
		return v
	}
	debug.SetGCPercent(GCPercent)
	return strconv.Itoa(GCPercent)
}
