package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullRefreshToken returns a refresh token of userID with every field set.
func fullRefreshToken(userID string) adapters.RefreshToken {
	now := adapters.Now()
	return adapters.RefreshToken{
		ID: adapters.NewULID(), LoginID: adapters.NewULID(), UserID: userID, ClientID: adapters.NewID(""),
		TokenLookup: adapters.NewID("rt_"), TokenHash: "sha256:" + adapters.NewID("") + adapters.NewID(""),
		FamilyID: adapters.NewULID(), Rotating: true,
		Device: adapters.Device{InitialUserAgent: "ua ✓", InitialIP: "192.0.2.1", LastUserAgent: "ua2", LastIP: "192.0.2.2"},
		ResourceServers: []adapters.TokenResource{
			{Audience: "https://api.example.com", Scopes: "openid profile offline_access"},
			{Audience: "https://other.example.com/", Scopes: "read:x"},
		},
		ExpiresAt:       ptr(now.Add(30 * 24 * time.Hour)),
		IdleExpiresAt:   ptr(now.Add(24 * time.Hour)),
		LastExchangedAt: ptr(now),
	}
}

// nextToken returns the successor of old for Rotate.
func nextToken(old *adapters.RefreshToken) adapters.RefreshToken {
	n := fullRefreshToken(old.UserID)
	n.FamilyID, n.LoginID, n.ClientID = old.FamilyID, old.LoginID, old.ClientID
	return n
}

