package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestExamplesFiltersAgree: on every shipped SQL example, on PostgreSQL
// and MariaDB, every filter over the stored resources returns what their
// reads say.
func TestExamplesFiltersAgree(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			scimtest.SeedVaried(t, s.c)
			t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, s.srv, s.c))
		})
	}
}

// TestDS389FiltersAgree: the same on examples/389ds.hcl and 389 DS.
func TestDS389FiltersAgree(t *testing.T) {
	d := startDS389(t)
	scimtest.SeedVaried(t, d.c)
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, d.bridge, d.c))
}
