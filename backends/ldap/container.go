package ldap

import (
	"context"
	"errors"
	"fmt"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// errNoContainer says that a resource's disabled container does not exist
// and the configuration does not let the bridge create it. It wraps no
// sentinel: the answer is a 500, and the log says what to do.
var errNoContainer = errors.New("ldap: the disabled container does not exist")

// ensureDisabled makes sure r's disabled container exists before an entry
// is moved or added into it: it is looked up once per process (and again
// after a move into it found it gone) and, with create_disabled_container,
// added as an organizationalUnit when it is missing.
func (b *Backend) ensureDisabled(ctx context.Context, r *resource) error {
	if r.disabled == nil || r.disabledReady.Load() {
		return nil
	}
	r.disabledMu.Lock()
	defer r.disabledMu.Unlock()
	if r.disabledReady.Load() {
		return nil
	}
	var found *goldap.Entry
	err := b.run(ctx, func(c *goldap.Conn) error {
		var err error
		found, err = baseSearch(c, r.disabledDN, matchAll, []string{"1.1"})
		return err
	})
	if err != nil {
		return b.mapErr(ctx, "search", r.disabledDN, err)
	}
	if found != nil {
		r.disabledReady.Store(true)
		return nil
	}
	if !r.cfg.CreateDisabledContainer {
		b.log.Error("the disabled container does not exist: deactivations fail until it is created; create it or set create_disabled_container = true",
			"resource", r.typ, "disabled_base_dn", r.disabledDN)
		return fmt.Errorf("%w: %s (resource %q)", errNoContainer, r.disabledDN, r.typ)
	}
	rdn := r.disabled.RDNs[0].Attributes[0] // ou=<name>, checked at load
	req := goldap.NewAddRequest(r.disabledDN, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	req.Attribute(rdn.Type, []string{rdn.Value})
	err = b.run(ctx, func(c *goldap.Conn) error { return c.Add(req) })
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists):
		// Created meanwhile (another bridge), or there but not readable.
	case err != nil:
		err = b.mapErr(ctx, "add", r.disabledDN, err)
		if errors.Is(err, backends.ErrUnavailable) {
			return err
		}
		b.log.Error("could not create the disabled container (create_disabled_container = true): the bridge's account needs the right to add it, or create it yourself",
			"resource", r.typ, "disabled_base_dn", r.disabledDN, "error", err)
		return fmt.Errorf("creating the disabled container %s: %w", r.disabledDN, err)
	default:
		b.log.Info("created the disabled container", "resource", r.typ, "disabled_base_dn", r.disabledDN)
	}
	r.disabledReady.Store(true)
	return nil
}

// prepareDisabled runs ensureDisabled for every resource at start. A
// directory that cannot be reached is left for first use; a container the
// bridge was told to create and could not is a start-up error, and a
// missing one it was not told to create is logged (deactivations fail).
func (b *Backend) prepareDisabled(ctx context.Context) error {
	for _, rc := range b.cfg.Resources {
		r := b.res[rc.Type]
		err := b.ensureDisabled(ctx, r)
		switch {
		case err == nil, errors.Is(err, errNoContainer):
		case errors.Is(err, backends.ErrUnavailable):
			b.log.Warn("could not check the disabled container at start; will retry on use", "resource", r.typ, "error", err)
		case r.cfg.CreateDisabledContainer:
			return err
		default:
			b.log.Error("could not check the disabled container at start", "resource", r.typ, "disabled_base_dn", r.disabledDN, "error", err)
		}
	}
	return nil
}
