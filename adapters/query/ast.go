// Package query parses and evaluates the Lucene-like search syntax of Auth0's
// Management API `q` parameter
// (https://auth0.com/docs/manage-users/user-search/user-search-query-syntax),
// restricted to an allow-list of fields per entity.
//
// Parse turns a query into an Expr tree that a SQL adapter translates into a
// WHERE clause with bound parameters, and that Match evaluates in memory for
// adapters without SQL. A field outside the allow-list is an error naming the
// field: it is never dropped silently and never reaches SQL.
package query

import "time"

// Type is the type of a searchable field; it decides how values parse and
// compare.
type Type int

// Field types.
const (
	String Type = iota
	Bool
	Number
	Date
)

// Schema is the allow-list of one entity.
type Schema struct {
	// Fields maps a query field name to its type.
	Fields map[string]Type
	// Aliases maps alternative names to a name in Fields
	// (e.g. "login_count" to "logins_count").
	Aliases map[string]string
	// Contains lists the string fields a bare term searches as a
	// case-insensitive substring.
	Contains []string
	// Exact lists the string fields a bare term matches exactly.
	Exact []string
}

// Op is a comparison operator.
type Op int

// Comparison operators. Eq on a String field whose value holds '*' is a
// wildcard match (Like) instead.
const (
	Eq Op = iota
	Like
	Gt
	Gte
	Lt
	Lte
)

// Expr is a node of a parsed query: *And, *Or, *Not, *Compare, *Exists or
// *Term.
type Expr interface{ expr() }

// And matches when every term matches. An empty And matches everything.
type And struct{ Terms []Expr }

// Or matches when any term matches.
type Or struct{ Terms []Expr }

// Not negates X.
type Not struct{ X Expr }

// Compare compares a field with a value. Value is a string, bool, float64 or
// time.Time according to the field's Type. For Like, Value is a pattern where
// '*' stands for any run of characters (no other character is special).
type Compare struct {
	Field string
	Op    Op
	Value any
}

// Exists matches when the field has a non-empty value (_exists_:field).
type Exists struct{ Field string }

// Term is a bare search term: a case-insensitive substring of any of the
// schema's Contains fields, or equal to one of its Exact fields.
type Term struct {
	Value    string
	Contains []string
	Exact    []string
}

func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}
func (*Compare) expr() {}
func (*Exists) expr()  {}
func (*Term) expr()    {}

var _ = time.Time{}
