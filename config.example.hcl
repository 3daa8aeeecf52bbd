# scimbridge example configuration: runs as is.
#
# One SCIM endpoint at /scim/v2 that stores users and groups in an embedded
# SQLite database shaped like a legacy application's tables (created when
# absent). Start it with `make run`, or:
#
#   SCIMBRIDGE_TOKEN=$(scimbridge token create --raw) scimbridge serve --config config.example.hcl
#
# Settings in the server block can be overridden with SCIMBRIDGE_<NAME>
# environment variables (SCIMBRIDGE_LISTEN, SCIMBRIDGE_LOG_LEVEL, ...) and
# with flags of `scimbridge serve`.

server {
  listen    = "127.0.0.1:8080"
  log_level = "info"
  # Behind a TLS-terminating proxy (README, "Behind a TLS-terminating proxy"):
  # public_url      = "https://scim.example.com"
  # trusted_proxies = ["127.0.0.1"]
}

# An Okta custom namespace: per-account storage quota and application roles.
schema "urn:ietf:params:scim:schemas:extension:acme:2.0:User" {
  name        = "AcmeUser"
  resource    = "User"
  description = "Attributes of the Acme legacy application"
  attribute "accountSize" {
    type        = "integer"
    description = "Storage quota in GB"
  }
  attribute "role" {
    type        = "string"
    description = "Application role"
    canonical_values = ["user", "admin", "auditor"]
  }
}

backend "sql" "legacy" {
  driver = "sqlite"
  dsn    = env("SCIMBRIDGE_SQLITE_PATH", "scimbridge.db")

  # The "legacy app" schema, created on first start.
  bootstrap_sql = <<-SQL
    CREATE TABLE IF NOT EXISTS acct_users (
      usr_id        INTEGER PRIMARY KEY AUTOINCREMENT,
      login_name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
      fname         TEXT,
      lname         TEXT,
      disp_name     TEXT,
      email_addr    TEXT,
      phone_work    TEXT,
      job_title     TEXT,
      acct_status   CHAR(1) NOT NULL DEFAULT 'A' CHECK (acct_status IN ('A', 'D')),
      emp_no        TEXT,
      dept          TEXT,
      mgr_ref       TEXT,
      quota_gb      INTEGER,
      app_role      TEXT,
      ext_ref       TEXT,
      pw_hash       TEXT,
      created_ts    TEXT,
      updated_ts    TEXT
    );
    CREATE TABLE IF NOT EXISTS acct_groups (
      grp_id        INTEGER PRIMARY KEY AUTOINCREMENT,
      grp_name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
      ext_ref       TEXT,
      created_ts    TEXT,
      updated_ts    TEXT
    );
    CREATE TABLE IF NOT EXISTS acct_group_members (
      grp_id        INTEGER NOT NULL REFERENCES acct_groups(grp_id) ON DELETE CASCADE,
      usr_id        INTEGER NOT NULL REFERENCES acct_users(usr_id) ON DELETE CASCADE,
      PRIMARY KEY (grp_id, usr_id)
    );
    CREATE INDEX IF NOT EXISTS acct_group_members_usr ON acct_group_members(usr_id);
  SQL

  resource "User" {
    table           = "acct_users"
    id_column       = "usr_id"
    created_column  = "created_ts"
    modified_column = "updated_ts"
    reference "groups" {
      join_table   = "acct_group_members"
      this_column  = "usr_id"
      other_column = "grp_id"
      target       = "Group"
      read_only    = true
    }
  }

  resource "Group" {
    table           = "acct_groups"
    id_column       = "grp_id"
    created_column  = "created_ts"
    modified_column = "updated_ts"
    reference "members" {
      join_table   = "acct_group_members"
      this_column  = "grp_id"
      other_column = "usr_id"
      target       = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "legacy"

  auth {
    # The token the identity provider sends as "Authorization: Bearer ...".
    # Only its SHA-256 is kept in memory. An unset variable disables it; a
    # placeholder or guessable value is refused (use `scimbridge token create`).
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
    # Tokens made with `scimbridge token create` are listed by hash:
    # token "okta" {
    #   hash    = "sha256:..."
    #   scopes  = ["get:users", "post:users", "put:users", "patch:users", "get:groups", "post:groups", "patch:groups", "delete:groups"]
    #   expires = "2027-12-31T00:00:00Z"
    # }
  }

  mapping "User" {
    attribute "userName"                       { native = "login_name" }
    attribute "name.givenName"                 { native = "fname" }
    attribute "name.familyName"                { native = "lname" }
    attribute "displayName"                    { native = "disp_name" }
    attribute "emails[type eq \"work\"].value" { native = "email_addr" }
    attribute "phoneNumbers[type eq \"work\"].value" { native = "phone_work" }
    attribute "title"                          { native = "job_title" }
    attribute "externalId"                     { native = "ext_ref" }
    attribute "active" {
      native      = "acct_status"
      to_native   = value ? "A" : "D"
      from_native = value != "D"
      # Filters on active go to the database through the codes that read as
      # the value: false is "D", true every other code (null: "the others").
      filter_values = value ? null : ["D"]
    }
    attribute "password" {
      native    = "pw_hash"
      to_native = bcrypt(value)
    }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "emp_no" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "dept" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "mgr_ref" }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:accountSize"          { native = "quota_gb" }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:role"                 { native = "app_role" }
    attribute "groups.value"                   { native = "groups" }
    attribute "meta.created"                   { native = "created_ts" }
    attribute "meta.lastModified"              { native = "updated_ts" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "grp_name" }
    attribute "externalId"        { native = "ext_ref" }
    attribute "members.value"     { native = "members" }
    attribute "meta.created"      { native = "created_ts" }
    attribute "meta.lastModified" { native = "updated_ts" }
  }
}
