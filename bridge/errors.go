package bridge

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// ToSCIMError is the one place where any error becomes an RFC 7644 error.
// Backend messages wrapped around sentinels are safe to show (the backend
// contract says so); anything else becomes a 500 whose cause is logged,
// never sent.
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
	switch {
	case errors.Is(err, backends.ErrNotFound):
		return &scim.Error{Status: 404, Detail: "resource not found", Cause: err}
	case errors.Is(err, backends.ErrAlreadyExists):
		return &scim.Error{Status: 409, ScimType: scim.TypeUniqueness, Detail: err.Error(), Cause: err}
	case errors.Is(err, backends.ErrInvalidReference):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: err.Error(), Cause: err}
	case errors.Is(err, backends.ErrInvalid):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: err.Error(), Cause: err}
	case errors.Is(err, backends.ErrUnsupported):
		return &scim.Error{Status: 400, ScimType: scim.TypeInvalidValue, Detail: err.Error(), Cause: err}
	case errors.Is(err, backends.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &scim.Error{Status: 503, Detail: "the directory is unavailable; retry later", RetryAfter: 5, Cause: err}
	case errors.Is(err, backends.ErrPermission):
		return &scim.Error{Status: 502, Detail: "the directory refused the bridge's account this operation (missing rights, or a connection without TLS); the bridge's log says which", Cause: err}
	case errors.Is(err, context.Canceled):
		return &scim.Error{Status: 499, Detail: "request cancelled", Cause: err}
	}
	return &scim.Error{Status: 500, Detail: "internal error; see the server log", Cause: err}
}
