package ldap

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// Active Directory (and Samba AD) specifics, used when the configuration
// names AD's attributes:
//
//   - id_attribute = "objectGUID": the id is the GUID in its canonical
//     string form. AD stores it as 16 bytes whose first three fields are
//     little-endian (Microsoft's GUID layout), so the string
//     "1425c54a-2392-434b-9516-423040b4feba" is stored as the bytes
//     4a c5 25 14 92 23 4b 43 95 16 42 30 40 b4 fe ba. Filters carry the
//     bytes, each escaped (\4a\c5...), as AD requires for binary values.
//   - password_attribute = "unicodePwd": the value written is the password
//     in double quotes, UTF-16LE encoded; AD accepts it over TLS only, so
//     the configuration is refused without ldaps:// or start_tls.
//   - user_account_control = true on a resource: see uac.go.
//   - sAMAccountName values are checked before writing (checkSAMAccountName).

// guidIDs reports whether ids are AD objectGUIDs.
func (b *Backend) guidIDs() bool { return strings.EqualFold(b.cfg.IDAttribute, "objectGUID") }

// guidString formats a binary objectGUID in the canonical string form;
// "" when raw is not 16 bytes.
func guidString(raw []byte) string {
	if len(raw) != 16 {
		return ""
	}
	var b [16]byte
	// Data1 (4 bytes), Data2 and Data3 (2 bytes each) are little-endian.
	b[0], b[1], b[2], b[3] = raw[3], raw[2], raw[1], raw[0]
	b[4], b[5] = raw[5], raw[4]
	b[6], b[7] = raw[7], raw[6]
	copy(b[8:], raw[8:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// guidBytes is the inverse of guidString; ok is false for anything that
// is not a canonical GUID string.
func guidBytes(s string) ([]byte, bool) {
	if !uuidRE.MatchString(s) {
		return nil, false
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, false
	}
	return []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}, true
}

// escapeBinary escapes every byte of v for a filter assertion value.
func escapeBinary(v []byte) string {
	var sb strings.Builder
	for _, c := range v {
		fmt.Fprintf(&sb, "\\%02x", c)
	}
	return sb.String()
}

// entryID returns the SCIM id of e: the id attribute's value, or for
// objectGUID its string form.
func (b *Backend) entryID(e *goldap.Entry) string {
	if b.guidIDs() {
		return guidString(e.GetEqualFoldRawAttributeValue(b.cfg.IDAttribute))
	}
	return e.GetEqualFoldAttributeValue(b.cfg.IDAttribute)
}

// idValue is id as an escaped filter assertion value of the id attribute
// (id must be valid).
func (b *Backend) idValue(id string) string {
	if b.guidIDs() {
		if raw, ok := guidBytes(id); ok {
			return escapeBinary(raw)
		}
	}
	return goldap.EscapeFilter(id)
}

// GUIDDN is AD's <GUID=...> form of a DN, which names the object with
// that objectGUID wherever it lies (AD and Samba accept it as the base of
// a search and the target of a modify).
func GUIDDN(id string) (string, bool) {
	raw, ok := guidBytes(id)
	if !ok {
		return "", false
	}
	return "<GUID=" + hex.EncodeToString(raw) + ">", true
}

// isUnicodePwd reports whether attr is AD's password attribute.
func isUnicodePwd(attr string) bool { return strings.EqualFold(attr, "unicodePwd") }

// unicodePwd encodes a password as AD's unicodePwd takes it: in double
// quotes, UTF-16 little-endian.
func unicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i], out[2*i+1] = byte(c), byte(c>>8)
	}
	return string(out)
}

// passwordValue is the value written for a password: encoded for
// unicodePwd, else as it is.
func (r *resource) passwordValue(pw string) string {
	if isUnicodePwd(r.cfg.PasswordAttribute) {
		return unicodePwd(pw)
	}
	return pw
}

// samForbidden are the characters AD refuses in a sAMAccountName (besides
// control characters); a name of only dots and spaces is refused too, as is
// one ending in a dot.
const samForbidden = `"/\[]:;|=,+*?<>@`

// maxSAMAccountName is the length AD enforces for users' logon names
// (pre-Windows 2000).
const maxSAMAccountName = 20

