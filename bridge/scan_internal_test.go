package bridge

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// The window keeps what a full sort and slice would return, for every
// page, while holding at most startIndex+count resources.
func TestWindowMatchesAFullSort(t *testing.T) {
	rt := &scim.ResourceType{Name: "User", Endpoint: "/Users", Schema: scim.CoreUser()}
	rng := rand.New(rand.NewPCG(1, 2))
	var docs []scim.Doc
	for i := range 300 {
		d := scim.Doc{"id": fmt.Sprint(i), "userName": fmt.Sprintf("u%03d", i)}
		if i%7 != 0 { // some have no title: they sort as ""
			d["title"] = fmt.Sprintf("T%d", rng.IntN(20)) // many equal keys
		}
		docs = append(docs, d)
	}
	ids := func(ds []scim.Doc) string {
		var s []string
		for _, d := range ds {
			s = append(s, d["id"].(string))
		}
		return fmt.Sprint(s)
	}
	for _, sortBy := range []string{"", "title", "userName"} {
		for _, desc := range []bool{false, true} {
			want := append([]scim.Doc(nil), docs...)
			if sortBy != "" {
				p, _ := scim.ResolvePath(rt, sortBy)
				sort.SliceStable(want, func(i, j int) bool {
					a, b := sortKey(rt, want[i], p), sortKey(rt, want[j], p)
					if desc {
						return a > b
					}
					return a < b
				})
			}
			for _, pg := range [][2]int{{1, 10}, {1, 0}, {2, 5}, {295, 10}, {301, 5}, {150, 1000}, {1, 1000}} {
				q := ListQuery{SortBy: sortBy, Descending: desc, StartIndex: pg[0], Count: pg[1]}
				w := newWindow(rt, q, 1000)
				for _, d := range docs {
					w.add(d)
				}
				from, to := min(pg[0]-1, len(want)), min(pg[0]-1+pg[1], len(want))
				if got := w.page(); ids(got) != ids(want[from:to]) {
					t.Errorf("sortBy %q desc %v page %v:\n got %s\nwant %s", sortBy, desc, pg, ids(got), ids(want[from:to]))
				}
				if w.matched != len(docs) {
					t.Errorf("matched %d", w.matched)
				}
				if w.sorted != nil && w.sorted.Len() > pg[0]-1+pg[1] {
					t.Errorf("sortBy %q page %v: the heap holds %d resources", sortBy, pg, w.sorted.Len())
				}
			}
		}
	}
}
