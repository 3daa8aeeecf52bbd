package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// newTestBackend builds a Config in Go (no HCL) over a small schema.
func newTestBackend(t *testing.T, dsnSuffix string) (*Backend, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	cfg := &Config{
		Driver: "sqlite",
		DSN:    path + dsnSuffix,
		BootstrapSQL: `
CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE COLLATE NOCASE, nick TEXT, rank INTEGER);
CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE members (g INTEGER NOT NULL, u INTEGER NOT NULL, PRIMARY KEY (g, u));`,
		Resources: []*ResourceConfig{
			{Type: backends.User, Table: "users", IDColumn: "id"},
			{Type: backends.Group, Table: "groups", IDColumn: "id", References: []*ReferenceConfig{
				{Name: "members", JoinTable: "members", ThisColumn: "g", OtherColumn: "u", Target: backends.User},
			}},
		},
	}
	b, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, path
}

// TestKeysetPaging reads pages sequentially under several sort orders,
// with NULLs in the sort column, and checks that the pages equal the
// unpaged order and that all pages after the first used the keyset.
func TestKeysetPaging(t *testing.T) {
	b, _ := newTestBackend(t, "")
	ctx := context.Background()
	for i := range 23 {
		a := backends.Attrs{"login": {fmt.Sprintf("u%02d", (i*7)%23)}}
		if i%4 != 0 {
			a["nick"] = []string{fmt.Sprintf("n%d", i%5)} // repeated values: ties broken by id
		}
		if i%3 != 0 {
			a["rank"] = []string{fmt.Sprint(100 - i*3)}
		}
		if _, err := b.Create(ctx, backends.User, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []backends.Query{
		{},
		{SortBy: "login"},
		{SortBy: "login", Descending: true},
		{SortBy: "nick"},
		{SortBy: "NICK", Descending: true},
		{SortBy: "rank"},
		{SortBy: "rank", Descending: true},
		{SortBy: "nick", Filter: backends.Present{Attr: "rank"}},
	} {
		all, err := b.Search(ctx, backends.User, q)
		if err != nil {
			t.Fatal(err)
		}
		want := recordIDs(all.Records)
		for _, size := range []int{1, 4, 5} {
			keyset, offset := b.keysetPages.Load(), b.offsetPages.Load()
			var got []string
			pages := 0
			for start := 1; start <= len(want); start += size {
				q.StartIndex, q.Count = start, size
				p, err := b.Search(ctx, backends.User, q)
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != len(want) {
					t.Fatalf("sort %q desc=%v: Total %d, want %d", q.SortBy, q.Descending, p.Total, len(want))
				}
				got = append(got, recordIDs(p.Records)...)
				pages++
			}
			q.StartIndex, q.Count = 0, 0
			if !slices.Equal(got, want) {
				t.Fatalf("sort %q desc=%v size %d:\n got  %v\n want %v", q.SortBy, q.Descending, size, got, want)
			}
			if k, o := b.keysetPages.Load()-keyset, b.offsetPages.Load()-offset; k != int64(pages-1) || o != 1 {
				t.Errorf("sort %q desc=%v size %d: %d keyset pages and %d offset pages, want %d and 1", q.SortBy, q.Descending, size, k, o, pages-1)
			}
		}
	}
	// Random access falls back to OFFSET and is still right.
	p, err := b.Search(ctx, backends.User, backends.Query{SortBy: "rank", StartIndex: 9, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := b.Search(ctx, backends.User, backends.Query{SortBy: "rank"})
	if !slices.Equal(recordIDs(p.Records), recordIDs(all.Records)[8:11]) {
		t.Fatalf("random access: %v, want %v", recordIDs(p.Records), recordIDs(all.Records)[8:11])
	}
}

func recordIDs(recs []backends.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// TestReadsWithoutReferencesSkipTheJoinTable: with the join table gone,
// everything that does not ask for members still works.
func TestReadsWithoutReferencesSkipTheJoinTable(t *testing.T) {
	b, path := newTestBackend(t, "")
	ctx := context.Background()
	u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"a"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"g"}, "members": {u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := dbsql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE members RENAME TO members_gone"); err != nil {
		t.Fatal(err)
	}
	if rec, err := b.Get(ctx, backends.Group, g.ID, []string{"name"}); err != nil || rec.Attrs.First("name") != "g" {
		t.Fatalf("Get(name): %v %v", rec, err)
	}
	if p, err := b.Search(ctx, backends.Group, backends.Query{Attrs: []string{"name"}, Filter: backends.Compare{Attr: "name", Op: backends.Eq, Value: "g"}}); err != nil || p.Total != 1 {
		t.Fatalf("Search(name): %v %v", p, err)
	}
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "name", Values: []string{"h"}}}, []string{"name"}); err != nil {
		t.Fatalf("Modify(name): %v", err)
	}
	// Asking for members does touch it, and fails.
	if _, err := b.Get(ctx, backends.Group, g.ID, nil); err == nil {
		t.Fatal("Get(all) worked without the join table")
	}
}

// TestBusyIsUnavailable: a database locked by someone else past the busy
// timeout is ErrUnavailable, which the bridge turns into 503.
func TestBusyIsUnavailable(t *testing.T) {
	b, path := newTestBackend(t, "?_busy_timeout=50")
	ctx := context.Background()
	db, err := dbsql.Open("sqlite", path+"?_busy_timeout=50&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO users (login) VALUES ('locker')"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Create(ctx, backends.User, backends.Attrs{"login": {"blocked"}})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Create while locked: %v, want ErrUnavailable", err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestErrors checks the classification of constraint failures and input
// the backend refuses before it reaches the database.
func TestErrors(t *testing.T) {
	b, _ := newTestBackend(t, "")
	ctx := context.Background()
	u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"a"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"NOT NULL", func() error {
			_, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModDelete, Attr: "login"}}, nil)
			return err
		}(), backends.ErrInvalid},
		{"multi-valued column", func() error {
			_, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"x", "y"}})
			return err
		}(), backends.ErrInvalid},
		{"unknown attribute (only the mapping names attributes)", func() error {
			_, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "nope", Values: []string{"x"}}}, nil)
			return err
		}(), backends.ErrConfig},
		{"unknown resource type", func() error {
			_, err := b.Get(ctx, "Device", "1", nil)
			return err
		}(), backends.ErrUnsupported},
		{"number filter on a non-number", func() error {
			_, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "rank", Op: backends.Gt, Value: "x", Kind: backends.KindNumber}})
			return err
		}(), backends.ErrInvalid},
		{"ordering a reference", func() error {
			_, err := b.Search(ctx, backends.Group, backends.Query{Filter: backends.Compare{Attr: "members", Op: backends.Gt, Value: "1"}})
			return err
		}(), backends.ErrUnsupported},
		{"sort by a reference", func() error {
			_, err := b.Search(ctx, backends.Group, backends.Query{SortBy: "members"})
			return err
		}(), backends.ErrUnsupported},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// ModAdd on a single-valued column replaces, as SCIM add does.
	rec, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "nick", Values: []string{"one"}}, {Op: backends.ModAdd, Attr: "nick", Values: []string{"two"}}}, nil)
	if err != nil || rec.Attrs.First("nick") != "two" {
		t.Fatalf("ModAdd on a set column: %v %v", rec, err)
	}
}