// checkSAMAccountName refuses values AD refuses for a user's
// sAMAccountName, with a reason that says which rule.
func checkSAMAccountName(v string) error {
	bad := func(reason string) error {
		return backends.Invalid("sAMAccountName", v, reason, fmt.Errorf("ldap: sAMAccountName %q %s", v, reason))
	}
	if n := len([]rune(v)); n > maxSAMAccountName {
		return bad(fmt.Sprintf("must be at most %d characters (Active Directory's pre-Windows 2000 logon name), not %d", maxSAMAccountName, n))
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(samForbidden, c) {
			return bad(fmt.Sprintf(`must not contain %q: Active Directory refuses the characters " / \ [ ] : ; | = , + * ? < > @ and control characters in logon names`, c))
		}
	}
	if strings.Trim(v, ". ") == "" || strings.HasSuffix(v, ".") {
		return bad("must not consist of dots and spaces only or end with a dot")
	}
	return nil
}

// deriveSAMAccountName makes a logon name from a userPrincipalName as AD's
// tools do: the part before the @, forbidden characters replaced by _,
// cut to 20 characters.
func deriveSAMAccountName(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	var sb strings.Builder
	n := 0
	for _, c := range local {
		if n == maxSAMAccountName {
			break
		}
		if c < 0x20 || c == 0x7f || strings.ContainsRune(samForbidden, c) {
			c = '_'
		}
		sb.WriteRune(c)
		n++
	}
	s := strings.TrimRight(sb.String(), ".")
	if strings.Trim(s, ". ") == "" {
		return ""
	}
	return s
}

// withUPNSuffix completes a userPrincipalName without a suffix.
func (r *resource) withUPNSuffix(v string) string {
	if r.cfg.UPNSuffix == "" || v == "" || strings.Contains(v, "@") {
		return v
	}
	return v + "@" + r.cfg.UPNSuffix
}

// passwordChanges are the modifications that set a password: the
// (encoded) value and, with must_change_password, pwdLastSet = 0.
func (r *resource) passwordChanges(pw string) []change {
	out := []change{{op: backends.ModReplace, attr: r.cfg.PasswordAttribute, values: []string{r.passwordValue(pw)}}}
	if r.cfg.MustChangePassword {
		out = append(out, change{op: backends.ModReplace, attr: "pwdLastSet", values: []string{"0"}})
	}
	return out
}

// adCheck refuses values Active Directory would refuse with a less clear
// message: a user's sAMAccountName.
func (r *resource) adCheck(attr string, vals []string) error {
	if !r.cfg.UserAccountControl || !strings.EqualFold(attr, "sAMAccountName") {
		return nil
	}
	for _, v := range vals {
		if err := checkSAMAccountName(v); err != nil {
			return err
		}
	}
	return nil
}

// adCreateAttrs completes the attributes of a new entry for AD: the UPN
// suffix, a sAMAccountName made from the UPN when none is given (users),
// and userAccountControl from the virtual active attribute. attrs is not
// changed; the result may share its value slices.
func (r *resource) adCreateAttrs(attrs backends.Attrs) (backends.Attrs, error) {
	if !r.cfg.UserAccountControl && r.cfg.UPNSuffix == "" {
		return attrs, nil
	}
	out := make(backends.Attrs, len(attrs)+2)
	var upn, sam string
	active := true
	for k, v := range attrs {
		switch {
		case strings.EqualFold(k, "userPrincipalName"):
			vals := make([]string, 0, len(v))
			for _, x := range nonEmpty(v) {
				vals = append(vals, r.withUPNSuffix(x))
			}
			v = vals
			if len(vals) > 0 {
				upn = vals[0]
			}
		case strings.EqualFold(k, "sAMAccountName"):
			if err := r.adCheck(k, nonEmpty(v)); err != nil {
				return nil, err
			}
			if vals := nonEmpty(v); len(vals) > 0 {
				sam = vals[0]
			}
		case r.cfg.UserAccountControl && strings.EqualFold(k, uacAttr):
			continue // the bridge sets it from the active attribute
		case r.cfg.UserAccountControl && strings.EqualFold(k, activeAttr):
			if vals := nonEmpty(v); len(vals) > 0 {
				a, err := parseActive(vals[0])
				if err != nil {
					return nil, err
				}
				active = a
			}
			continue
		}
		out[k] = v
	}
	if r.cfg.UserAccountControl {
		out[uacAttr] = []string{uacCreateValue(active)}
		if sam == "" && upn != "" {
			if d := deriveSAMAccountName(upn); d != "" {
				out["sAMAccountName"] = []string{d}
			}
		}
	}
	return out, nil
}

