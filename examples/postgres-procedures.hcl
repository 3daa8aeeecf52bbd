# scimbridge on "TimeTrack" (examples/postgres-procedures-schema.sql), an
# application whose tables nobody may write but its own procedures: they
# check every change and write an audit row. The bridge reads employees,
# teams and memberships from the tables, as it does for any legacy schema,
# and writes by calling the procedures, with every value a bound parameter.
#
# Configured only through the environment:
#
#   DATABASE_URL=postgres://timetrack_scim:secret@db.internal:5432/timetrack?sslmode=verify-full \
#   SCIMBRIDGE_TOKEN=$(scimbridge token create --raw) \
#   scimbridge serve --config examples/postgres-procedures.hcl
#
# The account in DATABASE_URL needs SELECT on tt_employee, tt_team and
# tt_team_member and EXECUTE on the tt_ procedures, nothing else (the
# grants are at the end of the schema file).
#
# How the statements are called (see also `go doc ./backends/sql StatementConfig`):
#   - :name is a column of the resource (or :id, :target_id); it becomes a
#     placeholder, never text. "::" casts and anything in quotes or
#     comments are left alone. An unknown :name stops the start with the
#     file and line.
#   - create: with the values of the new record (NULL where the client sent
#     none); the first column of the first row it returns is the new id.
#   - update: once per change of columns, with the whole row after it.
#   - delete: with :id; here the procedure only marks the row, as
#     soft_delete says.
#   - add / remove: once per member that comes or goes.
#   - Each SCIM request is one transaction: a procedure that raises an
#     exception undoes the whole request, and the client gets a 400 with
#     the procedure's message (409 for a duplicate log-on name).

server {
  listen    = "0.0.0.0:8080"
  log_level = "info"
}

backend "sql" "timetrack" {
  driver = "postgres"
  dsn    = env("DATABASE_URL")

  max_open_conns  = 16
  connect_timeout = "5s"
  query_timeout   = "15s"

  resource "User" {
    table     = "tt_employee"
    id_column = "emp_id"
    columns = [
      "login_nm", "given_nm", "family_nm", "display_nm", "email_txt", "mobile_txt", "job_title",
      "badge_no", "manager_emp_id", "ext_ref", "pwd_hash", "status_cd",
    ]
    created_column  = "created_ts"   # set by the procedures; read-only for clients
    modified_column = "changed_ts"
    # tt_employee_remove marks the employee removed (status X): removed
    # employees are invisible to SCIM, and their log-on name is free again.
    soft_delete {
      column        = "status_cd"
      deleted_value = "X"
    }

    create {
      sql = <<-SQL
        SELECT tt_employee_create(:login_nm, :given_nm, :family_nm, :display_nm, :email_txt, :mobile_txt,
                                  :job_title, :badge_no, :manager_emp_id, :ext_ref, :pwd_hash, :status_cd)
      SQL
      returns_id = true
    }
    update {
      sql = <<-SQL
        CALL tt_employee_update(:id, :login_nm, :given_nm, :family_nm, :display_nm, :email_txt, :mobile_txt,
                                :job_title, :badge_no, :manager_emp_id, :ext_ref, :pwd_hash, :status_cd)
      SQL
    }
    delete {
      sql = "CALL tt_employee_remove(:id)"
    }

    reference "teams" {
      join_table   = "tt_team_member"
      this_column  = "emp_id"
      other_column = "team_id"
      target       = "Group"
      read_only    = true
    }
  }

  resource "Group" {
    table           = "tt_team"
    id_column       = "team_id"
    columns         = ["team_nm", "ext_ref"]
    created_column  = "created_ts"
    modified_column = "changed_ts"

    create {
      sql        = "SELECT tt_team_create(:team_nm, :ext_ref)"
      returns_id = true
    }
    update {
      sql = "CALL tt_team_update(:id, :team_nm, :ext_ref)"
    }
    delete {
      sql = "CALL tt_team_drop(:id)"   # removes the memberships too
    }

    reference "members" {
      join_table   = "tt_team_member"   # for reading
      this_column  = "team_id"
      other_column = "emp_id"
      target       = "User"
      add {
        sql = "CALL tt_team_join(:id, :target_id)"
      }
      remove {
        sql = "CALL tt_team_leave(:id, :target_id)"
      }
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "timetrack"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"                               { native = "login_nm" }
    attribute "name.givenName"                         { native = "given_nm" }
    attribute "name.familyName"                        { native = "family_nm" }
    attribute "displayName"                            { native = "display_nm" }
    attribute "emails[type eq \"work\"].value"         { native = "email_txt" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "mobile_txt" }
    attribute "title"                                  { native = "job_title" }
    attribute "externalId"                             { native = "ext_ref" }
    attribute "active" {
      native      = "status_cd"
      to_native   = value ? "A" : "L"   # L: locked, may not record time
      from_native = value == "A"
      filter_values = value ? ["A"] : null # filters: true is "A", false every other code
    }
    attribute "password" {
      native    = "pwd_hash"
      to_native = bcrypt(value)
    }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "badge_no" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager_emp_id" }
    attribute "groups.value"                           { native = "teams" }
    attribute "meta.created"                           { native = "created_ts" }
    attribute "meta.lastModified"                      { native = "changed_ts" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "team_nm" }
    attribute "externalId"        { native = "ext_ref" }
    attribute "members.value"     { native = "members" }
    attribute "meta.created"      { native = "created_ts" }
    attribute "meta.lastModified" { native = "changed_ts" }
  }
}
