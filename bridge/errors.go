package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// ToSCIMError is the one place where any error becomes an RFC 7644 error.
// Its details speak SCIM: they name the client's attribute and value, never
// a table, column, DN, file or the directory's own diagnostic. What a
// backend says around its sentinel is the error's Cause, logged with the
// request id (and the body then carries that id); only the structured parts
// of a backends.AttrError (mapped back to SCIM names) and a
// backends.AdminMessage reach the client. Anything unknown becomes a 500.
func ToSCIMError(err error) *scim.Error {
	if e, ok := scim.AsError(err); ok {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case http.StatusRequestEntityTooLarge:
			return scim.Errorf(fe.Code, scim.TypeTooMany, "request body too large")
		case http.StatusMethodNotAllowed:
			return scim.Errorf(fe.Code, "", "method not allowed")
		case http.StatusNotFound:
			return scim.Errorf(fe.Code, "", "no such endpoint")
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return scim.Errorf(fe.Code, "", "%s", fe.Message)
		}
	}
	if e := configError(err); e != nil {
		return e
	}
	var be *backendError
	errors.As(err, &be)
	var am *backends.AdminMessage
	// A structured refusal decides the kind: its Err may wrap other
	// sentinels (a lookup that found nothing).
	kind := err
	if ae, ok := backends.AsAttrError(err); ok {
		kind = ae.Kind
	}
	switch {
	case errors.As(err, &am) && am.Msg != "":
		// Written by the directory's administrator for clients.
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: am.Msg, Cause: err, Withheld: true}
	case errors.Is(kind, backends.ErrNotFound):
		return &scim.Error{Status: 404, Detail: "resource not found", Cause: err}
	case errors.Is(err, backends.ErrPrecondition):
		return &scim.Error{Status: 412, Detail: "the resource has changed", Cause: err}
	case errors.Is(kind, backends.ErrAlreadyExists):
		return &scim.Error{Status: 409, ScimType: scim.TypeUniqueness, Detail: be.refusal(kind, err), Cause: err, Withheld: true}
	case errors.Is(kind, backends.ErrInvalidReference):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: be.refusal(backends.ErrInvalidReference, err), Cause: err, Withheld: true}
	case errors.Is(kind, backends.ErrInvalid) && be.unwritten(err):
		// The directory wants a value of an attribute that nothing in the
		// mapping writes: the client cannot fix that, the admin can.
		return &scim.Error{Status: 500, Detail: "the directory refused the write for a value the bridge's mapping does not provide; see the server log", Cause: err}
	case errors.Is(kind, backends.ErrInvalid):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: be.refusal(backends.ErrInvalid, err), Cause: err, Withheld: true}
	case errors.Is(err, backends.ErrUnsupported):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: "the directory cannot carry out this request", Cause: err, Withheld: true}
	case errors.Is(err, backends.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &scim.Error{Status: 503, Detail: "the directory is unavailable; retry later", RetryAfter: 5, Cause: err}
	case errors.Is(err, backends.ErrBadUpstream):
		return &scim.Error{Status: 502, Detail: "the directory answered something the bridge cannot use (not JSON, too large, or without the record's id); the bridge's log says which", Cause: err}
	case errors.Is(err, backends.ErrPermission):
		return &scim.Error{Status: 502, Detail: "the directory refused the bridge's account this operation (missing rights, a search size limit, or a connection without TLS); the bridge's log says which", Cause: err}
	case errors.Is(err, context.Canceled):
		return &scim.Error{Status: 499, Detail: "request cancelled", Cause: err}
	}
	return &scim.Error{Status: 500, Detail: "internal error; see the server log", Cause: err}
}

// backendError is a backend's error with what ToSCIMError needs to word it
// for the client: the mapping of the resource type (native names back to
// SCIM ones) and the resource the client sent (its values). Resource
// attaches it to every error a backend returns.
type backendError struct {
	m   *mapping.Mapping
	doc scim.Doc // nil for reads
	err error
}

func (e *backendError) Error() string { return e.err.Error() }
func (e *backendError) Unwrap() error { return e.err }

// fromBackend attaches the context of r and doc to a backend's error.
func (r *Resource) fromBackend(err error, doc scim.Doc) error {
	if err == nil {
		return nil
	}
	var be *backendError
	if errors.As(err, &be) {
		return err
	}
	return &backendError{m: r.Mapping, doc: doc, err: err}
}

// unwritten reports a refusal about a native attribute that no mapping of
// the resource type writes.
func (e *backendError) unwritten(err error) bool {
	ae, ok := backends.AsAttrError(err)
	return ok && e != nil && ae.Attr != "" && !e.m.Writes(ae.Attr)
}

// refusal words a conflict, an invalid value or an unknown reference for
// the client: `userName "x" is already taken`.
func (e *backendError) refusal(kind, err error) string {
	if errors.Is(kind, backends.ErrAlreadyExists) {
		kind = backends.ErrAlreadyExists
	}
	ae, _ := backends.AsAttrError(err)
	rt := "resource"
	var name, value, reason string
	if e != nil {
		rt = e.m.RT.Name
	}
	if ae != nil {
		reason = ae.Reason
		if e != nil {
			name, value = e.nameAndValue(ae)
		}
	}
	switch kind {
	case backends.ErrAlreadyExists:
		switch {
		case name != "" && value != "":
			return fmt.Sprintf("%s %s is already taken", name, quote(value))
		case name != "":
			return fmt.Sprintf("%s is already taken by another %s", name, rt)
		}
		return fmt.Sprintf("a %s with these values already exists", rt)
	case backends.ErrInvalidReference:
		switch {
		case name != "" && value != "":
			return fmt.Sprintf("%s: %s is not the id of an existing resource", name, quote(value))
		case name != "":
			return fmt.Sprintf("%s names a resource that does not exist", name)
		}
		return "a reference names a resource that does not exist"
	}
	if reason == "" {
		reason = "is not accepted by the directory"
	}
	switch {
	case name != "" && value != "":
		return fmt.Sprintf("%s %s %s", name, quote(value), reason)
	case name != "":
		return name + " " + reason
	}
	if e == nil || e.doc == nil {
		return "the directory refused this request; the bridge's log says why"
	}
	return fmt.Sprintf("the directory refused a value of this %s; the bridge's log says which", rt)
}

// nameAndValue returns the SCIM name of the attribute ae is about and the
// value to show: the one the client sent (before any to_native
// expression), else the backend's when that is a plain copy of it. Secret
// attributes (password) are named but their values never shown.
func (e *backendError) nameAndValue(ae *backends.AttrError) (string, string) {
	a := e.m.ByNative(ae.Attr)
	if a == nil {
		return e.m.NameOfNative(ae.Attr), ""
	}
	if a.Secret() {
		return a.Name(), ""
	}
	v := e.m.SCIMValue(a, e.doc)
	if list, ok := v.([]any); ok {
		// A multi-valued attribute: the backend's value says which one.
		v = nil
		for _, el := range list {
			if s := fmt.Sprint(el); ae.Value != "" && strings.EqualFold(s, ae.Value) {
				v = s
			}
		}
	}
	switch x := v.(type) {
	case nil:
		if a.ToNative == nil || errors.Is(ae.Kind, backends.ErrInvalidReference) {
			return a.Name(), ae.Value
		}
		return a.Name(), ""
	case string:
		return a.Name(), x
	case bool, int64, float64:
		return a.Name(), fmt.Sprint(x)
	}
	return a.Name(), ""
}

// quote renders a client's value in a detail: quoted, control characters
// escaped, at most 64 characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		r := []rune(s)
		s = string(r[:64]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
