package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullLoginSession returns a login session with every field set.
func fullLoginSession() adapters.LoginSession {
	return adapters.LoginSession{
		ID:        adapters.NewULID(),
		CSRFToken: adapters.NewID(""),
		AuthParams: adapters.AuthParams{
			ClientID: adapters.NewID(""), ResponseType: "code", ResponseMode: "query",
			RedirectURI: "https://app.example.com/cb", Audience: "https://api.example.com", Organization: "org_1",
			State: "st&=ä", Nonce: "no", Scope: "openid profile offline_access", Prompt: "login",
			CodeChallenge: "abc", CodeChallengeMethod: "S256", Username: "ユーザー@example.com", UILocales: "ja en",
			MaxAge: ptr(0), ACRValues: "urn:mace:incommon:iap:silver", Connection: dbConn, ScreenHint: "signup",
		},
		State: "pending", StateData: `{"step":2,"ünï":"✓"}`, SessionID: adapters.NewULID(),
		UserID: "auth0|" + adapters.NewID(""), AuthConnection: dbConn, IP: "2001:db8::1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", AuthorizationURL: "https://t.example.com/authorize?x=1",
		AuthenticatedAt: ptr(ms(time.Minute)),
		ExpiresAt:       adapters.Now().Add(time.Hour),
	}
}

func testLoginSessions(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, ls adapters.LoginSession) *adapters.LoginSession {
		t.Helper()
		got, err := d.LoginSessions.Create(t.Context(), tn, ls)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullLoginSession()
		before := time.Now()
		got, err := d.LoginSessions.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.LoginSession, error) { return d.LoginSessions.Get(t.Context(), tn, in.ID) })
	})
	t.Run("create_generates_id", func(t *testing.T) {
		in := fullLoginSession()
		in.ID = ""
		got := create(t, in)
		require.NotEmpty(t, got.ID)
		fetched, err := d.LoginSessions.Get(t.Context(), tn, got.ID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
	})
	t.Run("duplicate_id", func(t *testing.T) {
		ls := create(t, fullLoginSession())
		dup := fullLoginSession()
		dup.ID = ls.ID
		_, err := d.LoginSessions.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict)
	})

	runEntity(t, entity[adapters.LoginSession]{
		create: func(t *testing.T) *adapters.LoginSession { return create(t, fullLoginSession()) },
		get:    func(ctx contextT, k string) (*adapters.LoginSession, error) { return d.LoginSessions.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
			return d.LoginSessions.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.LoginSessions.Delete(ctx, tn, k) },
		key:       func(x *adapters.LoginSession) string { return x.ID },
		setKey:    func(x *adapters.LoginSession, k string) { x.ID = k },
		createdAt: func(x *adapters.LoginSession) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.LoginSession) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.LoginSession) { x.State = "authenticated" },
		newKey:    adapters.NewULID,
	})
}

// fullSession returns a session of userID with every field set.
func fullSession(userID string) adapters.Session {
	now := adapters.Now()
	return adapters.Session{
		ID: adapters.NewULID(), UserID: userID, LoginSessionID: adapters.NewULID(),
		Clients: []string{"client-a", "client-b"},
		Device: adapters.Device{
			InitialUserAgent: "Mozilla/5.0 ✓", InitialIP: "198.51.100.1", InitialASN: "AS64496",
			LastUserAgent: "curl/8", LastIP: "2001:db8::2", LastASN: "AS64497",
		},
		AuthenticatedAt:   now.Add(-time.Minute),
		LastInteractionAt: now,
		ExpiresAt:         ptr(now.Add(72 * time.Hour)),
		IdleExpiresAt:     ptr(now.Add(24 * time.Hour)),
		UsedAt:            ptr(now),
	}
}

