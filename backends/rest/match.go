package rest

import "github.com/scimbridge/scimbridge/backends"

// match evaluates f on a record's attributes in memory: the one filter
// semantics of every backend.
func match(f backends.Filter, a backends.Attrs) bool { return backends.Match(f, a) }
