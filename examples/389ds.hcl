# scimbridge example: 389 Directory Server (also Red Hat Directory Server
# and FreeIPA-free 389 deployments).
#
# NOT TESTED AGAINST A REAL 389 SERVER: no 389 DS was available when this
# file was written. It passes `scimbridge validate`, and its LDAP backend
# settings are the ones tested on OpenLDAP (examples/openldap.hcl), except
# for the 389-specific parts marked "389:" below. Try it on a test instance
# first, and please report what you had to change.
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as inetOrgPerson entries  uid=<userName>,ou=people,<base>
#   - groups as groupOfNames entries   cn=<displayName>,ou=groups,<base>
# Both OUs must exist (a `dsidm ... initialise` instance has them).
#
# Everything site-specific comes from the environment:
#
#   LDAP_URL            ldaps://ds.example.org:636 (or ldap://...:389 with start_tls)
#   LDAP_BIND_DN        the bridge's account, e.g. uid=scimbridge,ou=people,dc=example,dc=org
#   LDAP_BIND_PASSWORD  its password (or use bind_password_file below)
#   LDAP_BASE_DN        e.g. dc=example,dc=org
#   SCIMBRIDGE_TOKEN    the bearer token the identity provider sends
#
#   scimbridge validate --config examples/389ds.hcl
#   scimbridge serve    --config examples/389ds.hcl
#
# What the server needs:
#   - the MemberOf plugin, so that a user's groups are readable:
#       dsconf <instance> plugin memberof enable && restart
#     (without it, see reference "memberOf" below);
#   - the Referential Integrity plugin is optional (see referential_integrity);
#   - an account for the bridge with an ACI granting add, delete, write
#     (including nsAccountLock, userPassword and modrdn) on both OUs; cn=Directory
#     Manager works but should not be used in production;
#   - equality indexes on uid, cn, mail, member and memberOf (nsUniqueId is
#     indexed by every 389 instance).

server {
  listen    = "127.0.0.1:8080" # or SCIMBRIDGE_LISTEN / --listen
  log_level = "info"
}

backend "ldap" "389ds" {
  urls          = [env("LDAP_URL")] # more than one URL: failover, in order
  bind_dn       = env("LDAP_BIND_DN")
  bind_password = env("LDAP_BIND_PASSWORD")
  # bind_password_file = "/run/secrets/ldap-bind"

  # start_tls = true                            # with an ldap:// URL
  # ca_file   = "/etc/dirsrv/ssca/ca.crt"       # the instance's self-signed CA, if it is used

  # 389: SCIM ids are nsUniqueId values (an operational attribute every
  # entry has, kept across renames), e.g. 4c1a2b3c-1dd211b2-8f3ea1b2-00000000.
  id_attribute = "nsUniqueId"

  # "bridge": the bridge rewrites member and manager values on renames and
  # deletes. With the Referential Integrity plugin enabled for member and
  # manager (its default attribute list includes both), use "server".
  referential_integrity = "bridge"

  # 389 supports the Password Modify extended operation and hashes the
  # password with the instance's passwordStorageScheme (PBKDF2 by default).
  password_modify = "auto"

  pool_size = 8
  timeout   = "10s"

  cache {
    size = 100000
    ttl  = "10m"
  }

  resource "User" {
    base_dn            = "ou=people,${env("LDAP_BASE_DN")}"
    scope              = "one"
    rdn_attribute      = "uid" # a new userName renames the entry (modrdn); the id stays
    object_classes     = ["inetOrgPerson"]
    filter             = "(objectClass=inetOrgPerson)"
    password_attribute = "userPassword"

    # 389: nsAccountLock is operational: it is returned only when named.
    operational_attributes = ["nsAccountLock", "createTimestamp", "modifyTimestamp"]

    # Kept by the MemberOf plugin. Without it, replace with
    #   reference "groups" { target = "Group"; inverse_of = "member" }
    # and map groups.value to "groups".
    reference "memberOf" {
      target    = "Group"
      read_only = true
    }
    reference "manager" {
      target = "User"
    }
  }

  resource "Group" {
    base_dn        = "ou=groups,${env("LDAP_BASE_DN")}"
    scope          = "one"
    rdn_attribute  = "cn"
    object_classes = ["groupOfNames"]
    operational_attributes = ["createTimestamp", "modifyTimestamp"]

    # 389's schema makes member optional in groupOfNames, so an empty SCIM
    # group is an entry without member values. If your schema makes it
    # required, add:  empty_placeholder = "cn=nobody,${env("LDAP_BASE_DN")}"
    reference "member" {
      target = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "389ds"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"        { native = "uid" }
    attribute "name.givenName"  { native = "givenName" }
    attribute "name.familyName" { native = "sn" } # required by person: no familyName, 400
    attribute "displayName"     { native = "displayName" }

    # cn (required by person): the display name, else "given family", else
    # the userName; it follows changes of those.
    computed "cn" {
      value = element(compact([
        resource.displayName,
        join(" ", compact([resource.name.givenName, resource.name.familyName])),
        resource.userName,
      ]), 0)
    }

    attribute "emails[type eq \"work\"].value"         { native = "mail" }
    attribute "phoneNumbers[type eq \"work\"].value"   { native = "telephoneNumber" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "mobile" }
    attribute "title"                                  { native = "title" }
    attribute "preferredLanguage"                      { native = "preferredLanguage" }

    # 389: nsAccountLock = "true" refuses binds (what `dsidm account lock`
    # writes). Active users have no nsAccountLock at all; a value other than
    # "true" (case-insensitive) also counts as active, as 389 treats it.
    attribute "active" {
      native      = "nsAccountLock"
      to_native   = value ? null : "true"
      from_native = lower(coalesce(value, "false")) != "true"
    }

    # Sent over the (TLS) connection and hashed by the server.
    attribute "password" { native = "userPassword" }

    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "departmentNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager" }

    attribute "groups.value"      { native = "memberOf" }
    attribute "meta.created"      { native = "createTimestamp" }
    attribute "meta.lastModified" { native = "modifyTimestamp" }
  }

  mapping "Group" {
    attribute "displayName"       { native = "cn" }
    attribute "members.value"     { native = "member" }
    attribute "meta.created"      { native = "createTimestamp" }
    attribute "meta.lastModified" { native = "modifyTimestamp" }
  }
}