// TestTypedFilters covers Kind number / time / bool on SQLite.
func TestTypedFilters(t *testing.T) {
	b, _ := newTestBackend(t, "")
	ctx := context.Background()
	ids := map[string]string{}
	for _, u := range []struct{ login, nick, rank string }{
		{"a", "true", "9"}, {"b", "0", "10"}, {"c", "2021-01-01T00:00:00Z", "9.5"}, {"d", "2021-01-01T01:00:00+02:00", ""},
	} {
		a := backends.Attrs{"login": {u.login}, "nick": {u.nick}}
		if u.rank != "" {
			a["rank"] = []string{u.rank}
		}
		rec, err := b.Create(ctx, backends.User, a)
		if err != nil {
			t.Fatal(err)
		}
		ids[rec.ID] = u.login
	}
	for _, tc := range []struct {
		f    backends.Filter
		want []string
	}{
		{backends.Compare{Attr: "rank", Op: backends.Gt, Value: "9", Kind: backends.KindNumber}, []string{"b", "c"}},
		{backends.Compare{Attr: "rank", Op: backends.Eq, Value: "9.0", Kind: backends.KindNumber}, []string{"a"}},
		{backends.Not{Filter: backends.Compare{Attr: "rank", Op: backends.Lt, Value: "10", Kind: backends.KindNumber}}, []string{"b", "d"}},
		{backends.Compare{Attr: "nick", Op: backends.Eq, Value: "TRUE", Kind: backends.KindBool}, []string{"a"}},
		{backends.Compare{Attr: "nick", Op: backends.Eq, Value: "false", Kind: backends.KindBool}, []string{"b"}},
		{backends.Compare{Attr: "nick", Op: backends.Lt, Value: "2021-01-01T00:00:01Z", Kind: backends.KindTime}, []string{"c", "d"}},
		{backends.Compare{Attr: "nick", Op: backends.Eq, Value: "2020-12-31T23:00:00Z", Kind: backends.KindTime}, []string{"d"}},
		{backends.Compare{Attr: "nick", Op: backends.Gt, Value: "2020-12-31T23:30:00-01:00", Kind: backends.KindTime}, nil},
	} {
		p, err := b.Search(ctx, backends.User, backends.Query{Filter: tc.f})
		if err != nil {
			t.Fatalf("%#v: %v", tc.f, err)
		}
		var got []string
		for _, r := range p.Records {
			got = append(got, ids[r.ID])
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%#v: %v, want %v", tc.f, got, tc.want)
		}
	}
}

// TestMemoryDSN: an in-memory database works across operations (one
// connection for the pool's whole life).
func TestMemoryDSN(t *testing.T) {
	cfg := &Config{
		Driver:       "sqlite",
		DSN:          ":memory:",
		BootstrapSQL: "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE)",
		Resources:    []*ResourceConfig{{Type: backends.User, Table: "users", IDColumn: "id"}},
	}
	b, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for i := range 5 {
		if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := b.Search(ctx, backends.User, backends.Query{CountOnly: true}); err != nil || p.Total != 5 {
		t.Fatalf("count: %v %v", p.Total, err)
	}
}
