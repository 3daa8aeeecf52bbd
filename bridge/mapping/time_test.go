package mapping

import (
	"testing"
	"time"
)

// The generalized-time fast path agrees with time.Parse on what it takes,
// and leaves everything else to it.
func TestNormalizeTimeGeneralized(t *testing.T) {
	for _, s := range []string{"20261123183619Z", "19700101000000Z", "20240229235959Z", "00000101000000Z",
		"20231301000000Z", "20230230000000Z", "20230101246000Z", "2023010100000Z", "20230101000000z", "2023010100000aZ",
		"20230101000000.5Z", "2026-11-23T18:36:19Z"} {
		var want any
		if p, err := time.Parse("20060102150405Z", s); err == nil {
			want = p.UTC().Format(time.RFC3339)
		}
		got, ok := generalizedTime(s)
		switch {
		case ok && got != want:
			t.Errorf("generalizedTime(%q) = %q, time.Parse gives %v", s, got, want)
		case !ok && want != nil && len(s) == 15:
			t.Errorf("generalizedTime(%q) refused what time.Parse reads as %v", s, want)
		}
		if s == "2026-11-23T18:36:19Z" || s == "20230101000000.5Z" {
			if NormalizeTime(s) == nil {
				t.Errorf("NormalizeTime(%q) = nil", s)
			}
		}
	}
}
