package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

func TestOktaSpecMemory(t *testing.T) {
	_, c, _ := startMemory(t)
	scimtest.SeedForOktaSpec(t, c)
	res := scimtest.RunOktaSpec(t, c.Base, c.Auth)
	if res.Requests == 0 || res.Assertions == 0 {
		t.Fatalf("the SPEC test ran nothing: %+v", res)
	}
}
