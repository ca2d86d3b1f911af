package adaptertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

const (
	dbConn     = "Username-Password-Authentication"
	otherConn  = "other-database"
	socialConn = "google-oauth2"
)

// fullUser returns a database user with every field set.
func fullUser() adapters.User {
	id := adapters.NewID("")
	lastLogin := ms(-time.Hour)
	registered := ms(-48 * time.Hour)
	return adapters.User{
		UserID:            "auth0|" + id,
		Email:             "full." + id + "@example.com",
		EmailVerified:     true,
		Username:          "user_" + id,
		PhoneNumber:       "+15551234567",
		PhoneVerified:     true,
		Name:              "Full Üser",
		GivenName:         "Full",
		FamilyName:        "Üser",
		MiddleName:        "M",
		Nickname:          "fu",
		PreferredUsername: "fullu",
		Picture:           "https://example.com/p.png",
		Locale:            "en-GB",
		Profile:           "https://example.com/u",
		Website:           "https://example.com",
		Gender:            "other",
		Birthdate:         "1990-01-02",
		Zoneinfo:          "Europe/Paris",
		Address: &adapters.Address{
			Formatted: "1 Main St\nSpringfield", StreetAddress: "1 Main St", Locality: "Springfield",
			Region: "IL", PostalCode: "62701", Country: "US",
		},
		AppMetadata:  adapters.Metadata{"plan": "pro", "roles": []any{"a", "b"}, "quota": float64(10)},
		UserMetadata: adapters.Metadata{"theme": "dark", "nested": map[string]any{"x": float64(1.5)}},
		Provider:     "auth0",
		Connection:   dbConn,
		Blocked:      true,
		Identities: []adapters.Identity{{
			Connection: dbConn, UserID: id, Provider: "auth0",
			AccessToken: "at", RefreshToken: "rt",
			ProfileData:   adapters.Metadata{"k": "v", "n": float64(7)},
			Email:         "full." + id + "@example.com",
			EmailVerified: true, Username: "user_" + id, PhoneNumber: "+15551234567", PhoneVerified: true,
		}},
		LastIP:                  "203.0.113.7",
		LastLogin:               &lastLogin,
		LoginsCount:             42,
		RegistrationCompletedAt: &registered,
	}
}

// richMetadata returns JSON values of every kind: nested objects, arrays,
// numbers, booleans, null, unicode and a 64 KiB string.
func richMetadata() adapters.Metadata {
	return adapters.Metadata{
		"nested":          map[string]any{"a": map[string]any{"b": []any{float64(1), "two", true, nil, map[string]any{"c": float64(-3.25)}}}},
		"array":           []any{float64(0), float64(2.5), float64(-7), float64(9007199254740991), float64(1e-9)},
		"number":          float64(1234567.125),
		"t":               true,
		"f":               false,
		"null":            nil,
		"emoji":           "😀🎉👩‍👩‍👧 ✓",
		"cjk":             "漢字かなカナ한국어",
		"rtl":             "مرحبا بالعالم שלום",
		"escape":          "quote\" backslash\\ newline\n tab\t <script>&amp;</script> '; DROP TABLE users; --",
		"ключ":            "значение",
		"key with spaces": map[string]any{"inner key": "x"},
		"empty":           map[string]any{},
		"none":            []any{},
		"big":             strings.Repeat("0123456789abcdéf", 4096),
	}
}

