package bridgetest

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// WantDiagnostic is one problem a check must report: its summary, a text
// on the line it must point at, and a text its detail must hold.
type WantDiagnostic struct {
	Summary, At, Detail string
	// Warning: a warning is wanted, not an error.
	Warning bool
}

// ExpectDiagnostics fails the test unless diags are exactly the wanted
// errors or warnings (by summary), each at the line of text holding its
// At ("": at no line of text, i.e. a finding about the backend as a whole
// is then at the backend block, which the caller names as At).
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
		case (d.Severity == hcl.DiagWarning) != w.Warning || d.Subject == nil || d.Subject.Start.Line != line || !strings.HasSuffix(d.Subject.Filename, ".hcl"):
			t.Errorf("%q (severity %v) at %v, want %s at line %d", w.Summary, d.Severity, d.Subject, map[bool]string{true: "a warning", false: "an error"}[w.Warning], line)
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
