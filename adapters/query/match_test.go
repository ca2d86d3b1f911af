package query

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func getter(m map[string]any) func(string) (any, bool) {
	return func(f string) (any, bool) {
		v, ok := m[f]
		return v, ok
	}
}

func TestMatch(t *testing.T) {
	updated := time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC)
	user := map[string]any{
		"user_id":        "auth0|123",
		"email":          "John.Doe@Example.com",
		"username":       "",
		"name":           "John Doe",
		"phone_number":   "+15551234",
		"connection":     "Username-Password-Authentication",
		"provider":       "auth0",
		"email_verified": true,
		"blocked":        false,
		"logins_count":   5,
		"created_at":     time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC),
		"updated_at":     &updated,
		"last_login":     (*time.Time)(nil),
		// locale and is_social are absent.
	}
	tests := []struct {
		q    string
		want bool
	}{
		{"", true},
		{"*", true},
		{"-*", false},

		// Strings: exact and case-sensitive, but email folds case.
		{"email:john.doe@example.com", true},
		{"email:JOHN.DOE@EXAMPLE.COM", true},
		{"email:john@example.com", false},
		{`name:"John Doe"`, true},
		{`name:"john doe"`, false},
		{`name:"John"`, false},
		{"user_id:auth0|123", true},
		{"user_id:AUTH0|123", false},
		{"provider:auth0", true},
		{"username:x", false},

		// Like: case-insensitive wildcards.
		{"name:john*", true},
		{"name:*DOE", true},
		{"name:*oh*do*", true},
		{`name:"John*Doe"`, true},
		{"name:j*x", false},
		{"name:*", true},
		{"email:*@example.com", true},
		{"email:*@example.org", false},
		{"connection:username-*", true},
		{"username:*", true}, // present, empty string matches '*'
		{"locale:*", false},  // absent

		// Bools.
		{"email_verified:true", true},
		{"email_verified:false", false},
		{"blocked:false", true},
		{"blocked:true", false},
		{"is_social:false", false},
		{"-is_social:true", true},

		// Numbers (int in the entity).
		{"logins_count:5", true},
		{"login_count:5", true},
		{"logins_count:5.0", true},
		{"logins_count:4", false},
		{"logins_count:>4", true},
		{"logins_count:>5", false},
		{"logins_count:>=5", true},
		{"logins_count:<5", false},
		{"logins_count:<=5", true},
		{"logins_count:[1 TO 5]", true},
		{"logins_count:{1 TO 5}", false},
		{"logins_count:[5 TO *]", true},
		{"logins_count:[* TO 4]", false},

		// Dates (time.Time, *time.Time, nil *time.Time).
		{"created_at:2020-01-02T03:04:05Z", true},
		{"created_at:2020-01-02T05:04:05+02:00", true},
		{"created_at:2020-01-02", false},
		{"created_at:>2020-01-01", true},
		{"created_at:<2020-01-01", false},
		{"created_at:[2020-01-01 TO 2020-01-03]", true},
		{"created_at:{2020-01-02T03:04:05Z TO *}", false},
		{"updated_at:>2021-01-01", true},
		{"updated_at:2021-06-01T12:00:00", true},
		{"last_login:>2000-01-01", false},
		{"-last_login:>2000-01-01", true},

		// Exists.
		{"_exists_:email", true},
		{"_exists_:username", false}, // empty string
		{"_exists_:blocked", true},   // false exists
		{"_exists_:logins_count", true},
		{"_exists_:updated_at", true},
		{"_exists_:last_login", false}, // nil pointer
		{"_exists_:locale", false},     // absent
		{"-_exists_:locale", true},
		{"last_login:[* TO *]", false},
		{"created_at:[* TO *]", true},

		// Absent fields.
		{"locale:en", false},
		{"-locale:en", true},
		{"NOT locale:en", true},

		// Free text: substring of Contains fields, equality of Exact fields.
		{"john", true},
		{"DOE", true},
		{"example.com", true},
		{"5551234", true},
		{"auth0|123", true},
		{"auth0|12", false},
		{"auth0", false}, // provider is not searched
		{"nobody", false},
		{`"john doe"`, true},
		{"john*", true},

		// Logic.
		{"john nobody", false},
		{"john AND doe", true},
		{"john OR nobody", true},
		{"nobody OR provider:x", false},
		{"-john", false},
		{"-nobody", true},
		{"(nobody OR john) provider:auth0", true},
		{"(nobody OR john) provider:x", false},
		{"-(nobody OR john)", false},
		{"blocked:true OR logins_count:>1 email_verified:true", true},
		{"blocked:true OR logins_count:>1 email_verified:false", false},
	}
	get := getter(user)
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			e, err := Parse(tt.q, testSchema)
			require.NoError(t, err)
			require.Equal(t, tt.want, Match(e, get))
		})
	}
}

