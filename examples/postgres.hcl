# scimbridge on the legacy PostgreSQL schema of "HRPortal"
# (examples/postgres-legacy-schema.sql): people in hr_person, teams in
# hr_team, membership in hr_team_member. Nothing in the schema changes.
#
# Configured only through the environment:
#
#   DATABASE_URL=postgres://scim_bridge:secret@db.internal:5432/hrportal?sslmode=verify-full \
#   SCIMBRIDGE_TOKEN=$(scimbridge token create --raw) \
#   scimbridge serve --config examples/postgres.hcl
#
# The database account needs SELECT, INSERT and UPDATE on the three tables,
# DELETE on hr_team and hr_team_member (people are only marked deleted),
# and USAGE on their sequences.

server {
  listen    = "0.0.0.0:8080"
  log_level = "info"
}

backend "sql" "hrportal" {
  driver = "postgres"
  dsn    = env("DATABASE_URL")

  max_open_conns     = 16
  max_idle_conns     = 8
  conn_max_lifetime  = "30m"
  conn_max_idle_time = "5m"
  connect_timeout    = "5s"
  query_timeout      = "15s"

  resource "User" {
    table     = "hr_person"
    id_column = "person_no"   # serial: the database makes the id
    columns = [
      "logon_nm", "frst_nm", "lst_nm", "full_nm", "email_addr_txt", "email_alt_txt",
      "tel_wrk", "tel_cell", "job_ttl", "stat_cd", "emp_nbr", "dept_nm", "mgr_person_no",
      "ext_src_id", "pwd_hash",
    ]
    created_column  = "crt_ts"
    modified_column = "upd_ts"
    version_column  = "rec_ver"
    # HRPortal never deletes a person: it sets del_ts. Deleted people are
    # invisible to SCIM, and the partial unique index lets a log-on name
    # be given again.
    soft_delete {
      column = "del_ts"
    }
    reference "teams" {
      join_table   = "hr_team_member"
      this_column  = "person_no"
      other_column = "team_id"
      target       = "Group"
      read_only    = true
    }
  }

  resource "Group" {
    table           = "hr_team"
    id_column       = "team_id"
    columns         = ["team_nm", "ext_src_id"]
    created_column  = "crt_ts"
    modified_column = "upd_ts"
    reference "members" {
      join_table   = "hr_team_member"
      this_column  = "team_id"
      other_column = "person_no"
      target       = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "hrportal"

  auth {
    # The token the identity provider sends as "Authorization: Bearer ...".
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"                             { native = "logon_nm" }
    attribute "name.givenName"                       { native = "frst_nm" }
    attribute "name.familyName"                      { native = "lst_nm" }
    attribute "displayName"                          { native = "full_nm" }
    attribute "emails[type eq \"work\"].value"       { native = "email_addr_txt" }
    attribute "emails[type eq \"home\"].value"       { native = "email_alt_txt" }
    attribute "phoneNumbers[type eq \"work\"].value" { native = "tel_wrk" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "tel_cell" }
    attribute "title"                                { native = "job_ttl" }
    attribute "externalId"                           { native = "ext_src_id" }
    attribute "active" {
      native      = "stat_cd"
      to_native   = value ? "A" : "D"
      from_native = value != "D"
      filter_values = value ? null : ["D"] # filters: false is "D", true every other code
    }
    attribute "password" {
      native    = "pwd_hash"
      to_native = bcrypt(value)
    }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "emp_nbr" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "dept_nm" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "mgr_person_no" }
    attribute "groups.value"                         { native = "teams" }
    attribute "meta.created"                         { native = "crt_ts" }
    attribute "meta.lastModified"                    { native = "upd_ts" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "team_nm" }
    attribute "externalId"        { native = "ext_src_id" }
    attribute "members.value"     { native = "members" }
    attribute "meta.created"      { native = "crt_ts" }
    attribute "meta.lastModified" { native = "upd_ts" }
  }
}
