package ldap

import (
	"testing"
	"time"
)

// The fast path agrees with time.Parse on what it takes, and leaves
// everything else to it; NativeTime reads every GeneralizedTime form.
func TestNativeTime(t *testing.T) {
	for _, s := range []string{"20261123183619Z", "19700101000000Z", "20240229235959Z", "00000101000000Z",
		"20231301000000Z", "20230230000000Z", "20230101246000Z", "2023010100000Z", "20230101000000z", "2023010100000aZ",
		"20230101000000.5Z", "2026-11-23T18:36:19Z"} {
		want, err := time.Parse("20060102150405Z", s)
		got, ok := generalizedTimeUTC(s)
		switch {
		case ok && (err != nil || !got.Equal(want)):
			t.Errorf("generalizedTimeUTC(%q) = %v, time.Parse gives %v, %v", s, got, want, err)
		case !ok && err == nil && len(s) == 15:
			t.Errorf("generalizedTimeUTC(%q) refused what time.Parse reads as %v", s, want)
		}
	}
	for s, want := range map[string]string{
		"20261123183619Z":        "2026-11-23T18:36:19Z",
		"20230101000000.5Z":      "2023-01-01T00:00:00.5Z",
		"20230101010000+0100":    "2023-01-01T00:00:00Z",
		"20230101000000.25-0130": "2023-01-01T01:30:00.25Z",
		" 20261123183619Z ":      "2026-11-23T18:36:19Z",
		"2026-11-23T18:36:19Z":   "", // RFC 3339 is the mapping's
		"2026-11-23 18:36:19":    "",
		"20231301000000Z":        "",
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
