package ldap

import (
	"testing"
	"time"
)

// The fast path agrees with time.Parse on what it takes, and leaves
// everything else to it (backends/kinds tests NativeTime's forms).
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
}
