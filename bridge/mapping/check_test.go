package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// store is a fake store's description: every name given, lower-cased;
// "mail" and "rfc822Mailbox" are one attribute.
func store() *backends.Description {
	d := &backends.Description{Where: `the User rows of table "t"`, Attrs: map[string]*backends.NativeAttr{}}
	for _, n := range []string{"login", "first", "last", "status", "email", "empno", "role", "full_name", "title"} {
		d.Attrs[strings.ToLower(n)] = &backends.NativeAttr{Name: n}
	}
	mail := &backends.NativeAttr{Name: "mail"}
	d.Attrs["mail"], d.Attrs["rfc822mailbox"] = mail, mail
	d.Attrs["user_id"] = &backends.NativeAttr{Name: "user_id", ID: true}
	d.Attrs["created"] = &backends.NativeAttr{Name: "created", ReadOnly: "the backend sets it"}
	d.Attrs["login"].Required = "a NOT NULL column without a default"
	d.Attrs["last"].Required = "a NOT NULL column without a default"
	return d
}

func checked(t *testing.T, src string, d *backends.Description) (*Mapping, hcl.Diagnostics) {
	t.Helper()
	m, diags := decode(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m.Range = hcl.Range{Filename: "m.hcl", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2}}
	return m, m.Check(d)
}

// Every mistake is reported, each at its block's line, with what to do.
func TestCheckFindsMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		summary   string
		line      int
		detail    []string
	}{
		{"typo", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "name.givenName" { native = "frist" }`, "Native attribute not in the store", 3, []string{`"frist"`, `table "t"`, `Did you mean "first"?`}},
		{"computed typo", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
computed "ful_name" { value = "x" }`, "Native attribute not in the store", 3, []string{`computed "ful_name"`, `"full_name"`}},
		{"read-only mapping of an unknown attribute", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "meta.created" { native = "created_at" }`, "Native attribute not in the store", 3, []string{"reads would never find a value"}},
		{"record in from_native", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "active" {
  native = "status"
  from_native = record.stauts == "A"
}`, "Native attribute not in the store", 5, []string{"record.stauts", `"status"`}},
		{"record in to_native", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "active" {
  native = "status"
  to_native = value ? try(record.stauts, "A") : "D"
}`, "Native attribute not in the store", 5, []string{"to_native", "record.stauts", `"status"`}},
		{"id written", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "externalId" { native = "USER_ID" }`, "Mapping writes the id", 3, []string{"SCIM id", `direction = "read"`}},
		{"managed column written", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "title" { native = "created" }`, "Mapping writes a read-only native attribute", 3, []string{"the backend sets it"}},
		{"alias written twice", `attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "emails[type eq \"work\"].value" { native = "mail" }
attribute "emails[type eq \"home\"].value" { native = "rfc822Mailbox" }`, "Native attribute written twice", 4, []string{`"rfc822Mailbox"`, `"mail"`, "m.hcl:3"}},
		{"required unmapped", `attribute "userName" { native = "login" }`, "Required native attribute not mapped", 1,
			[]string{`"last"`, "NOT NULL", "every create would be refused"}},
		{"required mapped read-only only", `attribute "userName" { native = "login" }
attribute "meta.lastModified" { native = "last" }`, "Required native attribute not mapped", 1, []string{`"last"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := checked(t, tc.src, store())
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tc.summary {
					found = d
				}
			}
			if found == nil || found.Severity != hcl.DiagError || found.Subject == nil || found.Subject.Start.Line != tc.line || found.Subject.Filename != "m.hcl" {
				t.Fatalf("want error %q at m.hcl:%d, got %v", tc.summary, tc.line, diags)
			}
			for _, s := range tc.detail {
				if !strings.Contains(found.Detail, s) {
					t.Errorf("detail lacks %q: %s", s, found.Detail)
				}
			}
			if len(diags) != 1 {
				t.Errorf("want one problem, got %d: %v", len(diags), diags)
			}
		})
	}
}