func TestMatchValueTypes(t *testing.T) {
	i, i64, f := 3, int64(3), 3.0
	var nilInt *int
	s, b := "x", true
	tests := []struct {
		name string
		v    any
		e    Expr
		want bool
	}{
		{"int", 3, eq("n", 3.0), true},
		{"int8", int8(3), eq("n", 3.0), true},
		{"int16", int16(3), eq("n", 3.0), true},
		{"int32", int32(3), eq("n", 3.0), true},
		{"int64", int64(3), eq("n", 3.0), true},
		{"uint", uint(3), eq("n", 3.0), true},
		{"uint8", uint8(3), eq("n", 3.0), true},
		{"uint16", uint16(3), eq("n", 3.0), true},
		{"uint32", uint32(3), eq("n", 3.0), true},
		{"uint64", uint64(3), eq("n", 3.0), true},
		{"float32", float32(3), eq("n", 3.0), true},
		{"float64", 3.0, cmpr("n", Gt, 2.5), true},
		{"*int", &i, eq("n", 3.0), true},
		{"*int64", &i64, eq("n", 3.0), true},
		{"*float64", &f, eq("n", 3.0), true},
		{"nil *int", nilInt, &Exists{Field: "n"}, false},
		{"zero number exists", 0, &Exists{Field: "n"}, true},
		{"NaN", math.NaN(), eq("n", 3.0), false},
		{"NaN gt", math.NaN(), cmpr("n", Lt, 3.0), false},
		{"*string", &s, eq("n", "x"), true},
		{"nil *string", (*string)(nil), &Exists{Field: "n"}, false},
		{"*bool", &b, eq("n", true), true},
		{"nil *bool", (*bool)(nil), &Exists{Field: "n"}, false},
		{"nil", nil, &Exists{Field: "n"}, false},
		{"zero time", time.Time{}, &Exists{Field: "n"}, false},
		{"zero *time", &time.Time{}, &Exists{Field: "n"}, false},
		{"time in other zone", time.Date(2020, 1, 1, 2, 0, 0, 0, time.FixedZone("x", 7200)), eq("n", date(2020, 1, 1, 0, 0, 0, 0)), true},
		{"unsupported type", []string{"x"}, &Exists{Field: "n"}, false},
		{"string vs number", "3", eq("n", 3.0), false},
		{"number vs string", 3, eq("n", "3"), false},
		{"bool vs string", true, eq("n", "true"), false},
		{"bool gt", true, cmpr("n", Gt, false), false},
		{"like on number", 3, cmpr("n", Like, "*"), false},
		{"string ordering", "b", cmpr("n", Gt, "a"), true},
		{"unknown op", 3, cmpr("n", Op(42), 3.0), false},
		{"unknown value type", 3, eq("n", int(3)), false},
		{"exact not on email", "X", &Term{Value: "x", Exact: []string{"n"}}, false},
		{"contains ignores non-strings", 3, &Term{Value: "3", Contains: []string{"n"}}, false},
		{"empty term", "x", &Term{Value: "", Contains: []string{"n"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := getter(map[string]any{"n": tt.v})
			require.Equal(t, tt.want, Match(tt.e, get))
		})
	}
}

func TestMatchEmailExactTerm(t *testing.T) {
	term := &Term{Value: "A@B.COM", Exact: []string{"email"}}
	require.True(t, Match(term, getter(map[string]any{"email": "a@b.com"})))
}

func TestMatchDegenerate(t *testing.T) {
	get := getter(map[string]any{"n": "x"})
	require.True(t, Match(nil, get))
	require.True(t, Match(&And{}, get))
	require.False(t, Match(&Or{}, get))
	require.True(t, Match((*And)(nil), get))
	require.False(t, Match((*Or)(nil), get))
	require.False(t, Match((*Not)(nil), get))
	require.False(t, Match((*Compare)(nil), get))
	require.False(t, Match((*Exists)(nil), get))
	require.False(t, Match((*Term)(nil), get))
	require.False(t, Match(&Not{}, get))
	require.False(t, Match(&Exists{Field: "n"}, nil))
	require.True(t, Match(&Not{X: eq("n", "x")}, nil))
}

func TestLike(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"", "", true},
		{"", "*", true},
		{"abc", "abc", true},
		{"abc", "ABC", true},
		{"abc", "ab", false},
		{"abc", "a*c", true},
		{"ac", "a*c", true},
		{"abc", "*b*", true},
		{"abc", "*", true},
		{"abc", "**", true},
		{"aXbXc", "a*b*c", true},
		{"abcabc", "*abc", true},
		{"abcab", "*abc", false},
		{"ab", "a*b*b", false},
		{"aba", "ab*ba", false},
		{"abba", "ab*ba", true},
		{"a%b", "a%b", true},
		{"axb", "a%b", false},
		{"a_b", "a_b", true},
		{"axb", "a_b", false},
		{"ÉCOLE", "é*", true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, like(tt.s, tt.p), "like(%q, %q)", tt.s, tt.p)
	}
}

func TestLikePattern(t *testing.T) {
	tests := map[string]string{
		"":               "",
		"*":              "%",
		"a*b":            "a%b",
		"*@example.com":  "%@example.com",
		"100%_off":       `100\%\_off`,
		`back\slash*`:    `back\\slash%`,
		`**`:             `%%`,
		"plain@mail.org": "plain@mail.org",
		"Zoë*":           "Zoë%",
	}
	for in, want := range tests {
		require.Equal(t, want, LikePattern(in), in)
	}
}
