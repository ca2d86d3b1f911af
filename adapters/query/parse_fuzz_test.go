package query

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, q := range []string{
		"",
		"*",
		"email:john@example.com",
		`name:"John \"JD\" Doe\\"`,
		"email:*@example.com AND email_verified:true",
		"logins_count:[1 TO 10} OR login_count:>=100",
		"created_at:[2020-01-01 TO *] -_exists_:last_login",
		"(name:jo* OR NOT phone_number:+1555*) blocked:false",
		"user_id:auth0|5f7c8ec7c33c6c004bbafe82",
		"updated_at:>2021-03-04T05:06:07.890+01:00",
		"john doe OR \"jane smith\"",
		"tenant_id:1 OR email:x",
		"_exists_:tenant_id",
		"((((((((((email:a))))))))))",
		"(((((((((((email:a)))))))))))",
		"email:\"unterminated",
		"logins_count:[* TO *] last_login:{2020-01-01T00:00:00 TO 2021-01-01}",
		"- NOT -- AND OR ) ( \" \\ : = [ ] { } > < >= <=",
		"email:a\xffb",
		"*:* -* jo*hn logins_count:NaN blocked:TRUE email:(a OR b)",
		"NOT(NOT(-(email=a)))",
	} {
		f.Add(q)
	}
	empty := func(string) (any, bool) { return nil, false }
	full := getter(map[string]any{
		"user_id": "auth0|1", "email": "a@b.com", "name": "", "logins_count": 0,
		"blocked": false, "created_at": time.Unix(0, 0), "last_login": (*time.Time)(nil),
	})
	f.Fuzz(func(t *testing.T, q string) {
		e, err := Parse(q, testSchema)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("Parse(%q) error %T is not *Error: %v", q, err, err)
			}
			if e != nil {
				t.Fatalf("Parse(%q) returned %#v with error %v", q, e, err)
			}
			return
		}
		if e == nil {
			t.Fatalf("Parse(%q) returned nil without error", q)
		}
		leaves := checkTree(t, q, e, 0)
		if leaves > 2*MaxTerms {
			t.Fatalf("Parse(%q) returned %d leaves", q, leaves)
		}
		Match(e, empty)
		Match(e, full)
	})
}

// checkTree fails t unless every node of e is well formed and every field it
// names is in testSchema.Fields with a value of the field's type. It returns
// the number of leaves.
func checkTree(t *testing.T, q string, e Expr, depth int) int {
	t.Helper()
	if depth > 4*(MaxDepth+2) {
		t.Fatalf("Parse(%q): tree deeper than %d", q, depth)
	}
	switch x := e.(type) {
	case *And:
		if len(x.Terms) == 1 {
			t.Fatalf("Parse(%q): one-term And", q)
		}
		n := 0
		for _, c := range x.Terms {
			if _, ok := c.(*And); ok {
				t.Fatalf("Parse(%q): And nested in And", q)
			}
			n += checkTree(t, q, c, depth+1)
		}
		return n
	case *Or:
		if len(x.Terms) < 2 {
			t.Fatalf("Parse(%q): Or with %d terms", q, len(x.Terms))
		}
		n := 0
		for _, c := range x.Terms {
			if _, ok := c.(*Or); ok {
				t.Fatalf("Parse(%q): Or nested in Or", q)
			}
			n += checkTree(t, q, c, depth+1)
		}
		return n
	case *Not:
		if x.X == nil {
			t.Fatalf("Parse(%q): Not of nil", q)
		}
		return checkTree(t, q, x.X, depth+1)
	case *Exists:
		if _, ok := testSchema.Fields[x.Field]; !ok {
			t.Fatalf("Parse(%q): Exists on field %q outside the schema", q, x.Field)
		}
		return 1
	case *Compare:
		typ, ok := testSchema.Fields[x.Field]
		if !ok {
			t.Fatalf("Parse(%q): Compare on field %q outside the schema", q, x.Field)
		}
		switch v := x.Value.(type) {
		case string:
			ok = typ == String && v != "" &&
				(x.Op == Eq && !strings.Contains(v, "*") || x.Op == Like && strings.Contains(v, "*"))
		case bool:
			ok = typ == Bool && x.Op == Eq
		case float64:
			ok = typ == Number && !math.IsNaN(v) && !math.IsInf(v, 0) && x.Op != Like
		case time.Time:
			ok = typ == Date && v.Location() == time.UTC && x.Op != Like
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("Parse(%q): bad Compare %#v for field type %d", q, x, typ)
		}
		return 1
	case *Term:
		if x.Value == "" || strings.Contains(x.Value, "*") {
			t.Fatalf("Parse(%q): bad Term value %q", q, x.Value)
		}
		return 1
	}
	t.Fatalf("Parse(%q): unexpected node %#v", q, e)
	return 0
}
