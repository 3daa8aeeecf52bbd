// Package backends defines the contract between the SCIM bridge and the
// directories it writes to. Backends speak only their own (native) attribute
// names; the mapping in package bridge is the only place that knows SCIM.
//
// A backend stores records of a few resource types ("User", "Group"). Each
// record has a stable id chosen by the backend (entryUUID, a table key, a
// remote id) and a set of native attributes, each holding zero or more string
// values. Attributes that the backend declares as references (group members,
// a user's groups, a manager) hold the ids of the referenced records: the
// backend translates ids to its native form (DNs, foreign keys) itself.
package backends

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Resource type names used by the bridge.
const (
	User  = "User"
	Group = "Group"
)

// Sentinel errors. Backends wrap them with %w. The message around them is
// for the bridge's log and may name tables, columns, DNs and the
// directory's own diagnostics: the bridge never sends it to the client.
// What a client may be told travels in an *AttrError (which attribute,
// which value, a reason without native names) or an *AdminMessage (text the
// directory's administrator wrote for clients); see errors.go.
var (
	// ErrNotFound: no record with that id (or the id is malformed for this backend).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a uniqueness constraint (userName, displayName, DN) refused the write.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the directory refused the values (constraint, syntax, schema violation).
	ErrInvalid = errors.New("invalid value")
	// ErrInvalidReference: a reference attribute names an id that does not exist.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrUnsupported: the backend cannot do this (operation, attribute or filter).
	ErrUnsupported = errors.New("unsupported")
	// ErrUnavailable: the directory cannot be reached or is busy; the client should retry.
	ErrUnavailable = errors.New("backend unavailable")
	// ErrPermission: the directory refused the bridge's own account the operation (missing
	// rights, or a secure connection it requires).
	ErrPermission = errors.New("backend permission denied")
	// ErrConfig: the configuration does not fit the store (the mapping names an attribute
	// the store does not have, writes one the store sets itself, ...). No client request
	// can avoid it: the bridge answers 500 and logs the message for the administrator.
	ErrConfig = errors.New("configuration does not fit the store")
	// ErrBadUpstream: the directory answered something the backend cannot use (not
	// JSON, too large, without the record's id). The bridge answers 502.
	ErrBadUpstream = errors.New("unusable answer from the directory")
	// ErrPrecondition: a ConditionalModifier found the record changed since
	// the bridge read it; nothing was written. The bridge answers 412 to a
	// request with If-Match and otherwise runs the write again from a fresh
	// read.
	ErrPrecondition = errors.New("the record changed since it was read")
)

// Attrs holds native attribute values by attribute name. Names are compared
// case-insensitively by backends that treat them so (LDAP, SQL columns); the
// bridge always uses the spelling from the configuration.
type Attrs map[string][]string

