package scim

import (
	"encoding/json"
	"testing"
)

var testUserRT = &ResourceType{Name: "User", Endpoint: "/Users", Schema: CoreUser(), Extensions: []Extension{{Schema: EnterpriseUser()}}}

// userRT returns one shared resource type: paths resolved against it
// point at its schema objects.
func userRT() *ResourceType { return testUserRT }

func doc(t *testing.T, s string) Doc {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatal(err)
	}
	d, err := Normalize(userRT(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFilterMatch(t *testing.T) {
	d := doc(t, `{"userName":"Jane.Doe@Example.com","name":{"givenName":"Jane","familyName":"Doe"},"active":true,
		"title":"Engineer","emails":[{"value":"jane@work.example","type":"work","primary":true},{"value":"jane@home.example","type":"home"}],
		"meta":{"lastModified":"2024-05-13T04:42:34Z"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"value":"m1"}},
		"externalId":"AbC"}`)
	rt := userRT()
	cases := []struct {
		filter string
		want   bool
	}{
		{`userName eq "jane.doe@example.com"`, true},
		{`UserName EQ "JANE.DOE@EXAMPLE.COM"`, true},
		{`userName eq jane.doe@example.com`, true}, // bare value
		{`userName ne "x"`, true},
		{`userName co "doe@"`, true},
		{`userName sw "jane"`, true},
		{`userName ew ".COM"`, true},
		{`userName sw "doe"`, false},
		{`title pr`, true},
		{`nickName pr`, false},
		{`nickName eq "x"`, false},
		{`nickName ne "x"`, true},
		{`active eq true`, true},
		{`active eq false`, false},
		{`name.familyName eq "Doe" and name.givenName eq "Jane"`, true},
		{`name.familyName eq "Doe" and name.givenName eq "John"`, false},
		{`name.familyName eq "X" or title eq "Engineer"`, true},
		{`not (title eq "Engineer")`, false},
		{`emails[type eq "work" and value co "@work"]`, true},
		{`emails[type eq "home" and value co "@work"]`, false},
		{`emails[type eq "work"].value eq "jane@work.example"`, true},
		{`emails[type eq "home"].value eq "jane@work.example"`, false},
		{`emails.value eq "jane@home.example"`, true},
		{`emails co "home.example"`, true},
		{`emails.type eq "other"`, false},
		{`meta.lastModified gt "2024-01-01T00:00:00Z"`, true},
		{`meta.lastModified lt "2024-01-01T00:00:00Z"`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`, true},
		{`externalId eq "abc"`, false}, // caseExact
		{`externalId eq "AbC"`, true},
		{`userName eq "a\"b"`, false},
	}
	for _, tc := range cases {
		expr, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if err := CheckFilter(rt, expr); err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := Match(rt, expr, d); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterRejects(t *testing.T) {
	rt := userRT()
	for _, f := range []string{``, `userName eq`, `userName xx "a"`, `(userName eq "a"`, `shoeSize eq "1"`, `name.nick eq "x"`,
		`emails[shoe eq "x"]`, `urn:nope:User:x eq "1"`, "userName eq \"a\x00\""} {
		expr, err := ParseFilter(f)
		if err == nil {
			err = CheckFilter(rt, expr)
		}
		e, ok := AsError(err)
		if !ok || e.Status != 400 || e.ScimType != TypeInvalidFilter {
			t.Errorf("%q: got %v, want 400 invalidFilter", f, err)
		}
	}
}

func TestLenientFilterRewrites(t *testing.T) {
	for in, want := range map[string]string{
		`userName eq john`:                            `userName eq "john"`,
		`userName Eq "x" AND active EQ TRUE`:          `userName eq "x" and active eq true`,
		`emails[type eq "work"].value eq "a@b"`:       `emails[type eq "work" and value eq "a@b"]`,
		`emails[type eq "work"].value pr`:             `emails[type eq "work" and value pr]`,
		`emails[type eq "a" or type eq "b"].value pr`: `emails[type eq "a" or type eq "b"] and emails.value pr`,
	} {
		if got := lenientFilter(in); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestWalkFilterNamesEveryAttribute(t *testing.T) {
	cases := map[string][]string{
		`userName eq "x"`: {"userName"},
		`not (title pr) or name.givenName sw "a" and PASSWORD eq "p"`: {"title", "name.givenName", "password"},
		`emails[type eq "work" and value co "x"]`:                     {"emails", "emails.type", "emails.value"},
		`emails[type eq "work"].value eq "x"`:                         {"emails", "emails.type", "emails.value"},
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`: {
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
	}
	for f, want := range cases {
		expr, err := ParseFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := WalkFilter(userRT(), expr, func(p Path) error { got = append(got, p.String()); return nil }); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %q, want %q", f, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %q, want %q", f, got, want)
				break
			}
		}
	}
	// An error from the callback stops the walk and is returned.
	expr, _ := ParseFilter(`userName eq "x" and password eq "y"`)
	stop := BadRequest(TypeInvalidFilter, "stop")
	if err := WalkFilter(userRT(), expr, func(p Path) error {
		if p.Attr.Name == "password" {
			return stop
		}
		return nil
	}); err != stop {
		t.Errorf("WalkFilter returned %v, want the callback's error", err)
	}
}