// A mapping that fits reports nothing: names compare case-insensitively,
// an alias counts, required attributes are written by attribute or
// computed blocks, read-only ones are only read.
func TestCheckAcceptsFittingMapping(t *testing.T) {
	_, diags := checked(t, `attribute "userName" { native = "LOGIN" }
attribute "name.givenName" { native = "first" }
attribute "emails[type eq \"work\"].value" { native = "rfc822MailBox" }
attribute "meta.created" { native = "created" }
attribute "meta.lastModified" { native = "user_id" }
computed "Last" { value = resource.name.familyName }`, store())
	if len(diags) != 0 {
		t.Fatal(diags)
	}
}

// Writes name the SCIM attributes a required native attribute comes from;
// when the client gave the value and the mapping made nothing of it, the
// configuration is to blame.
func TestCheckCreateAndModify(t *testing.T) {
	m, diags := checked(t, `attribute "userName" { native = "login" }
attribute "name.familyName" {
  native = "last"
  to_native = value == "-" ? null : value
}
attribute "title" { native = "title" }`, store())
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	create := func(doc scim.Doc) error {
		attrs, err := m.ToNative(doc)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range attrs {
			if len(v) == 0 {
				delete(attrs, k)
			}
		}
		return m.CheckCreate(doc, attrs)
	}
	if err := create(scim.Doc{"userName": "a", "name": map[string]any{"familyName": "A"}}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	err := create(scim.Doc{"userName": "a"})
	if e, ok := scim.AsError(err); !ok || e.Status != 400 || !strings.Contains(e.Detail, `"name.familyName"`) || strings.Contains(e.Detail, "last") {
		t.Fatalf("missing familyName: %v, want 400 naming name.familyName and not the column", err)
	}
	err = create(scim.Doc{"userName": "a", "name": map[string]any{"familyName": ""}})
	if e, ok := scim.AsError(err); !ok || e.Status != 400 {
		t.Fatalf("empty familyName: %v, want 400", err)
	}
	err = create(scim.Doc{"userName": "a", "name": map[string]any{"familyName": "-"}})
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "last") {
		t.Fatalf("to_native gave nothing: %v, want ErrConfig naming the native attribute", err)
	}

	mods := []backends.Modification{{Op: backends.ModReplace, Attr: "title", Values: []string{"x"}}}
	if err := m.CheckModify(scim.Doc{}, mods); err != nil {
		t.Fatalf("optional attribute: %v", err)
	}
	err = m.CheckModify(scim.Doc{"userName": "a"}, []backends.Modification{{Op: backends.ModReplace, Attr: "LAST"}})
	if e, ok := scim.AsError(err); !ok || e.Status != 400 || !strings.Contains(e.Detail, `"name.familyName"`) {
		t.Fatalf("familyName removed: %v, want 400 naming it", err)
	}
	err = m.CheckModify(scim.Doc{}, []backends.Modification{{Op: backends.ModDelete, Attr: "login"}})
	if e, ok := scim.AsError(err); !ok || e.Status != 400 || !strings.Contains(e.Detail, `"userName"`) {
		t.Fatalf("userName removed: %v, want 400 naming it", err)
	}
}

// A required attribute computed from the resource names what it reads.
func TestCheckCreateComputed(t *testing.T) {
	m, diags := checked(t, `attribute "userName" { native = "login" }
computed "last" { value = join(" ", compact([resource.name.familyName, resource.displayName])) }`, store())
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	attrs, err := m.ToNative(scim.Doc{"userName": "a"})
	if err != nil {
		t.Fatal(err)
	}
	err = m.CheckCreate(scim.Doc{"userName": "a"}, attrs)
	if e, ok := scim.AsError(err); !ok || e.Status != 400 || !strings.Contains(e.Detail, `"displayName" or "name"`) {
		t.Fatalf("computed from nothing: %v", err)
	}
}

// Without Check (a backend that cannot describe its store) writes are
// not checked here.
func TestCheckCreateUnchecked(t *testing.T) {
	m, diags := decode(t, `attribute "userName" { native = "login" }`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := m.CheckCreate(scim.Doc{}, backends.Attrs{}); err != nil {
		t.Fatal(err)
	}
}