// Get returns the values of name, matching the name case-insensitively when
// there is no exact match.
func (a Attrs) Get(name string) []string {
	if v, ok := a[name]; ok {
		return v
	}
	for k, v := range a {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// First returns the first value of name, or "".
func (a Attrs) First(name string) string {
	if v := a.Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Clone returns a deep copy.
func (a Attrs) Clone() Attrs {
	out := make(Attrs, len(a))
	for k, v := range a {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Record is one stored entry.
type Record struct {
	// ID is stable for the life of the record and never derived from a
	// renameable name (DN, userName).
	ID    string
	Attrs Attrs
}

// ModOp is the kind of change one Modification makes.
type ModOp int

const (
	// ModAdd adds values to an attribute (existing values are kept; adding a
	// value that is already there is not an error).
	ModAdd ModOp = iota + 1
	// ModDelete removes the given values, or the whole attribute when Values is empty.
	// Removing a value that is not there is not an error.
	ModDelete
	// ModReplace sets the attribute to exactly Values (empty: remove it).
	ModReplace
)

func (o ModOp) String() string {
	switch o {
	case ModAdd:
		return "add"
	case ModDelete:
		return "delete"
	case ModReplace:
		return "replace"
	}
	return "unknown"
}

// Modification is one change to one native attribute. Membership changes are
// ModAdd / ModDelete on the reference attribute with only the changed ids, so
// a backend never rewrites a whole member list to add one member.
type Modification struct {
	Op     ModOp
	Attr   string
	Values []string
}

// Query selects records of one resource type.
type Query struct {
	// Filter restricts the records; nil selects all of them.
	Filter Filter
	// SortBy is a native attribute name; "" means the backend's own stable order.
	SortBy     string
	Descending bool
	// StartIndex is 1-based, as in SCIM; values below 1 are treated as 1.
	StartIndex int
	// Count is the maximum number of records to return; 0 means no limit.
	Count int
	// CountOnly asks for Total only; Records stays empty.
	CountOnly bool
	// Attrs lists the native attributes to return; nil means all that the
	// backend knows for this resource type, including reference attributes.
	Attrs []string
}

// Page is the answer to a Query.
type Page struct {
	Records []Record
	// Total is the number of records that match the filter, over all pages.
	Total int
}

// Backend is implemented by every directory kind. All methods must be safe
// for concurrent use and honour ctx (deadline and cancellation).
type Backend interface {
	// Create stores a new record and returns it, with its id, exactly as
	// Get with nil attrs would return it right after the write: every
	// attribute, references included.
	Create(ctx context.Context, resourceType string, attrs Attrs) (Record, error)
	// Get returns one record; attrs as in Query.Attrs.
	Get(ctx context.Context, resourceType, id string, attrs []string) (Record, error)
	// Modify applies all mods atomically (all or none) and returns the record
	// as stored afterwards, exactly as Get with the same attrs would return
	// it right after the write (a bridge answers a write with it, and its
	// ETag must be the one a GET gives): references and multi-valued
	// attributes included when attrs names them, reference ids resolved as
	// Get resolves them. nil attrs means everything, as for Get. The bridge
	// names the attributes it renders and leaves out member lists, so that
	// adding one member to a large group never reads the list back; a
	// backend reads what attrs names in the write's own round trip or
	// transaction where it can (an LDAP post-read control, UPDATE ...
	// RETURNING). A change to the attribute a backend names its entries by
	// (an LDAP RDN) renames the entry; the id stays the same.
	Modify(ctx context.Context, resourceType, id string, mods []Modification, attrs []string) (Record, error)
	// Delete removes a record and every reference to it.
	Delete(ctx context.Context, resourceType, id string) error
	// Search returns one page of the records that match q. A backend that
	// cannot evaluate q.Filter returns an error wrapping ErrUnsupported, and
	// the bridge then searches without a filter and filters in memory.
	Search(ctx context.Context, resourceType string, q Query) (Page, error)
	// Close releases connections.
	Close() error
}

// ConditionalModifier is implemented by backends that can make a write
// conditional on the record as the bridge read it, in the directory itself
// (a transaction that locks the row, an LDAP assertion on the entry's change
// stamp), so that bridges running side by side on one directory decide
// If-Match and concurrent read-modify-write cycles there and not each in
// its own memory.
type ConditionalModifier interface {
	// ModifyIf is Modify, carried out only if the record still holds, for
	// every attribute named in expect, the values expect gives (no values:
	// the attribute is absent), compared as sets. Otherwise it writes
	// nothing and returns an error wrapping ErrPrecondition.
	ModifyIf(ctx context.Context, resourceType, id string, expect Attrs, mods []Modification, attrs []string) (Record, error)
}

// SameValues reports whether a and b hold the same values, in any order
// and counting each value once.
func SameValues(a, b []string) bool {
	set := make(map[string]bool, len(a))
	for _, v := range a {
		set[v] = true
	}
	seen := make(map[string]bool, len(b))
	for _, v := range b {
		if !set[v] {
			return false
		}
		seen[v] = true
	}
	return len(seen) == len(set)
}

// Pinger is implemented by backends that can check their connection cheaply;
// the bridge uses it for its readiness endpoint.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Lookuper is implemented by backends that serve lookup tables: pairs of
// a native key and the value a mapping shows for it (a department code and
// its name), read from the store so that they are kept there, not copied
// into the mapping. The bridge keeps a copy of each table in memory and
// reads it again every refresh interval.
type Lookuper interface {
	// LookupTable reads every row of the named table: key first, value
	// second. An error wrapping ErrUnavailable: the store cannot be read now.
	LookupTable(ctx context.Context, name string) ([][2]string, error)
}

// LookupSpec declares one lookup table of a backend's configuration.
type LookupSpec struct {
	Name    string
	Refresh time.Duration // how often the bridge reads the table again
}

// Describer is implemented by backends that can say, once opened, which
// native attributes the store has for a resource type. The bridge checks
// every mapping against it before serving, so that a mapping naming a column
// or attribute type the store lacks stops the start with the mapping's
// file:line instead of failing every write of an identity provider.
type Describer interface {
	// DescribeNative returns what the store knows of resourceType's attributes. An
	// error wrapping ErrUnsupported: the backend has no such resource type;
	// ErrUnavailable: the store cannot tell now (down, or it keeps its schema
	// from the bridge's account), and the bridge serves unchecked; ErrConfig:
	// the backend's own configuration does not fit the store.
	DescribeNative(ctx context.Context, resourceType string) (*Description, error)
}

// Description is what a store knows of one resource type's native
// attributes.
type Description struct {
	// Where names the records for messages, in the plural: `the User rows
	// of table "app_users"`, `the User entries (object classes inetOrgPerson)`.
	Where string
	// UniqueKnown: the store reports unique constraints (NativeAttr.Unique);
	// an attribute without one is then known not to be unique.
	UniqueKnown bool
	// Attrs holds every attribute a record may have, by lower-case name.
	// Names of one attribute (LDAP's mail and rfc822Mailbox, its OID) share
	// one *NativeAttr.
	Attrs map[string]*NativeAttr
}

// NativeAttr is one native attribute of a Description.
type NativeAttr struct {
	// Name is the store's spelling (an LDAP attribute type's first name).
	Name string
	// ID: the attribute holds the record id (a table's key, entryUUID); the
	// store assigns it and no write may change it.
	ID bool
	// ReadOnly, when not "", says why a write of the attribute fails: the
	// store sets it (a created_column, NO-USER-MODIFICATION), it is a read-only
	// reference, no object class of new entries allows it, ...
	ReadOnly string
	// Required, when not "", says why a new record needs a value of it: an
	// object class's MUST, a NOT NULL column without a default, the attribute
	// that names new entries.
	Required string
	// Type is the kind of value the store keeps (NativeText, NativeInteger,
	// ...), or "" when the backend does not say.
	Type string
	// Unique, when not "", names what keeps two records from having the
	// same value (a unique index or constraint).
	Unique string
	// CaseExactUnique: the Unique constraint tells apart values that
	// differ only in case.
	CaseExactUnique bool
}

// Lookup returns the attribute name names (compared case-insensitively; an
// LDAP attribute option, as in cn;lang-de, names its attribute), or nil.
func (d *Description) Lookup(name string) *NativeAttr {
	if i := strings.IndexByte(name, ';'); i >= 0 {
		name = name[:i]
	}
	return d.Attrs[strings.ToLower(name)]
}

// Filter is a backend-neutral query tree over native attributes.
type Filter interface{ isFilter() }

// And matches when every child matches.
type And struct{ Filters []Filter }

// Or matches when any child matches.
type Or struct{ Filters []Filter }

// Not matches when its child does not.
type Not struct{ Filter Filter }

// Present matches records that have at least one non-empty value of Attr.
type Present struct{ Attr string }

// Compare matches records with at least one value of Attr that compares to
// Value as Op says. Ne matches when no value equals Value (and when the
// attribute is absent), as SCIM's "ne" does.
type Compare struct {
	Attr  string
	Op    Op
	Value string
	// IgnoreCase asks for a case-insensitive comparison (SCIM caseExact=false).
	IgnoreCase bool
	// Kind says how to order values for gt/ge/lt/le and how to compare for eq.
	Kind ValueKind
}

func (And) isFilter()     {}
func (Or) isFilter()      {}
func (Not) isFilter()     {}
func (Present) isFilter() {}
func (Compare) isFilter() {}

// Op is a comparison operator.
type Op string

const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
)

// ValueKind is the value type of a comparison.
type ValueKind int

const (
	// KindString compares text (honouring IgnoreCase).
	KindString ValueKind = iota
	// KindNumber compares decimal numbers.
	KindNumber
	// KindBool compares "true"/"false".
	KindBool
	// KindTime compares RFC 3339 timestamps.
	KindTime
)
