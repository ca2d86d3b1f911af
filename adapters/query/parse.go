package query

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLength is the longest query, in bytes, that Parse accepts.
const MaxLength = 2048

// MaxTerms is the largest number of terms (field:value, _exists_:field,
// ranges and bare terms) that Parse accepts in one query.
const MaxTerms = 64

// MaxDepth is the deepest nesting of parentheses that Parse accepts.
const MaxDepth = 10

// Error is a query syntax or allow-list error; its message names the field or
// the position at fault.
type Error struct{ Msg string }

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

func errf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// Parse parses q against schema and returns a single Expr.
//
// The grammar is a subset of Lucene's, as used by Auth0's Management API:
//
//	query   = [ or ]
//	or      = and { "OR" and }
//	and     = unary { [ "AND" ] unary }
//	unary   = { "-" | "NOT" } primary
//	primary = "(" or ")" | field ( ":" | "=" ) value | quoted | word
//	value   = [ ">" | ">=" | "<" | "<=" ] ( quoted | word )
//	        | ( "[" | "{" ) bound "TO" bound ( "]" | "}" )
//
// Terms separated by whitespace are ANDed, and AND binds tighter than OR.
// The keywords AND, OR, NOT and TO are upper case. A "-" must touch the term
// it negates. Quoted strings take the escapes \" and \\. A field is looked up
// in schema.Fields after mapping through schema.Aliases, and the resulting
// nodes carry the canonical name; any other field is an error naming it.
// _exists_:field gives an *Exists. Comparisons and ranges are for Number and
// Date fields only; a range gives an *And of up to two Compare nodes (a
// single one when one end is "*", and an *Exists for [* TO *]). A String
// value holding '*' gives a Like comparison. A bare word or quoted string
// gives a *Term over schema.Contains and schema.Exact, with leading and
// trailing '*' removed; a bare "*" (or *:*) matches everything.
//
// An empty query matches everything and gives an empty *And. One-element
// And and Or nodes collapse into their element, nested And (Or) nodes are
// flattened into their And (Or) parent, and a double negation cancels out.
// Every error is an *Error.
func Parse(q string, schema Schema) (Expr, error) {
	if len(q) > MaxLength {
		return nil, errf("query is longer than %d bytes", MaxLength)
	}
	if !utf8.ValidString(q) {
		return nil, errf("query is not valid UTF-8")
	}
	p := &parser{s: q, schema: schema}
	p.skipSpace()
	if p.eof() {
		return &And{}, nil
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected()
	}
	return e, nil
}

type parser struct {
	s      string
	pos    int
	schema Schema
	depth  int
	terms  int
}

func (p *parser) eof() bool  { return p.pos >= len(p.s) }
func (p *parser) peek() byte { return p.s[p.pos] }

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// isDelim reports whether c ends a bare word or a field name.
func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '"' || c == ':' || c == '='
}

func (p *parser) skipSpace() {
	for !p.eof() && isSpace(p.peek()) {
		p.pos++
	}
}

