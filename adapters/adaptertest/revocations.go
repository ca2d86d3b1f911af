package adaptertest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// testSessionRevocations is the contract of SessionRevocationsAdapter: the
// revocation list of the stateless session store.
func testSessionRevocations(t *testing.T, s *suite) {
	d := s.d
	r := d.SessionRevocations
	tn := s.tenant(t)
	at := func(d time.Duration) time.Time { return adapters.Now().Add(d) }

	t.Run("revoke_get", func(t *testing.T) {
		id, when, until := adapters.NewID(""), at(-time.Second), at(time.Hour)
		require.NoError(t, r.Revoke(t.Context(), tn, id, when, until))
		got, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID)
		require.Equal(t, id, got.ID)
		requireMillisUTC(t, got.RevokedAt, "revoked_at")
		requireMillisUTC(t, got.ExpiresAt, "expires_at")
		require.True(t, when.Equal(got.RevokedAt), "revoked_at %v, want %v", got.RevokedAt, when)
		require.True(t, until.Equal(got.ExpiresAt), "expires_at %v, want %v", got.ExpiresAt, until)
	})
	t.Run("user_marker_id", func(t *testing.T) {
		id := "user:auth0|" + adapters.NewID("")
		require.NoError(t, r.Revoke(t.Context(), tn, id, at(0), at(time.Hour)))
		got, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.Equal(t, id, got.ID)
	})
	t.Run("sub_millisecond_input", func(t *testing.T) {
		id := adapters.NewID("")
		when := time.Now().In(time.FixedZone("X", 3600))
		require.NoError(t, r.Revoke(t.Context(), tn, id, when, when.Add(time.Hour)))
		got, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		requireMillisUTC(t, got.RevokedAt, "revoked_at")
		require.True(t, adapters.Millis(when).Equal(got.RevokedAt))
	})
	t.Run("get_unknown", func(t *testing.T) {
		_, err := r.Get(t.Context(), tn, adapters.NewID(""))
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("revoke_again_keeps_the_later_times", func(t *testing.T) {
		id := adapters.NewID("")
		t1, u1 := at(-time.Minute), at(time.Hour)
		require.NoError(t, r.Revoke(t.Context(), tn, id, t1, u1))
		// Later revocation, earlier expiry: revoked_at moves, expires_at stays.
		t2, u2 := at(-time.Second), at(30*time.Minute)
		require.NoError(t, r.Revoke(t.Context(), tn, id, t2, u2))
		got, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.True(t, t2.Equal(got.RevokedAt), "revoked_at %v, want the later %v", got.RevokedAt, t2)
		require.True(t, u1.Equal(got.ExpiresAt), "expires_at %v, want the later %v", got.ExpiresAt, u1)
		// Earlier revocation, later expiry: revoked_at stays, expires_at moves.
		t3, u3 := at(-time.Hour), at(2*time.Hour)
		require.NoError(t, r.Revoke(t.Context(), tn, id, t3, u3))
		got, err = r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.True(t, t2.Equal(got.RevokedAt), "revoked_at %v, want %v (never back-dated)", got.RevokedAt, t2)
		require.True(t, u3.Equal(got.ExpiresAt), "expires_at %v, want the later %v", got.ExpiresAt, u3)
		// The same values again change nothing and are no error.
		require.NoError(t, r.Revoke(t.Context(), tn, id, t2, u3))
		got2, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.Equal(t, *got, *got2)
	})
	t.Run("concurrent_revokes", func(t *testing.T) {
		id := adapters.NewID("")
		base := at(-time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.Revoke(t.Context(), tn, id, base.Add(time.Duration(i)*time.Second), base.Add(time.Duration(i+2)*time.Hour))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "concurrent Revoke %d", i)
		}
		got, err := r.Get(t.Context(), tn, id)
		require.NoError(t, err)
		require.True(t, base.Add(7*time.Second).Equal(got.RevokedAt), "revoked_at %v is not the latest", got.RevokedAt)
		require.True(t, base.Add(9*time.Hour).Equal(got.ExpiresAt), "expires_at %v is not the latest", got.ExpiresAt)
	})
	t.Run("invalid", func(t *testing.T) {
		for name, c := range map[string]struct {
			id    string
			until time.Time
		}{
			"empty id":     {"", at(time.Hour)},
			"id too long":  {strings.Repeat("x", 192), at(time.Hour)},
			"zero expires": {adapters.NewID(""), time.Time{}},
		} {
			err := r.Revoke(t.Context(), tn, c.id, at(0), c.until)
			require.ErrorIs(t, err, adapters.ErrInvalid, name)
		}
		require.NoError(t, r.Revoke(t.Context(), tn, strings.Repeat("x", 191), at(0), at(time.Hour)), "an id of 191 bytes fits")
	})
	t.Run("tenant_isolation", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		id := adapters.NewID("")
		require.NoError(t, r.Revoke(t.Context(), a, id, at(-time.Minute), at(time.Hour)))
		_, err := r.Get(t.Context(), b, id)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a revocation of another tenant is visible")
		// The same id in b is its own record.
		require.NoError(t, r.Revoke(t.Context(), b, id, at(0), at(2*time.Hour)))
		ga, err := r.Get(t.Context(), a, id)
		require.NoError(t, err)
		gb, err := r.Get(t.Context(), b, id)
		require.NoError(t, err)
		require.True(t, at(time.Hour).Add(-time.Minute).Before(ga.ExpiresAt) && ga.ExpiresAt.Before(at(time.Hour).Add(time.Minute)),
			"tenant a's record changed through tenant b: %+v", ga)
		require.Equal(t, a, ga.TenantID)
		require.Equal(t, b, gb.TenantID)
	})
	t.Run("tenant_delete_removes_them", func(t *testing.T) {
		a := s.tenant(t)
		ids := []string{adapters.NewID(""), "user:auth0|" + adapters.NewID("")}
		for _, id := range ids {
			require.NoError(t, r.Revoke(t.Context(), a, id, at(0), at(time.Hour)))
		}
		require.NoError(t, d.Tenants.Delete(t.Context(), a))
		for _, id := range ids {
			_, err := r.Get(t.Context(), a, id)
			require.ErrorIs(t, err, adapters.ErrNotFound, "revocation %s survived its tenant's deletion", id)
		}
	})
	t.Run("delete_expired", func(t *testing.T) {
		a := s.tenant(t)
		mk := func(until time.Time) string {
			id := adapters.NewID("")
			require.NoError(t, r.Revoke(t.Context(), a, id, at(-2*time.Hour), until))
			return id
		}
		var e expiry
		for i := range 5 {
			e.expired = append(e.expired, mk(at(-time.Duration(i+1)*time.Minute)))
		}
		for i := range 3 {
			e.live = append(e.live, mk(at(time.Duration(i+1)*time.Hour)))
		}
		e.deleteExpired = r.DeleteExpired
		e.exists = existsBy(func(ctx contextT, id string) (*adapters.SessionRevocation, error) { return r.Get(ctx, a, id) })
		e.run(t)
	})
}
