# scimbridge on the legacy MySQL / MariaDB schema of "CRM3"
# (examples/mysql-legacy-schema.sql): users in TBL_USR, groups in TBL_GRP,
# membership in TBL_GRP_USR. Nothing in the schema changes.
#
# Configured only through the environment:
#
#   DATABASE_URL=mysql://scim_bridge:secret@db.internal:3306/crm3?tls=true \
#   SCIMBRIDGE_TOKEN=$(scimbridge token create --raw) \
#   scimbridge serve --config examples/mysql.hcl
#
# DATABASE_URL may also be in the driver's own form,
# scim_bridge:secret@tcp(db.internal:3306)/crm3. The database account needs
# SELECT, INSERT and UPDATE on the three tables and DELETE on TBL_GRP and
# TBL_GRP_USR (users are only marked deleted).

server {
  listen    = "0.0.0.0:8080"
  log_level = "info"
}

backend "sql" "crm3" {
  driver = "mysql"   # MySQL 8 or MariaDB 10.5+
  dsn    = env("DATABASE_URL")

  max_open_conns     = 16
  max_idle_conns     = 8
  conn_max_lifetime  = "5m"    # below the server's wait_timeout
  conn_max_idle_time = "1m"
  connect_timeout    = "5s"
  query_timeout      = "15s"

  resource "User" {
    table     = "TBL_USR"
    id_column = "USR_ID"      # AUTO_INCREMENT: the database makes the id
    columns = [
      "USR_LOGIN", "USR_FNAME", "USR_LNAME", "USR_DISPNAME", "USR_MAIL", "USR_MAIL2",
      "USR_PHONE", "USR_MOBILE", "USR_TITLE", "USR_STATUS", "USR_EMPNO", "USR_DEPT",
      "USR_MGR_ID", "USR_EXTID", "USR_PWD",
    ]
    created_column  = "USR_CREATED"
    modified_column = "USR_UPDATED"
    version_column  = "USR_VERSION"
    # CRM3 keeps deleted users with USR_STATUS = 'D'. They are invisible to
    # SCIM; UK_USR_LOGIN covers them too, so their log-on names stay taken
    # (re-creating one is a 409 conflict).
    soft_delete {
      column        = "USR_STATUS"
      deleted_value = "D"
    }
    reference "groups" {
      join_table   = "TBL_GRP_USR"
      this_column  = "USR_ID"
      other_column = "GRP_ID"
      target       = "Group"
      read_only    = true
    }
  }

  resource "Group" {
    table           = "TBL_GRP"
    id_column       = "GRP_ID"
    columns         = ["GRP_NAME", "GRP_EXTID"]
    created_column  = "GRP_CREATED"
    modified_column = "GRP_UPDATED"
    reference "members" {
      join_table   = "TBL_GRP_USR"
      this_column  = "GRP_ID"
      other_column = "USR_ID"
      target       = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "crm3"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"                             { native = "USR_LOGIN" }
    attribute "name.givenName"                       { native = "USR_FNAME" }
    attribute "name.familyName"                      { native = "USR_LNAME" }
    attribute "displayName"                          { native = "USR_DISPNAME" }
    attribute "emails[type eq \"work\"].value"       { native = "USR_MAIL" }
    attribute "emails[type eq \"home\"].value"       { native = "USR_MAIL2" }
    attribute "phoneNumbers[type eq \"work\"].value" { native = "USR_PHONE" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "USR_MOBILE" }
    attribute "title"                                { native = "USR_TITLE" }
    attribute "externalId"                           { native = "USR_EXTID" }
    attribute "active" {
      native      = "USR_STATUS"
      to_native   = value ? "A" : "I"
      from_native = value == "A"
      filter_values = value ? ["A"] : null # filters: true is "A", false every other code
    }
    attribute "password" {
      native    = "USR_PWD"
      to_native = bcrypt(value)
    }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "USR_EMPNO" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "USR_DEPT" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "USR_MGR_ID" }
    attribute "groups.value"                         { native = "groups" }
    attribute "meta.created"                         { native = "USR_CREATED" }
    attribute "meta.lastModified"                    { native = "USR_UPDATED" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "GRP_NAME" }
    attribute "externalId"        { native = "GRP_EXTID" }
    attribute "members.value"     { native = "members" }
    attribute "meta.created"      { native = "GRP_CREATED" }
    attribute "meta.lastModified" { native = "GRP_UPDATED" }
  }
}
