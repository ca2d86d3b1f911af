package query

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testSchema mirrors the users allow-list; it is defined here because the
// adapters package imports this one.
var testSchema = Schema{
	Fields: map[string]Type{
		"user_id": String, "email": String, "username": String, "name": String,
		"phone_number": String, "connection": String, "provider": String, "locale": String,
		"email_verified": Bool, "blocked": Bool, "is_social": Bool,
		"logins_count": Number,
		"created_at":   Date, "updated_at": Date, "last_login": Date,
	},
	Aliases:  map[string]string{"login_count": "logins_count"},
	Contains: []string{"email", "name", "phone_number"},
	Exact:    []string{"user_id"},
}

func eq(field string, v any) *Compare { return &Compare{Field: field, Op: Eq, Value: v} }

func cmpr(field string, op Op, v any) *Compare { return &Compare{Field: field, Op: op, Value: v} }

func term(v string) *Term {
	return &Term{Value: v, Contains: testSchema.Contains, Exact: testSchema.Exact}
}

func and(terms ...Expr) *And { return &And{Terms: terms} }

func or(terms ...Expr) *Or { return &Or{Terms: terms} }

func not(x Expr) *Not { return &Not{X: x} }

func date(y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
}

func TestParse(t *testing.T) {
	manyTerms := strings.TrimSpace(strings.Repeat("email:a ", MaxTerms))
	manyWant := make([]Expr, MaxTerms)
	for i := range manyWant {
		manyWant[i] = eq("email", "a")
	}
	longest := "name:" + strings.Repeat("a", MaxLength-len("name:"))

	tests := []struct {
		name string
		q    string
		want Expr
	}{
		// Match everything.
		{"empty", "", &And{}},
		{"whitespace", " \t\r\n ", &And{}},
		{"star", "*", &And{}},
		{"stars", "**", &And{}},
		{"quoted star", `"*"`, &And{}},
		{"star colon star", "*:*", &And{}},
		{"star in parens", "(*)", &And{}},
		{"star dropped from and", "* email:a", eq("email", "a")},
		{"star in or", "* OR email:a", or(&And{}, eq("email", "a"))},
		{"negated star", "-*", not(&And{})},

		// field:value and field=value.
		{"colon", "email:a@b.com", eq("email", "a@b.com")},
		{"equals", "email=a@b.com", eq("email", "a@b.com")},
		{"leading space", "  email:a  ", eq("email", "a")},
		{"pipe in value", "user_id:auth0|123", eq("user_id", "auth0|123")},
		{"colon in value", "connection:a:b", eq("connection", "a:b")},
		{"equals in value", "connection=a=b", eq("connection", "a=b")},
		{"negative number", "logins_count:-1.5", eq("logins_count", -1.5)},
		{"alias", "login_count:3", eq("logins_count", 3.0)},
		{"alias with op", "login_count:>=3", cmpr("logins_count", Gte, 3.0)},

		// Quoted values.
		{"quoted", `name:"John Doe"`, eq("name", "John Doe")},
		{"quoted equals", `name="John Doe"`, eq("name", "John Doe")},
		{"escapes", `name:"say \"hi\" \\ ok"`, eq("name", `say "hi" \ ok`)},
		{"other backslash kept", `name:"a\b"`, eq("name", `a\b`)},
		{"quoted parens", `name:"a (b) OR c"`, eq("name", "a (b) OR c")},
		{"quoted keyword value", `name:"OR"`, eq("name", "OR")},
		{"unquoted keyword value", `name:OR`, eq("name", "OR")},

		// Wildcards.
		{"like suffix", "email:*@example.com", cmpr("email", Like, "*@example.com")},
		{"like prefix", "name:jo*", cmpr("name", Like, "jo*")},
		{"like quoted", `name:"jo* doe"`, cmpr("name", Like, "jo* doe")},
		{"like sql chars kept raw", `name:50%_*`, cmpr("name", Like, "50%_*")},

		// Typed values.
		{"bool true", "email_verified:true", eq("email_verified", true)},
		{"bool false", "blocked:false", eq("blocked", false)},
		{"number", "logins_count:5", eq("logins_count", 5.0)},
		{"number exp", "logins_count:1e3", eq("logins_count", 1000.0)},
		{"date only", "created_at:2020-01-02", eq("created_at", date(2020, 1, 2, 0, 0, 0, 0))},
		{"rfc3339", "created_at:2020-01-02T03:04:05Z", eq("created_at", date(2020, 1, 2, 3, 4, 5, 0))},
		{"rfc3339 offset to utc", "created_at:2020-01-02T03:04:05+02:00", eq("created_at", date(2020, 1, 2, 1, 4, 5, 0))},
		{"rfc3339 fraction", "created_at:2020-01-02T03:04:05.123Z", eq("created_at", date(2020, 1, 2, 3, 4, 5, 123000000))},
		{"no zone", "updated_at:2020-01-02T03:04:05", eq("updated_at", date(2020, 1, 2, 3, 4, 5, 0))},
		{"quoted date", `last_login:"2020-01-02"`, eq("last_login", date(2020, 1, 2, 0, 0, 0, 0))},

		// Comparisons.
		{"gt", "logins_count:>5", cmpr("logins_count", Gt, 5.0)},
		{"gte", "logins_count:>=5", cmpr("logins_count", Gte, 5.0)},
		{"lt", "logins_count:<5", cmpr("logins_count", Lt, 5.0)},
		{"lte", "logins_count:<=5", cmpr("logins_count", Lte, 5.0)},
		{"gt equals sign", "logins_count=>5", cmpr("logins_count", Gt, 5.0)},
		{"date gte", "last_login:>=2021-01-01", cmpr("last_login", Gte, date(2021, 1, 1, 0, 0, 0, 0))},
		{"date lt time", "created_at:<2021-01-01T10:00:00Z", cmpr("created_at", Lt, date(2021, 1, 1, 10, 0, 0, 0))},

		// Ranges.
		{"inclusive", "logins_count:[1 TO 5]", and(cmpr("logins_count", Gte, 1.0), cmpr("logins_count", Lte, 5.0))},
		{"exclusive", "logins_count:{1 TO 5}", and(cmpr("logins_count", Gt, 1.0), cmpr("logins_count", Lt, 5.0))},
		{"mixed", "logins_count:[1 TO 5}", and(cmpr("logins_count", Gte, 1.0), cmpr("logins_count", Lt, 5.0))},
		{"spaces inside", "login_count:[ 1  TO  5 ]", and(cmpr("logins_count", Gte, 1.0), cmpr("logins_count", Lte, 5.0))},
		{"open high", "logins_count:[1 TO *]", cmpr("logins_count", Gte, 1.0)},
		{"open low", "logins_count:{* TO 5}", cmpr("logins_count", Lt, 5.0)},
		{"open both", "logins_count:[* TO *]", &Exists{Field: "logins_count"}},
		{"open both exclusive", "created_at:{* TO *}", &Exists{Field: "created_at"}},
		{"date range", "created_at:[2020-01-01 TO 2020-12-31T23:59:59Z]", and(
			cmpr("created_at", Gte, date(2020, 1, 1, 0, 0, 0, 0)),
			cmpr("created_at", Lte, date(2020, 12, 31, 23, 59, 59, 0)))},
		{"quoted bounds", `created_at:["2020-01-01" TO "2021-01-01"}`, and(
			cmpr("created_at", Gte, date(2020, 1, 1, 0, 0, 0, 0)),
			cmpr("created_at", Lt, date(2021, 1, 1, 0, 0, 0, 0)))},
		{"range with other terms", "logins_count:[1 TO 5] email:a", and(
			cmpr("logins_count", Gte, 1.0), cmpr("logins_count", Lte, 5.0), eq("email", "a"))},
		{"negated range", "-logins_count:[1 TO 5]", not(and(cmpr("logins_count", Gte, 1.0), cmpr("logins_count", Lte, 5.0)))},

		// _exists_.
		{"exists", "_exists_:email", &Exists{Field: "email"}},
		{"exists alias", "_exists_:login_count", &Exists{Field: "logins_count"}},
		{"exists quoted", `_exists_:"email"`, &Exists{Field: "email"}},
		{"exists equals", "_exists_=email", &Exists{Field: "email"}},
		{"not exists dash", "-_exists_:email", not(&Exists{Field: "email"})},
		{"not exists NOT", "NOT _exists_:email", not(&Exists{Field: "email"})},

		// Negation.
		{"dash", "-email:a", not(eq("email", "a"))},
		{"NOT", "NOT email:a", not(eq("email", "a"))},
		{"NOT paren", "NOT(email:a)", not(eq("email", "a"))},
		{"double dash", "--email:a", eq("email", "a")},
		{"NOT dash", "NOT -email:a", eq("email", "a")},
		{"dash group", "-(email:a OR name:b)", not(or(eq("email", "a"), eq("name", "b")))},
		{"NOT group", "NOT (email:a name:b)", not(and(eq("email", "a"), eq("name", "b")))},
		{"dash bare", "-john", not(term("john"))},
		{"dash quoted bare", `-"john doe"`, not(term("john doe"))},
		{"dash inside value", "name:a-b", eq("name", "a-b")},
		{"NOT as field is unknown but NOT value ok", "name:NOT", eq("name", "NOT")},

		// AND / OR precedence.
		{"implicit and", "email:a name:b", and(eq("email", "a"), eq("name", "b"))},
		{"explicit and", "email:a AND name:b", and(eq("email", "a"), eq("name", "b"))},
		{"or", "email:a OR name:b", or(eq("email", "a"), eq("name", "b"))},
		{"and binds tighter left", "email:a name:b OR username:c", or(and(eq("email", "a"), eq("name", "b")), eq("username", "c"))},
		{"and binds tighter right", "email:a OR name:b username:c", or(eq("email", "a"), and(eq("name", "b"), eq("username", "c")))},
		{"and binds tighter both", "email:a AND name:b OR username:c AND locale:d", or(
			and(eq("email", "a"), eq("name", "b")), and(eq("username", "c"), eq("locale", "d")))},
		{"lowercase keywords are terms", "email:a or name:b", and(eq("email", "a"), term("or"), eq("name", "b"))},
		{"tabs and newlines", "email:a\tOR\nname:b", or(eq("email", "a"), eq("name", "b"))},

		// Parentheses.
		{"group", "(email:a OR name:b) username:c", and(or(eq("email", "a"), eq("name", "b")), eq("username", "c"))},
		{"group right", "username:c (email:a OR name:b)", and(eq("username", "c"), or(eq("email", "a"), eq("name", "b")))},
		{"redundant parens", "((email:a))", eq("email", "a")},
		{"spaces in parens", "( email:a )", eq("email", "a")},
		{"and flattened", "(email:a name:b) username:c", and(eq("email", "a"), eq("name", "b"), eq("username", "c"))},
		{"or flattened", "(email:a OR name:b) OR username:c", or(eq("email", "a"), eq("name", "b"), eq("username", "c"))},
		{"nested", "email:a (name:b OR (username:c -locale:d))", and(eq("email", "a"), or(eq("name", "b"), and(eq("username", "c"), not(eq("locale", "d")))))},
		{"max depth", strings.Repeat("(", MaxDepth) + "email:a" + strings.Repeat(")", MaxDepth), eq("email", "a")},

		// Bare terms.
		{"bare", "john", term("john")},
		{"bare quoted", `"john doe"`, term("john doe")},
		{"bare trailing star", "john*", term("john")},
		{"bare both stars", "*john*", term("john")},
		{"bare email", "john@example.com", term("john@example.com")},
		{"bare and field", "john email_verified:true", and(term("john"), eq("email_verified", true))},
		{"bare or", "john OR jane", or(term("john"), term("jane"))},
		{"bare unicode", "Zoë", term("Zoë")},

		// Limits reached but not exceeded.
		{"max terms", manyTerms, and(manyWant...)},
		{"max length", longest, eq("name", longest[len("name:"):])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.q, testSchema)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		q    string
		want []string // substrings of the message
	}{
		// The allow-list.
		{"unknown field", "tenant_id:x", []string{`unknown field "tenant_id"`}},
		{"unknown field equals", "tenant_id=x", []string{`unknown field "tenant_id"`}},
		{"unknown negated", "-tenant_id:x", []string{`unknown field "tenant_id"`}},
		{"unknown NOT", "NOT tenant_id:x", []string{`unknown field "tenant_id"`}},
		{"unknown in or", "email:a OR tenant_id:b", []string{`unknown field "tenant_id"`}},
		{"unknown in group", "(email:a OR (tenant_id:b))", []string{`unknown field "tenant_id"`}},
		{"unknown exists", "_exists_:tenant_id", []string{`unknown field "tenant_id"`}},
		{"unknown range", "tenant_id:[1 TO 2]", []string{`unknown field "tenant_id"`}},
		{"unknown op", "tenant_id:>1", []string{`unknown field "tenant_id"`}},
		{"unknown empty value", "tenant_id:", []string{`unknown field "tenant_id"`}},
		{"unknown quoted value", `tenant_id:"x"`, []string{`unknown field "tenant_id"`}},
		{"field names are case-sensitive", "Email:x", []string{`unknown field "Email"`}},
		{"alias target only", "login_counts:1", []string{`unknown field "login_counts"`}},
		{"dotted", "app_metadata.tenant:1", []string{`unknown field "app_metadata.tenant"`}},
		{"star field", "*:x", []string{`unknown field "*"`}},
		{"star field quoted star", `*:"*"`, []string{`unknown field "*"`}},
		{"keyword as field", "NOT:x", []string{`unknown field "NOT"`}},
		{"missing field", ":x", []string{"missing field name"}},
		{"missing field equals", "=x", []string{"missing field name"}},

		// Empty values.
		{"empty value", "email:", []string{`empty value for field "email"`}},
		{"empty value then term", "email: name:a", []string{`empty value for field "email"`}},
		{"empty quoted value", `email:""`, []string{`empty value for field "email"`}},
		{"empty after op", "logins_count:>", []string{`empty value for field "logins_count"`}},
		{"empty exists", "_exists_:", []string{`empty value for field "_exists_"`}},
		{"empty bare", `""`, []string{"empty search term"}},
		{"grouped values", "email:(a OR b)", []string{`field "email"`, "not supported"}},

		// Quotes.
		{"unterminated", `name:"John`, []string{"unterminated"}},
		{"unterminated escaped quote", `name:"John\"`, []string{"unterminated"}},
		{"unterminated bare", `"john`, []string{"unterminated"}},
		{"quote after value", `email:a"b"`, []string{`unexpected '"'`}},
		{"text after quote", `"john"doe`, []string{"unexpected 'd'"}},
		{"text after quoted value", `name:"john"doe`, []string{"unexpected 'd'"}},
		{"paren after value", "email:a(b)", []string{"unexpected '('"}},

		// Typed values.
		{"bool", "email_verified:yes", []string{`"yes"`, `"email_verified"`}},
		{"bool case", "blocked:TRUE", []string{`"TRUE"`, `"blocked"`}},
		{"bool wildcard", "blocked:t*", []string{`"blocked"`}},
		{"number", "logins_count:abc", []string{`"abc"`, `"logins_count"`}},
		{"number alias names written field", "login_count:abc", []string{`"login_count"`}},
		{"nan", "logins_count:NaN", []string{`"logins_count"`}},
		{"inf", "logins_count:Inf", []string{`"logins_count"`}},
		{"overflow", "logins_count:1e999", []string{`"logins_count"`}},
		{"number wildcard", "logins_count:1*", []string{`"logins_count"`}},
		{"date", "created_at:yesterday", []string{`"yesterday"`, `"created_at"`}},
		{"bad month", "created_at:2020-13-01", []string{`"created_at"`}},
		{"date op", "last_login:>soon", []string{`"last_login"`}},

		// Comparisons and ranges.
		{"string gt", "email:>a", []string{`"email"`, "not supported"}},
		{"bool lte", "blocked:<=true", []string{`"blocked"`, "not supported"}},
		{"string range", "email:[a TO b]", []string{`"email"`, "not supported"}},
		{"bool range", "blocked:{false TO true}", []string{`"blocked"`, "not supported"}},
		{"range no TO", "logins_count:[1 5]", []string{`"logins_count"`, "TO"}},
		{"range lowercase to", "logins_count:[1 to 5]", []string{`"logins_count"`, "TO"}},
		{"range unclosed", "logins_count:[1 TO 5", []string{`"logins_count"`, "']'"}},
		{"range TO at end", "logins_count:[1 TO", []string{`"logins_count"`, "TO"}},
		{"range missing low", "logins_count:[ TO 5]", []string{`"logins_count"`}},
		{"range missing high", "logins_count:[1 TO ]", []string{`"logins_count"`}},
		{"range bad bound", "logins_count:[a TO 5]", []string{`"a"`, `"logins_count"`}},
		{"range bad date", "created_at:[2020-01-01 TO later]", []string{`"later"`, `"created_at"`}},
		{"range then text", "logins_count:[1 TO 2]x", []string{"unexpected 'x'"}},
		{"range quoted star is a value", `logins_count:["*" TO 2]`, []string{`"*"`, `"logins_count"`}},

		// Structure.
		{"unclosed paren", "(email:a", []string{"missing ')'"}},
		{"unopened paren", "email:a)", []string{"unexpected ')'"}},
		{"extra close", "(email:a))", []string{"unexpected ')'"}},
		{"empty parens", "()", []string{"empty parentheses"}},
		{"empty parens in query", "email:a ()", []string{"empty parentheses"}},
		{"too deep", strings.Repeat("(", MaxDepth+1) + "email:a" + strings.Repeat(")", MaxDepth+1), []string{"nested deeper"}},
		{"leading OR", "OR email:a", []string{"OR", "must follow a term"}},
		{"trailing OR", "email:a OR", []string{"OR", "must be followed by a term"}},
		{"double OR", "email:a OR OR name:b", []string{"OR", "must be followed by a term"}},
		{"OR before paren", "(email:a OR)", []string{"OR", "must be followed by a term"}},
		{"OR after paren", "(OR email:a)", []string{"OR", "must follow a term"}},
		{"leading AND", "AND email:a", []string{"AND", "must follow a term"}},
		{"trailing AND", "email:a AND", []string{"AND", "must be followed by a term"}},
		{"double AND", "email:a AND AND name:b", []string{"AND", "must be followed by a term"}},
		{"AND OR", "email:a AND OR name:b", []string{"AND", "must be followed by a term"}},
		{"OR AND", "email:a OR AND name:b", []string{"must follow a term"}},
		{"NOT alone", "NOT", []string{"NOT", "must be followed by a term"}},
		{"trailing NOT", "email:a NOT", []string{"NOT", "must be followed by a term"}},
		{"NOT OR", "NOT OR email:a", []string{"NOT", "must be followed by a term"}},
		{"NOT close", "(NOT)", []string{"NOT", "must be followed by a term"}},
		{"dash alone", "-", []string{"'-'", "must be followed by a term"}},
		{"dash space", "- email:a", []string{"'-'", "must be followed by a term"}},
		{"trailing dash", "email:a -", []string{"'-'", "must be followed by a term"}},
		{"dash OR", "-OR", []string{"unexpected OR"}},

		// Free text.
		{"inner wildcard", "jo*hn", []string{`"jo*hn"`, "wildcards"}},

		// Limits.
		{"too long", "name:" + strings.Repeat("a", MaxLength), []string{"longer than 2048 bytes"}},
		{"too many terms", strings.TrimSpace(strings.Repeat("email:a ", MaxTerms+1)), []string{"more than 64 terms"}},
		{"too many bare terms", strings.TrimSpace(strings.Repeat("a ", MaxTerms+1)), []string{"more than 64 terms"}},
		{"invalid utf8", "name:\xff", []string{"UTF-8"}},
		{"invalid utf8 alone", "\xc3", []string{"UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.q, testSchema)
			require.Error(t, err)
			require.Nil(t, got)
			var qe *Error
			require.True(t, errors.As(err, &qe), "error %T is not *Error", err)
			for _, w := range tt.want {
				require.Contains(t, qe.Msg, w)
			}
		})
	}
}

