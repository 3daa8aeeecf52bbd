# scimbridge example: OpenLDAP (slapd 2.5 or later).
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as inetOrgPerson entries  uid=<userName>,ou=people,<base>
#   - groups as groupOfNames entries   cn=<displayName>,ou=groups,<base>
# Both OUs must exist. SCIM ids are entryUUID values: they survive renames.
# Deactivated users move to ou=disabled,ou=people,<base>, which the bridge
# creates on its first start (see "Deactivation" below).
#
# It works on a directory as a packaged slapd sets it up (Debian's slapd:
# the core, cosine, nis and inetorgperson schemas, no overlays) with the
# memberof and refint overlays that most sites add: no ppolicy overlay is
# needed. The tests run the Okta, Entra ID and OneLogin sequences and
# Okta's SPEC test against exactly such a slapd (ldaptest.Options{Stock:
# true}), bound as a service account with the access rules below.
#
# Everything site-specific comes from the environment:
#
#   LDAP_URL            ldap://ldap.example.org:389 or ldaps://ldap.example.org:636
#   LDAP_BIND_DN        the bridge's service account, e.g. cn=scimbridge,ou=services,dc=example,dc=org
#   LDAP_BIND_PASSWORD  its password (or use bind_password_file below)
#   LDAP_BASE_DN        e.g. dc=example,dc=org
#   SCIMBRIDGE_TOKEN    the bearer token the identity provider sends
#
#   scimbridge validate --config examples/openldap.hcl
#   scimbridge serve    --config examples/openldap.hcl
#
# What the directory needs (cn=config):
#   - the core, cosine and inetorgperson schemas (all packaged installs have them);
#   - the memberof overlay, so that a user's groups are readable (see
#     reference "memberOf" below for directories without it);
#   - an account for the bridge with write access to both OUs, e.g.
#       olcAccess: to dn.subtree="ou=people,dc=example,dc=org"
#         by dn.exact="cn=scimbridge,ou=services,dc=example,dc=org" write by * break
#     (and the same for ou=groups), placed before rules that would stop it
#     (olcAccess: {0}to ... inserts a rule first). write covers what the
#     bridge does: adds (ou=disabled too), modifies, renames and moves
#     between ou=people and ou=disabled, deletes and the Password Modify
#     operation. If the account may not add ou=disabled, the bridge does
#     not start and says so; create the OU yourself then. The tests run
#     the IdP sequences bound as such an account with exactly these rules;
#   - no size limit for that account: slapd's olcSizeLimit (500 unless
#     set) bounds paged searches too, so a SCIM listing (an IdP's import)
#     and the count behind totalResults would stop at 500 users:
#       olcLimits: dn.exact="cn=scimbridge,ou=services,dc=example,dc=org" size=unlimited
#     on the same database entry. Without it, listings past the limit
#     answer 502 and the log says this; validate --live reports it once
#     the directory holds more entries than the limit;
#   - so that deactivated users cannot bind, one more rule, placed after
#     the bridge's and before the one that lets anonymous binds check
#     passwords (Debian's {0}to attrs=userPassword ... by anonymous auth):
#       olcAccess: to dn.subtree="ou=disabled,ou=people,dc=example,dc=org"
#         attrs=userPassword by * none
#     (it needs no overlay; a bind as such a user answers invalidCredentials);
#   - equality indexes on entryUUID, uid, cn, mail, member, memberOf and
#     manager, or every SCIM request turns into a full scan (Debian indexes
#     only objectClass, cn, uid, uidNumber, gidNumber, member and
#     memberUid). The bridge searches (member=<dn>) and (manager=<dn>)
#     whenever a user is renamed, moved (every deactivation) or deleted:
#       olcDbIndex: entryUUID,uid,cn,mail,member,memberOf,manager eq
#
# Deactivation. A stock slapd has no attribute that stops an account: the
# ppolicy overlay's pwdAccountLockedTime is undefined without the overlay
# (every deactivation would be "400 pwdAccountLockedTime: attribute type
# undefined"). So a deactivated user is moved into ou=disabled below
# ou=people (one ModifyDN; entryUUID, the SCIM id, stays; member values
# follow, memberOf with them), and moved back on reactivation. Names stay
# unique across both containers. Applications that look users up in
# ou=people with scope one no longer find them; with the rule above no
# application can bind as them.
#
# With the ppolicy overlay (opt-in), deactivation can lock the account in
# place instead, the way administrators lock accounts: the entry stays,
# pwdAccountLockedTime = 000001010000Z ("locked until an administrator
# unlocks it"), binds fail. It needs a default policy with pwdLockout:
# TRUE; one that never locks on failed binds:
#   dn: cn=default,ou=policies,dc=example,dc=org
#   objectClass: organizationalRole
#   objectClass: pwdPolicy
#   cn: default
#   pwdAttribute: userPassword
#   pwdLockout: TRUE
#   pwdMaxFailure: 0
# and olcPPolicyDefault: cn=default,ou=policies,dc=example,dc=org on the
# overlay. Then change mapping "User" / "active" as its comment says.

server {
  listen    = "127.0.0.1:8080" # or SCIMBRIDGE_LISTEN / --listen
  log_level = "info"
}

