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

// MemoryLimitHeadroom is what the soft memory limit allows beyond
// max_body_memory: the caches, pages being rendered and the runtime.
const MemoryLimitHeadroom = 128 << 20

// ApplyMemoryLimitDefault sets a soft memory limit of max_body_memory
// plus MemoryLimitHeadroom when GOMEMLIMIT is not set, and returns the
// limit in force (bytes; math.MaxInt64 when none). With GOGC=200 the heap
// may grow to three times what is live before the collector runs; under a
// flood of large requests that would take the process to several times
// max_body_memory. The limit makes the collector run earlier instead; it
// is soft, so a process that needs more still gets it.
func ApplyMemoryLimitDefault(maxBodyMemory int) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	limit := int64(maxBodyMemory) + MemoryLimitHeadroom
	debug.SetMemoryLimit(limit)
	return limit
}