func testSessions(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	uid := "auth0|" + adapters.NewID("")
	create := func(t *testing.T, x adapters.Session) *adapters.Session {
		t.Helper()
		got, err := d.Sessions.Create(t.Context(), tn, x)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullSession(uid)
		before := time.Now()
		got, err := d.Sessions.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Session, error) { return d.Sessions.Get(t.Context(), tn, in.ID) })
	})
	t.Run("create_generates_id", func(t *testing.T) {
		in := fullSession(uid)
		in.ID = ""
		got := create(t, in)
		require.NotEmpty(t, got.ID)
		fetched, err := d.Sessions.Get(t.Context(), tn, got.ID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
	})
	t.Run("list_by_user_newest_first", func(t *testing.T) {
		u := "auth0|" + adapters.NewID("")
		var want []string
		for i := range 5 {
			x := fullSession(u)
			x.CreatedAt = ms(time.Duration(i) * time.Minute)
			create(t, x)
			want = append([]string{x.ID}, want...)
		}
		create(t, fullSession("auth0|"+adapters.NewID("")))
		l := func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Session], error) {
			return d.Sessions.ListByUser(ctx, tn, u, p)
		}
		id := func(x adapters.Session) string { return x.ID }
		res, err := l(t.Context(), adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		require.Equal(t, want, keysOf(res.Items, id), "ListByUser must return newest first")
		require.Equal(t, 5, res.Total)
		require.Equal(t, want, keysOf(walkOffset(t, l, adapters.ListParams{}, 2, 5), id), "ListByUser pages of 2")
		none, err := d.Sessions.ListByUser(t.Context(), tn, "auth0|"+adapters.NewID(""), adapters.ListParams{})
		require.NoError(t, err)
		require.NotNil(t, none.Items)
		require.Empty(t, none.Items)
	})
	t.Run("revoke_by_user", func(t *testing.T) {
		u := "auth0|" + adapters.NewID("")
		a, b := create(t, fullSession(u)), create(t, fullSession(u))
		earlier := ms(0)
		revoked := fullSession(u)
		revoked.RevokedAt = &earlier
		c := create(t, revoked)
		bystander := create(t, fullSession("auth0|"+adapters.NewID("")))
		at := adapters.Now()
		n, err := d.Sessions.RevokeByUser(t.Context(), tn, u, at)
		require.NoError(t, err)
		require.Equal(t, 2, n, "RevokeByUser must count the unrevoked sessions it revoked")
		for _, x := range []*adapters.Session{a, b} {
			got, err := d.Sessions.Get(t.Context(), tn, x.ID)
			require.NoError(t, err)
			requireMillisPtr(t, got.RevokedAt, "revoked_at")
			require.Equal(t, at, *got.RevokedAt)
		}
		got, err := d.Sessions.Get(t.Context(), tn, c.ID)
		require.NoError(t, err)
		require.Equal(t, earlier, *got.RevokedAt, "RevokeByUser moved revoked_at of an already revoked session")
		got, err = d.Sessions.Get(t.Context(), tn, bystander.ID)
		require.NoError(t, err)
		require.Nil(t, got.RevokedAt, "RevokeByUser revoked another user's session")
		n, err = d.Sessions.RevokeByUser(t.Context(), tn, u, at.Add(time.Second))
		require.NoError(t, err)
		require.Equal(t, 0, n, "a second RevokeByUser has nothing left to revoke")
	})
	t.Run("duplicate_id", func(t *testing.T) {
		x := create(t, fullSession(uid))
		dup := fullSession(uid)
		dup.ID = x.ID
		_, err := d.Sessions.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict)
	})

	runEntity(t, entity[adapters.Session]{
		create: func(t *testing.T) *adapters.Session { return create(t, fullSession(uid)) },
		get:    func(ctx contextT, k string) (*adapters.Session, error) { return d.Sessions.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.Session) error) (*adapters.Session, error) {
			return d.Sessions.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Sessions.Delete(ctx, tn, k) },
		key:       func(x *adapters.Session) string { return x.ID },
		setKey:    func(x *adapters.Session, k string) { x.ID = k },
		createdAt: func(x *adapters.Session) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Session) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.Session) { x.Clients = []string{"client-a", "client-b", "client-c"} },
		newKey:    adapters.NewULID,
	})
}