func (p *parser) unexpected() error {
	if p.eof() {
		return errf("unexpected end of query")
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return errf("unexpected %q at offset %d", r, p.pos)
}

// boundary checks that a term is followed by whitespace, ")" or the end.
func (p *parser) boundary() error {
	if p.eof() || isSpace(p.peek()) || p.peek() == ')' {
		return nil
	}
	return p.unexpected()
}

// scanWord returns the run of non-delimiter bytes at pos and its end.
func (p *parser) scanWord() (string, int) {
	end := p.pos
	for end < len(p.s) && !isDelim(p.s[end]) {
		end++
	}
	return p.s[p.pos:end], end
}

// keyword returns "AND", "OR" or "NOT" if one stands at pos (and is not a
// field name), with its end; otherwise "".
func (p *parser) keyword() (string, int) {
	w, end := p.scanWord()
	switch w {
	case "AND", "OR", "NOT":
		if end < len(p.s) && (p.s[end] == ':' || p.s[end] == '=') {
			return "", p.pos
		}
		return w, end
	}
	return "", p.pos
}

// termFollows reports whether a term can start at pos.
func (p *parser) termFollows() bool {
	if p.eof() || p.peek() == ')' {
		return false
	}
	kw, _ := p.keyword()
	return kw != "AND" && kw != "OR"
}

func (p *parser) parseOr() (Expr, error) {
	var alts []Expr
	orAt := -1
	for {
		terms, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if len(terms) == 0 {
			switch {
			case orAt >= 0:
				return nil, errf("OR at offset %d must be followed by a term", orAt)
			case p.eof():
				return nil, errf("unexpected end of query")
			case p.peek() == ')':
				return nil, errf("empty parentheses at offset %d", p.pos)
			default:
				return nil, errf("OR at offset %d must follow a term", p.pos)
			}
		}
		alts = append(alts, mkAnd(terms))
		p.skipSpace()
		if kw, end := p.keyword(); kw == "OR" {
			orAt = p.pos
			p.pos = end
			continue
		}
		return mkOr(alts), nil
	}
}

func (p *parser) parseAnd() ([]Expr, error) {
	var terms []Expr
	for {
		p.skipSpace()
		if p.eof() || p.peek() == ')' {
			return terms, nil
		}
		kw, end := p.keyword()
		if kw == "OR" {
			return terms, nil
		}
		if kw == "AND" {
			at := p.pos
			if len(terms) == 0 {
				return nil, errf("AND at offset %d must follow a term", at)
			}
			p.pos = end
			p.skipSpace()
			if !p.termFollows() {
				return nil, errf("AND at offset %d must be followed by a term", at)
			}
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, x)
	}
}

func (p *parser) parseUnary() (Expr, error) {
	neg := false
	for !p.eof() {
		if p.peek() == '-' {
			at := p.pos
			p.pos++
			if p.eof() || isSpace(p.peek()) || p.peek() == ')' {
				return nil, errf("'-' at offset %d must be followed by a term", at)
			}
			neg = !neg
			continue
		}
		if kw, end := p.keyword(); kw == "NOT" {
			at := p.pos
			p.pos = end
			p.skipSpace()
			if !p.termFollows() {
				return nil, errf("NOT at offset %d must be followed by a term", at)
			}
			neg = !neg
			continue
		}
		break
	}
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	if neg {
		return &Not{X: x}, nil
	}
	return x, nil
}

func (p *parser) parsePrimary() (Expr, error) {
	if p.eof() {
		return nil, errf("unexpected end of query")
	}
	switch p.peek() {
	case '(':
		if p.depth >= MaxDepth {
			return nil, errf("parentheses are nested deeper than %d", MaxDepth)
		}
		at := p.pos
		p.pos++
		p.depth++
		x, err := p.parseOr()
		p.depth--
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.peek() != ')' {
			return nil, errf("missing ')' for '(' at offset %d", at)
		}
		p.pos++
		if err := p.boundary(); err != nil {
			return nil, err
		}
		return x, nil
	case '"':
		v, err := p.quoted()
		if err != nil {
			return nil, err
		}
		if err := p.boundary(); err != nil {
			return nil, err
		}
		return p.bareTerm(v)
	}
	start := p.pos
	w, end := p.scanWord()
	p.pos = end
	if !p.eof() && (p.peek() == ':' || p.peek() == '=') {
		return p.fieldTerm(w, start)
	}
	if w == "" {
		return nil, p.unexpected()
	}
	if w == "AND" || w == "OR" {
		return nil, errf("unexpected %s at offset %d", w, start)
	}
	if err := p.boundary(); err != nil {
		return nil, err
	}
	return p.bareTerm(w)
}

func (p *parser) count() error {
	p.terms++
	if p.terms > MaxTerms {
		return errf("query has more than %d terms", MaxTerms)
	}
	return nil
}

// quoted reads a double-quoted string at pos.
func (p *parser) quoted() (string, error) {
	at := p.pos
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '"' || p.s[p.pos+1] == '\\'):
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", errf("unterminated quoted string at offset %d", at)
}

// value reads a quoted string or an unquoted run at pos.
func (p *parser) value(stop func(byte) bool) (v string, quoted bool, err error) {
	if !p.eof() && p.peek() == '"' {
		v, err := p.quoted()
		return v, true, err
	}
	end := p.pos
	for end < len(p.s) && !stop(p.s[end]) {
		end++
	}
	v = p.s[p.pos:end]
	p.pos = end
	return v, false, nil
}

func valueStop(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '"'
}

func rangeStop(c byte) bool {
	return valueStop(c) || c == '[' || c == ']' || c == '{' || c == '}'
}

// lookup maps name through the aliases to a field of the schema.
func (p *parser) lookup(name string) (string, Type, bool) {
	if t, ok := p.schema.Fields[name]; ok {
		return name, t, true
	}
	if a, ok := p.schema.Aliases[name]; ok {
		if t, ok := p.schema.Fields[a]; ok {
			return a, t, true
		}
	}
	return "", 0, false
}