backend "ldap" "openldap" {
  # More than one URL gives failover, tried in order.
  urls          = [env("LDAP_URL")]
  bind_dn       = env("LDAP_BIND_DN")
  bind_password = env("LDAP_BIND_PASSWORD")
  # bind_password_file = "/run/secrets/ldap-bind" # re-read on every bind: rotation without restart

  # TLS: an ldaps:// URL, or ldap:// with start_tls = true. ca_file is the
  # PEM bundle that signed the server's certificate ("" = system roots).
  # start_tls = true
  # ca_file   = "/etc/ssl/certs/ldap-ca.pem"

  id_attribute = "entryUUID"

  # Who rewrites group member values when a user is renamed or deleted.
  # "bridge" works on every directory. With the refint overlay configured
  # for member (and manager), "server" saves the bridge that work. refint
  # works in the background, after the rename is answered: see "LDAP
  # renames and moves" in the README for what that means for a user moved
  # out and back at once.
  referential_integrity = "bridge"

  # Passwords are sent with the Password Modify extended operation (RFC
  # 3062) so that slapd hashes them (olcPasswordHash, {SSHA} by default);
  # they are never read back.
  password_modify = "auto"

  pool_size = 8
  timeout   = "10s"

  cache {
    size = 100000 # id <-> DN mappings; one per user and group is enough
    ttl  = "10m"
  }

  resource "User" {
    base_dn            = "ou=people,${env("LDAP_BASE_DN")}"
    scope              = "sub" # ou=people and ou=disabled below it
    rdn_attribute      = "uid" # a new userName renames the entry (modrdn); the id stays
    object_classes     = ["inetOrgPerson"]
    filter             = "(objectClass=inetOrgPerson)"
    password_attribute = "userPassword"

    # Deactivated users live here (see "Deactivation" in the header); the
    # bridge adds the organizationalUnit when it is missing.
    disabled_base_dn          = "ou=disabled,ou=people,${env("LDAP_BASE_DN")}"
    create_disabled_container = true

    # Operational attributes the directory returns only when asked by name.
    operational_attributes = ["createTimestamp", "modifyTimestamp"]

    # The user's groups, kept by the memberof overlay. Without the overlay,
    # replace this block with:
    #   reference "groups" {
    #     target     = "Group"
    #     inverse_of = "member" # computed by searching the groups
    #   }
    # and map groups.value to "groups" below.
    reference "memberOf" {
      target    = "Group"
      read_only = true
    }

    # manager holds the manager's DN in the directory and the manager's
    # SCIM id on the SCIM side.
    reference "manager" {
      target = "User"
    }
  }

  resource "Group" {
    base_dn        = "ou=groups,${env("LDAP_BASE_DN")}"
    scope          = "one"
    rdn_attribute  = "cn" # a new displayName renames the group (modrdn)
    object_classes = ["groupOfNames"]
    operational_attributes = ["createTimestamp", "modifyTimestamp"]

    reference "member" {
      target = "User"
      # member is a MUST attribute of groupOfNames: an empty SCIM group
      # holds this placeholder DN, which is never shown to SCIM clients.
      empty_placeholder = "cn=nobody,${env("LDAP_BASE_DN")}"
      # A member id that names no user answers 400 invalidValue and writes
      # nothing; "ignore" leaves such ids out (with a warning in the log)
      # and writes the rest.
      unknown_ids = "reject"
    }
    # For groupOfUniqueNames use object_classes = ["groupOfUniqueNames"]
    # and reference "uniqueMember" (and map members.value to it).
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "openldap"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    attribute "userName"        { native = "uid" }
    attribute "name.givenName"  { native = "givenName" }
    # sn is required by the person class, but IdPs do not always send a
    # family name (Entra sends only a userName for some users). Then sn is
    # the userName, and follows it; SCIM reads such an sn back as no
    # familyName, as it was sent (a familyName sent equal to the userName
    # reads back as none too).
    attribute "name.familyName" {
      native  = "sn"
      default = resource.userName
    }
    attribute "displayName" { native = "displayName" }

    # cn is required too but has no SCIM attribute of its own: it is the
    # display name, else "given family", else the userName, and follows
    # every change of those.
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

    # active is where the entry lies: scimbridgeActive is TRUE below
    # ou=people, FALSE below ou=disabled (disabled_base_dn), and writing it
    # moves the entry.
    attribute "active" { native = "scimbridgeActive" }
    # ppolicy opt-in (see the header): replace the line above with
    #   attribute "active" {
    #     native      = "pwdAccountLockedTime"
    #     to_native   = value ? null : "000001010000Z"
    #     from_native = value != "000001010000Z"
    #     filter_values = value ? null : ["000001010000Z"]
    #   }
    # and, in resource "User", delete disabled_base_dn and
    # create_disabled_container and add "pwdAccountLockedTime" to
    # operational_attributes (scope may go back to "one"). Reactivation
    # removes the attribute. A temporary lockout written by ppolicy after
    # failed binds holds a real time stamp and is not reported as inactive
    # (it expires by itself), and reactivating never clears it.

    # Sent to slapd in clear over the (TLS) connection and hashed there.
    attribute "password" { native = "userPassword" }

    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "departmentNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager" }

    attribute "groups.value"      { native = "memberOf" }
    attribute "meta.created"      { native = "createTimestamp" }
    attribute "meta.lastModified" { native = "modifyTimestamp" }

    # externalId is not stored: inetOrgPerson has no attribute for it and
    # Okta, Entra ID and OneLogin keep their own. To keep it, add an
    # auxiliary class with a free attribute to object_classes and map it.
  }

  mapping "Group" {
    attribute "displayName"       { native = "cn" }
    attribute "members.value"     { native = "member" }
    attribute "meta.created"      { native = "createTimestamp" }
    attribute "meta.lastModified" { native = "modifyTimestamp" }
  }
}
