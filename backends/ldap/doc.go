// Package ldap is the scimbridge backend for LDAP directories (OpenLDAP,
// 389 Directory Server, Active Directory and Samba AD: see ad.go).
//
// Records are entries below a base DN per resource type; the SCIM id is a
// server-assigned unique attribute (entryUUID on OpenLDAP, nsUniqueId on
// 389 DS), never the DN, so renames keep ids. Reference attributes (group
// members, a user's groups, a manager) hold ids in records and DNs or names
// in the directory; the backend translates in batches through a ristretto
// cache that is verified on use. Membership changes are single modify
// requests carrying only the changed values.
//
// A complete configuration (the body of the block is decoded by
// DecodeConfig; env() and file() come from the bridge's evaluation context):
//
//	backend "ldap" "corp" {
//	  urls          = [env("LDAP_URL"), env("LDAP_URL_STANDBY", "")] # failover, in order
//	  bind_dn       = env("LDAP_BIND_DN")
//	  bind_password = env("LDAP_BIND_PASSWORD")    # or bind_password_file = "/run/secrets/ldap"
//
//	  start_tls        = false                     # ldap:// + StartTLS; ldaps:// URLs use TLS anyway
//	  ca_file          = "/etc/ssl/ldap-ca.pem"    # "" = system roots
//	  client_cert_file = ""                        # optional client certificate ...
//	  client_key_file  = ""                        # ... and its key
//
//	  pool_size   = 8        # bound connections in use at once
//	  timeout     = "10s"    # per operation (a shorter request deadline wins)
//	  dial_timeout = "5s"
//	  max_backoff = "2s"     # a failed server is retried after 100ms, 200ms, ... up to this
//
//	  id_attribute          = "entryUUID"   # "nsUniqueId" on 389 DS
//	  referential_integrity = "bridge"      # or "server" with the refint overlay / plugin
//	  password_modify       = "auto"        # RFC 3062 when announced, else the attribute
//	  page_size   = 500                     # internal paged searches (AD: at most its MaxPageSize, 1000)
//	  value_range = 0                       # AD: read member / memberOf in ranges of 1500 (MaxValRange)
//	  max_cursors = 4                       # open paged-results cursors for SCIM paging
//	  cursor_ttl  = "2m"
//	  count_refresh = "10m"                 # recount each listing's totalResults in the background
//
//	  cache {
//	    size = 100000
//	    ttl  = "10m"
//	  }
//
//	  resource "User" {
//	    base_dn            = "ou=people,${env("LDAP_BASE_DN")}"
//	    scope              = "sub"
//	    rdn_attribute      = "uid"
//	    object_classes     = ["inetOrgPerson"]
//	    filter             = "(objectClass=inetOrgPerson)"
//	    password_attribute = "userPassword"       # written, never read back
//	    # operational attributes read with "all attributes" (mapped ones always are):
//	    operational_attributes = ["createTimestamp", "modifyTimestamp"]
//	    # deactivation by moving: entries below it read scimbridgeActive = FALSE
//	    disabled_base_dn          = "ou=disabled,ou=people,${env("LDAP_BASE_DN")}"
//	    create_disabled_container = true          # add the OU when it is missing
//	    # Active Directory instead (docs/activedirectory.md):
//	    # user_account_control = true             # scimbridgeActive = bit 0x2 of userAccountControl
//	    # upn_suffix           = "corp.example.com" # "jane" is stored as jane@corp.example.com
//	    # must_change_password = false            # pwdLastSet = 0 with every password set
//
//	    reference "memberOf" {                    # maintained by the memberof overlay
//	      target    = "Group"
//	      read_only = true
//	    }
//	    # without the overlay, compute it by search instead:
//	    # reference "groups" { target = "Group"; inverse_of = "member" }
//	    # AD, nested groups too: add transitive = true (rule 1.2.840.113556.1.4.1941)
//	    reference "manager" {
//	      target = "User"
//	    }
//	  }
//
//	  resource "Group" {
//	    base_dn        = "ou=groups,${env("LDAP_BASE_DN")}"
//	    rdn_attribute  = "cn"
//	    object_classes = ["groupOfNames"]
//
//	    reference "member" {
//	      target            = "User"
//	      empty_placeholder = "cn=nobody"           # member is MUST in groupOfNames; never shown
//	    }
//	    # groupOfUniqueNames: reference "uniqueMember" { target = "User" }
//	    # posixGroup:         reference "memberUid" { target = "User"; value_kind = "rdn" }
//	  }
//	}
//
// Errors: entryAlreadyExists on an add or a rename is a backends.Conflict
// on the RDN attribute (so is a uniqueness plugin's or overlay's
// constraint violation, on the attribute it names), noSuchObject
// ErrNotFound, schema / constraint / syntax violations an ErrInvalid
// AttrError on the attribute the diagnostic names (the diagnostic itself
// stays in the error, for the log: the bridge never shows it),
// insufficientAccessRights ErrPermission (the DN is logged), an
// unreachable or busy server ErrUnavailable. What only the configuration
// can cause is ErrConfig: an attribute type the directory does not define
// (undefinedAttributeType), one the entry's object classes do not allow or
// object classes it refuses (objectClassViolation, other than a missing
// MUST value), a write of the id attribute. DescribeNative lets serve find
// these in the mapping before it serves. Filters the
// directory cannot evaluate exactly (a case-sensitive substring on a
// case-insensitive attribute, ordering without an ordering rule) are
// widened for the directory and finished in memory, so Search answers
// them itself.
package ldap
