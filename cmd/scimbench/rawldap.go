package main

// Helpers shared by the LDAP and the Active Directory benchmarks.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	goldap "github.com/go-ldap/ldap/v3"
)

// bridgePagedImport pages through the bridge's /Users with the given
// count, one page a step, and returns the sample (one latency per full
// page) and how many users it saw.
func bridgePagedImport(ctx context.Context, bb *benchBridge, n, count int) (sample, int, error) {
	seen, total := 0, -1
	s, err := measure(ctx, n/count+1, func(int) error {
		if total >= 0 && seen >= total {
			return nil // the last page was read; the extra step is free
		}
		var page struct {
			TotalResults int
			Resources    []json.RawMessage
		}
		if err := bb.do(ctx, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", seen+1, count), nil, &page); err != nil {
			return err
		}
		seen, total = seen+len(page.Resources), page.TotalResults
		return nil
	})
	s.lat = s.lat[:min(len(s.lat), n/count)]
	return s, seen, err
}

// rawPagedImport is the raw side of bridgePagedImport: a paged search of
// base with the given count, one page a step.
func rawPagedImport(ctx context.Context, conn *goldap.Conn, base, filter string, attrs []string, n, count int) (sample, int, error) {
	paging := goldap.NewControlPaging(uint32(count))
	req := goldap.NewSearchRequest(base, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, []goldap.Control{paging})
	seen, done := 0, false
	s, err := measure(ctx, n/count+1, func(int) error {
		if done {
			return nil
		}
		res, err := conn.Search(req)
		if err != nil {
			return err
		}
		seen += len(res.Entries)
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			done = true
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
		return nil
	})
	s.lat = s.lat[:min(len(s.lat), n/count)]
	return s, seen, err
}

// pagedEach calls each for every entry below base that matches filter,
// reading pages of 1000 so that the benchmark's own memory stays small
// next to the bridge's; it gives up after maxPages pages.
func pagedEach(conn *goldap.Conn, base, filter string, attrs []string, maxPages int, each func(*goldap.Entry)) error {
	paging := goldap.NewControlPaging(1000)
	req := goldap.NewSearchRequest(base, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, []goldap.Control{paging})
	for range maxPages {
		res, err := conn.Search(req)
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			each(e)
		}
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
	return errors.New("too many pages")
}

// searchOne is the raw read of one user below base with attrs; exactly
// one entry must match.
func searchOne(conn *goldap.Conn, base, filter string, attrs []string) error {
	res, err := conn.Search(goldap.NewSearchRequest(base, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, nil))
	if err != nil {
		return err
	}
	if len(res.Entries) != 1 {
		return fmt.Errorf("%s: %d entries", filter, len(res.Entries))
	}
	return nil
}

// addMembers adds the members dn(from) .. dn(to-1) to groupDN with raw
// modifies of at most chunk values each.
func addMembers(conn *goldap.Conn, groupDN string, dn func(int) string, from, to, chunk int) error {
	for ; from < to; from += chunk {
		req := goldap.NewModifyRequest(groupDN, nil)
		vals := make([]string, 0, chunk)
		for i := from; i < min(from+chunk, to); i++ {
			vals = append(vals, dn(i))
		}
		req.Add("member", vals)
		if err := conn.Modify(req); err != nil {
			return fmt.Errorf("building the big group: %w", err)
		}
	}
	return nil
}

// groupID finds the id of the group named name through the bridge.
func groupID(ctx context.Context, bb *benchBridge, name string) (string, error) {
	var found struct {
		Resources []struct{ ID string }
	}
	if err := bb.do(ctx, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "`+name+`"`), nil, &found); err != nil {
		return "", err
	}
	if len(found.Resources) != 1 {
		return "", errors.New("the big group is not found through the bridge")
	}
	return found.Resources[0].ID, nil
}

// patchAddMember adds one member to the group gid through the bridge as
// Okta pushes an assignment: with a path-less "rename" of the group to its
// own name.
func patchAddMember(ctx context.Context, bb *benchBridge, gid, gname, memberID string) error {
	return bb.do(ctx, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{ldapPatchOp}, "Operations": []any{
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": gname}},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": memberID}}},
	}}, nil)
}

// rawAddMembers measures m raw modifies that each add one member,
// dn(from) .. dn(from+m-1), to groupDN.
func rawAddMembers(ctx context.Context, conn *goldap.Conn, groupDN string, dn func(int) string, from, m int) (sample, error) {
	return measure(ctx, m, func(i int) error {
		req := goldap.NewModifyRequest(groupDN, nil)
		req.Add("member", []string{dn(from + i)})
		return conn.Modify(req)
	})
}

// postUser creates a user through the bridge, as an IdP pushes one.
func postUser(ctx context.Context, bb *benchBridge, userName, familyName, mail string) error {
	return bb.do(ctx, "POST", "/Users", map[string]any{"schemas": []string{ldapCoreUser}, "userName": userName,
		"name":   map[string]any{"givenName": "Given", "familyName": familyName},
		"emails": []any{map[string]any{"type": "work", "primary": true, "value": mail}},
		"active": true}, nil)
}

// patchInactive deactivates the user id through the bridge.
func patchInactive(ctx context.Context, bb *benchBridge, id string) error {
	return bb.do(ctx, "PATCH", "/Users/"+id, map[string]any{
		"schemas":    []string{ldapPatchOp},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}, nil)
}

// filterOne GETs a filter path through the bridge and checks that it
// finds one resource. The answer is checked, not decoded: the raw client
// does not parse JSON either.
func filterOne(ctx context.Context, bb *benchBridge, path, name string) error {
	status, body, err := bb.http.do(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	if status != 200 || !oneResult(body) {
		return fmt.Errorf("filter %s: %d %s", name, status, body)
	}
	return nil
}

// otherNames returns up to want of name(0) .. name(n-1) that are not in
// taken, in order.
func otherNames(taken []string, n, want int, name func(int) string) []string {
	in := map[string]bool{}
	for _, t := range taken {
		in[t] = true
	}
	var out []string
	for i := 0; i < n && len(out) < want; i++ {
		if s := name(i); !in[s] {
			out = append(out, s)
		}
	}
	return out
}
