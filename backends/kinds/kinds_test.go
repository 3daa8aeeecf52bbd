package kinds

import (
	"testing"
	"time"
)

// TestNativeTime: each kind reads its store's own timestamp forms and
// leaves RFC 3339, which the mapping reads, and the other kinds' forms.
func TestNativeTime(t *testing.T) {
	cases := map[string]map[string]string{
		"ldap": {
			"20261123183619Z":        "2026-11-23T18:36:19Z",
			"20230101000000.5Z":      "2023-01-01T00:00:00.5Z",
			"20230101010000+0100":    "2023-01-01T00:00:00Z",
			"20230101000000.25-0130": "2023-01-01T01:30:00.25Z",
			" 20261123183619Z ":      "2026-11-23T18:36:19Z",
			"20231301000000Z":        "",
			"2026-11-23T18:36:19Z":   "",
			"2026-11-23 18:36:19":    "",
		},
		"sql": {
			"2021-02-03 04:05:06":           "2021-02-03T04:05:06Z",
			"2021-02-03 04:05:06.123456":    "2021-02-03T04:05:06.123456Z",
			"2021-02-03 04:05:06+01:00":     "2021-02-03T03:05:06Z",
			" 2021-02-03 04:05:06.5-05:00 ": "2021-02-03T09:05:06.5Z",
			"2021-02-03T04:05:06Z":          "",
			"20210203040506Z":               "",
			"2021-02-03":                    "",
		},
		"rest": {
			"2024-01-02 10:00:00.123Z":    "2024-01-02T10:00:00.123Z",
			"2024-01-02 10:00:00Z":        "2024-01-02T10:00:00Z",
			" 2024-01-02 10:00:00+02:00 ": "2024-01-02T08:00:00Z",
			"2024-01-02 10:00:00":         "",
			"2024-01-02T10:00:00Z":        "",
			"20240102100000Z":             "",
		},
	}
	types := Types()
	if len(types) != len(cases) {
		t.Fatalf("%d kinds, %d tested", len(types), len(cases))
	}
	for name, forms := range cases {
		k, ok := types[name]
		if !ok || k.Decode == nil || k.Open == nil || k.NativeTime == nil {
			t.Fatalf("kind %q: %+v", name, k)
		}
		for s, want := range forms {
			tm, ok := k.NativeTime(s)
			got := ""
			if ok {
				got = tm.UTC().Format(time.RFC3339Nano)
			}
			if got != want {
				t.Errorf("%s NativeTime(%q) = %q, want %q", name, s, got, want)
			}
		}
	}
}
