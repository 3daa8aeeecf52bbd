package mapping

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Expressions that read only their value are remembered; the answers are
// the same as evaluating, and changing an answer does not change the next.
func TestExpressionMemo(t *testing.T) {
	m, diags := decode(t, userMapping+`
attribute "title" {
  native      = "title"
  to_native   = upper(value)
  from_native = lower(value)
}
attribute "password" {
  native    = "pw"
  to_native = bcrypt(value)
}
attribute "nickName" {
  native      = "nick"
  from_native = length(values) > 0 ? values : null
}
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	byLabel := map[string]*Attr{}
	for _, a := range m.Attrs {
		byLabel[a.Label] = a
	}
	if byLabel["active"].toMemo == nil || byLabel["active"].fromMemo == nil || byLabel["title"].toMemo == nil {
		t.Fatal("value-only expressions have no memo")
	}
	if byLabel["password"].toMemo != nil {
		t.Fatal("bcrypt (random salt) must not be remembered")
	}
	for round := range 3 {
		for _, active := range []bool{true, false} {
			attrs, err := m.ToNative(scim.Doc{"userName": "u", "active": active, "title": "Boss", "password": "secret"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{true: "A", false: "D"}[active]
			if got := attrs.First("status"); got != want {
				t.Fatalf("round %d: active %v -> status %q, want %q", round, active, got, want)
			}
			if got := attrs.First("title"); got != "BOSS" {
				t.Fatalf("round %d: title %q", round, got)
			}
			if round == 1 {
				attrs["status"][0] = "changed by the caller"
			}
			back, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"status": {want}, "title": {"BOSS"}, "nick": {"n"}}})
			if err != nil {
				t.Fatal(err)
			}
			if back["active"] != active || back["title"] != "boss" {
				t.Fatalf("round %d: FromNative %v", round, back)
			}
		}
	}
	// Distinct bcrypt hashes each time: evaluated, not remembered.
	a1, _ := m.ToNative(scim.Doc{"userName": "u", "password": "secret"})
	a2, _ := m.ToNative(scim.Doc{"userName": "u", "password": "secret"})
	if reflect.DeepEqual(a1["pw"], a2["pw"]) {
		t.Fatalf("bcrypt gave the same hash twice: %v", a1["pw"])
	}
	// An absent value and a multi-valued one are evaluated correctly too.
	back, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"status": {}, "title": {"X"}}})
	if err != nil {
		t.Fatal(err)
	}
	if back["active"] != false {
		t.Fatalf("absent status: active = %v", back["active"])
	}
}

func TestMemoBounded(t *testing.T) {
	var c memo
	for i := range memoMax + 100 {
		c.put(i, i)
	}
	if n := c.n.Load(); n != memoMax {
		t.Fatalf("memo holds %d, want at most %d", n, memoMax)
	}
}
