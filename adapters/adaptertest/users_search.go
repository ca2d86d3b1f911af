package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// testUserSearch checks the q semantics on eight users designed for it.
func testUserSearch(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	day := 24 * time.Hour
	users := []adapters.User{
		{Email: "alice@example.com", Name: "Alice Smith", EmailVerified: true, LoginsCount: 5, PhoneNumber: "+15550001"},
		{Email: "bob@example.org", Name: "Bob Jones", LoginsCount: 0, Blocked: true, Username: "bobby"},
		{Email: "carol@example.org", Name: "Carol Smith", EmailVerified: true, LoginsCount: 12},
		{Email: "dave@example.net", Name: "Dave Brown", EmailVerified: true, LoginsCount: 3, Connection: socialConn, Provider: "google-oauth2", IsSocial: true},
		{Email: "eve@sub.example.org", Name: "Eve Adams", LoginsCount: 7},
		{Name: "Frank Phone", PhoneNumber: "+15550006", LoginsCount: 1, Connection: "sms", Provider: "sms"},
		{Email: "grace.smith@example.com", Name: "Grace Hopper", EmailVerified: true, LoginsCount: 20, Nickname: "Amazing Grace"},
		{Email: "heidi@example.com", Name: "Heidi Klum", LoginsCount: 2},
	}
	ids := make([]string, len(users))
	for i := range users {
		u := &users[i]
		if u.Provider == "" {
			u.Provider, u.Connection = "auth0", dbConn
		}
		u.UserID = u.Provider + "|" + adapters.NewID("")
		if u.Provider == "google-oauth2" {
			u.UserID = "google-oauth2|108" + adapters.NewID("")[:15]
		}
		u.CreatedAt = ms(time.Duration(i+1) * day) // 2021-03-02T12:00Z, 03-03, ...
		got, err := d.Users.Create(t.Context(), tn, *u)
		require.NoError(t, err)
		require.Equal(t, u.CreatedAt, got.CreatedAt, "a caller-provided created_at must be kept")
		ids[i] = got.UserID
	}
	// A decoy in another tenant that matches most queries.
	other := s.tenant(t)
	_, err := d.Users.Create(t.Context(), other, adapters.User{
		UserID: ids[0], Email: "alice@example.com", Name: "Alice Smith", EmailVerified: true, LoginsCount: 5,
		PhoneNumber: "+15550006", Provider: "auth0", Connection: dbConn, CreatedAt: ms(2 * day),
	})
	require.NoError(t, err)

	pick := func(n ...int) []string {
		out := []string{}
		for _, i := range n {
			out = append(out, ids[i-1])
		}
		return out
	}
	search := func(t *testing.T, q string) ([]string, error) {
		res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: q, PerPage: adapters.MaxPerPage, IncludeTotals: true})
		if err != nil {
			return nil, err
		}
		require.NotNil(t, res.Items)
		require.Equal(t, len(res.Items), res.Total, "q %q: Total must count the matches only", q)
		return keysOf(res.Items, func(u adapters.User) string { return u.UserID }), nil
	}

	cases := []struct {
		name, q string
		want    []string
	}{
		{"field_exact", "email:alice@example.com", pick(1)},
		{"email_case_insensitive", "email:ALICE@Example.COM", pick(1)},
		{"quoted_with_space", `name:"Alice Smith"`, pick(1)},
		{"quoted_nickname", `nickname:"Amazing Grace"`, pick(7)},
		{"and_implicit", "email_verified:true logins_count:>4", pick(1, 3, 7)},
		{"and_keyword", "email_verified:true AND logins_count:>4", pick(1, 3, 7)},
		{"or", "email:alice@example.com OR email:bob@example.org", pick(1, 2)},
		{"or_grouped_and", "(email:alice@example.com OR email:bob@example.org) logins_count:>0", pick(1)},
		{"negation", "-connection:google-oauth2", pick(1, 2, 3, 5, 6, 7, 8)},
		{"not_keyword", "NOT blocked:true", pick(1, 3, 4, 5, 6, 7, 8)},
		{"negation_and_term", `smith -name:"Alice Smith"`, pick(3, 7)},
		{"exists", "_exists_:phone_number", pick(1, 6)},
		{"exists_username", "_exists_:username", pick(2)},
		{"not_exists", "-_exists_:email", pick(6)},
		{"number_gt", "logins_count:>5", pick(3, 5, 7)},
		{"number_lte", "logins_count:<=1", pick(2, 6)},
		{"number_alias_gte", "login_count:>=12", pick(3, 7)},
		{"number_range_inclusive", "logins_count:[3 TO 7]", pick(1, 4, 5)},
		{"number_range_exclusive", "logins_count:{3 TO 7}", pick(1)},
		{"number_range_open", "logins_count:[12 TO *]", pick(3, 7)},
		{"date_range", "created_at:[2021-03-03 TO 2021-03-05]", pick(2, 3)},
		{"date_gte", "created_at:>=2021-03-08", pick(7, 8)},
		{"date_gt_exact", "created_at:>2021-03-03T12:00:00Z", pick(3, 4, 5, 6, 7, 8)},
		{"date_lt_millis", "created_at:<2021-03-03T12:00:00.001Z", pick(1, 2)},
		{"wildcard_suffix", "email:*@example.org", pick(2, 3)},
		{"wildcard_infix", "email:*smith*", pick(7)},
		{"bare_substring", "smith", pick(1, 3, 7)},
		{"bare_case_insensitive", "SMITH", pick(1, 3, 7)},
		{"bare_email_part", "example.net", pick(4)},
		{"bare_phone", "5550006", pick(6)},
		{"bare_user_id", ids[3], pick(4)},
		{"bare_user_id_prefix_no_match", "google-oauth2", pick()},
		{"user_id_field", `user_id:"` + ids[3] + `"`, pick(4)},
		{"bool_true", "email_verified:true", pick(1, 3, 4, 7)},
		{"bool_false", "email_verified:false", pick(2, 5, 6, 8)},
		{"blocked_false", "blocked:false", pick(1, 3, 4, 5, 6, 7, 8)},
		{"is_social", "is_social:true", pick(4)},
		{"connection_alias", "identities.connection:google-oauth2", pick(4)},
		{"injection_value", `name:"x' OR '1'='1"`, pick()},
		{"no_match", "email:nobody@example.com", pick()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := search(t, c.q)
			require.NoError(t, err, "q %q", c.q)
			requireExactlyOnce(t, c.want, got, "q %q", c.q)
		})
	}

	t.Run("invalid_fields", func(t *testing.T) {
		for _, c := range []struct{ q, field string }{
			{"tenant_id:" + other, "tenant_id"},
			{"email:alice@example.com OR tenant_id:" + tn, "tenant_id"},
			{"_exists_:tenant_id", "tenant_id"},
			{"foo:bar", "foo"},
			{"password:secret", "password"},
			{"app_metadata.plan:pro", "app_metadata.plan"},
		} {
			res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: c.q})
			require.ErrorIs(t, err, adapters.ErrInvalid, "q %q", c.q)
			require.Contains(t, err.Error(), c.field, "the error for q %q must name the field", c.q)
			require.Nil(t, res, "q %q returned a list alongside the error", c.q)
		}
		for _, q := range []string{"email:(", `"unterminated`, "logins_count:>many", "email_verified:maybe", "created_at:>yesterday"} {
			res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: q})
			require.ErrorIs(t, err, adapters.ErrInvalid, "q %q", q)
			require.Nil(t, res, "q %q returned a list alongside the error", q)
		}
		res, err := d.Users.List(t.Context(), tn, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		require.Equal(t, len(users), res.Total, "a refused query changed the tenant's users")
	})
	t.Run("offset_pages", func(t *testing.T) {
		q := "email_verified:true"
		var got []string
		for page := range 3 {
			res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: q, Page: page, PerPage: 3, IncludeTotals: true, Sort: "created_at:1"})
			require.NoError(t, err)
			require.Equal(t, 4, res.Total, "Total must count the matches only")
			require.Equal(t, page*3, res.Start)
			require.Len(t, res.Items, []int{3, 1, 0}[page])
			got = append(got, keysOf(res.Items, func(u adapters.User) string { return u.UserID })...)
		}
		require.Equal(t, pick(1, 3, 4, 7), got)
		res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: q, Sort: "email:-1"})
		require.NoError(t, err)
		require.Equal(t, pick(7, 4, 3, 1), keysOf(res.Items, func(u adapters.User) string { return u.UserID }), "q with sort email:-1")
	})
	t.Run("checkpoint_pages", func(t *testing.T) {
		list := func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.User], error) {
			return d.Users.List(ctx, tn, p)
		}
		for _, take := range []int{1, 3, 4} {
			got := walkCheckpoint(t, list, adapters.ListParams{Q: "email_verified:true"}, take, 4)
			require.Equal(t, pick(1, 3, 4, 7), keysOf(got, func(u adapters.User) string { return u.UserID }), "q with checkpoint take %d", take)
		}
		got := walkCheckpoint(t, list, adapters.ListParams{Q: "smith"}, 2, 3)
		require.Equal(t, pick(1, 3, 7), keysOf(got, func(u adapters.User) string { return u.UserID }))
	})
}
