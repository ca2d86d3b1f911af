package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// newUser stores a minimal database user in tenant tn.
func (s *suite) newUser(t *testing.T, tn string) string {
	t.Helper()
	id := adapters.NewID("")
	u, err := s.d.Users.Create(t.Context(), tn, adapters.User{
		UserID: "auth0|" + id, Email: id + "@example.com", Name: "User " + id, Provider: "auth0", Connection: dbConn,
	})
	require.NoError(t, err)
	return u.UserID
}

func testPasswords(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)

	t.Run("create_get_current", func(t *testing.T) {
		uid := s.newUser(t, tn)
		in := adapters.Password{UserID: uid, Hash: "$2a$10$abcdefghijklmnopqrstuuJ0q9x1yJ2bQ3F4cG5hH6iI7jJ8kK9lL", Algorithm: "bcrypt"}
		before := time.Now()
		got, err := d.Passwords.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		require.True(t, got.IsCurrent, "a new password is current")
		want := in
		want.ID, want.CreatedAt, want.IsCurrent = got.ID, got.CreatedAt, true
		requireCreated(t, want, got, func() (*adapters.Password, error) { return d.Passwords.GetCurrent(t.Context(), tn, uid) })
	})
	t.Run("history", func(t *testing.T) {
		uid := s.newUser(t, tn)
		var made []*adapters.Password
		for i, alg := range []string{"bcrypt", "argon2id", "argon2id"} {
			p, err := d.Passwords.Create(t.Context(), tn, adapters.Password{UserID: uid, Hash: "hash-" + string(rune('a'+i)), Algorithm: alg})
			require.NoError(t, err)
			made = append(made, p)
			sleepTick()
		}
		cur, err := d.Passwords.GetCurrent(t.Context(), tn, uid)
		require.NoError(t, err)
		require.Equal(t, *made[2], *cur, "GetCurrent must return the newest password")
		all, err := d.Passwords.List(t.Context(), tn, uid, 10)
		require.NoError(t, err)
		require.Len(t, all, 3)
		for i, p := range all {
			want := *made[2-i]
			want.IsCurrent = i == 0
			require.Equal(t, want, p, "List must return newest first, only the newest current (index %d)", i)
		}
		two, err := d.Passwords.List(t.Context(), tn, uid, 2)
		require.NoError(t, err)
		require.Equal(t, all[:2], two, "List(limit 2)")
	})
	t.Run("get_current_unknown", func(t *testing.T) {
		uid := s.newUser(t, tn)
		_, err := d.Passwords.GetCurrent(t.Context(), tn, uid)
		require.ErrorIs(t, err, adapters.ErrNotFound, "user without password")
		_, err = d.Passwords.GetCurrent(t.Context(), tn, "auth0|"+adapters.NewID(""))
		require.ErrorIs(t, err, adapters.ErrNotFound, "unknown user")
		list, err := d.Passwords.List(t.Context(), tn, uid, 10)
		require.NoError(t, err)
		require.Empty(t, list)
	})
	t.Run("per_user", func(t *testing.T) {
		a, b := s.newUser(t, tn), s.newUser(t, tn)
		pa, err := d.Passwords.Create(t.Context(), tn, adapters.Password{UserID: a, Hash: "ha", Algorithm: "bcrypt"})
		require.NoError(t, err)
		sleepTick()
		_, err = d.Passwords.Create(t.Context(), tn, adapters.Password{UserID: b, Hash: "hb", Algorithm: "bcrypt"})
		require.NoError(t, err)
		cur, err := d.Passwords.GetCurrent(t.Context(), tn, a)
		require.NoError(t, err)
		require.Equal(t, *pa, *cur, "another user's new password demoted this one")
		list, err := d.Passwords.List(t.Context(), tn, a, 10)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}
