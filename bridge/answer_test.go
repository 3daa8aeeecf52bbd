package bridge_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/memory"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// The answer to a write is what a GET right after it returns, body and
// ETag, and its ETag works in If-Match (issue #10).

func TestAnswersMemory(t *testing.T) {
	mem := memory.New(memory.Config{Types: map[string]memory.TypeConfig{
		backends.User: {Unique: []string{"uid"}, References: []memory.Reference{{Attr: "manager", Target: backends.User}}},
		backends.Group: {Unique: []string{"cn"}, References: []memory.Reference{
			{Attr: "member", Target: backends.User, Reverse: "memberOf"},
		}},
	}})
	mapped := `attribute "groups.value" { native = "memberOf" }`
	if !strings.Contains(memoryConfig, mapped) {
		t.Fatalf("memoryConfig no longer holds %s", mapped)
	}
	cfg := strings.Replace(memoryConfig, mapped, mapped+`
    attribute "roles.value"  { native = "roles" }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	scimtest.RunAnswers(t, bridgetest.NewClient(t, srv.URL+"/scim/v2"), scimtest.AnswerMapping{Groups: true, Manager: true, Roles: true})
}

// TestAnswersSQLite serves config.example.hcl with the user's roles in a
// child table (a multi_value).
func TestAnswersSQLite(t *testing.T) {
	cfg := bridgetest.EditFile(t, "../config.example.hcl",
		[2]string{`CREATE INDEX IF NOT EXISTS acct_group_members_usr ON acct_group_members(usr_id);`,
			`CREATE INDEX IF NOT EXISTS acct_group_members_usr ON acct_group_members(usr_id);
    CREATE TABLE IF NOT EXISTS acct_user_roles (
      usr_id   INTEGER NOT NULL REFERENCES acct_users(usr_id) ON DELETE CASCADE,
      role_cd  TEXT NOT NULL
    );`},
		[2]string{`    reference "groups" {`, `    multi_value "roles" {
      table        = "acct_user_roles"
      this_column  = "usr_id"
      value_column = "role_cd"
    }
    reference "groups" {`},
		[2]string{`attribute "groups.value"                   { native = "groups" }`,
			`attribute "groups.value"                   { native = "groups" }
    attribute "roles.value"                    { native = "roles" }`},
	)
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "answers.db"))
	srv := bridgetest.Start(t, cfg, kinds.Types())
	scimtest.RunAnswers(t, bridgetest.NewClient(t, srv.URL+"/scim/v2"), scimtest.AnswerMapping{Groups: true, Manager: true, Roles: true})
}
