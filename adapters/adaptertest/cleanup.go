package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// expiry checks one DeleteExpired: rows made by expired are gone, rows made
// by live remain, and the count covers the expired rows. DeleteExpired is
// global, so rows of other tenants may be counted too.
type expiry struct {
	expired, live []string
	deleteExpired func(ctx contextT, before time.Time, batch int) (int, error)
	exists        func(t *testing.T, id string) bool
}

func (e expiry) run(t *testing.T) {
	t.Helper()
	require.Len(t, e.expired, 5)
	require.Len(t, e.live, 3)
	n, err := e.deleteExpired(t.Context(), adapters.Now(), 2)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, len(e.expired), "DeleteExpired must count every expired row it deleted")
	for _, id := range e.expired {
		require.False(t, e.exists(t, id), "expired row %s survived DeleteExpired with batch 2", id)
	}
	for _, id := range e.live {
		require.True(t, e.exists(t, id), "live row %s was deleted", id)
	}
	_, err = e.deleteExpired(t.Context(), adapters.Now(), 2)
	require.NoError(t, err)
	for _, id := range e.live {
		require.True(t, e.exists(t, id), "live row %s was deleted by a second run", id)
	}
}

// existsBy turns a Get into an existence check that fails on other errors.
func existsBy[T any](get func(ctx contextT, id string) (*T, error)) func(t *testing.T, id string) bool {
	return func(t *testing.T, id string) bool {
		t.Helper()
		_, err := get(t.Context(), id)
		if err == nil {
			return true
		}
		require.ErrorIs(t, err, adapters.ErrNotFound)
		return false
	}
}

func testCleanup(t *testing.T, s *suite) {
	d := s.d
	past := func(d time.Duration) time.Time { return adapters.Now().Add(-d) }
	future := func(d time.Duration) time.Time { return adapters.Now().Add(d) }

	t.Run("codes", func(t *testing.T) {
		tn := s.tenant(t)
		mk := func(exp time.Time) string {
			c := fullCode()
			c.ExpiresAt = exp
			got, err := d.Codes.Create(t.Context(), tn, c)
			require.NoError(t, err)
			return got.CodeID
		}
		var e expiry
		for i := range 5 {
			e.expired = append(e.expired, mk(past(time.Duration(i+1)*time.Minute)))
		}
		for i := range 3 {
			e.live = append(e.live, mk(future(time.Duration(i+1)*time.Hour)))
		}
		e.deleteExpired = d.Codes.DeleteExpired
		e.exists = existsBy(func(ctx contextT, id string) (*adapters.Code, error) {
			return d.Codes.Get(ctx, tn, adapters.CodeAuthorization, id)
		})
		e.run(t)
	})
	t.Run("login_sessions", func(t *testing.T) {
		tn := s.tenant(t)
		mk := func(exp time.Time) string {
			ls := fullLoginSession()
			ls.ExpiresAt = exp
			got, err := d.LoginSessions.Create(t.Context(), tn, ls)
			require.NoError(t, err)
			return got.ID
		}
		var e expiry
		for i := range 5 {
			e.expired = append(e.expired, mk(past(time.Duration(i+1)*time.Minute)))
		}
		for i := range 3 {
			e.live = append(e.live, mk(future(time.Duration(i+1)*time.Hour)))
		}
		e.deleteExpired = d.LoginSessions.DeleteExpired
		e.exists = existsBy(func(ctx contextT, id string) (*adapters.LoginSession, error) {
			return d.LoginSessions.Get(ctx, tn, id)
		})
		e.run(t)
	})
	t.Run("sessions", func(t *testing.T) {
		tn := s.tenant(t)
		uid := "auth0|" + adapters.NewID("")
		mk := func(exp, idle *time.Time) string {
			x := fullSession(uid)
			x.ExpiresAt, x.IdleExpiresAt = exp, idle
			got, err := d.Sessions.Create(t.Context(), tn, x)
			require.NoError(t, err)
			return got.ID
		}
		var e expiry
		e.expired = []string{
			mk(ptr(past(time.Minute)), nil),
			mk(ptr(past(time.Hour)), ptr(past(2*time.Hour))),
			mk(ptr(past(time.Second)), ptr(future(time.Hour))),
			mk(ptr(future(time.Hour)), ptr(past(time.Minute))),
			mk(nil, ptr(past(time.Minute))),
		}
		e.live = []string{
			mk(ptr(future(time.Hour)), ptr(future(time.Minute))),
			mk(nil, nil),
			mk(ptr(future(time.Hour)), nil),
		}
		e.deleteExpired = d.Sessions.DeleteExpired
		e.exists = existsBy(func(ctx contextT, id string) (*adapters.Session, error) { return d.Sessions.Get(ctx, tn, id) })
		e.run(t)
	})
	t.Run("refresh_tokens", func(t *testing.T) {
		tn := s.tenant(t)
		uid := "auth0|" + adapters.NewID("")
		mk := func(exp, idle *time.Time) string {
			x := fullRefreshToken(uid)
			x.ExpiresAt, x.IdleExpiresAt = exp, idle
			got, err := d.RefreshTokens.Create(t.Context(), tn, x)
			require.NoError(t, err)
			return got.ID
		}
		var e expiry
		for i := range 5 {
			e.expired = append(e.expired, mk(ptr(past(time.Duration(i+1)*time.Minute)), nil))
		}
		e.live = []string{
			mk(ptr(future(time.Hour)), ptr(future(time.Minute))),
			mk(nil, nil),
			mk(ptr(future(time.Hour)), nil),
		}
		e.deleteExpired = d.RefreshTokens.DeleteExpired
		e.exists = existsBy(func(ctx contextT, id string) (*adapters.RefreshToken, error) {
			return d.RefreshTokens.Get(ctx, tn, id)
		})
		e.run(t)
	})
}