func (p *parser) fieldTerm(name string, start int) (Expr, error) {
	sep := p.peek()
	p.pos++
	if err := p.count(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errf("missing field name before %q at offset %d", sep, start)
	}
	if name == "_exists_" {
		v, _, err := p.value(valueStop)
		if err != nil {
			return nil, err
		}
		if v == "" {
			return nil, errf("empty value for field %q", name)
		}
		f, _, ok := p.lookup(v)
		if !ok {
			return nil, errf("unknown field %q", v)
		}
		if err := p.boundary(); err != nil {
			return nil, err
		}
		return &Exists{Field: f}, nil
	}
	if name == "*" {
		v, quoted, err := p.value(valueStop)
		if err != nil {
			return nil, err
		}
		if v != "*" || quoted {
			return nil, errf("unknown field %q", name)
		}
		if err := p.boundary(); err != nil {
			return nil, err
		}
		return &And{}, nil
	}
	f, typ, ok := p.lookup(name)
	if !ok {
		return nil, errf("unknown field %q", name)
	}
	if !p.eof() && (p.peek() == '[' || p.peek() == '{') {
		return p.rangeTerm(name, f, typ)
	}
	op := Eq
	switch rest := p.s[p.pos:]; {
	case strings.HasPrefix(rest, ">="):
		op, p.pos = Gte, p.pos+2
	case strings.HasPrefix(rest, "<="):
		op, p.pos = Lte, p.pos+2
	case strings.HasPrefix(rest, ">"):
		op, p.pos = Gt, p.pos+1
	case strings.HasPrefix(rest, "<"):
		op, p.pos = Lt, p.pos+1
	}
	if op != Eq && typ != Number && typ != Date {
		return nil, errf("range comparison is not supported on field %q (only number and date fields)", name)
	}
	v, quoted, err := p.value(valueStop)
	if err != nil {
		return nil, err
	}
	if v == "" {
		if !quoted && !p.eof() && p.peek() == '(' {
			return nil, errf("grouping values of field %q in parentheses is not supported; repeat the field", name)
		}
		return nil, errf("empty value for field %q", name)
	}
	if err := p.boundary(); err != nil {
		return nil, err
	}
	val, err := convert(name, typ, v)
	if err != nil {
		return nil, err
	}
	if typ == String && strings.Contains(v, "*") {
		op = Like
	}
	return &Compare{Field: f, Op: op, Value: val}, nil
}

func (p *parser) rangeTerm(name, f string, typ Type) (Expr, error) {
	if typ != Number && typ != Date {
		return nil, errf("range is not supported on field %q (only number and date fields)", name)
	}
	lowIncl := p.peek() == '['
	p.pos++
	p.skipSpace()
	lo, loQuoted, err := p.value(rangeStop)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !strings.HasPrefix(p.s[p.pos:], "TO") || p.pos+2 >= len(p.s) || !isSpace(p.s[p.pos+2]) {
		return nil, errf("range on field %q: expected \"TO\" at offset %d", name, p.pos)
	}
	p.pos += 2
	p.skipSpace()
	hi, hiQuoted, err := p.value(rangeStop)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || (p.peek() != ']' && p.peek() != '}') {
		return nil, errf("range on field %q: expected ']' or '}' at offset %d", name, p.pos)
	}
	highIncl := p.peek() == ']'
	p.pos++
	if err := p.boundary(); err != nil {
		return nil, err
	}
	var terms []Expr
	for _, b := range []struct {
		v      string
		quoted bool
		incl   bool
		op     Op
		opIncl Op
	}{{lo, loQuoted, lowIncl, Gt, Gte}, {hi, hiQuoted, highIncl, Lt, Lte}} {
		if b.v == "" {
			return nil, errf("empty range bound for field %q", name)
		}
		if b.v == "*" && !b.quoted {
			continue
		}
		val, err := convert(name, typ, b.v)
		if err != nil {
			return nil, err
		}
		op := b.op
		if b.incl {
			op = b.opIncl
		}
		terms = append(terms, &Compare{Field: f, Op: op, Value: val})
	}
	if len(terms) == 0 {
		return &Exists{Field: f}, nil
	}
	return mkAnd(terms), nil
}

func (p *parser) bareTerm(v string) (Expr, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	if v == "" {
		return nil, errf("empty search term")
	}
	t := strings.Trim(v, "*")
	if t == "" {
		return &And{}, nil
	}
	if len(p.schema.Contains) == 0 && len(p.schema.Exact) == 0 {
		return nil, errf("free-text search is not supported")
	}
	if strings.Contains(t, "*") {
		return nil, errf("wildcards inside free-text term %q are not supported; use field:value", v)
	}
	return &Term{Value: t, Contains: slices.Clone(p.schema.Contains), Exact: slices.Clone(p.schema.Exact)}, nil
}

// convert types the value v of field name.
func convert(name string, typ Type, v string) (any, error) {
	switch typ {
	case String:
		return v, nil
	case Bool:
		switch v {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errf("invalid value %q for boolean field %q (want true or false)", v, name)
	case Number:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errf("invalid value %q for number field %q", v, name)
		}
		return f, nil
	case Date:
		if t, ok := parseDate(v); ok {
			return t, nil
		}
		return nil, errf("invalid value %q for date field %q (want RFC 3339 or YYYY-MM-DD)", v, name)
	}
	return nil, errf("field %q has an unsupported type", name)
}

func parseDate(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// mkAnd builds an And of terms, flattening nested Ands and collapsing a
// single term.
func mkAnd(terms []Expr) Expr {
	var out []Expr
	for _, t := range terms {
		if a, ok := t.(*And); ok {
			out = append(out, a.Terms...)
			continue
		}
		out = append(out, t)
	}
	switch len(out) {
	case 0:
		return &And{}
	case 1:
		return out[0]
	}
	return &And{Terms: out}
}

// mkOr builds an Or of alts, flattening nested Ors and collapsing a single
// alternative.
func mkOr(alts []Expr) Expr {
	if len(alts) == 1 {
		return alts[0]
	}
	var out []Expr
	for _, a := range alts {
		if o, ok := a.(*Or); ok {
			out = append(out, o.Terms...)
			continue
		}
		out = append(out, a)
	}
	return &Or{Terms: out}
}
