# scimbridge example: StaffBase, a legacy personnel database on PostgreSQL,
# mapped as found (examples/postgres-staff-schema.sql): no views, no stored
# procedures, nothing added to the schema for the bridge.
#
#   DATABASE_URL      postgres://scimbridge@db.example.com:5432/staffbase
#   SCIMBRIDGE_TOKEN  the bearer token the identity provider sends
#
# What the mapping does with what it found:
#   - status E/L/S/X: E and L (on leave) read as active; deactivating writes
#     S, and reactivating a user on leave keeps L (to_native reads the stored
#     record); X (left) is a deleted row, kept for payroll;
#   - department: a code in staff, its name from the departments table, read
#     from the database and refreshed (lookup "departments");
#   - phones: one child table with a kind column, W and M mapped to the work
#     and mobile numbers (multi_value ... where);
#   - roles: rows of person_roles pointing into roles, read and written as
#     role names (multi_value ... lookup);
#   - family_nm is NOT NULL: a user sent without a family name (Entra does
#     that) gets the userName there, and reads back without one (default);
#   - staff_no, the key, is also shown as the staff number, read-only
#     (direction = "read");
#   - time stamps are local time without a zone (time_zone).

server {
  listen    = "0.0.0.0:8080"
  log_level = "info"
}

schema "urn:ietf:params:scim:schemas:extension:staffbase:2.0:User" {
  name        = "StaffBaseUser"
  resource    = "User"
  description = "What StaffBase keeps beyond the enterprise schema"
  attribute "staffNumber" {
    type        = "integer"
    mutability  = "readOnly"
    description = "StaffBase's own key of the person"
  }
}

backend "sql" "staffbase" {
  driver = "postgres"
  dsn    = env("DATABASE_URL")

  # created_at and changed_at are "timestamp without time zone" in the head
  # office's local time: read and written as such, shown as instants.
  time_zone = "Europe/Berlin"

  # Department names for codes, from HR's own table, read again every
  # 5 minutes (a new department needs no change here).
  lookup "departments" {
    sql     = "SELECT dept_cd, dept_nm FROM departments"
    refresh = "5m"
  }

  resource "User" {
    table           = "staff"
    id_column       = "staff_no"
    # status is listed: it holds the deleted mark and is the active flag.
    columns = [
      "logon", "given_nm", "family_nm", "mail", "status", "dept_cd", "job_title",
      "payroll_no", "manager_no", "ext_ref", "pw_hash",
    ]
    created_column  = "created_at"
    modified_column = "changed_at"
    # People who left keep their row with status X: invisible to SCIM, and
    # their log-on name can be given again (the unique index skips them).
    soft_delete {
      column        = "status"
      deleted_value = "X"
    }
    multi_value "phone_work" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "W" }
    }
    multi_value "phone_mobile" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "M" }
    }
    multi_value "roles" {
      table        = "person_roles"
      this_column  = "person"
      value_column = "role_id"
      lookup {
        table        = "roles"
        key_column   = "role_id"
        value_column = "role_name"
      }
    }
    reference "teams" {
      join_table   = "team_members"
      this_column  = "staff_no"
      other_column = "team_id"
      target       = "Group"
      read_only    = true
    }
  }

  resource "Group" {
    table     = "teams"
    id_column = "team_id"
    reference "members" {
      join_table   = "team_members"
      this_column  = "team_id"
      other_column = "staff_no"
      target       = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "staffbase"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"       { native = "logon" }
    attribute "name.givenName" { native = "given_nm" }
    attribute "name.familyName" {
      native  = "family_nm"
      default = resource.userName # NOT NULL; reads back as no family name
    }
    attribute "emails[type eq \"work\"].value"         { native = "mail" }
    attribute "phoneNumbers[type eq \"work\"].value"   { native = "phone_work" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "phone_mobile" }
    attribute "roles.value"                            { native = "roles" }
    attribute "title"                                  { native = "job_title" }
    attribute "externalId"                             { native = "ext_ref" }

    attribute "active" {
      native = "status"
      # A user on leave stays on leave when the IdP (re)activates them.
      to_native     = value ? (try(record.status, "") == "L" ? "L" : "E") : "S"
      from_native   = contains(["E", "L"], value)
      filter_values = value ? ["E", "L"] : ["S"]
    }

    attribute "password" {
      native    = "pw_hash"
      to_native = bcrypt(value)
    }

    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "payroll_no" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager_no" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" {
      native        = "dept_cd"
      to_native     = lookup_key("departments", value)   # an unknown name: 400 naming it
      from_native   = lookup_value("departments", value)
      filter_values = lookup_keys("departments", value)
    }

    # The key, shown as the staff number; never written.
    attribute "urn:ietf:params:scim:schemas:extension:staffbase:2.0:User:staffNumber" {
      native    = "staff_no"
      direction = "read"
    }

    attribute "groups.value"      { native = "teams" }
    attribute "meta.created"      { native = "created_at" }
    attribute "meta.lastModified" { native = "changed_at" }
  }

  mapping "Group" {
    attribute "displayName"   { native = "team_nm" }
    attribute "externalId"    { native = "ext_ref" }
    attribute "members.value" { native = "members" }
  }
}