func testRefreshTokens(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	uid := "auth0|" + adapters.NewID("")
	create := func(t *testing.T, rt adapters.RefreshToken) *adapters.RefreshToken {
		t.Helper()
		got, err := d.RefreshTokens.Create(t.Context(), tn, rt)
		require.NoError(t, err)
		return got
	}
	get := func(t *testing.T, id string) *adapters.RefreshToken {
		t.Helper()
		got, err := d.RefreshTokens.Get(t.Context(), tn, id)
		require.NoError(t, err)
		return got
	}
	requireAbsent := func(t *testing.T, rt adapters.RefreshToken, msg string) {
		t.Helper()
		_, err := d.RefreshTokens.Get(t.Context(), tn, rt.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound, msg)
		_, err = d.RefreshTokens.GetByLookup(t.Context(), tn, rt.TokenLookup)
		require.ErrorIs(t, err, adapters.ErrNotFound, msg)
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullRefreshToken(uid)
		before := time.Now()
		got, err := d.RefreshTokens.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		want := in
		want.CreatedAt = got.CreatedAt
		requireCreated(t, want, got, func() (*adapters.RefreshToken, error) { return d.RefreshTokens.Get(t.Context(), tn, in.ID) })
		byLookup, err := d.RefreshTokens.GetByLookup(t.Context(), tn, in.TokenLookup)
		require.NoError(t, err)
		require.Equal(t, *got, *byLookup, "GetByLookup")
		require.Equal(t, in.TokenHash, byLookup.TokenHash, "the token hash (json:\"-\") must be stored")
		_, err = d.RefreshTokens.GetByLookup(t.Context(), tn, adapters.NewID("rt_"))
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("create_generates_id", func(t *testing.T) {
		in := fullRefreshToken(uid)
		in.ID = ""
		got := create(t, in)
		require.NotEmpty(t, got.ID)
		require.Equal(t, *got, *get(t, got.ID))
	})
	t.Run("duplicate_lookup", func(t *testing.T) {
		rt := create(t, fullRefreshToken(uid))
		dup := fullRefreshToken(uid)
		dup.TokenLookup = rt.TokenLookup
		_, err := d.RefreshTokens.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "token lookups must be unique")
		dup = fullRefreshToken(uid)
		dup.ID = rt.ID
		_, err = d.RefreshTokens.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "ids must be unique")
		require.Equal(t, *rt, *get(t, rt.ID))
	})
	t.Run("list_by_user", func(t *testing.T) {
		u := "auth0|" + adapters.NewID("")
		var want []string
		for i := range 4 {
			x := fullRefreshToken(u)
			x.CreatedAt = ms(time.Duration(i) * time.Minute)
			want = append(want, create(t, x).ID)
		}
		create(t, fullRefreshToken(uid))
		res, err := d.RefreshTokens.ListByUser(t.Context(), tn, u, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, func(x adapters.RefreshToken) string { return x.ID }))
		require.Equal(t, 4, res.Total)
		res, err = d.RefreshTokens.ListByUser(t.Context(), tn, u, adapters.ListParams{PerPage: 3})
		require.NoError(t, err)
		require.Len(t, res.Items, 3)
	})
	t.Run("rotate", func(t *testing.T) {
		old := create(t, fullRefreshToken(uid))
		next := nextToken(old)
		now := adapters.Now()
		got, err := d.RefreshTokens.Rotate(t.Context(), tn, old.ID, next, now)
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Equal(t, next.ID, got.ID, "Rotate must return the new token")
		stored := get(t, old.ID)
		require.Equal(t, next.ID, stored.RotatedTo, "rotated_to")
		requireMillisPtr(t, stored.RotatedAt, "rotated_at")
		require.Equal(t, now, *stored.RotatedAt)
		want := *old
		want.RotatedTo, want.RotatedAt = next.ID, &now
		require.Equal(t, want, *stored, "Rotate changed more than rotated_to and rotated_at")
		byLookup, err := d.RefreshTokens.GetByLookup(t.Context(), tn, next.TokenLookup)
		require.NoError(t, err, "the new token must be retrievable by lookup")
		require.Equal(t, next.ID, byLookup.ID)
		require.Equal(t, next.FamilyID, byLookup.FamilyID)
		require.Equal(t, next.TokenHash, byLookup.TokenHash)
		require.Equal(t, *got, *byLookup)
		require.Empty(t, byLookup.RotatedTo)
		require.Nil(t, byLookup.RevokedAt)
	})
	t.Run("rotate_twice_is_consumed", func(t *testing.T) {
		old := create(t, fullRefreshToken(uid))
		first := nextToken(old)
		_, err := d.RefreshTokens.Rotate(t.Context(), tn, old.ID, first, adapters.Now())
		require.NoError(t, err)
		afterFirst := get(t, old.ID)
		second := nextToken(old)
		got, err := d.RefreshTokens.Rotate(t.Context(), tn, old.ID, second, adapters.Now().Add(time.Second))
		require.ErrorIs(t, err, adapters.ErrConsumed, "rotating an already rotated token")
		require.NotNil(t, got, "a replayed Rotate must return the old token")
		require.Equal(t, old.ID, got.ID, "a replayed Rotate must return the old token")
		require.Equal(t, first.ID, got.RotatedTo)
		requireAbsent(t, second, "a refused rotation created its next token")
		require.Equal(t, *afterFirst, *get(t, old.ID), "a refused rotation changed the old token")
	})
	t.Run("rotate_revoked_is_consumed", func(t *testing.T) {
		in := fullRefreshToken(uid)
		in.RevokedAt = ptr(ms(0))
		old := create(t, in)
		next := nextToken(old)
		got, err := d.RefreshTokens.Rotate(t.Context(), tn, old.ID, next, adapters.Now())
		require.ErrorIs(t, err, adapters.ErrConsumed, "rotating a revoked token")
		require.NotNil(t, got, "a refused Rotate must return the old token")
		require.Equal(t, old.ID, got.ID)
		requireAbsent(t, next, "rotating a revoked token created its next token")
		require.Equal(t, *old, *get(t, old.ID), "a refused rotation changed the revoked token")
	})
	t.Run("rotate_unknown", func(t *testing.T) {
		next := fullRefreshToken(uid)
		_, err := d.RefreshTokens.Rotate(t.Context(), tn, adapters.NewULID(), next, adapters.Now())
		require.ErrorIs(t, err, adapters.ErrNotFound)
		requireAbsent(t, next, "rotating an unknown token created its next token")
	})
	t.Run("revoke_family", func(t *testing.T) {
		fam := adapters.NewULID()
		var members []*adapters.RefreshToken
		for range 3 {
			x := fullRefreshToken(uid)
			x.FamilyID = fam
			members = append(members, create(t, x))
		}
		pre := fullRefreshToken(uid)
		pre.FamilyID, pre.RevokedAt = fam, ptr(ms(0))
		preRevoked := create(t, pre)
		outsider := create(t, fullRefreshToken(uid))
		at := adapters.Now()
		n, err := d.RefreshTokens.RevokeFamily(t.Context(), tn, fam, at)
		require.NoError(t, err)
		require.Equal(t, 3, n, "RevokeFamily must count the unrevoked tokens it revoked")
		for _, m := range members {
			got := get(t, m.ID)
			requireMillisPtr(t, got.RevokedAt, "revoked_at")
			require.Equal(t, at, *got.RevokedAt)
			want := *m
			want.RevokedAt = &at
			require.Equal(t, want, *got, "RevokeFamily changed more than revoked_at")
		}
		require.Equal(t, *preRevoked, *get(t, preRevoked.ID), "RevokeFamily moved an earlier revocation")
		require.Nil(t, get(t, outsider.ID).RevokedAt, "RevokeFamily revoked a token of another family")
		n, err = d.RefreshTokens.RevokeFamily(t.Context(), tn, fam, at.Add(time.Second))
		require.NoError(t, err)
		require.Equal(t, 0, n)
	})
	t.Run("revoke_by_user", func(t *testing.T) {
		u := "auth0|" + adapters.NewID("")
		a, b := create(t, fullRefreshToken(u)), create(t, fullRefreshToken(u))
		pre := fullRefreshToken(u)
		pre.RevokedAt = ptr(ms(0))
		preRevoked := create(t, pre)
		outsider := create(t, fullRefreshToken(uid))
		at := adapters.Now()
		n, err := d.RefreshTokens.RevokeByUser(t.Context(), tn, u, at)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for _, x := range []*adapters.RefreshToken{a, b} {
			got := get(t, x.ID)
			require.NotNil(t, got.RevokedAt)
			require.Equal(t, at, *got.RevokedAt)
		}
		require.Equal(t, *preRevoked, *get(t, preRevoked.ID), "RevokeByUser moved an earlier revocation")
		require.Nil(t, get(t, outsider.ID).RevokedAt, "RevokeByUser revoked another user's token")
		n, err = d.RefreshTokens.RevokeByUser(t.Context(), tn, u, at)
		require.NoError(t, err)
		require.Equal(t, 0, n)
	})
	t.Run("revoke_by_login", func(t *testing.T) {
		login := adapters.NewULID()
		var mine []*adapters.RefreshToken
		for range 2 {
			x := fullRefreshToken(uid)
			x.LoginID = login
			mine = append(mine, create(t, x))
		}
		outsider := create(t, fullRefreshToken(uid))
		at := adapters.Now()
		n, err := d.RefreshTokens.RevokeByLogin(t.Context(), tn, login, at)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for _, x := range mine {
			got := get(t, x.ID)
			require.NotNil(t, got.RevokedAt)
			require.Equal(t, at, *got.RevokedAt)
		}
		require.Nil(t, get(t, outsider.ID).RevokedAt, "RevokeByLogin revoked a token of another login")
		n, err = d.RefreshTokens.RevokeByLogin(t.Context(), tn, login, at)
		require.NoError(t, err)
		require.Equal(t, 0, n)
	})
	t.Run("revoke_user_sessions_and_tokens", func(t *testing.T) {
		u := "auth0|" + adapters.NewID("")
		var sessions []string
		for range 2 {
			x, err := d.Sessions.Create(t.Context(), tn, fullSession(u))
			require.NoError(t, err)
			sessions = append(sessions, x.ID)
		}
		var tokens []string
		for range 3 {
			tokens = append(tokens, create(t, fullRefreshToken(u)).ID)
		}
		pre := fullRefreshToken(u)
		pre.RevokedAt = ptr(ms(0))
		create(t, pre)
		otherSession, err := d.Sessions.Create(t.Context(), tn, fullSession(uid))
		require.NoError(t, err)
		at := adapters.Now()
		ns, nt, err := d.RevokeUser(t.Context(), tn, u, at)
		require.NoError(t, err)
		require.Equal(t, 2, ns, "sessions revoked")
		require.Equal(t, 3, nt, "refresh tokens revoked")
		for _, id := range sessions {
			x, err := d.Sessions.Get(t.Context(), tn, id)
			require.NoError(t, err)
			require.NotNil(t, x.RevokedAt)
			require.Equal(t, at, *x.RevokedAt)
		}
		for _, id := range tokens {
			require.Equal(t, at, *get(t, id).RevokedAt)
		}
		x, err := d.Sessions.Get(t.Context(), tn, otherSession.ID)
		require.NoError(t, err)
		require.Nil(t, x.RevokedAt, "RevokeUser revoked another user's session")
	})

	runEntity(t, entity[adapters.RefreshToken]{
		create: func(t *testing.T) *adapters.RefreshToken { return create(t, fullRefreshToken(uid)) },
		get:    func(ctx contextT, k string) (*adapters.RefreshToken, error) { return d.RefreshTokens.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.RefreshToken) error) (*adapters.RefreshToken, error) {
			return d.RefreshTokens.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.RefreshTokens.Delete(ctx, tn, k) },
		key:       func(x *adapters.RefreshToken) string { return x.ID },
		setKey:    func(x *adapters.RefreshToken, k string) { x.ID = k },
		createdAt: func(x *adapters.RefreshToken) *time.Time { return &x.CreatedAt },
		change:    func(x *adapters.RefreshToken) { x.LastExchangedAt = ptr(ms(7 * time.Minute)) },
		newKey:    adapters.NewULID,
	})
}
