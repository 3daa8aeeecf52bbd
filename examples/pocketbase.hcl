# scimbridge example: PocketBase (v0.23 or later) through its REST API.
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as records of an auth collection  (PB_USERS)
#   - groups as records of a base collection   (PB_GROUPS) whose `members`
#     relation field (multiple, to PB_USERS) holds the members.
# SCIM ids are PocketBase record ids (15 characters [a-z0-9]).
#
# The users collection has these fields besides PocketBase's own (email,
# password, verified, emailVisibility): userName (text, required, unique
# index), givenName, familyName, displayName, title (text), active (bool),
# employeeNumber (number), phones (json: an array of strings), manager
# (relation to the same collection, one), created / updated (autodate).
# The groups collection: displayName (text, required, unique index),
# members (relation to the users, multiple, cascadeDelete false),
# created / updated (autodate). API rules may stay superuser-only: the
# bridge logs in as a superuser.
#
# PocketBase removes a deleted user's id from every group's members
# (a relation field that is not required), so integrity stays "api".
#
# Everything site-specific comes from the environment:
#
#   REST_BASE_URL        http://127.0.0.1:8090
#   REST_ADMIN_EMAIL     a superuser's e-mail address
#   REST_ADMIN_PASSWORD  its password (or password = file("/run/secrets/pb"))
#   PB_USERS, PB_GROUPS  the two collections' names
#   SCIMBRIDGE_TOKEN     the bearer token the identity provider sends
#
#   scimbridge validate --config examples/pocketbase.hcl
#   scimbridge serve    --config examples/pocketbase.hcl

server {
  listen    = "127.0.0.1:8080"
  log_level = "info"
}