func testUsers(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, u adapters.User) *adapters.User {
		t.Helper()
		got, err := d.Users.Create(t.Context(), tenant, u)
		require.NoError(t, err, "create user %s", u.UserID)
		return got
	}
	get := func(t *testing.T, tenant, id string) (*adapters.User, error) {
		return d.Users.Get(t.Context(), tenant, id)
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullUser()
		before := time.Now()
		got, err := d.Users.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.User, error) { return get(t, tn, in.UserID) })
	})
	t.Run("create_minimal", func(t *testing.T) {
		in := adapters.User{UserID: "auth0|" + adapters.NewID(""), Provider: "auth0", Connection: dbConn}
		got := create(t, tn, in)
		requireMillisUTC(t, got.CreatedAt, "created_at")
		want := in
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.User, error) { return get(t, tn, in.UserID) })
	})
	t.Run("create_generates_id", func(t *testing.T) {
		got := create(t, tn, adapters.User{Email: adapters.NewID("gen") + "@example.com", Provider: "auth0", Connection: dbConn})
		require.True(t, strings.HasPrefix(got.UserID, "auth0|") && len(got.UserID) > len("auth0|"),
			"generated user_id %q must have the form {provider}|{id}", got.UserID)
		fetched, err := get(t, tn, got.UserID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
		other := create(t, tn, adapters.User{Provider: "auth0", Connection: dbConn})
		require.NotEqual(t, got.UserID, other.UserID)
	})
	t.Run("create_keeps_and_normalizes_times", func(t *testing.T) {
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		created := time.Date(2020, 1, 2, 3, 4, 5, 123456789, zone)
		last := time.Date(2020, 2, 3, 4, 5, 6, 987654321, zone)
		in := adapters.User{UserID: "auth0|" + adapters.NewID(""), Provider: "auth0", Connection: dbConn, CreatedAt: created, UpdatedAt: created, LastLogin: &last}
		got := create(t, tn, in)
		fetched, err := get(t, tn, in.UserID)
		require.NoError(t, err)
		for _, u := range []*adapters.User{got, fetched} {
			require.Equal(t, adapters.Millis(created), u.CreatedAt, "created_at must be kept, in UTC at millisecond precision")
			require.Equal(t, adapters.Millis(created), u.UpdatedAt, "updated_at must be kept, in UTC at millisecond precision")
			requireMillisPtr(t, u.LastLogin, "last_login")
			require.Equal(t, adapters.Millis(last), *u.LastLogin)
		}
	})
	t.Run("email_lowercased", func(t *testing.T) {
		id := adapters.NewID("")
		got := create(t, tn, adapters.User{UserID: "auth0|" + id, Email: "Mixed.Case." + id + "@Example.COM", Provider: "auth0", Connection: dbConn})
		lower := "mixed.case." + id + "@example.com"
		require.Equal(t, lower, got.Email)
		fetched, err := get(t, tn, got.UserID)
		require.NoError(t, err)
		require.Equal(t, lower, fetched.Email, "email must be stored lower-cased")
		up, err := d.Users.Update(t.Context(), tn, got.UserID, func(u *adapters.User) error {
			u.Email = "UPPER." + id + "@EXAMPLE.COM"
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "upper."+id+"@example.com", up.Email, "Update must lower-case email too")
	})
	t.Run("json_roundtrip", func(t *testing.T) {
		in := fullUser()
		in.AppMetadata = richMetadata()
		in.UserMetadata = richMetadata()
		in.Name = "名前 👩‍💻 اسم"
		in.Identities = append(in.Identities, adapters.Identity{
			Connection: socialConn, UserID: "1099", Provider: "google-oauth2", IsSocial: true,
			ProfileData: richMetadata(),
		})
		got := create(t, tn, in)
		fetched, err := get(t, tn, in.UserID)
		require.NoError(t, err)
		require.Equal(t, in.AppMetadata, fetched.AppMetadata)
		require.Equal(t, in.UserMetadata, fetched.UserMetadata)
		require.Equal(t, in.Identities, fetched.Identities)
		require.Equal(t, in.Name, fetched.Name)
		require.Equal(t, *got, *fetched)
		// A metadata update round-trips too.
		up, err := d.Users.Update(t.Context(), tn, in.UserID, func(u *adapters.User) error {
			u.UserMetadata = adapters.Metadata{"only": []any{"x", float64(1)}}
			return nil
		})
		require.NoError(t, err)
		fetched, err = get(t, tn, in.UserID)
		require.NoError(t, err)
		require.Equal(t, adapters.Metadata{"only": []any{"x", float64(1)}}, fetched.UserMetadata)
		require.Equal(t, in.AppMetadata, fetched.AppMetadata, "updating user_metadata changed app_metadata")
		require.Equal(t, *up, *fetched)
	})
	t.Run("oversized_metadata_writes_nothing", func(t *testing.T) {
		in := adapters.User{UserID: "auth0|" + adapters.NewID(""), Provider: "auth0", Connection: dbConn,
			UserMetadata: adapters.Metadata{"blob": strings.Repeat("x", 1<<20)}}
		_, err := d.Users.Create(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid, "user_metadata over 1 MiB")
		_, err = get(t, tn, in.UserID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a refused user was stored")
	})
	t.Run("oversized_update_writes_nothing", func(t *testing.T) {
		orig := create(t, tn, fullUser())
		_, err := d.Users.Update(t.Context(), tn, orig.UserID, func(u *adapters.User) error {
			u.Name = "changed"
			u.AppMetadata = adapters.Metadata{"blob": strings.Repeat("y", 1<<20+1)}
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrInvalid, "app_metadata over 1 MiB")
		fetched, err := get(t, tn, orig.UserID)
		require.NoError(t, err)
		require.Equal(t, *orig, *fetched, "a refused update changed the user")
	})
	t.Run("oversized_email_writes_nothing", func(t *testing.T) {
		in := adapters.User{UserID: "auth0|" + adapters.NewID(""), Provider: "auth0", Connection: dbConn,
			Email: strings.Repeat("a", 520) + "@example.com"}
		_, err := d.Users.Create(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid, "email over 512 bytes")
		_, err = get(t, tn, in.UserID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a refused user was stored")
	})
	t.Run("oversized_user_id", func(t *testing.T) {
		in := adapters.User{UserID: "auth0|" + strings.Repeat("9", 600), Provider: "auth0", Connection: dbConn}
		_, err := d.Users.Create(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid, "user_id over 512 bytes")
	})
	t.Run("duplicate_user_id", func(t *testing.T) {
		first := create(t, tn, fullUser())
		dup := fullUser()
		dup.UserID = first.UserID
		_, err := d.Users.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict)
		fetched, err := get(t, tn, first.UserID)
		require.NoError(t, err)
		require.Equal(t, *first, *fetched, "a refused duplicate changed the first user")
	})
	t.Run("duplicate_email_same_connection", func(t *testing.T) {
		id := adapters.NewID("")
		first := create(t, tn, adapters.User{UserID: "auth0|a" + id, Email: "Alice" + id + "@X.com", Provider: "auth0", Connection: dbConn})
		require.Equal(t, "alice"+id+"@x.com", first.Email)
		dupID := "auth0|b" + id
		_, err := d.Users.Create(t.Context(), tn, adapters.User{UserID: dupID, Email: "alice" + id + "@x.com", Provider: "auth0", Connection: dbConn})
		require.ErrorIs(t, err, adapters.ErrConflict, "same email (other case) in the same connection")
		_, err = get(t, tn, dupID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "the refused duplicate was stored")
		_, err = d.Users.Create(t.Context(), tn, adapters.User{UserID: "auth0|c" + id, Email: "ALICE" + id + "@x.COM", Provider: "auth0", Connection: dbConn})
		require.ErrorIs(t, err, adapters.ErrConflict, "same email (upper case) in the same connection")
	})
	t.Run("same_email_other_connection_or_tenant", func(t *testing.T) {
		id := adapters.NewID("")
		email := "shared" + id + "@example.com"
		create(t, tn, adapters.User{UserID: "auth0|a" + id, Email: email, Provider: "auth0", Connection: dbConn})
		create(t, tn, adapters.User{UserID: "auth0|b" + id, Email: email, Provider: "auth0", Connection: otherConn})
		create(t, tn, adapters.User{UserID: "google-oauth2|c" + id, Email: email, Provider: "google-oauth2", Connection: socialConn, IsSocial: true})
		other := s.tenant(t)
		create(t, other, adapters.User{UserID: "auth0|a" + id, Email: email, Provider: "auth0", Connection: dbConn})
	})
	t.Run("empty_email_and_username_not_unique", func(t *testing.T) {
		for i := range 3 {
			create(t, tn, adapters.User{UserID: "sms|" + adapters.NewID(""), PhoneNumber: fmt.Sprintf("+1555000000%d", i), Provider: "sms", Connection: "sms"})
		}
		for range 2 {
			create(t, tn, adapters.User{UserID: "auth0|" + adapters.NewID(""), Provider: "auth0", Connection: dbConn})
		}
	})
	t.Run("duplicate_username_same_connection", func(t *testing.T) {
		id := adapters.NewID("")
		create(t, tn, adapters.User{UserID: "auth0|a" + id, Username: "name" + id, Provider: "auth0", Connection: dbConn})
		_, err := d.Users.Create(t.Context(), tn, adapters.User{UserID: "auth0|b" + id, Username: "name" + id, Provider: "auth0", Connection: dbConn})
		require.ErrorIs(t, err, adapters.ErrConflict, "same username in the same connection")
		create(t, tn, adapters.User{UserID: "auth0|c" + id, Username: "name" + id, Provider: "auth0", Connection: otherConn})
	})
	t.Run("update_conflict_changes_nothing", func(t *testing.T) {
		a := create(t, tn, fullUser())
		b := create(t, tn, fullUser())
		_, err := d.Users.Update(t.Context(), tn, b.UserID, func(u *adapters.User) error {
			u.Name = "should not stick"
			u.Email = strings.ToUpper(a.Email)
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "changing email to another user's")
		fetched, err := get(t, tn, b.UserID)
		require.NoError(t, err)
		require.Equal(t, *b, *fetched, "a refused update changed the user")
		_, err = d.Users.Update(t.Context(), tn, b.UserID, func(u *adapters.User) error {
			u.Username = a.Username
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "changing username to another user's")
		fetched, err = get(t, tn, b.UserID)
		require.NoError(t, err)
		require.Equal(t, *b, *fetched, "a refused update changed the user")
	})
	t.Run("update_own_email_case", func(t *testing.T) {
		a := create(t, tn, fullUser())
		up, err := d.Users.Update(t.Context(), tn, a.UserID, func(u *adapters.User) error {
			u.Email = strings.ToUpper(u.Email)
			u.LoginsCount++
			return nil
		})
		require.NoError(t, err, "re-saving a user's own email must not conflict with itself")
		require.Equal(t, a.Email, up.Email)
		require.Equal(t, a.LoginsCount+1, up.LoginsCount)
	})

	runEntity(t, entity[adapters.User]{
		create: func(t *testing.T) *adapters.User { return create(t, tn, fullUser()) },
		get:    func(ctx contextT, k string) (*adapters.User, error) { return d.Users.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.User) error) (*adapters.User, error) {
			return d.Users.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Users.Delete(ctx, tn, k) },
		key:       func(x *adapters.User) string { return x.UserID },
		setKey:    func(x *adapters.User, k string) { x.UserID = k },
		createdAt: func(x *adapters.User) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.User) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.User) { x.GivenName = "Changed" },
		newKey:    func() string { return "auth0|" + adapters.NewID("") },
	})

	testUserLists(t, s)
	t.Run("search", func(t *testing.T) { testUserSearch(t, s) })
}
