// Package storetest is the contract every session.Store passes: the SQL
// (data adapter), memory, Redis and stateless stores of package session, and
// any store a user plugs in through Options.SessionStore:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) session.Store { return newMyStore(t) })
//	}
//
// Run calls newStore once per group (sessions, logins, user_sessions,
// isolation, expiry, ping) and isolates its data with random tenant ids, so a
// store may be shared with other data. Every group runs sequentially; the
// expiry group sleeps about 1.3 s.
//
// # The contract
//
// Sessions and login transactions:
//   - Create fills an empty id (with at least 128 random bits: session ids are
//     bearer secrets) and returns the value as stored: created_at and
//     updated_at set (created_at kept when given), a session's Clients never
//     nil and its authenticated_at and last_interaction_at defaulting to
//     created_at. Times come back in UTC at millisecond precision.
//   - A given id is kept and a duplicate one is ErrConflict (not for
//     stateless stores, whose id is the sealed value itself).
//   - A session needs a user id and a login transaction an expires_at, or
//     Create is ErrInvalid.
//   - Get of an unknown id is ErrNotFound, whatever characters the id holds
//     (key separators, hash-tag braces, 3000 bytes). An id that is not valid
//     UTF-8 or holds a NUL byte finds nothing; it should be ErrNotFound, but
//     may be the database's error where the database refuses such strings.
//   - Update applies mutate to a copy atomically: concurrent updates of one
//     entity lose nothing (20 goroutines each appending to Session.Clients or
//     LoginSession.StateData), a mutate error is returned unchanged and
//     stores nothing, mutate cannot change the id or created_at, and
//     updated_at moves. mutate may be called more than once (optimistic
//     stores retry on contention), so it must only change its argument. An
//     unknown id is ErrNotFound and mutate is not called.
//   - Delete removes; Get, Update and Delete of it afterwards are
//     ErrNotFound.
//   - Values passed in and handed out are copies: changing them (their
//     slices and pointers included) after the call changes nothing stored.
//   - ListUserSessions returns exactly the user's sessions in that tenant,
//     newest created_at first (an empty list may be nil). RevokeUserSessions sets revoked_at on every
//     unrevoked session of the user in that tenant, returns how many, and
//     leaves other users, other tenants and already revoked sessions alone.
//   - Tenant isolation holds for every method: an id of tenant A is
//     ErrNotFound through tenant B (Get, Update without calling mutate,
//     Delete without deleting), B's list is empty and B's revocation touches
//     nothing of A. The same id may exist in two tenants independently.
//
// Expiry: a store may forget a session once it is past its expires_at or
// idle_expires_at, and a login transaction once it is past its expires_at;
// GetSession (GetLogin) of a forgotten one is ErrNotFound, and it is no
// longer listed. A store that does not forget returns it (Usable then says
// it is expired). Update extends a session's life when it moves its expiry
// (a store keyed by TTL refreshes the TTL). The Redis store forgets both by
// key TTL; the stateless store forgets sessions by their sealed expiry.
// A store may also forget a revoked session (the stateless store does: it
// only knows the revocation): GetSession is then ErrNotFound instead of a
// session with revoked_at set.
//
// Options relax or tighten the contract for a store: [Stateless],
// [ForgetsExpiredSessions] and [ForgetsExpiredLogins].
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authhero-go/authhero/internal/testdb"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// Option adapts Run to what a store promises.
type Option func(*config)

type config struct {
	stateless       bool
	forgetsSessions bool
	forgetsLogins   bool
}

// Stateless declares a store that keeps a session inside its id (a sealed
// cookie value, as session.Stateless does). For its sessions:
//   - the id is always chosen by the store (a given id is not kept, and
//     there are no duplicates to refuse);
//   - Update returns the session under a new id, which Get then accepts;
//     the old id keeps reading the old value until it expires or is
//     revoked;
//   - concurrent updates of one session are not serialised: each caller
//     gets its own new id, and the browser keeps whichever cookie it
//     received last (the 20-goroutine test runs for logins only);
//   - ListUserSessions returns an empty list and RevokeUserSessions reports
//     0, because nothing about the sessions is stored, but its effect is
//     checked as for every store;
//   - a revoked or deleted session is forgotten (ErrNotFound).
//
// It implies ForgetsExpiredSessions.
func Stateless() Option {
	return func(c *config) { c.stateless, c.forgetsSessions = true, true }
}

// ForgetsExpiredSessions requires GetSession of a session past its expiry to
// be ErrNotFound (and the session not to be listed), instead of allowing
// the store to return it.
func ForgetsExpiredSessions() Option { return func(c *config) { c.forgetsSessions = true } }

// ForgetsExpiredLogins requires GetLogin of a login transaction past its
// expires_at to be ErrNotFound.
func ForgetsExpiredLogins() Option { return func(c *config) { c.forgetsLogins = true } }

// RedisEnv names the environment variable with the address (host:port) of a
// Redis server for tests.
const RedisEnv = "AUTHHERO_TEST_REDIS_ADDR"

