package scimtest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The SPEC runner's assertions must be able to fail.
func TestCheckAssertion(t *testing.T) {
	var js any
	if err := json.Unmarshal([]byte(`{"totalResults":0,"schemas":["urn:x"],"Resources":[{"id":"7","name":{"familyName":""}}],"active":true}`), &js); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	vars := map[string]string{"id": "7"}
	cases := []struct {
		a    specAssertion
		pass bool
	}{
		{specAssertion{Comparison: "equal_number", Source: "response_status", Value: str("200")}, true},
		{specAssertion{Comparison: "equal_number", Source: "response_status", Value: str("201")}, false},
		{specAssertion{Comparison: "has_value", Source: "response_json", Property: "schemas", Value: str("urn:x")}, true},
		{specAssertion{Comparison: "has_value", Source: "response_json", Property: "schemas", Value: str("urn:y")}, false},
		{specAssertion{Comparison: "equal", Source: "response_json", Property: "Resources[0].id", Value: str("{{id}}")}, true},
		{specAssertion{Comparison: "equal", Source: "response_json", Property: "active", Value: str("true")}, true},
		{specAssertion{Comparison: "not_empty", Source: "response_json", Property: "Resources[0].name.familyName"}, false},
		{specAssertion{Comparison: "not_empty", Source: "response_json", Property: "Resources[1].id"}, false},
		{specAssertion{Comparison: "is_a_number", Source: "response_json", Property: "totalResults"}, true},
		{specAssertion{Comparison: "is_a_number", Source: "response_json", Property: "schemas"}, false},
		{specAssertion{Comparison: "is_less_than", Source: "response_time", Value: str("600")}, true},
		{specAssertion{Comparison: "frobnicate", Source: "response_status"}, false},
	}
	for _, tc := range cases {
		b, _ := json.Marshal(js)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var doc any
		_ = dec.Decode(&doc)
		msg := checkAssertion(tc.a, 200, doc, 50*time.Millisecond, vars)
		if (msg == "") != tc.pass {
			t.Errorf("%+v: message %q, want pass=%v", tc.a, msg, tc.pass)
		}
	}
}