backend "rest" "pocketbase" {
  base_url        = env("REST_BASE_URL")
  timeout         = "10s"
  max_concurrency = 8

  retry {
    attempts    = 3
    min_backoff = "200ms"
    max_backoff = "5s"
  }

  # A superuser session: logs in on first use and again on any 401.
  auth {
    login {
      path   = "/api/collections/_superusers/auth-with-password"
      body   = { identity = env("REST_ADMIN_EMAIL"), password = env("REST_ADMIN_PASSWORD") }
      token  = response.token
      prefix = "" # PocketBase takes the bare token in Authorization
    }
  }

  ping {
    path = "/api/health"
  }

  # PocketBase answers 400 with {"data": {"<field>": {"code": ..., "message": ...}}}.
  error {
    when      = status == 400 && length([for k, v in try(response.data, {}) : k if try(v.code, "") == "validation_not_unique"]) > 0
    kind      = "already_exists"
    attribute = [for k, v in response.data : k if try(v.code, "") == "validation_not_unique"][0]
  }
  error {
    when      = status == 400 && length([for k, v in try(response.data, {}) : k if try(v.code, "") == "validation_missing_rel_records"]) > 0
    kind      = "invalid_reference"
    attribute = [for k, v in response.data : k if try(v.code, "") == "validation_missing_rel_records"][0]
  }
  error {
    when      = status == 400 && length(keys(try(response.data, {}))) > 0
    kind      = "invalid"
    attribute = keys(response.data)[0]
  }

  resource "User" {
    id_pattern = "[a-z0-9]{15}"

    # The collection's schema, for the start-up check of the mapping.
    describe {
      path = "/api/collections/${env("PB_USERS")}"
      fields = [for f in response.fields : {
        name = f.name
        # The create body sends a random password when SCIM sends none.
        required  = try(f.required, false) && f.name != "password"
        read_only = f.type == "autodate"
      }]
    }

    attribute "userName" {}
    attribute "givenName" {}
    attribute "familyName" {}
    attribute "displayName" {}
    attribute "title" {}
    attribute "email" {}
    attribute "active" { type = "bool" }
    # An unset number field reads 0 in PocketBase: 0 is no employee number.
    attribute "employeeNumber" {
      type = "number"
      read = record.employeeNumber == 0 ? null : record.employeeNumber
    }
    attribute "phones" { multi = true }
    attribute "manager" { reference = "User" }
    attribute "password" {} # write-only: PocketBase never returns it
    attribute "groups" {
      reference  = "Group"
      inverse_of = "members"
    }
    attribute "created" {
      read_only = true
      read      = replace(record.created, " ", "T")
    }
    attribute "updated" {
      read_only = true
      read      = replace(record.updated, " ", "T")
    }

    create {
      path = "/api/collections/${env("PB_USERS")}/records"
      body = {
        userName       = attrs.userName
        givenName      = attrs.givenName
        familyName     = attrs.familyName
        displayName    = attrs.displayName
        title          = attrs.title
        email          = attrs.email
        active         = attrs.active
        employeeNumber = attrs.employeeNumber
        phones         = attrs.phones
        manager        = attrs.manager
        # An auth record needs a password: a random one unless SCIM sends one.
        password        = coalesce(attrs.password, random)
        passwordConfirm = coalesce(attrs.password, random)
      }
    }
    get {
      path = "/api/collections/${env("PB_USERS")}/records/${id}"
    }
    update {
      method = "PATCH"
      path   = "/api/collections/${env("PB_USERS")}/records/${id}"
      # Only the fields a change touches.
      body = {
        for k, v in {
          userName        = attrs.userName
          givenName       = attrs.givenName
          familyName      = attrs.familyName
          displayName     = attrs.displayName
          title           = attrs.title
          email           = attrs.email
          active          = attrs.active
          employeeNumber  = attrs.employeeNumber
          phones          = attrs.phones
          manager         = attrs.manager
          password        = attrs.password
          passwordConfirm = attrs.password
        } : k => v if contains(changed, k) || (k == "passwordConfirm" && contains(changed, "password"))
      }
    }
    delete {
      path = "/api/collections/${env("PB_USERS")}/records/${id}"
    }
    list {
      path      = "/api/collections/${env("PB_USERS")}/records"
      query     = { page = page, perPage = per_page, sort = "created,id" }
      items     = response.items
      total     = response.totalItems
      paging    = "page"
      page_size = 200

      # PocketBase's ~ is a case-insensitive LIKE '%value%' (ASCII): it
      # narrows the list to a superset of what eq, co, sw and ew match,
      # and the bridge matches each record exactly. Values with quotes,
      # backslashes or % (PocketBase then stops adding the %...% itself),
      # or beyond ASCII, are not sent: the bridge reads the list instead.
      filter "userName" {
        ops   = ["eq", "co", "sw", "ew"]
        when  = can(regex("^[ -!#$&(-\\[\\]-~]+$", value))
        query = { filter = "userName ~ '${value}'" }
      }
      filter "email" {
        ops   = ["eq", "co", "sw", "ew"]
        when  = can(regex("^[ -!#$&(-\\[\\]-~]+$", value))
        query = { filter = "email ~ '${value}'" }
      }
      filter "manager" {
        when  = can(regex("^[a-z0-9]{15}$", value))
        query = { filter = "manager = '${value}'" }
      }
    }
  }

  resource "Group" {
    id_pattern = "[a-z0-9]{15}"

    describe {
      path = "/api/collections/${env("PB_GROUPS")}"
      fields = [for f in response.fields : {
        name      = f.name
        required  = try(f.required, false)
        read_only = f.type == "autodate"
      }]
    }

    attribute "displayName" {}
    attribute "members" {
      multi     = true
      reference = "User"
      # One PATCH adds or removes exactly the given members, atomically in
      # PocketBase; the list is never read or rewritten for it.
      add    = { "members+" = values }
      remove = { "members-" = values }
    }
    attribute "created" {
      read_only = true
      read      = replace(record.created, " ", "T")
    }
    attribute "updated" {
      read_only = true
      read      = replace(record.updated, " ", "T")
    }

    create {
      path = "/api/collections/${env("PB_GROUPS")}/records"
      body = { displayName = attrs.displayName, members = attrs.members }
    }
    get {
      path = "/api/collections/${env("PB_GROUPS")}/records/${id}"
    }
    update {
      path = "/api/collections/${env("PB_GROUPS")}/records/${id}"
      # A new displayName does not rewrite the member list; a replaced
      # member list (PUT /Groups) is written whole.
      body = {
        for k, v in { displayName = attrs.displayName, members = attrs.members } : k => v if contains(changed, k)
      }
    }
    delete {
      path = "/api/collections/${env("PB_GROUPS")}/records/${id}"
    }
    list {
      path      = "/api/collections/${env("PB_GROUPS")}/records"
      query     = { page = page, perPage = per_page, sort = "created,id" }
      items     = response.items
      total     = response.totalItems
      paging    = "page"
      page_size = 100

      filter "displayName" {
        ops   = ["eq", "co", "sw", "ew"]
        when  = can(regex("^[ -!#$&(-\\[\\]-~]+$", value))
        query = { filter = "displayName ~ '${value}'" }
      }
      # A user's groups, and the members filter of Entra ID.
      filter "members" {
        when  = can(regex("^[a-z0-9]{15}$", value))
        query = { filter = "members ~ '${value}'" }
      }
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "pocketbase"

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
    attribute "password"                       { native = "password" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager" }
    attribute "groups.value"      { native = "groups" }
    attribute "meta.created"      { native = "created" }
    attribute "meta.lastModified" { native = "updated" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "displayName" }
    attribute "members.value"     { native = "members" }
    attribute "meta.created"      { native = "created" }
    attribute "meta.lastModified" { native = "updated" }
  }
}
