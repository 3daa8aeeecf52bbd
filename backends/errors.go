package backends

import (
	"errors"
	"fmt"
)

// AttrError is a refusal about the values of one native attribute: a
// uniqueness conflict (Kind ErrAlreadyExists), a value the directory does
// not accept (ErrInvalid) or an id that names no record
// (ErrInvalidReference). The bridge names the SCIM attribute mapped to
// Attr, with the client's value, and Reason; Err, the directory's own error
// (tables, columns, DNs, diagnostics), goes to the log only.
type AttrError struct {
	// Kind is the sentinel: ErrAlreadyExists, ErrInvalid or ErrInvalidReference.
	Kind error
	// Attr is the native attribute, in the configuration's spelling; ""
	// when the directory did not say which (the client then gets a generic
	// message).
	Attr string
	// Value is the refused value when the backend knows it.
	Value string
	// Reason completes "<attribute> ..." for the client: "is too long (at
	// most 64 characters)", "is required by the directory". It must not
	// name native attributes, tables or entries. "" means the default of
	// Kind ("is already taken", "names no resource", "is not accepted").
	Reason string
	// Err is the directory's error, for the log; may be nil.
	Err error
}

func (e *AttrError) Error() string {
	msg := e.Kind.Error()
	if e.Attr != "" {
		msg += ": " + e.Attr
	}
	if e.Value != "" {
		msg += fmt.Sprintf(" %q", truncate(e.Value, 200))
	}
	if e.Reason != "" {
		msg += " " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is see Kind and the directory's error.
func (e *AttrError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Conflict is the ErrAlreadyExists refusal of value (may be "") of the
// native attribute attr (may be "" when the directory did not say).
func Conflict(attr, value string, err error) *AttrError {
	return &AttrError{Kind: ErrAlreadyExists, Attr: attr, Value: value, Err: err}
}

// Invalid is the ErrInvalid refusal of value of attr, for reason.
func Invalid(attr, value, reason string, err error) *AttrError {
	return &AttrError{Kind: ErrInvalid, Attr: attr, Value: value, Reason: reason, Err: err}
}

// AsAttrError returns the AttrError in err's chain.
func AsAttrError(err error) (*AttrError, bool) {
	var ae *AttrError
	ok := errors.As(err, &ae)
	return ae, ok
}

// AdminMessage is a refusal whose text the directory's administrator wrote
// for SCIM clients: a stored procedure's RAISE EXCEPTION (PostgreSQL) or
// SIGNAL (MySQL, MariaDB) message. The bridge shows Msg as it is.
type AdminMessage struct {
	// Kind is the sentinel, usually ErrInvalid.
	Kind error
	Msg  string
	// Err is the directory's error, for the log.
	Err error
}

func (e *AdminMessage) Error() string {
	if e.Err != nil {
		return e.Kind.Error() + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Kind.Error() + ": " + e.Msg
}

// Unwrap lets errors.Is see Kind and the directory's error.
func (e *AdminMessage) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
