package scim

import "strings"

// Schema URNs.
const (
	UserSchema         = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchSchema       = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	SPCSchema          = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute types (RFC 7643 §2.3).
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeDecimal   = "decimal"
	TypeInteger   = "integer"
	TypeDateTime  = "dateTime"
	TypeBinary    = "binary"
	TypeReference = "reference"
	TypeComplex   = "complex"
)

// Mutability values.
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"
)

// Attribute describes one SCIM attribute (RFC 7643 §7).
type Attribute struct {
	Name           string
	Type           string
	MultiValued    bool
	Description    string
	Required       bool
	CaseExact      bool
	Mutability     string
	Returned       string
	Uniqueness     string
	CanonicalTypes []string
	ReferenceTypes []string
	SubAttributes  []*Attribute
}

// Sub finds a sub-attribute case-insensitively.
func (a *Attribute) Sub(name string) *Attribute {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Schema is a set of attributes under one URN.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attr finds a top-level attribute case-insensitively.
func (s *Schema) Attr(name string) *Attribute {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func attr(name, typ string, opts ...func(*Attribute)) *Attribute {
	a := &Attribute{Name: name, Type: typ, Mutability: ReadWrite, Returned: "default", Uniqueness: "none"}
	for _, o := range opts {
		o(a)
	}
	return a
}

func multi(a *Attribute)     { a.MultiValued = true }
func required(a *Attribute)  { a.Required = true }
func caseExact(a *Attribute) { a.CaseExact = true }
func readOnly(a *Attribute)  { a.Mutability = ReadOnly }
func immutable(a *Attribute) { a.Mutability = Immutable }
func neverReturned(a *Attribute) {
	a.Mutability = WriteOnly
	a.Returned = "never"
}
func alwaysReturned(a *Attribute) { a.Returned = "always" }
func uniqueServer(a *Attribute)   { a.Uniqueness = "server" }
func desc(d string) func(*Attribute) {
	return func(a *Attribute) { a.Description = d }
}
func subs(s ...*Attribute) func(*Attribute) {
	return func(a *Attribute) { a.SubAttributes = s }
}
func canonical(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.CanonicalTypes = v }
}
func refTypes(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.ReferenceTypes = v }
}

// multiValuedSubs are the sub-attributes of the common multi-valued
// attributes (emails, phoneNumbers, ims, photos, entitlements, roles).
func multiValuedSubs(valueType string, types ...string) func(*Attribute) {
	return subs(
		attr("value", valueType),
		attr("display", TypeString),
		attr("type", TypeString, canonical(types...)),
		attr("primary", TypeBoolean),
	)
}

// CoreUser returns the RFC 7643 §4.1 User schema.
func CoreUser() *Schema {
	return &Schema{ID: UserSchema, Name: "User", Description: "User Account", Attributes: []*Attribute{
		attr("userName", TypeString, required, uniqueServer, desc("Unique identifier for the User, used to authenticate")),
		attr("name", TypeComplex, desc("The components of the user's name"), subs(
			attr("formatted", TypeString), attr("familyName", TypeString), attr("givenName", TypeString),
			attr("middleName", TypeString), attr("honorificPrefix", TypeString), attr("honorificSuffix", TypeString))),
		attr("displayName", TypeString),
		attr("nickName", TypeString),
		attr("profileUrl", TypeReference, refTypes("external")),
		attr("title", TypeString),
		attr("userType", TypeString),
		attr("preferredLanguage", TypeString),
		attr("locale", TypeString),
		attr("timezone", TypeString),
		attr("active", TypeBoolean),
		attr("password", TypeString, neverReturned),
		attr("emails", TypeComplex, multi, multiValuedSubs(TypeString, "work", "home", "other")),
		attr("phoneNumbers", TypeComplex, multi, multiValuedSubs(TypeString, "work", "home", "mobile", "fax", "pager", "other")),
		attr("ims", TypeComplex, multi, multiValuedSubs(TypeString)),
		attr("photos", TypeComplex, multi, multiValuedSubs(TypeReference, "photo", "thumbnail")),
		attr("addresses", TypeComplex, multi, subs(
			attr("formatted", TypeString), attr("streetAddress", TypeString), attr("locality", TypeString),
			attr("region", TypeString), attr("postalCode", TypeString), attr("country", TypeString),
			attr("type", TypeString, canonical("work", "home", "other")), attr("primary", TypeBoolean))),
		attr("groups", TypeComplex, multi, readOnly, subs(
			attr("value", TypeString, readOnly), attr("$ref", TypeReference, readOnly, refTypes("Group")),
			attr("display", TypeString, readOnly), attr("type", TypeString, readOnly, canonical("direct", "indirect")))),
		attr("entitlements", TypeComplex, multi, multiValuedSubs(TypeString)),
		attr("roles", TypeComplex, multi, multiValuedSubs(TypeString)),
		attr("x509Certificates", TypeComplex, multi, multiValuedSubs(TypeBinary)),
	}}
}

// EnterpriseUser returns the RFC 7643 §4.3 enterprise extension.
func EnterpriseUser() *Schema {
	return &Schema{ID: EnterpriseSchema, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: []*Attribute{
		attr("employeeNumber", TypeString),
		attr("costCenter", TypeString),
		attr("organization", TypeString),
		attr("division", TypeString),
		attr("department", TypeString),
		attr("manager", TypeComplex, subs(
			attr("value", TypeString), attr("$ref", TypeReference, refTypes("User")),
			attr("displayName", TypeString, readOnly))),
	}}
}

// CoreGroup returns the RFC 7643 §4.2 Group schema.
func CoreGroup() *Schema {
	return &Schema{ID: GroupSchema, Name: "Group", Description: "Group", Attributes: []*Attribute{
		attr("displayName", TypeString, required, desc("A human-readable name for the Group")),
		attr("members", TypeComplex, multi, subs(
			attr("value", TypeString, immutable), attr("$ref", TypeReference, immutable, refTypes("User", "Group")),
			attr("display", TypeString, readOnly), attr("type", TypeString, immutable, canonical("User", "Group")))),
	}}
}

// CommonAttributes are the attributes every resource has (RFC 7643 §3.1).
func CommonAttributes() []*Attribute {
	return []*Attribute{
		attr("id", TypeString, readOnly, caseExact, alwaysReturned, uniqueServer),
		attr("externalId", TypeString, caseExact),
		attr("meta", TypeComplex, readOnly, subs(
			attr("resourceType", TypeString, readOnly, caseExact), attr("created", TypeDateTime, readOnly),
			attr("lastModified", TypeDateTime, readOnly), attr("location", TypeReference, readOnly),
			attr("version", TypeString, readOnly, caseExact))),
	}
}

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType ties a core schema and its extensions to an endpoint.
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// Extension finds an extension schema by URN, case-insensitively.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.Schema.ID, urn) {
			return e.Schema
		}
	}
	return nil
}

// SchemaFor returns the core schema or the extension with that URN.
func (rt *ResourceType) SchemaFor(urn string) *Schema {
	if urn == "" || strings.EqualFold(urn, rt.Schema.ID) {
		return rt.Schema
	}
	return rt.Extension(urn)
}

// Common finds a common attribute (id, externalId, meta).
func Common(name string) *Attribute {
	for _, a := range commonAttrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

var commonAttrs = CommonAttributes()
