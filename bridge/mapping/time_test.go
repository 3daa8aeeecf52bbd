package mapping

import (
	"testing"
	"time"
)

// NormalizeTime reads RFC 3339 and zone-less xsd:dateTime itself, every
// other form through the backend's NativeTime.
func TestNormalizeTime(t *testing.T) {
	native := func(s string) (time.Time, bool) {
		if s == "native" {
			return time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), true
		}
		return time.Time{}, false
	}
	for _, c := range []struct {
		in     string
		native func(string) (time.Time, bool)
		want   any
	}{
		{"2026-11-23T18:36:19Z", nil, "2026-11-23T18:36:19Z"},
		{" 2026-11-23T19:36:19.250+01:00 ", nil, "2026-11-23T18:36:19.25Z"},
		{"2026-11-23T18:36:19", nil, "2026-11-23T18:36:19Z"},
		{"native", nil, nil},
		{"native", native, "2024-01-02T02:04:05Z"},
		{"20261123183619Z", nil, nil},
		{"2026-11-23", native, nil},
	} {
		if got := NormalizeTime(c.in, c.native); got != c.want {
			t.Errorf("NormalizeTime(%q, native %v) = %v, want %v", c.in, c.native != nil, got, c.want)
		}
	}
}
