# scimbridge example: Microsoft Active Directory (and Samba AD domain
# controllers).
#
# Tested against a Samba 4.17 AD DC (Debian 12's samba) by
# examples/activedirectory_test.go: the tests provision a domain, start a
# real DC (backends/ldap/sambatest) and serve this file as shipped over
# LDAPS, the certificate verified with LDAP_CA_FILE and
# LDAP_TLS_SERVER_NAME, bound as a delegated service account with only the
# rights listed below. They run the backend conformance suite, the
# recorded Okta, Entra and OneLogin sequences, Okta's SPEC test, the
# hostile request corpus, concurrent clients and a kill and restart of the
# DC under load, and read the directory itself: objectGUID as the SCIM id
# across renames, userAccountControl bits, member values, binds with a
# password set through SCIM, a 2,000-member group read back completely,
# and an import of users and nested groups seeded before the bridge
# started. docs/activedirectory.md explains every choice below.
#
# One SCIM endpoint at /scim/v2 that provisions
#   - users  as user objects   CN=<display name>,<AD_USERS_DN>
#   - groups as group objects  CN=<displayName>,<AD_GROUPS_DN>
# both by default in the domain's CN=Users container.
#
# Everything site-specific comes from the environment:
#
#   LDAP_URL              ldaps://dc1.corp.example.com:636 (LDAPS: AD takes
#                         passwords over TLS only)
#   LDAP_CA_FILE          the CA certificate that issued the DCs' certificates
#                         (PEM), e.g. exported from AD Certificate Services
#   LDAP_TLS_SERVER_NAME  optional: the name to verify in the DC's certificate
#                         when LDAP_URL names the DC otherwise (by address)
#   LDAP_BIND_DN          the service account, e.g.
#                         CN=scimbridge,OU=Service Accounts,DC=corp,DC=example,DC=com
#   LDAP_BIND_PASSWORD    its password
#   LDAP_BASE_DN          the domain, e.g. DC=corp,DC=example,DC=com
#   AD_UPN_SUFFIX         e.g. corp.example.com: a userName without an @ is
#                         stored as <userName>@<suffix> (empty: as sent)
#   AD_USERS_DN           optional, default CN=Users,<LDAP_BASE_DN>
#   AD_GROUPS_DN          optional, default CN=Users,<LDAP_BASE_DN>
#   SCIMBRIDGE_TOKEN      the bearer token the identity provider sends
#
#   scimbridge validate --config examples/activedirectory.hcl --live
#   scimbridge serve    --config examples/activedirectory.hcl
#
# The service account needs, on the users' and the groups' OU (Delegation
# of Control Wizard, or dsacls), applied to "This object and all
# descendant objects":
#   - Create and Delete User objects, Create and Delete Group objects;
#   - Read and Write all properties of User objects and of Group objects;
#   - Reset Password on User objects.
# As SDDL (what the tests put on their OU, with the account's SID):
#   (OA;CI;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;SID)
#   (OA;CI;CCDC;bf967a9c-0de6-11d0-a285-00aa003049e2;;SID)
#   (OA;CIIO;RPWP;;bf967aba-0de6-11d0-a285-00aa003049e2;SID)
#   (OA;CIIO;RPWP;;bf967a9c-0de6-11d0-a285-00aa003049e2;SID)
#   (OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;SID)
# It needs no membership in Domain Admins or Account Operators. A missing
# right answers 502 and the bridge's log names the right (needed_right).

server {
  listen    = "127.0.0.1:8080" # or SCIMBRIDGE_LISTEN / --listen
  log_level = "info"
}

backend "ldap" "ad" {
  urls            = [env("LDAP_URL")] # more DCs: failover, in order
  bind_dn         = env("LDAP_BIND_DN")
  bind_password   = env("LDAP_BIND_PASSWORD")
  ca_file         = env("LDAP_CA_FILE")
  tls_server_name = env("LDAP_TLS_SERVER_NAME", "")

  # The SCIM id is the object's GUID, in its usual string form
  # (1425c54a-2392-434b-9516-423040b4feba): it never changes, also not
  # when the object is renamed or moved.
  id_attribute = "objectGUID"

  # AD keeps member, memberOf and manager right by itself (linked
  # attributes) when an object is renamed, moved or deleted.
  referential_integrity = "server"

  # unicodePwd is written in the add or modify itself (AD has no Password
  # Modify extended operation).
  password_modify = "attribute"

  # AD hands out at most MaxValRange (1500) values of member per read; the
  # bridge reads large groups in ranges (member;range=0-1499, ...).
  value_range = 1500
  # AD's MaxPageSize is 1000: the bridge's paged searches stay within it.
  page_size = 1000

  pool_size = 8
  timeout   = "10s"

  cache {
    size = 100000
    ttl  = "10m"
  }

  resource "User" {
    base_dn       = env("AD_USERS_DN", "CN=Users,${env("LDAP_BASE_DN")}")
    scope         = "one"
    rdn_attribute = "cn" # a new display name renames the object; id and groups stay
    object_classes = ["user"]
    # People only: not computers (also objectClass=user), and not the
    # domain's built-in accounts (Administrator, Guest, krbtgt).
    filter             = "(&(objectCategory=person)(objectClass=user)(!(isCriticalSystemObject=TRUE)))"
    password_attribute = "unicodePwd"
    # active is bit 0x2 (ACCOUNTDISABLE) of userAccountControl.
    user_account_control = true
    upn_suffix           = env("AD_UPN_SUFFIX", "")
    # must_change_password = true  # pwdLastSet = 0 with each password set

    # Direct groups, kept by AD. With nested groups, replace by
    #   reference "groups" { target = "Group"; inverse_of = "member"; transitive = true }
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
    base_dn        = env("AD_GROUPS_DN", "CN=Users,${env("LDAP_BASE_DN")}")
    scope          = "one"
    rdn_attribute  = "cn"
    object_classes = ["group"]
    filter         = "(&(objectClass=group)(!(isCriticalSystemObject=TRUE)))"

    reference "member" {
      target = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "ad"

  auth {
    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
  }

  mapping "User" {
    # The user logon name (jane.doe@corp.example.com). The pre-Windows 2000
    # logon name, sAMAccountName, is made from it on create: the part
    # before the @, at most 20 characters.
    attribute "userName"        { native = "userPrincipalName" }
    attribute "name.givenName"  { native = "givenName" }
    attribute "name.familyName" { native = "sn" }
    attribute "displayName"     { native = "displayName" }

    # cn (the object's name in the OU): the display name, else
    # "given family", else the userName; it follows changes of those.
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

    # TRUE / FALSE from bit 0x2 of userAccountControl (see the resource).
    attribute "active" { native = "scimbridgeActive" }

    # Sent as unicodePwd over LDAPS; checked against the domain's password
    # policy (a refusal is a 400 that says which rule).
    attribute "password" { native = "unicodePwd" }

    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeID" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"     { native = "department" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization"   { native = "company" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"  { native = "manager" }

    attribute "groups.value"      { native = "memberOf" }
    attribute "meta.created"      { native = "whenCreated" }
    attribute "meta.lastModified" { native = "whenChanged" }
  }

  mapping "Group" {
    attribute "displayName"   { native = "cn" }
    attribute "members.value" { native = "member" }

    # groupType: global security group. Others: universal security
    # -2147483640, domain local security -2147483644; distribution groups
    # (no security bit): global 2, universal 8, domain local 4.
    computed "groupType" { value = "-2147483646" }

    attribute "meta.created"      { native = "whenCreated" }
    attribute "meta.lastModified" { native = "whenChanged" }
  }
}
