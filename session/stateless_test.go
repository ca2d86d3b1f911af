package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

func newStateless(t *testing.T, secrets [][]byte, revs session.RevocationList, opts ...session.StatelessOption) *session.Stateless {
	t.Helper()
	if revs == nil {
		revs = session.NewMemoryRevocationList()
	}
	s, err := session.NewStateless(secrets, revs, opts...)
	require.NoError(t, err)
	return s
}

// loginFlowSession is what the login flow creates (internal/login
// completeLogin): realistic sizes.
func loginFlowSession() adapters.Session {
	now := time.Now()
	exp, idle := now.Add(7*24*time.Hour), now.Add(3*24*time.Hour)
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	return adapters.Session{UserID: "auth0|" + adapters.NewID(""), LoginSessionID: session.NewID(), Clients: []string{adapters.NewID("")},
		Device:          adapters.Device{InitialUserAgent: ua, InitialIP: "2001:db8::1", LastUserAgent: ua, LastIP: "2001:db8::1"},
		AuthenticatedAt: now, LastInteractionAt: now, ExpiresAt: &exp, IdleExpiresAt: &idle}
}

func TestStatelessRejectsBadConfig(t *testing.T) {
	revs := session.NewMemoryRevocationList()
	_, err := session.NewStateless(nil, revs)
	require.Error(t, err)
	_, err = session.NewStateless([][]byte{make([]byte, 31)}, revs)
	require.ErrorContains(t, err, "at least 32")
	_, err = session.NewStateless([][]byte{secret(), []byte("short")}, revs)
	require.Error(t, err)
	_, err = session.NewStateless([][]byte{secret()}, nil)
	require.Error(t, err)
	_, err = session.NewRevocationList(&adapters.DataAdapters{})
	require.Error(t, err)
}