// RedisAddr returns the test Redis address from RedisEnv. When it is unset
// the test is skipped, or fails under CI=true, so a green CI always means the
// Redis tests ran.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(RedisEnv)
	if addr == "" {
		testdb.Unavailable(t, "storetest: %s is not set", RedisEnv)
	}
	return addr
}

// Run runs the contract against the stores newStore returns, one per group.
func Run(t *testing.T, newStore func(t *testing.T) session.Store, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	for _, g := range []struct {
		name string
		run  func(t *testing.T, c *suite)
	}{
		{"sessions", testSessions},
		{"logins", testLogins},
		{"user_sessions", testUserSessions},
		{"isolation", testIsolation},
		{"expiry", testExpiry},
		{"ping", func(t *testing.T, c *suite) { require.NoError(t, c.s.Ping(t.Context())) }},
	} {
		t.Run(g.name, func(t *testing.T) {
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			g.run(t, &suite{s: s, config: cfg})
		})
	}
}

type suite struct {
	s session.Store
	config
}

// errBoom is what failing mutate functions return.
var errBoom = errors.New("storetest: mutate refused")

// tenant returns a fresh random tenant id.
func tenant() string { return adapters.NewID("t_")[:20] }

func user() string { return "auth0|" + adapters.NewID("") }

func ptr[T any](v T) *T { return &v }

// now is the current time at millisecond precision in UTC.
func now() time.Time { return adapters.Now() }

// fullSession returns a session of userID with every field set.
func fullSession(userID string) adapters.Session {
	n := now()
	return adapters.Session{
		UserID: userID, LoginSessionID: adapters.NewULID(),
		Clients: []string{"client-a", "client-b"},
		Device: adapters.Device{
			InitialUserAgent: "Mozilla/5.0 ✓", InitialIP: "198.51.100.1", InitialASN: "AS64496",
			LastUserAgent: "curl/8", LastIP: "2001:db8::2", LastASN: "AS64497",
		},
		AuthenticatedAt:   n.Add(-time.Minute),
		LastInteractionAt: n,
		ExpiresAt:         ptr(n.Add(72 * time.Hour)),
		IdleExpiresAt:     ptr(n.Add(24 * time.Hour)),
		UsedAt:            ptr(n),
	}
}

// fullLogin returns a login transaction with every field set.
func fullLogin() adapters.LoginSession {
	return adapters.LoginSession{
		CSRFToken: adapters.NewID(""),
		AuthParams: adapters.AuthParams{
			ClientID: adapters.NewID(""), ResponseType: "code", ResponseMode: "query",
			RedirectURI: "https://app.example.com/cb", Audience: "https://api.example.com", Organization: "org_1",
			State: "st&=ä", Nonce: "no", Scope: "openid profile offline_access", Prompt: "login",
			CodeChallenge: "abc", CodeChallengeMethod: "S256", Username: "ユーザー@example.com", UILocales: "ja en",
			MaxAge: ptr(0), ACRValues: "urn:mace:incommon:iap:silver", Connection: "Username-Password-Authentication", ScreenHint: "signup",
		},
		State: "pending", StateData: `{"step":2,"ünï":"✓"}`, SessionID: adapters.NewID(""),
		UserID: user(), AuthConnection: "Username-Password-Authentication", IP: "2001:db8::1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", AuthorizationURL: "https://t.example.com/authorize?x=1",
		AuthenticatedAt: ptr(now().Add(-time.Minute)),
		ExpiresAt:       now().Add(time.Hour),
	}
}

// same checks that two values encode to the same JSON, which compares times
// as instants written in UTC and tells nil slices from empty ones.
func same(t *testing.T, want, got any, msgAndArgs ...any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), msgAndArgs...)
}

// requireMillisUTC checks that ts is set, in UTC and at millisecond precision.
func requireMillisUTC(t *testing.T, ts time.Time, what string) {
	t.Helper()
	require.False(t, ts.IsZero(), "%s is zero", what)
	require.Equal(t, time.UTC, ts.Location(), "%s is not in UTC: %v", what, ts)
	require.True(t, ts.Equal(ts.Truncate(time.Millisecond)), "%s has sub-millisecond precision: %v", what, ts.Format(time.RFC3339Nano))
}

// requireRecent checks that ts lies between before and after (to the
// millisecond).
func requireRecent(t *testing.T, ts, before, after time.Time, what string) {
	t.Helper()
	requireMillisUTC(t, ts, what)
	require.False(t, ts.Before(before.Truncate(time.Millisecond)), "%s %v is before the call started (%v)", what, ts, before)
	require.False(t, ts.After(after.Add(time.Millisecond)), "%s %v is after the call returned (%v)", what, ts, after)
}

