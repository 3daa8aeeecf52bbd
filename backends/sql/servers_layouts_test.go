package sql_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
)

// Membership layouts on the servers: a foreign key on the user row and a
// delimited column on the group row.
var layoutSchemas = map[string]string{
	"Postgres": `
CREATE TABLE depts (
  dept_id serial PRIMARY KEY,
  name    varchar(100) NOT NULL
);
CREATE UNIQUE INDEX depts_name_key ON depts (lower(name));
CREATE TABLE staff (
  staff_id serial PRIMARY KEY,
  login    varchar(64) NOT NULL,
  given varchar(100), family varchar(100), display varchar(200), email varchar(254), emp_no integer,
  dept_id  integer REFERENCES depts(dept_id)
);
CREATE UNIQUE INDEX staff_login_key ON staff (lower(login));
CREATE TABLE roles (
  id         serial PRIMARY KEY,
  name       varchar(100) NOT NULL,
  member_ids text
);
CREATE UNIQUE INDEX roles_name_key ON roles (lower(name));
`,
	"MariaDB": `
CREATE TABLE depts (
  dept_id INT AUTO_INCREMENT PRIMARY KEY,
  name    VARCHAR(100) NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE staff (
  staff_id INT AUTO_INCREMENT PRIMARY KEY,
  login    VARCHAR(64) NOT NULL UNIQUE,
  given VARCHAR(100), family VARCHAR(100), display VARCHAR(200), email VARCHAR(254), emp_no INT,
  dept_id  INT NULL,
  FOREIGN KEY (dept_id) REFERENCES depts(dept_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE roles (
  id         INT AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(100) NOT NULL UNIQUE,
  member_ids VARCHAR(2000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
`,
}

const serverLayoutConfig = `
backend "sql" "layouts" {
  driver = driver
  dsn    = dsn
  resource "User" {
    table     = "staff"
    id_column = "staff_id"
    columns   = ["login", "given", "family", "display", "email", "emp_no"]
    reference "groups" {
      target       = "Group"
      local_column = "dept_id"
      read_only    = true
    }
  }
  resource "Group" {
    table     = GROUP_TABLE
    id_column = GROUP_ID
    columns   = ["name"]
    reference "members" {
      target = "User"
      LAYOUT
    }
  }
}
`

func layoutServerFixture(srv server, delimited bool) conformance.Fixture {
	src := serverLayoutConfig
	if delimited {
		src = replaceAll(src, "GROUP_TABLE", `"roles"`, "GROUP_ID", `"id"`, "LAYOUT", `column = "member_ids"
      separator = ";"`)
	} else {
		src = replaceAll(src, "GROUP_TABLE", `"depts"`, "GROUP_ID", `"dept_id"`, "LAYOUT", `foreign_key = "dept_id"`)
	}
	f := layoutColumns(func(t *testing.T) backends.Backend {
		b, _ := openServer(t, srv, src, layoutSchemas[srv.name])
		return b
	})
	if !delimited {
		f.UserGroups = "groups"
		f.SingleGroupPerUser = true
	}
	return f
}

func TestConformanceServersLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("layout schemas skipped in -short mode")
	}
	for _, srv := range servers() {
		t.Run(srv.name+"/ForeignKey", func(t *testing.T) { conformance.Run(t, layoutServerFixture(srv, false)) })
		t.Run(srv.name+"/Delimited", func(t *testing.T) { conformance.Run(t, layoutServerFixture(srv, true)) })
	}
}

func replaceAll(s string, oldnew ...string) string {
	return strings.NewReplacer(oldnew...).Replace(s)
}