// needsPassword reports whether err is AD's refusal to enable an account
// that has no password (0000052D, a constraint violation).
func needsPassword(err error) bool {
	var le *goldap.Error
	return errors.As(err, &le) && le.ResultCode == goldap.LDAPResultConstraintViolation && strings.Contains(le.Err.Error(), "0000052D")
}

var (
	// Samba: "samldb: samAccountName 'x' already in use!"; AD: 00000524
	// (ERROR_USER_EXISTS).
	samTakenRE = regexp.MustCompile(`(?i)\b00000524\b|samAccountName '[^']*' already in use`)
	// Samba: "samldb: userPrincipalName 'x' is already in use".
	upnTakenRE = regexp.MustCompile(`(?i)userPrincipalName '[^']*' (?:is )?already in use`)
)

// adPasswordReasons word the password policy refusals Samba explains;
// AD's own 0000052D says only that the value broke a constraint.
var adPasswordReasons = []struct{ phrase, reason string }{
	{"too short", "it is shorter than the domain's minimum password length"},
	{"complexity", "it does not meet the domain's complexity rules (three of: upper case, lower case, digits, symbols; not the account's name)"},
	{"history", "it was used recently (the domain keeps a password history)"},
	{"too young", "it was changed too recently (the domain's minimum password age)"},
	{"minimum password age", "it was changed too recently (the domain's minimum password age)"},
}

// adError maps Active Directory's diagnostic codes (in the message of an
// LDAP error) to the errors they mean; nil when msg has none it knows.
func (b *Backend) adError(op, dn string, le *goldap.Error, msg string) error {
	cause := fmt.Errorf("ldap %s %s: %w", op, dn, le)
	switch {
	case samTakenRE.MatchString(msg):
		return backends.Conflict("sAMAccountName", "", cause)
	case upnTakenRE.MatchString(msg):
		return backends.Conflict("userPrincipalName", "", cause)
	case strings.Contains(msg, "0000052D"):
		// A password policy refusal (ERROR_PASSWORD_RESTRICTION).
		reason := passwordPolicy + " (length, complexity, history or age)"
		lower := strings.ToLower(msg)
		for _, p := range adPasswordReasons {
			if strings.Contains(lower, p.phrase) {
				reason = passwordPolicy + ": " + p.reason
				break
			}
		}
		return backends.Invalid("", "", reason, cause)
	case le.ResultCode == goldap.LDAPResultUnwillingToPerform && strings.Contains(msg, "0000001F"):
		// WILL_NOT_PERFORM (problem 5003) with ERROR_GEN_FAILURE: how AD
		// refuses a password write on a connection without TLS, and other
		// writes its configuration forbids. Not the client's doing.
		b.log.Error("Active Directory is unwilling to perform the operation (problem 5003); a password needs LDAPS or StartTLS, and some attributes only the system writes",
			"op", op, "dn", dn, "message", msg)
		return fmt.Errorf("%w: ldap %s: Active Directory is unwilling to perform it: %s", backends.ErrConfig, op, msg)
	}
	return nil
}

// neededRight says, for the log of an access refusal, which right the
// bridge's account lacks for op, in Active Directory's terms (other
// directories grant the same through their ACLs).
func neededRight(op string) string {
	switch op {
	case "add":
		return "Create <class> objects (Create Child) on the container, and Reset Password when a password is sent"
	case "delete":
		return "Delete <class> objects (Delete Child) on the container, or Delete on the object"
	case "rename":
		return "Write Property on name and the RDN attribute (cn); to move: Create Child on the target and Delete Child on the source"
	case "modify", "password modify":
		return "Write Property on the attributes written; Reset Password (User-Force-Change-Password) for a password"
	case "update reference":
		return "Write Property on the reference attribute (member) of the referencing entries"
	}
	return "Read Property / List Contents on the containers and attributes read"
}