// gone checks that a session id no longer reads as a usable session: it is
// ErrNotFound, or (when allowed) a session that Usable refuses.
func (c *suite) gone(t *testing.T, tn, id string, forgotten bool, msg string) *adapters.Session {
	t.Helper()
	got, err := c.s.GetSession(t.Context(), tn, id)
	if forgotten {
		require.ErrorIs(t, err, adapters.ErrNotFound, "%s: the store must forget it", msg)
		return nil
	}
	if errors.Is(err, adapters.ErrNotFound) {
		return nil
	}
	require.NoError(t, err, msg)
	require.False(t, session.Usable(got, time.Now()), "%s: still usable: %+v", msg, got)
	return got
}

func (c *suite) create(t *testing.T, tn string, s adapters.Session) *adapters.Session {
	t.Helper()
	got, err := c.s.CreateSession(t.Context(), tn, s)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	return got
}

func (c *suite) createLogin(t *testing.T, tn string, l adapters.LoginSession) *adapters.LoginSession {
	t.Helper()
	got, err := c.s.CreateLogin(t.Context(), tn, l)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	return got
}

func testSessions(t *testing.T, c *suite) {
	s := c.s
	tn := tenant()
	uid := user()

	t.Run("create_get", func(t *testing.T) {
		in := fullSession(uid)
		before := time.Now()
		got, err := s.CreateSession(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "an empty id must be filled")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		same(t, want, got, "Create must return the session as stored")
		fetched, err := s.GetSession(t.Context(), tn, got.ID)
		require.NoError(t, err)
		same(t, got, fetched, "Get must return what Create returned")
		require.True(t, session.Usable(fetched, time.Now()))
	})
	t.Run("create_defaults", func(t *testing.T) {
		created := now().Add(-time.Hour)
		got := c.create(t, tn, adapters.Session{UserID: uid, CreatedAt: created,
			ExpiresAt: ptr(now().Add(time.Hour)), IdleExpiresAt: ptr(now().Add(time.Hour))})
		require.NotNil(t, got.Clients, "Clients must never be nil")
		require.Empty(t, got.Clients)
		require.True(t, created.Equal(got.CreatedAt), "a given created_at is kept: %v, want %v", got.CreatedAt, created)
		require.True(t, got.AuthenticatedAt.Equal(got.CreatedAt), "authenticated_at defaults to created_at")
		require.True(t, got.LastInteractionAt.Equal(got.CreatedAt), "last_interaction_at defaults to created_at")
		fetched, err := s.GetSession(t.Context(), tn, got.ID)
		require.NoError(t, err)
		same(t, got, fetched)
	})
	t.Run("create_generates_distinct_ids", func(t *testing.T) {
		seen := map[string]bool{}
		for range 30 {
			got := c.create(t, tn, fullSession(uid))
			require.GreaterOrEqual(t, len(got.ID), 22, "a session id is a bearer secret: at least 128 random bits")
			require.False(t, seen[got.ID], "id %s generated twice", got.ID)
			seen[got.ID] = true
		}
	})
	if !c.stateless {
		t.Run("create_keeps_given_id", func(t *testing.T) {
			in := fullSession(uid)
			in.ID = session.NewID()
			got := c.create(t, tn, in)
			require.Equal(t, in.ID, got.ID)
			_, err := s.GetSession(t.Context(), tn, in.ID)
			require.NoError(t, err)
		})
		t.Run("create_duplicate_id", func(t *testing.T) {
			first := c.create(t, tn, fullSession(uid))
			dup := fullSession(user())
			dup.ID = first.ID
			_, err := s.CreateSession(t.Context(), tn, dup)
			require.ErrorIs(t, err, adapters.ErrConflict)
			got, err := s.GetSession(t.Context(), tn, first.ID)
			require.NoError(t, err)
			same(t, first, got, "a refused duplicate must not overwrite the session")
		})
	}
	t.Run("create_requires_user", func(t *testing.T) {
		in := fullSession("")
		_, err := s.CreateSession(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid)
	})
	t.Run("get_unknown", func(t *testing.T) {
		for _, id := range []string{session.NewID(), "", "x", "../" + session.NewID(), "{" + tn + "}:s:x", "a:b:c", strings.Repeat("A", 3000), "%00"} {
			got, err := s.GetSession(t.Context(), tn, id)
			require.ErrorIs(t, err, adapters.ErrNotFound, "Get of unknown id %q returned %+v", id, got)
		}
		noSuchBytes(t, func(id string) (any, error) { return s.GetSession(t.Context(), tn, id) })
	})
	t.Run("update", func(t *testing.T) {
		x := c.create(t, tn, fullSession(uid))
		time.Sleep(3 * time.Millisecond)
		later := now()
		got, err := s.UpdateSession(t.Context(), tn, x.ID, func(v *adapters.Session) error {
			v.Clients = append(v.Clients, "client-c")
			v.LastInteractionAt = later
			v.IdleExpiresAt = ptr(later.Add(48 * time.Hour))
			v.Device.LastIP = "203.0.113.9"
			return nil
		})
		require.NoError(t, err)
		require.NotEmpty(t, got.ID)
		if !c.stateless {
			require.Equal(t, x.ID, got.ID)
		}
		require.Equal(t, []string{"client-a", "client-b", "client-c"}, got.Clients)
		require.True(t, later.Equal(got.LastInteractionAt))
		require.Equal(t, "203.0.113.9", got.Device.LastIP)
		require.True(t, x.CreatedAt.Equal(got.CreatedAt), "created_at must not change")
		requireMillisUTC(t, got.UpdatedAt, "updated_at")
		require.True(t, got.UpdatedAt.After(x.UpdatedAt), "updated_at must move: %v then %v", x.UpdatedAt, got.UpdatedAt)
		fetched, err := s.GetSession(t.Context(), tn, got.ID)
		require.NoError(t, err)
		same(t, got, fetched, "Get after Update")
	})
	t.Run("update_keeps_id_and_created_at", func(t *testing.T) {
		x := c.create(t, tn, fullSession(uid))
		other := session.NewID()
		got, err := s.UpdateSession(t.Context(), tn, x.ID, func(v *adapters.Session) error {
			v.ID, v.CreatedAt = other, now().Add(-100*time.Hour)
			return nil
		})
		require.NoError(t, err)
		require.NotEqual(t, other, got.ID)
		require.True(t, x.CreatedAt.Equal(got.CreatedAt), "created_at must not change")
		fetched, err := s.GetSession(t.Context(), tn, got.ID)
		require.NoError(t, err)
		require.True(t, x.CreatedAt.Equal(fetched.CreatedAt))
		_, err = s.GetSession(t.Context(), tn, other)
		require.ErrorIs(t, err, adapters.ErrNotFound, "mutate moved the session to another id")
	})
	t.Run("update_mutate_error", func(t *testing.T) {
		x := c.create(t, tn, fullSession(uid))
		got, err := s.UpdateSession(t.Context(), tn, x.ID, func(v *adapters.Session) error {
			v.Clients = append(v.Clients, "nope")
			v.UserID = "changed"
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		require.ErrorIs(t, err, errBoom, "mutate's error must be returned")
		require.Nil(t, got)
		fetched, err := s.GetSession(t.Context(), tn, x.ID)
		require.NoError(t, err)
		same(t, x, fetched, "a refused mutate must store nothing")
	})
	t.Run("update_unknown", func(t *testing.T) {
		called := false
		_, err := s.UpdateSession(t.Context(), tn, session.NewID(), func(*adapters.Session) error { called = true; return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.False(t, called, "mutate called for an unknown session")
	})
	if !c.stateless {
		t.Run("update_concurrent", func(t *testing.T) {
			x := c.create(t, tn, fullSession(uid))
			concurrent(t, 20, func(i int) error {
				_, err := s.UpdateSession(t.Context(), tn, x.ID, func(v *adapters.Session) error {
					v.Clients = append(v.Clients, fmt.Sprintf("c-%02d", i))
					return nil
				})
				return err
			})
			got, err := s.GetSession(t.Context(), tn, x.ID)
			require.NoError(t, err)
			want := []string{"client-a", "client-b"}
			for i := range 20 {
				want = append(want, fmt.Sprintf("c-%02d", i))
			}
			require.ElementsMatch(t, want, got.Clients, "concurrent updates lost a write")
		})
	}
	t.Run("revoke_by_update", func(t *testing.T) {
		// Logout: the flow sets revoked_at through Update.
		x := c.create(t, tn, fullSession(uid))
		at := now()
		got, err := s.UpdateSession(t.Context(), tn, x.ID, func(v *adapters.Session) error {
			v.RevokedAt = &at
			return nil
		})
		require.NoError(t, err)
		require.NotNil(t, got.RevokedAt)
		require.False(t, session.Usable(got, time.Now()))
		if fetched := c.gone(t, tn, x.ID, c.stateless, "revoked session"); fetched != nil {
			require.NotNil(t, fetched.RevokedAt)
			require.True(t, at.Equal(*fetched.RevokedAt))
		}
	})
	t.Run("delete", func(t *testing.T) {
		x := c.create(t, tn, fullSession(uid))
		y := c.create(t, tn, fullSession(uid))
		require.NoError(t, s.DeleteSession(t.Context(), tn, x.ID))
		_, err := s.GetSession(t.Context(), tn, x.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "Get after Delete")
		_, err = s.UpdateSession(t.Context(), tn, x.ID, func(*adapters.Session) error { return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound, "Update after Delete")
		require.ErrorIs(t, s.DeleteSession(t.Context(), tn, x.ID), adapters.ErrNotFound, "second Delete")
		require.ErrorIs(t, s.DeleteSession(t.Context(), tn, session.NewID()), adapters.ErrNotFound, "Delete of an unknown id")
		got, err := s.GetSession(t.Context(), tn, y.ID)
		require.NoError(t, err, "Delete removed another session")
		same(t, y, got)
	})
	t.Run("copies", func(t *testing.T) {
		in := fullSession(uid)
		x := c.create(t, tn, in)
		want := *x
		want.Clients = slices.Clone(x.Clients)
		want.ExpiresAt = ptr(*x.ExpiresAt)
		// Changing the input, the returned value or its slices and pointers
		// changes nothing stored.
		in.Clients[0] = "changed-in"
		*in.ExpiresAt = in.ExpiresAt.Add(time.Hour)
		x.Clients[1] = "changed-out"
		*x.ExpiresAt = x.ExpiresAt.Add(time.Hour)
		x.Device.LastIP = "changed"
		got, err := s.GetSession(t.Context(), tn, want.ID)
		require.NoError(t, err)
		same(t, want, got)
		got.Clients[0] = "changed-get"
		got.Device.LastIP = "changed-get"
		again, err := s.GetSession(t.Context(), tn, want.ID)
		require.NoError(t, err)
		same(t, want, again, "changing what Get returned changed the stored session")
		var kept *adapters.Session
		upd, err := s.UpdateSession(t.Context(), tn, want.ID, func(v *adapters.Session) error {
			kept = v
			return nil
		})
		require.NoError(t, err)
		kept.Clients[0], kept.UserID = "changed-mutate", "changed"
		upd.Clients[0] = "changed-update"
		fetched, err := s.GetSession(t.Context(), tn, upd.ID)
		require.NoError(t, err)
		require.Equal(t, want.Clients, fetched.Clients)
		require.Equal(t, want.UserID, fetched.UserID)
	})
}

// noSuchBytes checks ids that are not valid UTF-8 or hold a NUL byte: Get
// must not find anything nor panic. ErrNotFound is expected, but a store on
// a database that refuses such strings (PostgreSQL) may answer with its
// error instead.
func noSuchBytes(t *testing.T, get func(id string) (any, error)) {
	t.Helper()
	for _, id := range []string{"\x00", "a\x00b", "\xff\xfe", string([]byte{0xc3})} {
		var err error
		require.NotPanics(t, func() { _, err = get(id) }, "Get of id %q", id)
		require.Error(t, err, "Get of id %q found something", id)
	}
}

// concurrent runs fn(0..n-1) at once and requires every call to succeed.
func concurrent(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "concurrent call %d", i)
	}
}

func testLogins(t *testing.T, c *suite) {
	s := c.s
	tn := tenant()

	t.Run("create_get", func(t *testing.T) {
		in := fullLogin()
		before := time.Now()
		got, err := s.CreateLogin(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "an empty id must be filled")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		same(t, want, got, "Create must return the login transaction as stored")
		fetched, err := s.GetLogin(t.Context(), tn, got.ID)
		require.NoError(t, err)
		same(t, got, fetched, "Get must return what Create returned")
	})
	t.Run("create_generates_distinct_ids", func(t *testing.T) {
		a, b := c.createLogin(t, tn, fullLogin()), c.createLogin(t, tn, fullLogin())
		require.NotEqual(t, a.ID, b.ID)
	})
	t.Run("create_keeps_given_id", func(t *testing.T) {
		in := fullLogin()
		in.ID = session.NewID()
		got := c.createLogin(t, tn, in)
		require.Equal(t, in.ID, got.ID)
	})
	t.Run("create_duplicate_id", func(t *testing.T) {
		first := c.createLogin(t, tn, fullLogin())
		dup := fullLogin()
		dup.ID = first.ID
		_, err := s.CreateLogin(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict)
		got, err := s.GetLogin(t.Context(), tn, first.ID)
		require.NoError(t, err)
		same(t, first, got, "a refused duplicate must not overwrite the login transaction")
	})
	t.Run("create_requires_expires_at", func(t *testing.T) {
		in := fullLogin()
		in.ExpiresAt = time.Time{}
		_, err := s.CreateLogin(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid)
	})
	t.Run("get_unknown", func(t *testing.T) {
		for _, id := range []string{session.NewID(), "", "{" + tn + "}:l:x", "a:b", strings.Repeat("A", 3000)} {
			got, err := s.GetLogin(t.Context(), tn, id)
			require.ErrorIs(t, err, adapters.ErrNotFound, "Get of unknown id %q returned %+v", id, got)
		}
		noSuchBytes(t, func(id string) (any, error) { return s.GetLogin(t.Context(), tn, id) })
	})
	t.Run("update", func(t *testing.T) {
		x := c.createLogin(t, tn, fullLogin())
		time.Sleep(3 * time.Millisecond)
		until := now().Add(2 * time.Hour)
		got, err := s.UpdateLogin(t.Context(), tn, x.ID, func(v *adapters.LoginSession) error {
			v.State, v.SessionID, v.ExpiresAt = "authenticated", "sess-1", until
			v.ID, v.CreatedAt = "other", now().Add(-time.Hour)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, x.ID, got.ID, "mutate cannot change the id")
		require.True(t, x.CreatedAt.Equal(got.CreatedAt), "mutate cannot change created_at")
		require.Equal(t, "authenticated", got.State)
		require.Equal(t, "sess-1", got.SessionID)
		require.True(t, until.Equal(got.ExpiresAt))
		require.True(t, got.UpdatedAt.After(x.UpdatedAt), "updated_at must move")
		fetched, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		same(t, got, fetched, "Get after Update")
		_, err = s.GetLogin(t.Context(), tn, "other")
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("update_mutate_error", func(t *testing.T) {
		x := c.createLogin(t, tn, fullLogin())
		got, err := s.UpdateLogin(t.Context(), tn, x.ID, func(v *adapters.LoginSession) error {
			v.State = "changed"
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		require.Nil(t, got)
		fetched, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		same(t, x, fetched, "a refused mutate must store nothing")
	})
	t.Run("update_unknown", func(t *testing.T) {
		called := false
		_, err := s.UpdateLogin(t.Context(), tn, session.NewID(), func(*adapters.LoginSession) error { called = true; return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.False(t, called)
	})
	t.Run("update_concurrent", func(t *testing.T) {
		x := c.createLogin(t, tn, fullLogin())
		concurrent(t, 20, func(i int) error {
			_, err := s.UpdateLogin(t.Context(), tn, x.ID, func(v *adapters.LoginSession) error {
				v.StateData += fmt.Sprintf("|%02d", i)
				return nil
			})
			return err
		})
		got, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		for i := range 20 {
			require.Contains(t, got.StateData, fmt.Sprintf("|%02d", i), "concurrent updates lost a write")
		}
	})
	t.Run("delete", func(t *testing.T) {
		x, y := c.createLogin(t, tn, fullLogin()), c.createLogin(t, tn, fullLogin())
		require.NoError(t, s.DeleteLogin(t.Context(), tn, x.ID))
		_, err := s.GetLogin(t.Context(), tn, x.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = s.UpdateLogin(t.Context(), tn, x.ID, func(*adapters.LoginSession) error { return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.ErrorIs(t, s.DeleteLogin(t.Context(), tn, x.ID), adapters.ErrNotFound)
		got, err := s.GetLogin(t.Context(), tn, y.ID)
		require.NoError(t, err)
		same(t, y, got)
	})
	t.Run("copies", func(t *testing.T) {
		in := fullLogin()
		x := c.createLogin(t, tn, in)
		want := *x
		want.AuthParams.MaxAge = ptr(*x.AuthParams.MaxAge)
		want.AuthenticatedAt = ptr(*x.AuthenticatedAt)
		*in.AuthParams.MaxAge = 99
		*x.AuthParams.MaxAge = 98
		*x.AuthenticatedAt = x.AuthenticatedAt.Add(time.Hour)
		got, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		same(t, want, got)
		*got.AuthParams.MaxAge = 97
		again, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		same(t, want, again, "changing what Get returned changed the stored login transaction")
		var kept *adapters.LoginSession
		upd, err := s.UpdateLogin(t.Context(), tn, x.ID, func(v *adapters.LoginSession) error { kept = v; return nil })
		require.NoError(t, err)
		*kept.AuthParams.MaxAge = 96
		*upd.AuthParams.MaxAge = 95
		fetched, err := s.GetLogin(t.Context(), tn, x.ID)
		require.NoError(t, err)
		require.Equal(t, 0, *fetched.AuthParams.MaxAge)
	})
}

func testUserSessions(t *testing.T, c *suite) {
	s := c.s

	t.Run("list_newest_first", func(t *testing.T) {
		tn, other := tenant(), tenant()
		u := user()
		var want []string
		// Created out of order; listed by created_at, newest first.
		for _, age := range []time.Duration{2, 3, 1} {
			in := fullSession(u)
			in.CreatedAt = now().Add(-age * time.Minute)
			x := c.create(t, tn, in)
			want = append(want, x.ID)
		}
		want = []string{want[2], want[0], want[1]}
		c.create(t, tn, fullSession(user()))
		c.create(t, other, fullSession(u))
		deleted := c.create(t, tn, fullSession(u))
		require.NoError(t, s.DeleteSession(t.Context(), tn, deleted.ID))

		got, err := s.ListUserSessions(t.Context(), tn, u)
		require.NoError(t, err)
		if c.stateless {
			require.Empty(t, got, "a stateless store cannot list sessions")
			return
		}
		ids := make([]string, len(got))
		for i, x := range got {
			ids[i] = x.ID
			require.Equal(t, u, x.UserID)
		}
		require.Equal(t, want, ids, "ListUserSessions: exactly the user's sessions of the tenant, newest first")
		// The list holds copies.
		got[0].Clients[0] = "changed"
		fetched, err := s.GetSession(t.Context(), tn, want[0])
		require.NoError(t, err)
		require.Equal(t, "client-a", fetched.Clients[0])

		none, err := s.ListUserSessions(t.Context(), tn, user())
		require.NoError(t, err)
		require.Empty(t, none, "a user without sessions has an empty list (nil is allowed)")
	})
	t.Run("revoke_user_sessions", func(t *testing.T) {
		tn, other := tenant(), tenant()
		u, v := user(), user()
		s1, s2 := c.create(t, tn, fullSession(u)), c.create(t, tn, fullSession(u))
		earlier := now().Add(-time.Hour)
		pre := fullSession(u)
		pre.RevokedAt = &earlier
		s3 := c.create(t, tn, pre)
		sv := c.create(t, tn, fullSession(v))
		so := c.create(t, other, fullSession(u))
		time.Sleep(2 * time.Millisecond)

		at := now()
		n, err := s.RevokeUserSessions(t.Context(), tn, u, at)
		require.NoError(t, err)
		if !c.stateless {
			require.Equal(t, 2, n, "RevokeUserSessions counts the sessions it revoked")
		}
		for _, x := range []*adapters.Session{s1, s2} {
			if got := c.gone(t, tn, x.ID, c.stateless, "revoked session"); got != nil {
				require.NotNil(t, got.RevokedAt)
				require.True(t, at.Equal(*got.RevokedAt), "revoked_at %v, want %v", *got.RevokedAt, at)
			}
		}
		if got := c.gone(t, tn, s3.ID, c.stateless, "already revoked session"); got != nil {
			require.True(t, earlier.Equal(*got.RevokedAt), "an already revoked session keeps its revoked_at")
		}
		for _, x := range []struct {
			tn string
			s  *adapters.Session
		}{{tn, sv}, {other, so}} {
			got, err := s.GetSession(t.Context(), x.tn, x.s.ID)
			require.NoError(t, err, "another user's or tenant's session was touched")
			require.True(t, session.Usable(got, time.Now()), "another user's or tenant's session was revoked")
		}
		if !c.stateless {
			n, err = s.RevokeUserSessions(t.Context(), tn, u, now())
			require.NoError(t, err)
			require.Equal(t, 0, n, "a second RevokeUserSessions finds nothing to revoke")
		}
		// A session made after the revocation is usable.
		time.Sleep(2 * time.Millisecond)
		fresh := c.create(t, tn, fullSession(u))
		got, err := s.GetSession(t.Context(), tn, fresh.ID)
		require.NoError(t, err)
		require.True(t, session.Usable(got, time.Now()), "a session created after RevokeUserSessions must be usable")
		// Updating a revoked session does not revive it.
		if !c.stateless {
			upd, err := s.UpdateSession(t.Context(), tn, s1.ID, func(x *adapters.Session) error { x.Clients = append(x.Clients, "z"); return nil })
			require.NoError(t, err)
			require.NotNil(t, upd.RevokedAt)
		} else {
			_, err := s.UpdateSession(t.Context(), tn, s1.ID, func(x *adapters.Session) error { return nil })
			require.ErrorIs(t, err, adapters.ErrNotFound, "a revoked stateless session cannot be updated back to life")
		}
		none, err := s.RevokeUserSessions(t.Context(), tn, user(), now())
		require.NoError(t, err)
		require.Equal(t, 0, none)
	})
}

func testIsolation(t *testing.T, c *suite) {
	s := c.s
	a, b := tenant(), tenant()
	u := user()

	t.Run("sessions", func(t *testing.T) {
		x := c.create(t, a, fullSession(u))
		_, err := s.GetSession(t.Context(), b, x.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a session is visible through another tenant")
		called := false
		_, err = s.UpdateSession(t.Context(), b, x.ID, func(v *adapters.Session) error { called = true; v.UserID = "x"; return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.False(t, called, "Update through another tenant called mutate")
		require.ErrorIs(t, s.DeleteSession(t.Context(), b, x.ID), adapters.ErrNotFound)
		l, err := s.ListUserSessions(t.Context(), b, u)
		require.NoError(t, err)
		require.Empty(t, l, "ListUserSessions through another tenant")
		n, err := s.RevokeUserSessions(t.Context(), b, u, now())
		require.NoError(t, err)
		require.Equal(t, 0, n)
		got, err := s.GetSession(t.Context(), a, x.ID)
		require.NoError(t, err, "another tenant's Delete or Update reached the session")
		same(t, x, got)
		require.True(t, session.Usable(got, time.Now()), "another tenant's RevokeUserSessions reached the session")
		if !c.stateless {
			l, err = s.ListUserSessions(t.Context(), a, u)
			require.NoError(t, err)
			require.Len(t, l, 1)
		}
	})
	if !c.stateless {
		t.Run("same_session_id_in_two_tenants", func(t *testing.T) {
			in := fullSession(u)
			in.ID = session.NewID()
			xa := c.create(t, a, in)
			in.UserID = user()
			xb := c.create(t, b, in)
			_, err := s.UpdateSession(t.Context(), b, in.ID, func(v *adapters.Session) error { v.Clients = []string{"b-only"}; return nil })
			require.NoError(t, err)
			require.NoError(t, s.DeleteSession(t.Context(), b, xb.ID))
			got, err := s.GetSession(t.Context(), a, in.ID)
			require.NoError(t, err)
			same(t, xa, got)
		})
	}
	t.Run("logins", func(t *testing.T) {
		x := c.createLogin(t, a, fullLogin())
		_, err := s.GetLogin(t.Context(), b, x.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a login transaction is visible through another tenant")
		called := false
		_, err = s.UpdateLogin(t.Context(), b, x.ID, func(v *adapters.LoginSession) error { called = true; return nil })
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.False(t, called, "Update through another tenant called mutate")
		require.ErrorIs(t, s.DeleteLogin(t.Context(), b, x.ID), adapters.ErrNotFound)
		got, err := s.GetLogin(t.Context(), a, x.ID)
		require.NoError(t, err)
		same(t, x, got)
		// The same id in b is its own record.
		in := fullLogin()
		in.ID = x.ID
		xb := c.createLogin(t, b, in)
		_, err = s.UpdateLogin(t.Context(), b, x.ID, func(v *adapters.LoginSession) error { v.State = "b"; return nil })
		require.NoError(t, err)
		require.NoError(t, s.DeleteLogin(t.Context(), b, xb.ID))
		got, err = s.GetLogin(t.Context(), a, x.ID)
		require.NoError(t, err)
		same(t, x, got)
	})
}

func testExpiry(t *testing.T, c *suite) {
	s := c.s
	tn := tenant()
	u := user()

	t.Run("created_expired", func(t *testing.T) {
		for name, mut := range map[string]func(*adapters.Session){
			"absolute": func(x *adapters.Session) { x.ExpiresAt = ptr(now().Add(-time.Second)) },
			"idle":     func(x *adapters.Session) { x.IdleExpiresAt = ptr(now().Add(-time.Second)) },
		} {
			in := fullSession(u)
			mut(&in)
			x := c.create(t, tn, in)
			c.gone(t, tn, x.ID, c.forgetsSessions, name+" expiry in the past")
		}
		in := fullLogin()
		in.ExpiresAt = now().Add(-time.Second)
		l := c.createLogin(t, tn, in)
		got, err := s.GetLogin(t.Context(), tn, l.ID)
		if c.forgetsLogins {
			require.ErrorIs(t, err, adapters.ErrNotFound, "an expired login transaction must be forgotten")
		} else if err == nil {
			require.False(t, got.ExpiresAt.After(time.Now()))
		} else {
			require.ErrorIs(t, err, adapters.ErrNotFound)
		}
	})
	t.Run("expire_while_stored", func(t *testing.T) {
		soon := now().Add(time.Second)
		short := fullSession(u)
		short.ExpiresAt, short.IdleExpiresAt = ptr(soon.Add(time.Hour)), ptr(soon)
		sa := c.create(t, tn, short)
		sb := c.create(t, tn, short)
		// Extending the idle expiry extends the session's life.
		sb, err := s.UpdateSession(t.Context(), tn, sb.ID, func(x *adapters.Session) error {
			x.IdleExpiresAt = ptr(now().Add(time.Hour))
			return nil
		})
		require.NoError(t, err)
		lin := fullLogin()
		lin.ExpiresAt = soon
		la := c.createLogin(t, tn, lin)
		lb := c.createLogin(t, tn, lin)
		_, err = s.UpdateLogin(t.Context(), tn, lb.ID, func(x *adapters.LoginSession) error {
			x.ExpiresAt = now().Add(time.Hour)
			return nil
		})
		require.NoError(t, err)

		time.Sleep(time.Until(soon) + 300*time.Millisecond)

		c.gone(t, tn, sa.ID, c.forgetsSessions, "session past its idle expiry")
		got, err := s.GetSession(t.Context(), tn, sb.ID)
		require.NoError(t, err, "a session whose expiry was extended by Update was forgotten")
		require.True(t, session.Usable(got, time.Now()))
		_, err = s.GetLogin(t.Context(), tn, lb.ID)
		require.NoError(t, err, "a login transaction whose expiry was extended by Update was forgotten")
		gl, err := s.GetLogin(t.Context(), tn, la.ID)
		if c.forgetsLogins {
			require.ErrorIs(t, err, adapters.ErrNotFound, "a login transaction past its expires_at must be forgotten")
		} else if err == nil {
			require.True(t, gl.ExpiresAt.Before(time.Now()))
		}
		if c.forgetsSessions && !c.stateless {
			l, err := s.ListUserSessions(t.Context(), tn, u)
			require.NoError(t, err)
			for _, x := range l {
				require.NotEqual(t, sa.ID, x.ID, "a forgotten session is still listed")
			}
		}
	})
	t.Run("no_expiry_is_kept", func(t *testing.T) {
		in := fullSession(u)
		in.ExpiresAt, in.IdleExpiresAt = nil, nil
		x := c.create(t, tn, in)
		got, err := s.GetSession(t.Context(), tn, x.ID)
		require.NoError(t, err, "a session without expiry must be kept (for a while)")
		require.True(t, session.Usable(got, time.Now()))
	})
}
