package ldap

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestRecentMoves(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	m := newRecentMoves()
	m.now = func() time.Time { return now }
	m.maxLen = 3
	a, d := "uid=u,ou=People,dc=x", "uid=u,ou=disabled,ou=people,dc=x"
	m.note("User", "1", a, d)
	if got := m.earlier("User", "1"); !slices.Equal(got, []string{a}) {
		t.Fatalf("after the move out: %v", got)
	}
	// The move back: the DN it is at again is no earlier one.
	m.note("User", "1", d, a)
	if got := m.earlier("User", "1"); !slices.Equal(got, []string{d}) {
		t.Fatalf("after the move back: %v", got)
	}
	if _, ok := m.idOfEarlier("User", a); ok {
		t.Error("the current DN resolves as an earlier one")
	}
	if id, ok := m.idOfEarlier("User", "UID=u, ou=disabled,ou=people,dc=x"); !ok || id != "1" {
		t.Errorf("idOfEarlier = %q %v", id, ok)
	}
	if _, ok := m.idOfEarlier("Group", d); ok {
		t.Error("another type's DN resolves")
	}
	// Forgotten after movedFor.
	now = now.Add(movedFor)
	if m.earlier("User", "1") != nil {
		t.Error("remembered after movedFor")
	}
	if _, ok := m.idOfEarlier("User", d); ok {
		t.Error("earlier DN resolves after movedFor")
	}
	// A later move of the same entry keeps it past the first one's expiry.
	m.note("User", "2", "uid=a,dc=x", "uid=b,dc=x")
	now = now.Add(movedFor / 2)
	m.note("User", "2", "uid=b,dc=x", "uid=c,dc=x")
	now = now.Add(movedFor/2 + time.Second)
	m.note("User", "9", "uid=y,dc=x", "uid=z,dc=x") // prunes
	if got := m.earlier("User", "2"); !slices.Equal(got, []string{"uid=a,dc=x", "uid=b,dc=x"}) {
		t.Errorf("after two moves: %v", got)
	}
	// At most maxLen entries: the oldest go.
	for i := range 5 {
		m.note("User", fmt.Sprint(10+i), fmt.Sprintf("uid=o%d,dc=x", i), fmt.Sprintf("uid=n%d,dc=x", i))
	}
	if len(m.byID) != 3 || m.earlier("User", "2") != nil || m.earlier("User", "14") == nil {
		t.Errorf("%d remembered, want the 3 latest", len(m.byID))
	}
	if len(m.byDN) != 3 {
		t.Errorf("%d earlier DNs indexed, want 3", len(m.byDN))
	}
	m.forget("User", "14")
	if _, ok := m.idOfEarlier("User", "uid=o4,dc=x"); ok || m.earlier("User", "14") != nil {
		t.Error("a deleted entry's earlier DN still resolves")
	}
}
