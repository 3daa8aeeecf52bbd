package backends

import "testing"

func TestSameValues(t *testing.T) {
	for _, c := range []struct {
		a, b []string
		want bool
	}{
		{nil, nil, true},
		{nil, []string{}, true},
		{[]string{"a", "b"}, []string{"b", "a"}, true},
		{[]string{"a", "a", "b"}, []string{"b", "a"}, true},
		{[]string{"a"}, []string{"a", "b"}, false},
		{[]string{"a", "b"}, []string{"a"}, false},
		{[]string{"a"}, nil, false},
		{[]string{"A"}, []string{"a"}, false},
	} {
		if got := SameValues(c.a, c.b); got != c.want {
			t.Errorf("SameValues(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
