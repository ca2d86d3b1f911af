package query

import (
	"cmp"
	"math"
	"strings"
	"time"
)

// Match reports whether an entity matches e, for adapters that filter in
// memory. get returns the entity's value for a canonical field name and
// ok=false when the field is absent. Values may be string, bool, any Go
// integer or float type (compared as float64), time.Time, or a pointer to
// string, bool, int, int64, float64 or time.Time (a nil pointer, a nil
// value and the zero time.Time count as absent).
//
// Eq on strings is exact and case-sensitive, except on the field "email",
// which compares case-insensitively. Like is a case-insensitive wildcard
// match. A Compare on an absent field is false, so its negation is true.
// Exists is true for a present value other than an empty string (false and
// 0 exist). A Term matches a case-insensitive substring of any Contains field
// or equals any Exact field. A nil e matches everything.
func Match(e Expr, get func(field string) (any, bool)) bool {
	switch x := e.(type) {
	case nil:
		return true
	case *And:
		if x == nil {
			return true
		}
		for _, t := range x.Terms {
			if !Match(t, get) {
				return false
			}
		}
		return true
	case *Or:
		if x == nil {
			return false
		}
		for _, t := range x.Terms {
			if Match(t, get) {
				return true
			}
		}
		return false
	case *Not:
		if x == nil {
			return false
		}
		return !Match(x.X, get)
	case *Compare:
		return x != nil && matchCompare(x, get)
	case *Exists:
		if x == nil {
			return false
		}
		v, ok := fetch(get, x.Field)
		if s, isString := v.(string); isString {
			return s != ""
		}
		return ok
	case *Term:
		return x != nil && matchTerm(x, get)
	}
	return false
}

// fetch returns the normalised value of field: a string, bool, float64 or
// time.Time, or ok=false when it is absent or of an unsupported type.
func fetch(get func(string) (any, bool), field string) (any, bool) {
	if get == nil {
		return nil, false
	}
	v, ok := get(field)
	if !ok {
		return nil, false
	}
	switch x := v.(type) {
	case string, bool, float64:
		return x, true
	case *string:
		if x != nil {
			return *x, true
		}
	case *bool:
		if x != nil {
			return *x, true
		}
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case *int:
		if x != nil {
			return float64(*x), true
		}
	case *int64:
		if x != nil {
			return float64(*x), true
		}
	case *float64:
		if x != nil {
			return *x, true
		}
	case time.Time:
		if !x.IsZero() {
			return x, true
		}
	case *time.Time:
		if x != nil && !x.IsZero() {
			return *x, true
		}
	}
	return nil, false
}

func matchCompare(c *Compare, get func(string) (any, bool)) bool {
	v, ok := fetch(get, c.Field)
	if !ok {
		return false
	}
	switch want := c.Value.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return false
		}
		switch c.Op {
		case Eq:
			return equalString(c.Field, s, want)
		case Like:
			return like(s, want)
		}
		return ordered(strings.Compare(s, want), c.Op)
	case bool:
		b, ok := v.(bool)
		return ok && c.Op == Eq && b == want
	case float64:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsNaN(want) {
			return false
		}
		return ordered(cmp.Compare(f, want), c.Op)
	case time.Time:
		t, ok := v.(time.Time)
		return ok && ordered(t.Compare(want), c.Op)
	}
	return false
}

// ordered applies op to the result r of a three-way comparison.
func ordered(r int, op Op) bool {
	switch op {
	case Eq:
		return r == 0
	case Gt:
		return r > 0
	case Gte:
		return r >= 0
	case Lt:
		return r < 0
	case Lte:
		return r <= 0
	}
	return false
}

// equalString compares a value of field with want: case-insensitively for
// "email", exactly otherwise.
func equalString(field, s, want string) bool {
	if field == "email" {
		return strings.EqualFold(s, want)
	}
	return s == want
}

func matchTerm(t *Term, get func(string) (any, bool)) bool {
	if t.Value == "" {
		return false
	}
	lv := strings.ToLower(t.Value)
	for _, f := range t.Contains {
		if v, ok := fetch(get, f); ok {
			if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), lv) {
				return true
			}
		}
	}
	for _, f := range t.Exact {
		if v, ok := fetch(get, f); ok {
			if s, ok := v.(string); ok && equalString(f, s, t.Value) {
				return true
			}
		}
	}
	return false
}

// like reports whether s matches pattern, where '*' stands for any run of
// characters, ignoring case.
func like(s, pattern string) bool {
	s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(mid, part)
		if i < 0 {
			return false
		}
		mid = mid[i+len(part):]
	}
	return true
}

// LikePattern converts a Like pattern, where '*' stands for any run of
// characters and nothing else is special, into a SQL LIKE pattern: '\', '%'
// and '_' are escaped with a backslash and '*' becomes '%'. Use it as
// `col LIKE ? ESCAPE '\'`; since Match compares Like case-insensitively, a SQL
// adapter should also fold case (for example LOWER(col) LIKE LOWER(?), or
// ILIKE).
func LikePattern(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\', '%', '_':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '*':
			b.WriteByte('%')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
