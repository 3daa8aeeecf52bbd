package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// Active Directory's account flags (user_account_control = true): the
// virtual attribute scimbridgeActive is bit 0x2 of userAccountControl.
const (
	uacAttr          = "userAccountControl"
	uacDisable       = 0x2   // ACCOUNTDISABLE
	uacNormalAccount = 0x200 // NORMAL_ACCOUNT
	// oidBitAnd is AD's LDAP_MATCHING_RULE_BIT_AND: the attribute's value
	// has every bit of the assertion set.
	oidBitAnd = "1.2.840.113556.1.4.803"
	// oidInChain is AD's LDAP_MATCHING_RULE_IN_CHAIN: the DN is reached
	// through any number of links.
	oidInChain = "1.2.840.113556.1.4.1941"
)

// uacActive reads the virtual active value of e from its
// userAccountControl; ok is false when e has none (or not a number).
func uacActive(e *goldap.Entry) (string, bool) {
	v, err := strconv.ParseInt(e.GetEqualFoldAttributeValue(uacAttr), 10, 64)
	if err != nil {
		return "", false
	}
	if v&uacDisable != 0 {
		return "FALSE", true
	}
	return "TRUE", true
}

// uacCompare compiles a comparison of the virtual active attribute to the
// bitwise rule: (userAccountControl:1.2.840.113556.1.4.803:=2) selects
// disabled accounts.
func (cp *compiler) uacCompare(c backends.Compare) (compiled, error) {
	cp.attrs[strings.ToLower(uacAttr)] = true
	disabled := fmt.Sprintf("(%s:%s:=%d)", uacAttr, oidBitAnd, uacDisable)
	enabled := fmt.Sprintf("(&(%s=*)(!%s))", uacAttr, disabled)
	eval := func(e *goldap.Entry) bool {
		v, ok := uacActive(e)
		if !ok {
			return false
		}
		return evalCompare(c, []string{v})
	}
	if c.Op != backends.Eq && c.Op != backends.Ne {
		return compiled{ldap: "(" + uacAttr + "=*)", eval: eval}, nil
	}
	var want bool
	switch strings.ToLower(c.Value) {
	case "true":
		want = true
	case "false":
	default:
		// Not a boolean: matches nothing (ne: everything with a value).
		none := compiled{ldap: matchNone, exact: true, eval: func(*goldap.Entry) bool { return false }}
		if c.Op == backends.Ne {
			return compiled{ldap: "(" + uacAttr + "=*)", exact: true, eval: func(e *goldap.Entry) bool { _, ok := uacActive(e); return ok }}, nil
		}
		return none, nil
	}
	if c.Op == backends.Ne {
		want = !want
	}
	l := disabled
	if want {
		l = enabled
	}
	return compiled{ldap: l, exact: true, eval: eval}, nil
}

// uacCreateValue is the userAccountControl of a new account.
func uacCreateValue(active bool) string {
	if active {
		return strconv.Itoa(uacNormalAccount)
	}
	return strconv.Itoa(uacNormalAccount | uacDisable)
}

// setAccountEnabled sets or clears ACCOUNTDISABLE in the userAccountControl
// of the entry at dn, keeping every other bit: it reads the value, then
// sends one modify that deletes exactly that value and adds the new one.
// AD applies a modify atomically and refuses the delete of a value that is
// no longer there (noSuchAttribute), so a change made by someone else
// between the read and the write is never overwritten: the bridge reads
// again and retries. The permissive modify control, which would turn that
// refusal into success, is deliberately not sent. It returns the value
// before the change, for an undo ("" when nothing changed).
func (b *Backend) setAccountEnabled(ctx context.Context, r *resource, id, dn string, active bool) (string, error) {
	for attempt := 0; ; attempt++ {
		var e *goldap.Entry
		err := b.run(ctx, func(c *goldap.Conn) error {
			var err error
			e, err = baseSearch(c, dn, b.idFilter(r, id), []string{uacAttr})
			return err
		})
		if err != nil {
			return "", b.mapErr(ctx, "read", dn, err)
		}
		if e == nil {
			return "", errStale
		}
		old := e.GetEqualFoldAttributeValue(uacAttr)
		cur, err := strconv.ParseInt(old, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%w: ldap: %s of %s is %q, not a number", backends.ErrConfig, uacAttr, dn, old)
		}
		next := cur | uacDisable
		if active {
			next = cur &^ uacDisable
		}
		if next == cur {
			return "", nil
		}
		req := goldap.NewModifyRequest(dn, nil)
		req.Delete(uacAttr, []string{old})
		req.Add(uacAttr, []string{strconv.FormatInt(next, 10)})
		b.modifies.Add(1)
		err = b.run(ctx, func(c *goldap.Conn) error { return c.Modify(req) })
		if goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultAttributeOrValueExists) && attempt < 8 {
			b.log.Debug("userAccountControl changed since it was read; reading it again", "dn", dn)
			continue
		}
		if isStaleErr(err) {
			return "", errStale
		}
		if err != nil {
			return "", r.refused(b.mapErr(ctx, "modify", dn, err), "")
		}
		return old, nil
	}
}

// restoreAccountControl puts back the value setAccountEnabled replaced,
// when a later part of the same write failed.
func (b *Backend) restoreAccountControl(ctx context.Context, dn, old string) {
	if old == "" {
		return
	}
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(uacAttr, []string{old})
	if err := b.run(context.WithoutCancel(ctx), func(c *goldap.Conn) error { return c.Modify(req) }); err != nil {
		b.log.Error("could not restore userAccountControl after a failed modify", "dn", dn, "value", old, "error", err)
	}
}