// adSystemFilled are MUST attributes of AD's user and group classes that
// the domain controller fills in itself when an object is added (the
// schema still lists them as MUST): no mapping needs to write them.
var adSystemFilled = map[string]bool{
	"instancetype": true, "objectcategory": true, "ntsecuritydescriptor": true, "objectsid": true,
	"samaccountname": true, "grouptype": true, "useraccountcontrol": true,
}

// dropRDNReplace removes a replace of the RDN attribute by exactly the
// value the entry's RDN holds (after a rename, or unchanged): Active
// Directory refuses any modify of the RDN attribute (notAllowedOnRDN),
// even to the value it has, and elsewhere it changes nothing.
func dropRDNReplace(r *resource, changes []change, rdn string) []change {
	out := changes[:0:0]
	for _, ch := range changes {
		if ch.op == backends.ModReplace && ch.ref == nil && strings.EqualFold(ch.attr, r.rdnAttr) && len(ch.values) == 1 && ch.values[0] == rdn {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// oidCapActiveDirectory in supportedCapabilities: the server is an AD DC.
const oidCapActiveDirectory = "1.2.840.113556.1.4.800"

// adMatchingRules fills in the matching rules AD's schema does not show,
// from the syntaxes it does: AD compares Unicode strings (Directory
// String) ignoring case, integers and times by value.
func adMatchingRules(s schema) {
	seen := map[*attrType]bool{}
	for _, at := range s {
		if seen[at] || at.equality != "" {
			continue
		}
		seen[at] = true
		switch at.syntax {
		case "1.3.6.1.4.1.1466.115.121.1.15":
			at.equality, at.substr, at.ordering = "caseIgnoreMatch", "caseIgnoreSubstringsMatch", "caseIgnoreOrderingMatch"
		case "1.3.6.1.4.1.1466.115.121.1.27":
			at.equality, at.ordering = "integerMatch", "integerOrderingMatch"
		case syntaxGenTime:
			at.equality, at.ordering = "generalizedTimeMatch", "generalizedTimeOrderingMatch"
		}
	}
}

// followSAM lets a sAMAccountName made from the userPrincipalName follow
// a new one: when the plan changes the UPN and not the sAMAccountName,
// and the entry's sAMAccountName is the one deriveSAMAccountName makes of
// its current UPN, the plan also replaces it with the one made of the new
// UPN. A sAMAccountName an administrator chose stays.
func (b *Backend) followSAM(ctx context.Context, r *resource, id string, pl *plan) error {
	if pl.newUPN == "" || pl.samGiven {
		return nil
	}
	defer func() { pl.newUPN = "" }() // once: execute may run the plan again
	e, err := b.findEntry(ctx, r, id, []string{"userPrincipalName", "sAMAccountName"})
	if err != nil {
		return err
	}
	sam := e.GetEqualFoldAttributeValue("sAMAccountName")
	next := deriveSAMAccountName(pl.newUPN)
	if next == "" || sam == "" || strings.EqualFold(sam, next) ||
		!strings.EqualFold(sam, deriveSAMAccountName(e.GetEqualFoldAttributeValue("userPrincipalName"))) {
		return nil
	}
	pl.changes = append(pl.changes, change{op: backends.ModReplace, attr: "sAMAccountName", values: []string{next}})
	return nil
}

// upnTaken turns a refused add of a user whose DN is taken into a conflict
// on the userPrincipalName when another user holds that UPN: the clearer
// reason (cn is computed from several attributes, the UPN is the
// userName).
func (b *Backend) upnTaken(ctx context.Context, r *resource, attrs backends.Attrs, err error) error {
	if !r.cfg.UserAccountControl || !errors.Is(err, backends.ErrAlreadyExists) {
		return err
	}
	upn := nonEmpty(attrs.Get("userPrincipalName"))
	if len(upn) == 0 {
		return err
	}
	filter := fmt.Sprintf("(&%s(userPrincipalName=%s))", r.filter, goldap.EscapeFilter(upn[0]))
	entries, serr := b.searchAll(ctx, r.baseDN, r.scope, filter, []string{"1.1"})
	if serr != nil || len(entries) == 0 {
		return err
	}
	return backends.Conflict("userPrincipalName", upn[0], err)
}
