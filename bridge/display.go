package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A group's members carry display: the member's displayName, or its
// userName when it has none. The names are read in pages with one search
// of the users whose groups hold the group (groups.value eq "<group id>"),
// pushed down to the directory, never with one read per member; a GET
// that leaves the members out (excludedAttributes=members, attributes
// without members) reads nothing more. When the User mapping does not map
// groups.value, or the directory cannot search on it, members have no
// display.
//
// display does not enter the group's ETag: member lists never do (they
// change without the group changing), and a user's rename would otherwise
// change the ETag of every group the user is in. The answer to a write and
// the GET after it compute display the same way, from the directory as it
// is then.

// displayPage is how many users one search of the member names reads.
const displayPage = 500

// memberDisplays adds display to the members of the groups in docs.
func (r *Resource) memberDisplays(ctx context.Context, docs ...scim.Doc) {
	if r.users == nil {
		return
	}
	for _, doc := range docs {
		members, _ := doc["members"].([]any)
		gid, _ := doc["id"].(string)
		if len(members) == 0 || gid == "" {
			continue
		}
		names, err := r.users.namesInGroup(ctx, gid, len(members))
		if err != nil {
			r.Log.Debug("members without display: their names cannot be read", "group", gid, "error", err)
			continue
		}
		for _, el := range members {
			if m, ok := el.(map[string]any); ok {
				if v, _ := m["value"].(string); names[v] != "" {
					m["display"] = names[v]
				}
			}
		}
	}
}

var errNoGroupsFilter = errors.New("the User mapping cannot search by groups.value")

// namesInGroup returns the display name of each user in group gid, by id.
func (r *Resource) namesInGroup(ctx context.Context, gid string, want int) (map[string]string, error) {
	q, _ := json.Marshal(gid)
	expr, err := scim.ParseFilter("groups.value eq " + string(q))
	if err != nil {
		return nil, err
	}
	nf, exact, _ := r.Mapping.CompileResidual(expr)
	if !exact || nf == nil {
		return nil, errNoGroupsFilter
	}
	attrs := r.displayAttrs()
	names := make(map[string]string, want)
	for start := 1; ; start += displayPage {
		page, err := r.Backend.Search(ctx, backends.User, backends.Query{Filter: nf, StartIndex: start, Count: displayPage, Attrs: attrs})
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Records {
			doc, _ := r.Mapping.FromNative(rec)
			name, _ := doc["displayName"].(string)
			if strings.TrimSpace(name) == "" {
				name, _ = doc["userName"].(string)
			}
			names[rec.ID] = name
		}
		if len(page.Records) < displayPage || start+displayPage > page.Total {
			return names, nil
		}
	}
}

// displayAttrs is what a search for display names reads: what a GET
// without lists reads, less the user's own groups.
func (r *Resource) displayAttrs() []string {
	skip := map[string]bool{}
	for _, a := range r.Mapping.Attrs {
		if a.Path.IsCore(r.RT) && a.Path.Attr != nil && a.Path.Attr.Name == "groups" {
			skip[strings.ToLower(a.Native)] = true
		}
	}
	out := []string{}
	for _, n := range r.Mapping.NativeAttrs(false) {
		if !skip[strings.ToLower(n)] {
			out = append(out, n)
		}
	}
	return out
}
