package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"ConcurrentMemberAdds", testConcurrentMemberAdds},
		{"ConcurrentCreateSameName", testConcurrentCreateSameName},
		{"ConcurrentModifies", testConcurrentModifies},
	}
}

func testConcurrentMemberAdds(t *testing.T, s *suite) {
	const n = 16
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cm-%02d", i)
	}
	u := ids(s.createUsers(t, names...))
	g := s.createGroup(t, "crowd")
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.b.Modify(s.ctx, backends.Group, g.ID, []backends.Modification{s.memberMod(backends.ModAdd, u[i])}, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: ModAdd: %v", i, err)
		}
	}
	s.wantMembers(t, g.ID, u...)
}

func testConcurrentCreateSameName(t *testing.T, s *suite) {
	const n = 8
	attrs := make([]backends.Attrs, n)
	for i := range attrs {
		attrs[i] = s.userAttrs(s.simpleUser("racer"))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.b.Create(s.ctx, backends.User, attrs[i])
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, backends.ErrAlreadyExists):
			t.Errorf("goroutine %d: Create: %v, want nil or ErrAlreadyExists", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates of the same userName succeeded, want exactly 1", ok)
	}
	p := s.search(t, backends.User, backends.Query{Filter: backends.Compare{Attr: s.f.UserName, Op: backends.Eq, Value: "racer"}})
	if p.Total != 1 || len(p.Records) != 1 {
		t.Fatalf("users named racer: %d (total %d), want 1", len(p.Records), p.Total)
	}
}

func testConcurrentModifies(t *testing.T, s *suite) {
	const n, rounds = 8, 5
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cmod-%d", i)
	}
	u := ids(s.createUsers(t, names...))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for r := range rounds {
				_, err := s.b.Modify(s.ctx, backends.User, u[i], []backends.Modification{
					{Op: backends.ModReplace, Attr: s.f.GivenName, Values: []string{fmt.Sprintf("given-%d-%d", i, r)}},
					{Op: backends.ModReplace, Attr: s.f.DisplayName, Values: []string{fmt.Sprintf("display-%d-%d", i, r)}},
				}, nil)
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: Modify: %v", i, err)
		}
	}
	for i, id := range u {
		rec := s.get(t, backends.User, id)
		wantValues(t, rec, s.f.GivenName, fmt.Sprintf("given-%d-%d", i, rounds-1))
		wantValues(t, rec, s.f.DisplayName, fmt.Sprintf("display-%d-%d", i, rounds-1))
		wantValues(t, rec, s.f.UserName, names[i])
	}
}
