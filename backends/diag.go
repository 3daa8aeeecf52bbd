package backends

import "github.com/hashicorp/hcl/v2"

// ConfigDiag is the error diagnostic a backend's DecodeConfig (and the
// bridge's configuration loader) reports a problem of the configuration
// with. Its subject is the first of rng and fallbacks that is set: gohcl
// fills a struct field tagged `hcl:"<name>,attr_range"` with the range of
// the attribute and leaves it zero when the file does not set it, so a
// check names the attribute's range first and then its block's
// (`hcl:",def_range"`, or hcl.Body.MissingItemRange for a body). When no
// range is set (a configuration built in code), the diagnostic has no
// subject.
func ConfigDiag(rng hcl.Range, summary, detail string, fallbacks ...hcl.Range) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
	for _, r := range append([]hcl.Range{rng}, fallbacks...) {
		if r.Filename != "" || r.Start.Line != 0 {
			d.Subject = r.Ptr()
			break
		}
	}
	return d
}
