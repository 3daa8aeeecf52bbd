package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// cmdMap shows, without touching any backend, the native record a SCIM
// resource becomes and the resource that record reads back as.
func cmdMap(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var endpoint, resource *string
	cfg, code := loadConfig("map", args, stdout, stderr, func(fs *flag.FlagSet) {
		endpoint = fs.String("endpoint", "", "endpoint name (default: the first)")
		resource = fs.String("resource", "User", "resource type: User or Group")
	})
	if cfg == nil {
		return code
	}
	var ep *config.Endpoint
	for _, e := range cfg.Endpoints {
		if *endpoint == "" || e.Name == *endpoint {
			ep = e
			break
		}
	}
	if ep == nil {
		fmt.Fprintf(stderr, "scimbridge map: no endpoint %q\n", *endpoint)
		return 1
	}
	var m *mapping.Mapping
	switch *resource {
	case "User":
		m = ep.Users
	case "Group":
		m = ep.Groups
	}
	if m == nil {
		fmt.Fprintf(stderr, "scimbridge map: endpoint %q maps no %q\n", ep.Name, *resource)
		return 1
	}
	body, err := io.ReadAll(io.LimitReader(stdin, 10<<20))
	if err != nil {
		fmt.Fprintln(stderr, "scimbridge map:", err)
		return 1
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		fmt.Fprintln(stderr, "scimbridge map: standard input is not a JSON object:", err)
		return 1
	}
	doc, err := scim.Normalize(m.RT, raw)
	if err != nil {
		fmt.Fprintln(stderr, "scimbridge map:", err)
		return 1
	}
	attrs, err := m.ToNative(doc)
	if err != nil {
		fmt.Fprintln(stderr, "scimbridge map:", err)
		return 1
	}
	if list := m.Lists["members"]; list != nil {
		if members, ok := doc["members"].([]any); ok {
			for _, el := range members {
				if mm, ok := el.(map[string]any); ok {
					if v, ok := mm["value"].(string); ok {
						attrs[list.Native] = append(attrs[list.Native], v)
					}
				}
			}
		}
	}
	for k, v := range attrs {
		if len(v) == 0 {
			delete(attrs, k)
		}
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(stdout, "Backend record (%s, endpoint %q, backend %q):\n", *resource, ep.Name, ep.Backend)
	for _, k := range keys {
		vals, _ := json.Marshal(attrs[k])
		fmt.Fprintf(stdout, "  %-24s %s\n", k, vals)
	}
	id, _ := raw["id"].(string)
	if id == "" {
		id = "(id assigned by the backend)"
	}
	back, err := m.FromNative(backends.Record{ID: id, Attrs: attrs})
	var problems mapping.ReadProblems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintf(stderr, "scimbridge map: %s: %s is left out when reading back: %s\n", p.Range, p.Attr, p.Err)
		}
	}
	out, _ := json.MarshalIndent(back, "", "  ")
	fmt.Fprintf(stdout, "\nRead back as SCIM:\n%s\n", out)
	return 0
}