func TestStatelessSealing(t *testing.T) {
	ctx := t.Context()
	s := newStateless(t, [][]byte{secret()}, nil)
	in := loginFlowSession()
	x, err := s.CreateSession(ctx, "acme", in)
	require.NoError(t, err)
	t.Logf("a login-flow session seals to %d bytes", len(x.ID))
	require.Less(t, len(x.ID), 1200, "a typical session must leave plenty of the 4 KB cookie")

	raw, err := base64.RawURLEncoding.DecodeString(x.ID)
	require.NoError(t, err, "the value is base64url, a valid cookie value")
	for _, plain := range []string{in.UserID, in.Clients[0], "Mozilla", "2001:db8"} {
		require.NotContains(t, string(raw), plain, "the cookie must be encrypted, not only signed")
	}

	// Any change to the value makes it unknown.
	for _, i := range []int{0, 1, 3, 5, 17, len(raw) / 2, len(raw) - 1} {
		b := []byte(string(raw))
		b[i] ^= 0x01
		_, err := s.GetSession(ctx, "acme", base64.RawURLEncoding.EncodeToString(b))
		require.ErrorIs(t, err, adapters.ErrNotFound, "byte %d flipped", i)
	}
	for _, bad := range []string{x.ID[:len(x.ID)-2], x.ID + "AA", "!" + x.ID[1:], strings.Repeat("A", 5000)} {
		_, err := s.GetSession(ctx, "acme", bad)
		require.ErrorIs(t, err, adapters.ErrNotFound)
	}

	// Bound to its tenant, and to the secret.
	_, err = s.GetSession(ctx, "globex", x.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
	_, err = newStateless(t, [][]byte{secret()}, nil).GetSession(ctx, "acme", x.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound)

	// Two values of the same session differ (fresh nonce).
	y, err := s.UpdateSession(ctx, "acme", x.ID, func(*adapters.Session) error { return nil })
	require.NoError(t, err)
	require.NotEqual(t, x.ID, y.ID)
}

func TestStatelessSecretRotation(t *testing.T) {
	ctx := t.Context()
	oldSecret, newSecret := secret(), secret()
	revs := session.NewMemoryRevocationList()
	before := newStateless(t, [][]byte{oldSecret}, revs)
	x, err := before.CreateSession(ctx, "acme", loginFlowSession())
	require.NoError(t, err)

	during := newStateless(t, [][]byte{newSecret, oldSecret}, revs)
	got, err := during.GetSession(ctx, "acme", x.ID)
	require.NoError(t, err, "an old secret still opens")
	require.Equal(t, x.UserID, got.UserID)
	y, err := during.UpdateSession(ctx, "acme", x.ID, func(*adapters.Session) error { return nil })
	require.NoError(t, err)

	after := newStateless(t, [][]byte{newSecret}, revs)
	_, err = after.GetSession(ctx, "acme", y.ID)
	require.NoError(t, err, "the first secret seals")
	_, err = after.GetSession(ctx, "acme", x.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound, "a removed secret no longer opens")
	_, err = before.GetSession(ctx, "acme", y.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestStatelessSizeLimit(t *testing.T) {
	s := newStateless(t, [][]byte{secret()}, nil)
	in := loginFlowSession()
	for i := range 150 {
		in.Clients = append(in.Clients, fmt.Sprintf("client-%030d", i))
	}
	_, err := s.CreateSession(t.Context(), "acme", in)
	require.ErrorIs(t, err, adapters.ErrInvalid)
	require.ErrorContains(t, err, "cookie")

	x, err := s.CreateSession(t.Context(), "acme", loginFlowSession())
	require.NoError(t, err)
	_, err = s.UpdateSession(t.Context(), "acme", x.ID, func(v *adapters.Session) error {
		v.Clients = in.Clients
		return nil
	})
	require.ErrorIs(t, err, adapters.ErrInvalid)

	small := newStateless(t, [][]byte{secret()}, nil, session.StatelessMaxTokenBytes(200))
	_, err = small.CreateSession(t.Context(), "acme", loginFlowSession())
	require.ErrorIs(t, err, adapters.ErrInvalid)
}

func TestStatelessExpiry(t *testing.T) {
	ctx := t.Context()
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s := newStateless(t, [][]byte{secret()}, nil, session.StatelessClock(clock), session.StatelessMaxLifetime(10*24*time.Hour))

	in := loginFlowSession() // idle 3 days, absolute 7 days
	x, err := s.CreateSession(ctx, "acme", in)
	require.NoError(t, err)
	offset.Store(int64(2 * 24 * time.Hour))
	_, err = s.GetSession(ctx, "acme", x.ID)
	require.NoError(t, err)
	// Activity moves the idle expiry; the new value carries it.
	y, err := s.UpdateSession(ctx, "acme", x.ID, func(v *adapters.Session) error {
		idle := clock().Add(3 * 24 * time.Hour)
		v.IdleExpiresAt = &idle
		// An update cannot move the absolute expiry the session was made with.
		far := clock().Add(100 * 24 * time.Hour)
		v.ExpiresAt = &far
		return nil
	})
	require.NoError(t, err)
	offset.Store(int64(4 * 24 * time.Hour))
	_, err = s.GetSession(ctx, "acme", x.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound, "the old value is past its idle expiry")
	_, err = s.GetSession(ctx, "acme", y.ID)
	require.NoError(t, err, "the updated value is not")
	offset.Store(int64(7*24*time.Hour + time.Minute))
	_, err = s.GetSession(ctx, "acme", y.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound, "nothing outlives the absolute expiry the session was created with")

	// Without any expiry, MaxLifetime bounds it.
	offset.Store(0)
	none := loginFlowSession()
	none.ExpiresAt, none.IdleExpiresAt = nil, nil
	z, err := s.CreateSession(ctx, "acme", none)
	require.NoError(t, err)
	offset.Store(int64(9 * 24 * time.Hour))
	_, err = s.GetSession(ctx, "acme", z.ID)
	require.NoError(t, err)
	offset.Store(int64(10*24*time.Hour + time.Minute))
	_, err = s.GetSession(ctx, "acme", z.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestStatelessRevocationCoversEveryCopy(t *testing.T) {
	ctx := t.Context()
	s := newStateless(t, [][]byte{secret()}, nil)
	for name, end := range map[string]func(id string) error{
		"delete": func(id string) error { return s.DeleteSession(ctx, "acme", id) },
		"logout": func(id string) error {
			now := time.Now()
			got, err := s.UpdateSession(ctx, "acme", id, func(v *adapters.Session) error { v.RevokedAt = &now; return nil })
			if err == nil && (got.RevokedAt == nil || got.ID != id) {
				return errors.New("logout must return the revoked session under its id")
			}
			return err
		},
	} {
		x, err := s.CreateSession(ctx, "acme", loginFlowSession())
		require.NoError(t, err)
		y, err := s.UpdateSession(ctx, "acme", x.ID, func(v *adapters.Session) error { v.Clients = append(v.Clients, "b"); return nil })
		require.NoError(t, err)
		require.Equal(t, session.StableID(s, "acme", x.ID), session.StableID(s, "acme", y.ID), "%s: the stable id survives an update", name)
		require.NotEqual(t, x.ID, session.StableID(s, "acme", x.ID))
		// Ending either copy ends both.
		require.NoError(t, end(x.ID), name)
		for _, id := range []string{x.ID, y.ID} {
			_, err := s.GetSession(ctx, "acme", id)
			require.ErrorIs(t, err, adapters.ErrNotFound, "%s: a copy of the session survived", name)
		}
	}
	require.Equal(t, "plain", session.StableID(session.NewMemory(), "acme", "plain"))
	x, err := s.CreateSession(ctx, "acme", loginFlowSession())
	require.NoError(t, err)
	require.Equal(t, session.StableID(s, "acme", x.ID), session.StableID(wrapped{s}, "acme", x.ID), "decorators are looked through")
}

// wrapped is a decorator of a store, as the monitoring one.
type wrapped struct{ session.Store }

func (w wrapped) Unwrap() session.Store { return w.Store }

// TestStatelessInstancesShareRevocations runs two stateless stores (two
// instances) on one database: a session made by one is accepted by the
// other, and a logout or "log out everywhere" on one is honoured by both.
func TestStatelessInstancesShareRevocations(t *testing.T) {
	ctx := t.Context()
	d := sqliteData(t)
	key := secret()
	mk := func() *session.Stateless {
		revs, err := session.NewRevocationList(d)
		require.NoError(t, err)
		return newStateless(t, [][]byte{key}, revs, session.StatelessLogins(session.NewSQL(d)))
	}
	one, two := mk(), mk()
	x, err := one.CreateSession(ctx, "acme", loginFlowSession())
	require.NoError(t, err)
	got, err := two.GetSession(ctx, "acme", x.ID)
	require.NoError(t, err)
	require.Equal(t, x.UserID, got.UserID)

	require.NoError(t, two.DeleteSession(ctx, "acme", x.ID))
	_, err = one.GetSession(ctx, "acme", x.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound)

	in := loginFlowSession()
	a, err := one.CreateSession(ctx, "acme", in)
	require.NoError(t, err)
	b, err := two.CreateSession(ctx, "acme", in)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	_, err = two.RevokeUserSessions(ctx, "acme", in.UserID, time.Now())
	require.NoError(t, err)
	for _, id := range []string{a.ID, b.ID} {
		_, err = one.GetSession(ctx, "acme", id)
		require.ErrorIs(t, err, adapters.ErrNotFound)
	}
	rec, err := d.SessionRevocations.Get(ctx, "acme", "user:"+in.UserID)
	require.NoError(t, err, "the user's mark is in the data adapter")
	require.True(t, rec.ExpiresAt.After(time.Now().Add(29*24*time.Hour)), "kept for the default 30-day maximum lifetime")

	// Login transactions are in the shared SQL store.
	l, err := one.CreateLogin(ctx, "acme", adapters.LoginSession{ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, err = two.GetLogin(ctx, "acme", l.ID)
	require.NoError(t, err)
	require.NoError(t, two.Ping(ctx))
}

// failingRevocations is a RevocationList whose backend is down.
type failingRevocations struct{}

var errDown = errors.New("revocation backend down")

func (failingRevocations) Revoke(context.Context, string, string, time.Time) error { return errDown }
func (failingRevocations) IsRevoked(context.Context, string, string) (bool, error) {
	return false, errDown
}
func (failingRevocations) RevokeUser(context.Context, string, string, time.Time, time.Time) error {
	return errDown
}
func (failingRevocations) UserRevokedBefore(context.Context, string, string) (time.Time, error) {
	return time.Time{}, errDown
}

// TestStatelessFailsClosed: when the revocation list cannot be read, a
// session is an error, never accepted, and never "not found" (which would
// look like a logged-out browser rather than an outage).
func TestStatelessFailsClosed(t *testing.T) {
	ctx := t.Context()
	s := newStateless(t, [][]byte{secret()}, failingRevocations{})
	x, err := s.CreateSession(ctx, "acme", loginFlowSession())
	require.NoError(t, err)
	_, err = s.GetSession(ctx, "acme", x.ID)
	require.ErrorIs(t, err, errDown)
	_, err = s.UpdateSession(ctx, "acme", x.ID, func(*adapters.Session) error { return nil })
	require.ErrorIs(t, err, errDown)
	require.ErrorIs(t, s.DeleteSession(ctx, "acme", x.ID), errDown)
	_, err = s.RevokeUserSessions(ctx, "acme", x.UserID, time.Now())
	require.ErrorIs(t, err, errDown)
}

func TestMemoryRevocationListSweeps(t *testing.T) {
	ctx := t.Context()
	m := session.NewMemoryRevocationList()
	now := time.Now()
	require.NoError(t, m.Revoke(ctx, "acme", "a", now.Add(time.Hour)))
	require.NoError(t, m.Revoke(ctx, "acme", "b", now.Add(-time.Second)))
	require.NoError(t, m.RevokeUser(ctx, "acme", "u", now, now.Add(-time.Second)))
	require.NoError(t, m.RevokeUser(ctx, "acme", "v", now, now.Add(time.Hour)))
	// A later mark never back-dates the earlier one.
	require.NoError(t, m.RevokeUser(ctx, "acme", "v", now.Add(-time.Minute), now.Add(time.Minute)))
	require.Equal(t, 2, m.Sweep(now))
	ok, err := m.IsRevoked(ctx, "acme", "a")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = m.IsRevoked(ctx, "globex", "a")
	require.NoError(t, err)
	require.False(t, ok)
	before, err := m.UserRevokedBefore(ctx, "acme", "v")
	require.NoError(t, err)
	require.True(t, before.Equal(now))
	before, err = m.UserRevokedBefore(ctx, "acme", "u")
	require.NoError(t, err)
	require.True(t, before.IsZero())
}
