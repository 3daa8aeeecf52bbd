package bridge

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// jsonSame fails unless appendJSON writes exactly what json.Marshal does.
func jsonSame(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := appendJSON(nil, v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, Marshal's %v", v, gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
	}
}

// TestAppendJSONIsMarshal: documents of every shape the bridge answers,
// with strings holding every ASCII byte, HTML characters, line and
// paragraph separators and invalid UTF-8, encode byte for byte as
// encoding/json encodes them.
func TestAppendJSONIsMarshal(t *testing.T) {
	var ascii []byte
	for b := range 128 {
		ascii = append(ascii, byte(b))
	}
	strs := []string{"", "bjensen", string(ascii), "<script>&amp;</script>", "a\u2028b\u2029c", "\xff\xfe", "ok\xc3",
		"日本語 ünïcödé 😀", "\\\"quoted\"\\", "\x00\x1f\x7f", "\u00a0\ufeff"}
	for _, s := range strs {
		jsonSame(t, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := rng.IntN(10); {
		case k == 0:
			return nil
		case k == 1:
			return rng.IntN(2) == 0
		case k == 2:
			return rng.IntN(1<<20) - 1<<19
		case k == 3:
			return rng.Float64() * 1e6
		case k == 4:
			return json.Number("42")
		case k == 5 && depth < 4:
			m := map[string]any{}
			for range rng.IntN(6) {
				m[strs[rng.IntN(len(strs))]+string(rune('a'+rng.IntN(26)))] = gen(depth + 1)
			}
			return m
		case k == 6 && depth < 4:
			var l []any
			for range rng.IntN(4) {
				l = append(l, gen(depth+1))
			}
			return l
		case k == 7:
			return []string{strs[rng.IntN(len(strs))], "x"}
		default:
			s := []byte(strs[rng.IntN(len(strs))])
			for range rng.IntN(4) {
				s = append(s, byte(rng.IntN(256)))
			}
			return string(s)
		}
	}
	for range 2000 {
		jsonSame(t, map[string]any{"schemas": []string{"urn:x"}, "id": "1", "v": gen(0), "members": []any{gen(1)}})
	}
	jsonSame(t, map[string]any(nil))
	jsonSame(t, []any(nil))
}

// FuzzAppendJSONString: any string encodes as encoding/json encodes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028", "\xff", "\"\\\n\t\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		jsonSame(t, map[string]any{s: []any{s, nil, true}})
	})
}
