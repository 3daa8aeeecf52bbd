package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

// One PostgreSQL and one MariaDB for the package, started on first use;
// every test gets its own database.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Wrap(func() int { return mariadbtest.Wrap(m.Run) }))
}

// server is a database server under test: how to get a fresh database
// (its DSN) and the driver name for the configuration.
type server struct {
	name   string
	driver string
	newDB  func(t *testing.T) string
	raw    string // database/sql driver for direct checks
}

func servers() []server {
	return []server{
		{name: "Postgres", driver: "postgres", raw: "pgx", newDB: func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) }},
		{name: "MariaDB", driver: "mysql", raw: "mysql", newDB: func(t *testing.T) string { return mariadbtest.Shared(t).NewDatabase(t) }},
	}
}

// openServer loads schema into a fresh database and opens the backend
// configured by src (which uses the variables dsn and driver).
func openServer(t *testing.T, srv server, src, schema string) (*sqlbackend.Backend, *dbsql.DB) {
	t.Helper()
	dsn := srv.newDB(t)
	raw := rawServerDB(t, srv, dsn)
	if schema != "" {
		execScript(t, srv, raw, schema)
	}
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{
		"dsn":    cty.StringVal(dsn),
		"driver": cty.StringVal(srv.driver),
	})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	b, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, raw
}

func rawServerDB(t *testing.T, srv server, dsn string) *dbsql.DB {
	t.Helper()
	db, err := dbsql.Open(srv.raw, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// execScript runs statements separated by ";" at line ends (the test
// schemas have no procedures).
func execScript(t *testing.T, srv server, db *dbsql.DB, script string) {
	t.Helper()
	for _, stmt := range strings.Split(script, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s schema: %v\n%s", srv.name, err, stmt)
		}
	}
}

// Legacy schemas per server: integer keys from the database, a
// case-insensitive unique login, a join table with foreign keys.
var legacySchemas = map[string]string{
	"Postgres": `
CREATE TABLE app_users (
  user_id       serial PRIMARY KEY,
  login         varchar(64) NOT NULL,
  first_name    varchar(100),
  last_name     varchar(100),
  display_name  varchar(200),
  email         varchar(254),
  active        smallint NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no   integer,
  password_hash text,
  created_at    timestamptz,
  updated_at    timestamptz,
  row_version   integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX app_users_login_key ON app_users (lower(login));
CREATE TABLE app_groups (
  group_id    serial PRIMARY KEY,
  name        varchar(100) NOT NULL,
  description text
);
CREATE UNIQUE INDEX app_groups_name_key ON app_groups (lower(name));
CREATE TABLE app_group_members (
  group_id integer NOT NULL REFERENCES app_groups(group_id),
  user_id  integer NOT NULL REFERENCES app_users(user_id),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX app_group_members_user ON app_group_members(user_id);
CREATE TABLE app_user_phones (
  user_id integer NOT NULL REFERENCES app_users(user_id),
  phone   varchar(40) NOT NULL
);
`,
	"MariaDB": `
CREATE TABLE app_users (
  user_id       INT AUTO_INCREMENT PRIMARY KEY,
  login         VARCHAR(64) NOT NULL UNIQUE,
  first_name    VARCHAR(100),
  last_name     VARCHAR(100),
  display_name  VARCHAR(200),
  email         VARCHAR(254),
  active        TINYINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no   INT,
  password_hash TEXT,
  created_at    DATETIME(6),
  updated_at    DATETIME(6),
  row_version   INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE app_groups (
  group_id    INT AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(100) NOT NULL UNIQUE,
  description TEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE app_group_members (
  group_id INT NOT NULL,
  user_id  INT NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY app_group_members_user (user_id),
  FOREIGN KEY (group_id) REFERENCES app_groups(group_id),
  FOREIGN KEY (user_id) REFERENCES app_users(user_id)
) ENGINE=InnoDB;
CREATE TABLE app_user_phones (
  user_id INT NOT NULL,
  phone   VARCHAR(40) NOT NULL,
  KEY app_user_phones_user (user_id),
  FOREIGN KEY (user_id) REFERENCES app_users(user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`,
}

const serverLegacyConfig = `
backend "sql" "app" {
  driver         = driver
  dsn            = dsn
  max_open_conns = 8
  query_timeout  = "30s"

  resource "User" {
    table           = "app_users"
    id_column       = "user_id"
    columns         = ["login", "first_name", "last_name", "display_name", "email", "active", "employee_no"]
    created_column  = "created_at"
    modified_column = "updated_at"
    version_column  = "row_version"
    reference "groups" {
      join_table   = "app_group_members"
      this_column  = "user_id"
      other_column = "group_id"
      target       = "Group"
      read_only    = true
    }
    multi_value "phones" {
      table        = "app_user_phones"
      this_column  = "user_id"
      value_column = "phone"
    }
  }
  resource "Group" {
    table     = "app_groups"
    id_column = "group_id"
    reference "members" {
      join_table   = "app_group_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
    }
  }
}
`

// Second schemas: UUID / text keys, time-ordered values, soft delete, a
// join table without foreign keys or a unique constraint.
var softSchemas = map[string]string{
	"Postgres": `
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE people (
  person_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  uname       citext NOT NULL,
  given       text, family text, display text, mail text,
  hired       timestamptz,
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX people_uname_live ON people (uname) WHERE deleted_at IS NULL;
CREATE TABLE teams (
  team_code  varchar(40) PRIMARY KEY,
  title      citext NOT NULL,
  status_cd  char(1) NOT NULL DEFAULT 'A'
);
CREATE UNIQUE INDEX teams_title_live ON teams (title) WHERE status_cd <> 'X';
CREATE TABLE team_people (team varchar(40) NOT NULL, person uuid NOT NULL);
`,
	"MariaDB": `
CREATE TABLE people (
  person_uuid CHAR(36) PRIMARY KEY,
  uname       VARCHAR(100) NOT NULL,
  given       VARCHAR(100), family VARCHAR(100), display VARCHAR(200), mail VARCHAR(200),
  hired       DATETIME(6),
  deleted_at  DATETIME(6),
  live_uname  VARCHAR(100) AS (IF(deleted_at IS NULL, uname, NULL)) PERSISTENT,
  UNIQUE KEY people_uname_live (live_uname)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE teams (
  team_code  UUID PRIMARY KEY DEFAULT UUID(),
  title      VARCHAR(100) NOT NULL,
  status_cd  CHAR(1) NOT NULL DEFAULT 'A',
  live_title VARCHAR(100) AS (IF(status_cd = 'X', NULL, title)) PERSISTENT,
  UNIQUE KEY teams_title_live (live_title)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE team_people (team VARCHAR(40) NOT NULL, person CHAR(36) NOT NULL);
`,
}

const serverSoftConfig = `
backend "sql" "soft" {
  driver = driver
  dsn    = dsn
  resource "User" {
    table         = "people"
    id_column     = "person_uuid"
    id_generation = id_gen_people
    columns       = ["uname", "given", "family", "display", "mail", "hired"]
    soft_delete { column = "deleted_at" }
  }
  resource "Group" {
    table         = "teams"
    id_column     = "team_code"
    id_generation = id_gen_teams
    columns       = ["title"]
    soft_delete {
      column        = "status_cd"
      deleted_value = "X"
    }
    reference "people" {
      join_table   = "team_people"
      this_column  = "team"
      other_column = "person"
      target       = "User"
    }
  }
}
`

func legacyFixture(srv server) conformance.Fixture {
	f := legacyColumns(func(t *testing.T) backends.Backend {
		b, _ := openServer(t, srv, serverLegacyConfig, legacySchemas[srv.name])
		return b
	})
	f.MultiValued = "phones"
	return f
}

// softConfig fills in who generates the keys on each server: PostgreSQL
// makes person UUIDs (gen_random_uuid) and the bridge team codes; on
// MariaDB the bridge makes person UUIDs and the database team UUIDs
// (UUID() default, read back with RETURNING).
func softConfig(srv server) string {
	people, teams := `"database"`, `"uuid"`
	if srv.name == "MariaDB" {
		people, teams = `"uuid"`, `"database"`
	}
	return strings.NewReplacer("id_gen_people", people, "id_gen_teams", teams).Replace(serverSoftConfig)
}

func softFixture(srv server) conformance.Fixture {
	return uuidColumns(func(t *testing.T) backends.Backend {
		b, _ := openServer(t, srv, softConfig(srv), softSchemas[srv.name])
		return b
	})
}

func TestConformanceServers(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			conformance.Run(t, legacyFixture(srv))
		})
	}
}

func TestConformanceServersSoftDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("second schema skipped in -short mode")
	}
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			conformance.Run(t, softFixture(srv))
		})
	}
}

// withTimeout is a context for one test step.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestServerBootstrap: bootstrap_sql runs a script of several statements
// (MySQL needs a multi-statement connection for it, which the backend's own
// pool never has), and a PostgreSQL DSN in key=value form works.
func TestServerBootstrap(t *testing.T) {
	const src = `
backend "sql" "boot" {
  driver        = driver
  dsn           = dsn
  bootstrap_sql = <<-SQL
    CREATE TABLE boot_users (id INTEGER PRIMARY KEY, login VARCHAR(40) NOT NULL UNIQUE);
    CREATE TABLE boot_log (msg VARCHAR(40));
    INSERT INTO boot_log (msg) VALUES ('one; two');
  SQL
  resource "User" {
    table         = "boot_users"
    id_column     = "id"
  }
}`
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			if srv.name == "Postgres" {
				inner := srv.newDB
				srv.newDB = func(t *testing.T) string {
					u := inner(t) // postgres://postgres@127.0.0.1:PORT/t_N?sslmode=disable
					host, rest, _ := strings.Cut(strings.TrimPrefix(u, "postgres://postgres@"), ":")
					port, db, _ := strings.Cut(rest, "/")
					db, _, _ = strings.Cut(db, "?")
					return "host=" + host + " port=" + port + " user=postgres dbname=" + db + " sslmode=disable"
				}
			}
			b, db := openServer(t, srv, src, "")
			var msg string
			if err := db.QueryRow("SELECT msg FROM boot_log").Scan(&msg); err != nil || msg != "one; two" {
				t.Fatalf("boot_log: %q %v", msg, err)
			}
			// An integer key without a default: the database cannot make it.
			_, err := b.Create(withTimeout(t), backends.User, backends.Attrs{"login": {"x"}})
			if !errors.Is(err, backends.ErrInvalid) {
				t.Errorf("create without a key: %v, want ErrInvalid", err)
			}
		})
	}
}
