package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// rolesTables adds a child table of the users' roles to an SQL example's
// schema and maps roles.value to it as a multi_value, so that the answers
// are checked with a multi-valued attribute as well as a reference (the
// user's groups) and the manager.
var rolesTables = map[string]struct {
	sql   string
	edits [][2]string
}{
	"Postgres": {
		sql: `
CREATE TABLE hr_person_role (
  person_no integer NOT NULL REFERENCES hr_person (person_no),
  role_cd   varchar(40) NOT NULL
);`,
		edits: [][2]string{
			{`    reference "teams" {`, `    multi_value "roles" {
      table        = "hr_person_role"
      this_column  = "person_no"
      value_column = "role_cd"
    }
    reference "teams" {`},
			{`attribute "groups.value"                         { native = "teams" }`, `attribute "groups.value"                         { native = "teams" }
    attribute "roles.value"                          { native = "roles" }`},
		},
	},
	"MariaDB": {
		sql: `
CREATE TABLE TBL_USR_ROLE (
    USR_ID  INT UNSIGNED NOT NULL,
    ROLE_CD VARCHAR(40)  NOT NULL,
    KEY IX_USR_ROLE (USR_ID),
    CONSTRAINT FK_USR_ROLE FOREIGN KEY (USR_ID) REFERENCES TBL_USR (USR_ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;`,
		edits: [][2]string{
			{`    reference "groups" {`, `    multi_value "roles" {
      table        = "TBL_USR_ROLE"
      this_column  = "USR_ID"
      value_column = "ROLE_CD"
    }
    reference "groups" {`},
			{`attribute "groups.value"                         { native = "groups" }`, `attribute "groups.value"                         { native = "groups" }
    attribute "roles.value"                          { native = "roles" }`},
		},
	},
}

// TestExamplesAnswers: on every SQL example, the answer to each write is
// what a GET right after it returns, body and ETag (issue #10).
func TestExamplesAnswers(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			roles, ok := rolesTables[ex.name]
			ok = ok || ex.name == "PostgresStaff" // maps roles itself
			s := startEdited(t, ex, roles.sql, roles.edits...)
			scimtest.RunAnswers(t, s.c, scimtest.AnswerMapping{Groups: true, Manager: true, Roles: ok})
		})
	}
}

// TestDS389Answers: the same on examples/389ds.hcl.
func TestDS389Answers(t *testing.T) {
	d := startDS389(t)
	scimtest.RunAnswers(t, d.c, scimtest.AnswerMapping{Groups: true, Manager: true})
}
