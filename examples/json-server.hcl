# scimbridge example: json-server 0.17 (a plain REST API over a JSON file).
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as objects of /users:
#       {"id": "7c0e…", "userName": "jane", "name": {"givenName": "Jane", "familyName": "Doe"},
#        "displayName": "Jane Doe", "emails": ["jane@example.com"], "active": true,
#        "title": "...", "employeeNumber": 42, "phones": ["+1 555 0100"],
#        "managerId": "4f1d…", "version": 3}
#   - groups as objects of /groups:
#       {"id": "9a2b…", "displayName": "Engineers", "memberIds": ["7c0e…"], "version": 7}
# SCIM ids are UUIDs the bridge sends as the new record's id (json-server
# keeps a client's id): json-server's own ids are reused (a new record in
# an empty resource is 1 again, and the next is the largest plus one).
#
# json-server checks nothing: no unique names, no references, no versions.
# So the bridge does it (and says exactly how far that goes):
#   - userName and displayName are unique = true: the bridge looks the
#     value up (case-insensitively) before each write that sets it, under
#     a lock of its own. Two bridges, or another writer, can still race.
#   - memberIds and managerId have integrity = "bridge": ids are checked
#     on write (400 invalidValue for an id that names no user) and a
#     deleted user is removed from every group's memberIds first.
#   - Membership changes rewrite memberIds (json-server has no sub-resource
#     for one member): read the group, change the list, PUT it with
#     version + 1. The bridge serializes these per group (one group's
#     changes never interleave inside one bridge process), so concurrent
#     SCIM requests lose no member. json-server does not enforce the
#     version: a write by another program between the bridge's read and
#     its PUT is overwritten. An API that enforces it (409 or 412 on a
#     stale version, or an ETag with If-Match) makes the bridge read and
#     try again instead.
#
# Environment:
#
#   REST_BASE_URL     http://127.0.0.1:3000
#   SCIMBRIDGE_TOKEN  the bearer token the identity provider sends
#
#   scimbridge validate --config examples/json-server.hcl
#   scimbridge serve    --config examples/json-server.hcl

server {
  listen    = "127.0.0.1:8080"
  log_level = "info"
}

backend "rest" "jsonserver" {
  base_url        = env("REST_BASE_URL")
  timeout         = "10s"
  max_concurrency = 4

  resource "User" {
    id_pattern = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

    attribute "userName" { unique = true }
    attribute "givenName" { read = record.name.givenName }
    attribute "familyName" { read = record.name.familyName }
    attribute "displayName" {}
    attribute "email" { read = record.emails[0] }
    attribute "active" { type = "bool" }
    attribute "title" {}
    attribute "employeeNumber" { type = "number" }
    attribute "phones" { multi = true }
    attribute "managerId" {
      reference = "User"
      integrity = "bridge"
    }
    attribute "groups" {
      reference  = "Group"
      inverse_of = "memberIds"
    }
    attribute "version" {
      type      = "number"
      read_only = true
    }
    version = record.version

    create {
      path = "/users"
      body = {
        id             = uuid
        userName       = attrs.userName
        name           = { givenName = attrs.givenName, familyName = attrs.familyName }
        displayName    = attrs.displayName
        emails         = attrs.email == null ? [] : [attrs.email]
        active         = attrs.active
        title          = attrs.title
        employeeNumber = attrs.employeeNumber
        phones         = attrs.phones
        managerId      = attrs.managerId
        version        = 1
      }
    }
    get {
      path = "/users/${id}"
    }
    update {
      method = "PUT"
      path   = "/users/${id}"
      body = {
        userName       = attrs.userName
        name           = { givenName = attrs.givenName, familyName = attrs.familyName }
        displayName    = attrs.displayName
        emails         = attrs.email == null ? [] : [attrs.email]
        active         = attrs.active
        title          = attrs.title
        employeeNumber = attrs.employeeNumber
        phones         = attrs.phones
        managerId      = attrs.managerId
        version        = coalesce(version, 0) + 1
      }
    }
    delete {
      path = "/users/${id}"
    }
    list {
      path      = "/users"
      query     = { _page = page, _limit = per_page }
      total     = headers["x-total-count"]
      paging    = "page"
      page_size = 100

      # json-server's <field>_like is a case-insensitive regular
      # expression: a superset of eq, co, sw and ew, each record is then
      # matched exactly.
      filter "userName" {
        ops   = ["eq", "co", "sw", "ew"]
        when  = can(regex("^[ -~]+$", value))
        query = { userName_like = "${op == "eq" || op == "sw" ? "^" : ""}${regexescape(value)}${op == "eq" || op == "ew" ? "$" : ""}" }
      }
      filter "managerId" {
        when  = can(regex("^[ -~]+$", value))
        query = { managerId_like = "^${regexescape(value)}$" }
      }
    }
  }

  resource "Group" {
    id_pattern = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

    attribute "displayName" { unique = true }
    attribute "memberIds" {
      multi     = true
      reference = "User"
      integrity = "bridge"
    }
    attribute "version" {
      type      = "number"
      read_only = true
    }
    version = record.version

    create {
      path = "/groups"
      body = { id = uuid, displayName = attrs.displayName, memberIds = attrs.memberIds, version = 1 }
    }
    get {
      path = "/groups/${id}"
    }
    update {
      method = "PUT"
      path   = "/groups/${id}"
      body   = { displayName = attrs.displayName, memberIds = attrs.memberIds, version = coalesce(version, 0) + 1 }
    }
    delete {
      path = "/groups/${id}"
    }
    list {
      path      = "/groups"
      query     = { _page = page, _limit = per_page }
      total     = headers["x-total-count"]
      paging    = "page"
      page_size = 50

      filter "displayName" {
        ops   = ["eq", "co", "sw", "ew"]
        when  = can(regex("^[ -~]+$", value))
        query = { displayName_like = "${op == "eq" || op == "sw" ? "^" : ""}${regexescape(value)}${op == "eq" || op == "ew" ? "$" : ""}" }
      }
      # memberIds is an array; json-server matches it as "1,2,3".
      filter "memberIds" {
        when  = can(regex("^[ -~]+$", value))
        query = { memberIds_like = "(^|,)${regexescape(value)}(,|$)" }
      }
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "jsonserver"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"                       { native = "userName" }
    attribute "name.givenName"                 { native = "givenName" }
    attribute "name.familyName"                { native = "familyName" }
    attribute "displayName"                    { native = "displayName" }
    attribute "title"                          { native = "title" }
    attribute "emails[type eq \"work\"].value" { native = "email" }
    attribute "phoneNumbers.value"             { native = "phones" }
    attribute "active"                         { native = "active" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "managerId" }
    attribute "groups.value" { native = "groups" }
  }

  mapping "Group" {
    attribute "displayName"   { native = "displayName" }
    attribute "members.value" { native = "memberIds" }
  }
}
