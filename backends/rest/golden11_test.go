package rest_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestExamplesGolden11: the SCIM 1.1 sequence of Okta's on-premises
// Provisioning Agent on each REST example, served beside its 2.0 endpoint
// (scimtest.Edit11) with max_filter_scan = 0, so that the existence check
// and the incremental import are run by the API. Okta's custom attribute
// takes the example's title field.
func TestExamplesGolden11(t *testing.T) {
	for _, ex := range []struct {
		name, file string
		serve      func(t *testing.T, o serveOpts) *served
	}{
		{"PocketBase", "pocketbase.hcl", servePocketBase},
		{"JSONServer", "json-server.hcl", serveJSONServer},
	} {
		t.Run(ex.name, func(t *testing.T) {
			o := scimtest.Options11{Custom: "title", NoScan: true}
			s := ex.serve(t, serveOpts{edits: [][2]string{scimtest.Edit11(t, example(ex.file), o)}})
			tg := s.target
			tg.Client, tg.Backend = bridgetest.NewClient(t, s.bridge.URL+scimtest.Base11), s.bridge.Backends[s.name]
			scimtest.RunGolden11(t, &scimtest.Target11{Target: &tg, Custom: o.Custom, NoScan: true})
		})
	}
}
