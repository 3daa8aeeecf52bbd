# scimbridge example: 389 Directory Server (also Red Hat Directory Server
# and FreeIPA-free 389 deployments).
#
# Tested against 389 Directory Server 2.3.1 (Debian 12's 389-ds-base) by
# examples/ds389_test.go: the tests start a real ns-slapd
# (backends/ldap/ds389test) and serve this file as shipped, bound as a
# service account with the ACI shown below, over ldap:// on loopback. They
# run the backend conformance suite, the recorded Okta, Entra (both PATCH
# dialects) and OneLogin sequences, Okta's SPEC test, the hostile request
# corpus, concurrent clients and a kill and restart of ns-slapd under load,
# and read the directory itself: nsUniqueId as the SCIM id across renames,
# nsAccountLock, member / memberOf / manager values, the hashed
# userPassword and binds with it, sn and cn of a user sent with only a
# userName. Not tested: TLS (ldaps://, start_tls,
# ca_file), referential_integrity = "server", other 389 versions.
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as inetOrgPerson entries  uid=<userName>,ou=people,<base>
#   - groups as groupOfNames entries   cn=<displayName>,ou=groups,<base>
# Both OUs must exist (a `dsidm ... initialise` instance has them).
#
# Everything site-specific comes from the environment:
#
#   LDAP_URL            ldaps://ds.example.org:636 (or ldap://...:389 with start_tls)
#   LDAP_BIND_DN        the bridge's account, e.g. uid=scimbridge,ou=services,dc=example,dc=org
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
#   - an account for the bridge, not below ou=people (an inetOrgPerson there
#     would be listed as a SCIM user), with this ACI on ou=people and on
#     ou=groups (the one the tests use; in 389 DS 2.3 targetattr="*" also
#     covers the operational attributes nsUniqueId and nsAccountLock, and
#     write covers renames within the OU):
#       aci: (targetattr="*")(version 3.0; acl "scimbridge";
#         allow (read, search, compare, write, add, delete)
#         userdn="ldap:///uid=scimbridge,ou=services,dc=example,dc=org";)
#     cn=Directory Manager also works, but it bypasses every ACI and limit
#     and should not be used in production;
#   - no search limits for that account: SCIM listings (an IdP's import)
#     and the count behind totalResults read every entry of a resource
#     type, and the look-through limit (5000 candidates by default)
#     counts across the pages of a paged search, so a directory of more
#     users stops there. On the account's entry (they take effect at its
#     next bind: restart the bridge after adding them):
#       nsSizeLimit: -1
#       nsPagedSizeLimit: -1
#       nsLookThroughLimit: -1
#       nsPagedLookThroughLimit: -1
#     Without them, such listings answer 502 and the log says this;
#   - equality indexes on uid, cn, mail, member, memberOf and nsUniqueId:
#     a new 389 backend has them by default. Add one on manager: the bridge
#     searches (manager=<dn>) when a user is renamed or deleted, which the
#     access log otherwise shows as unindexed (notes=U):
#       dsconf <instance> backend index add --attr manager --index-type eq --reindex userRoot

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
  # deletes (tested). "server" leaves that to the Referential Integrity
  # plugin, whose default attribute list (member, uniquemember, owner,
  # seeAlso) lacks manager: add referint-membership-attr: manager to its
  # entry first. (Not tested with the bridge.)
  referential_integrity = "bridge"

  # 389: the password is written as userPassword in the add / modify
  # itself, and 389 hashes a clear-text value with the instance's
  # passwordStorageScheme (PBKDF2-SHA512 in 2.3). 389 refuses the Password
  # Modify extended operation ("auto", "extended") on a connection without
  # TLS: "Operation requires a secure connection". A value that looks
  # hashed ("{SSHA}...") is refused for any account but the root DN
  # (nsslapd-allow-hashed-passwords: off), so a client cannot set a hash.
  password_modify = "attribute"

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
    # sn is required by person, but IdPs do not always send a family name
    # (Entra sends only a userName for some users): then sn is the
    # userName, and follows it. SCIM reads such an sn back as no
    # familyName, as it was sent (a familyName sent equal to the userName
    # reads back as none too).
    attribute "name.familyName" {
      native  = "sn"
      default = resource.userName
    }
    attribute "displayName" { native = "displayName" }

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
    #
    # To keep disabled accounts in their own container instead: set
    # disabled_base_dn = "ou=disabled,ou=people,<base>" in the User resource
    # above (with scope = "sub"), create that OU, map
    #   attribute "active" { native = "scimbridgeActive" }
    # and give the bridge's account the right to move entries, on ou=people:
    #   aci: (targetattr="*")(version 3.0; acl "scimbridge moves";
    #     allow (moddn) userdn="ldap:///uid=scimbridge,ou=services,dc=example,dc=org";)
    # (without it a deactivation answers 502 and the log names the missing
    # moddn privilege).
    attribute "active" {
      native      = "nsAccountLock"
      to_native   = value ? null : "true"
      from_native = lower(coalesce(value, "false")) != "true"
      filter_values = value ? null : ["true"] # filters: locked entries hold "true" (matched ignoring case)
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
