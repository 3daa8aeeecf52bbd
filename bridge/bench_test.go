package bridge_test

import (
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// Benchmarks of the bridge's own cost over the in-memory backend (HTTP on
// loopback included). Backend comparisons live in cmd/scimbench.

func BenchmarkCreateUser(b *testing.B) {
	_, c, _ := startMemoryB(b)
	b.ResetTimer()
	for i := range b.N {
		c.Must(201, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("bench%d", i), "name": map[string]any{"givenName": "B", "familyName": "M"},
			"emails": []any{map[string]any{"value": "b@x", "type": "work"}}, "active": true})
	}
}

func BenchmarkPatchActive(b *testing.B) {
	_, c, _ := startMemoryB(b)
	id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"userName": "p", "active": true}).JSON, "id")
	b.ResetTimer()
	for i := range b.N {
		c.Must(200, "PATCH", "/Users/"+id, map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": i%2 == 0}}}})
	}
}

func BenchmarkGetUser(b *testing.B) {
	_, c, _ := startMemoryB(b)
	id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"userName": "g", "active": true}).JSON, "id")
	b.ResetTimer()
	for range b.N {
		c.Must(200, "GET", "/Users/"+id, nil)
	}
}

func BenchmarkFilterUserName(b *testing.B) {
	_, c, _ := startMemoryB(b)
	c.Must(201, "POST", "/Users", map[string]any{"userName": "f", "active": true})
	b.ResetTimer()
	for range b.N {
		c.Must(200, "GET", "/Users?filter=userName%20eq%20%22f%22", nil)
	}
}

func BenchmarkListPage100(b *testing.B) {
	_, c, _ := startMemoryB(b)
	for i := range 100 {
		c.Must(201, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("l%03d", i), "name": map[string]any{"givenName": "L", "familyName": "P"},
			"emails": []any{map[string]any{"value": "l@x", "type": "work"}}, "active": true, "title": "T"})
	}
	b.ResetTimer()
	for range b.N {
		c.Must(200, "GET", "/Users?startIndex=1&count=100", nil)
	}
}
