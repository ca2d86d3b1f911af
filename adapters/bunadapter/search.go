package bunadapter

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/query"
)

// search parses q against schema and adds the condition to w. Field names
// come only from the allow-list (mapped to columns by cols, identity
// otherwise); every value is a bound parameter.
func (d dialect) search(w *where, q string, schema query.Schema, cols map[string]string) error {
	e, err := adapters.ParseQuery(q, schema)
	if err != nil || e == nil {
		return err
	}
	t := translator{d: d, schema: schema, cols: cols}
	sql, err := t.expr(e)
	if err != nil {
		return err
	}
	w.add(sql, t.args...)
	return nil
}

type translator struct {
	d      dialect
	schema query.Schema
	cols   map[string]string
	args   []any
}

func (t *translator) col(field string) (string, query.Type, error) {
	typ, ok := t.schema.Fields[field]
	if !ok {
		// Parse already refuses these; this guards the SQL all the same.
		return "", 0, adapters.Invalid("q", "unknown field %q", field)
	}
	if c, ok := t.cols[field]; ok {
		return c, typ, nil
	}
	return field, typ, nil
}

func (t *translator) expr(e query.Expr) (string, error) {
	switch e := e.(type) {
	case *query.And:
		return t.join(e.Terms, " AND ", "1=1")
	case *query.Or:
		return t.join(e.Terms, " OR ", "1=0")
	case *query.Not:
		inner, err := t.expr(e.X)
		if err != nil {
			return "", err
		}
		// A comparison on NULL is unknown; negating it must match the row.
		return "NOT COALESCE((" + inner + "), FALSE)", nil
	case *query.Exists:
		c, typ, err := t.col(e.Field)
		if err != nil {
			return "", err
		}
		if typ == query.String {
			return fmt.Sprintf("(%s IS NOT NULL AND %s <> '')", c, c), nil
		}
		return c + " IS NOT NULL", nil
	case *query.Term:
		var parts []string
		pattern := "%" + strings.ToLower(query.LikePattern(e.Value)) + "%"
		for _, f := range e.Contains {
			c, _, err := t.col(f)
			if err != nil {
				return "", err
			}
			parts = append(parts, "LOWER("+c+") LIKE ?"+t.d.likeEscape())
			t.args = append(t.args, pattern)
		}
		for _, f := range e.Exact {
			c, _, err := t.col(f)
			if err != nil {
				return "", err
			}
			parts = append(parts, c+" = ?")
			t.args = append(t.args, e.Value)
		}
		if len(parts) == 0 {
			return "1=0", nil
		}
		return "(" + strings.Join(parts, " OR ") + ")", nil
	case *query.Compare:
		return t.compare(e)
	}
	return "", adapters.Invalid("q", "unsupported expression")
}

func (t *translator) join(terms []query.Expr, sep, empty string) (string, error) {
	if len(terms) == 0 {
		return empty, nil
	}
	parts := make([]string, 0, len(terms))
	for _, x := range terms {
		s, err := t.expr(x)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+s+")")
	}
	return strings.Join(parts, sep), nil
}

var ops = map[query.Op]string{query.Eq: "=", query.Gt: ">", query.Gte: ">=", query.Lt: "<", query.Lte: "<="}

func (t *translator) compare(e *query.Compare) (string, error) {
	c, typ, err := t.col(e.Field)
	if err != nil {
		return "", err
	}
	if e.Op == query.Like {
		s, _ := e.Value.(string)
		t.args = append(t.args, strings.ToLower(query.LikePattern(s)))
		return "LOWER(" + c + ") LIKE ?" + t.d.likeEscape(), nil
	}
	op, ok := ops[e.Op]
	if !ok {
		return "", adapters.Invalid("q", "unsupported operator")
	}
	var v any
	switch typ {
	case query.Date:
		tm, ok := e.Value.(time.Time)
		if !ok {
			return "", adapters.Invalid("q", "%s needs a date", e.Field)
		}
		v = tm.UnixMilli()
	case query.Number:
		f, ok := e.Value.(float64)
		if !ok {
			return "", adapters.Invalid("q", "%s needs a number", e.Field)
		}
		// Numeric columns hold integers: compare with an integer bound so no
		// dialect has to coerce a float parameter.
		if f != math.Trunc(f) {
			switch e.Op {
			case query.Eq:
				return "1=0", nil
			case query.Gt, query.Lte:
				f = math.Floor(f)
			case query.Gte, query.Lt:
				f = math.Ceil(f)
			}
		}
		if f > math.MaxInt64/2 {
			f = math.MaxInt64 / 2
		} else if f < math.MinInt64/2 {
			f = math.MinInt64 / 2
		}
		v = int64(f)
	case query.Bool:
		b, ok := e.Value.(bool)
		if !ok {
			return "", adapters.Invalid("q", "%s needs true or false", e.Field)
		}
		v = b
	default:
		s, ok := e.Value.(string)
		if !ok {
			return "", adapters.Invalid("q", "%s needs a string", e.Field)
		}
		if e.Field == "email" {
			s = strings.ToLower(s)
		}
		v = s
	}
	t.args = append(t.args, v)
	return c + " " + op + " ?", nil
}
