package bridgetest

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// WantDiagnostic is one problem a check must report: its summary, a text
// on the line it must point at, and a text its detail must hold.
type WantDiagnostic struct{ Summary, At, Detail string }

// ExpectDiagnostics fails the test unless diags are exactly the wanted
// errors (by summary), each at the line of text holding its At.
func ExpectDiagnostics(t testing.TB, text string, diags hcl.Diagnostics, wants ...WantDiagnostic) {
	t.Helper()
	got := map[string]*hcl.Diagnostic{}
	for _, d := range diags {
		got[d.Summary] = d
	}
	for _, w := range wants {
		d := got[w.Summary]
		line := LineOf(text, w.At)
		switch {
		case d == nil:
			t.Errorf("no %q in %v", w.Summary, diags)
		case d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Start.Line != line || !strings.HasSuffix(d.Subject.Filename, ".hcl"):
			t.Errorf("%q at %v, want an error at line %d", w.Summary, d.Subject, line)
		case !strings.Contains(d.Detail, w.Detail):
			t.Errorf("%q: detail %q lacks %q", w.Summary, d.Detail, w.Detail)
		}
	}
	if len(diags) != len(wants) {
		t.Errorf("want %d problems, got %v", len(wants), diags)
	}
}

// LineOf is the 1-based line of text where s first stands; -1 if nowhere.
func LineOf(text, s string) int {
	i := strings.Index(text, s)
	if i < 0 {
		return -1
	}
	return strings.Count(text[:i], "\n") + 1
}
