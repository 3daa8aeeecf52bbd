package bridge

import (
	"errors"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// configError answers an error caused by the configuration (the mapping
// names what the store does not have, or gives no value for what it
// requires): 500, since no request of the client can avoid it. The cause,
// with the store's own words, goes to the log for the administrator.
func configError(err error) *scim.Error {
	if !errors.Is(err, backends.ErrConfig) {
		return nil
	}
	return &scim.Error{Status: 500, Detail: "the bridge's mapping does not fit the directory; the administrator's log says why", Cause: err}
}
