package rest

import (
	"strings"
	"time"
)

// NativeTime reads the timestamps JSON APIs write other than RFC 3339:
// a space instead of the T, with a zone (PocketBase: "2024-01-02
// 10:00:00.123Z"). Times without a zone are not read: their zone is
// unknown.
func NativeTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 20 || s[10] != ' ' {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
