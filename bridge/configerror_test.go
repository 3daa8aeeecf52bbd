package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// An error the configuration causes is the bridge's 500, whatever else it
// wraps; its native words stay in the log (Cause), out of the body.
func TestConfigErrorIs500(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("sql: User has no attribute %q: %w", "frist_nm", backends.ErrConfig),
		errors.Join(backends.ErrInvalid, fmt.Errorf("%w: ldap add: attribute 'frist_nm' not allowed", backends.ErrConfig)),
	} {
		e := ToSCIMError(err)
		if e.Status != 500 || e.ScimType != "" || strings.Contains(e.Detail, "frist_nm") || !strings.Contains(e.Detail, "administrator's log") || !errors.Is(e, backends.ErrConfig) {
			t.Errorf("%v: %+v", err, e)
		}
	}
	if e := ToSCIMError(fmt.Errorf("sql: column %q must have a value: %w", "x", backends.ErrInvalid)); e.Status != 400 {
		t.Errorf("client data: %+v", e)
	}
}
