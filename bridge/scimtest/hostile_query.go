package scimtest

// QueryCases are hostile queries (issue #9, findings 2 and 3); uid names
// an existing user, gid an existing group. They hold on every backend:
//
//   - a write-only attribute (password) is absent for filter, sortBy,
//     attributes and excludedAttributes, on lists, .search and the
//     attributes of single-resource requests, whether the mapping stores
//     it or not: sorting by a stored password was an oracle on it. Writes
//     with such a list are refused before anything is written;
//   - filters and sorts the directory cannot evaluate (id, emails.type, an
//     element filter without a value, meta.resourceType) run in memory over
//     the test directory, which is far below max_filter_scan, and must
//     select nothing.
func QueryCases(uid, gid string) []HostileCase {
	pw := func(name, method, path string, body any) HostileCase {
		return HostileCase{Name: "write-only " + name, Method: method, Path: path, Body: body, Status: 400}
	}
	none := func(name, path string) HostileCase {
		return HostileCase{Name: "in memory " + name, Method: "GET", Path: path, Empty: true}
	}
	patchTitle := map[string]any{"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "x"}}}
	return []HostileCase{
		pw("sortBy", "GET", "/Users?sortBy=password", nil),
		pw("sortBy descending", "GET", "/Users?sortBy=password&sortOrder=descending", nil),
		pw("sortBy URN", "GET", "/Users?sortBy=urn:ietf:params:scim:schemas:core:2.0:User:password", nil),
		pw("filter pr", "GET", "/Users?filter="+q(`password pr`), nil),
		pw("filter eq", "GET", "/Users?filter="+q(`password eq "x"`), nil),
		pw("filter gt", "GET", "/Users?filter="+q(`PASSWORD gt "m"`), nil),
		pw("filter beside userName", "GET", "/Users?filter="+q(`userName eq "hostile.target" and password sw "a"`), nil),
		pw("filter under not", "GET", "/Users?filter="+q(`not (password pr)`), nil),
		pw("filter URN", "GET", "/Users?filter="+q(`urn:ietf:params:scim:schemas:core:2.0:User:password eq "x"`), nil),
		pw("attributes", "GET", "/Users?attributes=password", nil),
		pw("attributes among others", "GET", "/Users?attributes=userName,password", nil),
		pw("excludedAttributes", "GET", "/Users?excludedAttributes=password", nil),
		pw(".search sortBy", "POST", "/Users/.search", map[string]any{"sortBy": "password"}),
		pw(".search filter", "POST", "/Users/.search", map[string]any{"filter": "password pr"}),
		pw(".search attributes", "POST", "/Users/.search", map[string]any{"attributes": []string{"password"}}),
		pw("get attributes", "GET", "/Users/"+uid+"?attributes=password", nil),
		pw("create attributes", "POST", "/Users?attributes=password", map[string]any{"userName": "hostile.password.projection", "password": "Secret-123"}),
		pw("put attributes", "PUT", "/Users/"+uid+"?attributes=password", map[string]any{"userName": "hostile.target", "title": "x"}),
		pw("patch attributes", "PATCH", "/Users/"+uid+"?attributes=password", patchTitle),
		none("id", "/Users?filter="+q(`id co "zz-none"`)),
		none("group id", "/Groups?filter="+q(`id co "zz-none"`)),
		none("id sorted", "/Users?sortBy=emails.value&sortOrder=descending&filter="+q(`id co "zz-none"`)),
		none("id far page", "/Users?startIndex=2147483647&count=1000&filter="+q(`id co "zz-none"`)),
		none("id count 0", "/Users?count=0&filter="+q(`id co "zz-none"`)),
		none("element type", "/Users?filter="+q(`emails.type eq "*)(uid=*"`)),
		none("element filter without value", "/Users?filter="+q(`emails[type eq "' OR '1'='1"]`)),
		none("meta.resourceType", "/Users?filter="+q(`meta.resourceType eq "Group"`)),
		none("or of unpushable", "/Users?filter="+q(`id eq "`+gid+`x" or emails.type eq "x'--"`)),
		none("members.display", "/Groups?filter="+q(`members.display eq "`+uid+`"`)),
	}
}
