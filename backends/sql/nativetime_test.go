package sql

import (
	"testing"
	"time"
)

func TestNativeTime(t *testing.T) {
	for s, want := range map[string]string{
		"2021-02-03 04:05:06":           "2021-02-03T04:05:06Z",
		"2021-02-03 04:05:06.123456":    "2021-02-03T04:05:06.123456Z",
		"2021-02-03 04:05:06+01:00":     "2021-02-03T03:05:06Z",
		" 2021-02-03 04:05:06.5-05:00 ": "2021-02-03T09:05:06.5Z",
		"2021-02-03T04:05:06Z":          "", // RFC 3339 is the mapping's
		"20210203040506Z":               "",
		"2021-02-03":                    "",
	} {
		tm, ok := NativeTime(s)
		got := ""
		if ok {
			got = tm.UTC().Format(time.RFC3339Nano)
		}
		if got != want {
			t.Errorf("NativeTime(%q) = %q, want %q", s, got, want)
		}
	}
}