func TestParseFreeTextNotSupported(t *testing.T) {
	s := Schema{Fields: map[string]Type{"type": String}}
	for _, q := range []string{"john", `"john doe"`, "type:x john", "-john"} {
		_, err := Parse(q, s)
		var qe *Error
		require.True(t, errors.As(err, &qe), q)
		require.Equal(t, "free-text search is not supported", qe.Msg, q)
	}
	// Match-all needs no free-text search.
	got, err := Parse("*", s)
	require.NoError(t, err)
	require.Equal(t, &And{}, got)
}

func TestParseSchemaEdges(t *testing.T) {
	// An alias to a name that is not a field is refused.
	s := Schema{
		Fields:  map[string]Type{"a": String, "odd": Type(99)},
		Aliases: map[string]string{"b": "missing", "c": "a"},
	}
	_, err := Parse("b:x", s)
	require.EqualError(t, err, `unknown field "b"`)
	got, err := Parse("c:x", s)
	require.NoError(t, err)
	require.Equal(t, eq("a", "x"), got)
	// A field of an unknown type cannot take values.
	_, err = Parse("odd:x", s)
	require.ErrorContains(t, err, `"odd"`)
	// The zero schema refuses everything but match-all.
	_, err = Parse("email:x", Schema{})
	require.EqualError(t, err, `unknown field "email"`)
}

func TestErrorType(t *testing.T) {
	var err error = &Error{Msg: "boom"}
	require.Equal(t, "boom", err.Error())
}
