package scim

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorSchema is the schema URN of an RFC 7644 §3.12 error body.
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// scimType values from RFC 7644 §3.12.
const (
	TypeInvalidFilter = "invalidFilter"
	TypeTooMany       = "tooMany"
	TypeUniqueness    = "uniqueness"
	TypeMutability    = "mutability"
	TypeInvalidSyntax = "invalidSyntax"
	TypeInvalidPath   = "invalidPath"
	TypeNoTarget      = "noTarget"
	TypeInvalidValue  = "invalidValue"
	TypeInvalidVers   = "invalidVers"
	TypeSensitive     = "sensitive"
)

// Error is a SCIM protocol error: an HTTP status, an optional scimType and
// a detail that is safe to show to the client.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// RetryAfter, in seconds, is sent as a Retry-After header when > 0.
	RetryAfter int
	// Cause is logged, never sent.
	Cause error
	// Withheld marks a Detail that stands in for what Cause says (a
	// directory's message, a native attribute, a file and line): the error
	// handler logs Cause with the request id, and adds that id to the
	// detail so that an admin can find the line.
	Withheld bool
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

func (e *Error) Unwrap() error { return e.Cause }

// Body is the JSON form of the error.
func (e *Error) Body() map[string]any {
	b := map[string]any{
		"schemas": []string{ErrorSchema},
		"status":  fmt.Sprint(e.Status),
		"detail":  e.Detail,
	}
	if e.ScimType != "" {
		b["scimType"] = e.ScimType
	}
	return b
}

// Errorf builds an Error.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with the given scimType.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, scimType, format, args...)
}

// NotFound is a 404.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "", format, args...)
}

// AsError returns err as an *Error if it is (or wraps) one.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
