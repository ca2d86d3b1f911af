package session_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// quiet drops go-redis's own log lines (dial failures are the point of
// the fault tests).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// everyCall calls each method of s once and returns their names and errors.
func everyCall(s session.Store) (names []string, errs []error) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	sess := adapters.Session{UserID: "auth0|x", ExpiresAt: &exp}
	login := adapters.LoginSession{ExpiresAt: exp}
	called := func(*adapters.Session) error { panic("mutate called without a stored session") }
	calledL := func(*adapters.LoginSession) error { panic("mutate called without a stored login") }
	add := func(name string, err error) { names, errs = append(names, name), append(errs, err) }
	_, err := s.CreateSession(ctx, "acme", sess)
	add("CreateSession", err)
	_, err = s.GetSession(ctx, "acme", "id")
	add("GetSession", err)
	_, err = s.UpdateSession(ctx, "acme", "id", called)
	add("UpdateSession", err)
	add("DeleteSession", s.DeleteSession(ctx, "acme", "id"))
	_, err = s.ListUserSessions(ctx, "acme", "auth0|x")
	add("ListUserSessions", err)
	_, err = s.RevokeUserSessions(ctx, "acme", "auth0|x", time.Now())
	add("RevokeUserSessions", err)
	_, err = s.CreateLogin(ctx, "acme", login)
	add("CreateLogin", err)
	_, err = s.GetLogin(ctx, "acme", "id")
	add("GetLogin", err)
	_, err = s.UpdateLogin(ctx, "acme", "id", calledL)
	add("UpdateLogin", err)
	add("DeleteLogin", s.DeleteLogin(ctx, "acme", "id"))
	add("Ping", s.Ping(ctx))
	return names, errs
}

// requireFailsFast checks that every call fails, with an error that is not
// a contract error, within bound.
func requireFailsFast(t *testing.T, s session.Store, bound time.Duration) {
	t.Helper()
	start := time.Now()
	var names []string
	var errs []error
	require.NotPanics(t, func() { names, errs = everyCall(s) })
	for i, err := range errs {
		require.Error(t, err, "%s succeeded without Redis", names[i])
		require.False(t, errors.Is(err, adapters.ErrNotFound), "%s reported ErrNotFound for an unreachable Redis: %v", names[i], err)
	}
	// Every call on its own stays within the bound; together they take at
	// most len(errs) times it.
	require.Less(t, time.Since(start), time.Duration(len(errs))*bound)
	for _, name := range []string{"GetSession", "UpdateSession", "Ping"} {
		start := time.Now()
		switch name {
		case "GetSession":
			_, _ = s.GetSession(context.Background(), "acme", "id")
		case "UpdateSession":
			_, _ = s.UpdateSession(context.Background(), "acme", "id", func(*adapters.Session) error { return nil })
		case "Ping":
			_ = s.Ping(context.Background())
		}
		require.Less(t, time.Since(start), bound, "%s took too long", name)
	}
}

// TestRedisClosedPortFailsFast points clients at a port nobody listens on:
// one configured as the Redis godoc suggests fails every call at once; a
// default go-redis client (which retries the dial for well over a second)
// is cut off by the store's Timeout.
func TestRedisClosedPortFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, DialerRetries: 1, MaxRetries: 1})
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	requireFailsFast(t, session.NewRedis(c, session.RedisOptions{}), 2*time.Second)
	require.Less(t, time.Since(start), 2*time.Second, "every call of a well configured client fails at once")

	d := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { d.Close() })
	s := session.NewRedis(d, session.RedisOptions{})
	for range 2 {
		start := time.Now()
		_, err := s.GetSession(context.Background(), "acme", "id")
		require.Error(t, err)
		require.False(t, errors.Is(err, adapters.ErrNotFound))
		require.Less(t, time.Since(start), 2*time.Second)
	}
}

// TestRedisSilentServerTimesOut points a default client (its own timeouts
// are seconds long and it ignores context deadlines) at a server that
// accepts connections and never answers: the store's Timeout still bounds
// every call.
func TestRedisSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go io.Copy(io.Discard, conn)
		}
	}()
	c := redis.NewClient(&redis.Options{Addr: l.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, conn := range conns {
			conn.Close()
		}
		mu.Unlock()
		c.Close()
		wg.Wait()
	})
	s := session.NewRedis(c, session.RedisOptions{Timeout: 300 * time.Millisecond})
	requireFailsFast(t, s, time.Second)
	_, err = s.GetSession(context.Background(), "acme", "id")
	require.ErrorContains(t, err, "timed out")
	// A caller's shorter deadline wins.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.Error(t, s.Ping(ctx))
	require.Less(t, time.Since(start), 250*time.Millisecond)
}

// TestRedisKeys checks the key layout, TTLs and index pruning on the real
// server.
func TestRedisKeys(t *testing.T) {
	c, prefix := redisClient(t)
	s := session.NewRedis(c, session.RedisOptions{Prefix: prefix})
	ctx := t.Context()
	tn := "ac:me{x}"
	esc := "ac%3Ame%7Bx%7D"
	user := "auth0|" + adapters.NewID("")
	now := time.Now()
	long, short := now.Add(time.Hour), now.Add(400*time.Millisecond)
	abs := now.Add(2 * time.Hour)

	a, err := s.CreateSession(ctx, tn, adapters.Session{UserID: user, ExpiresAt: &abs, IdleExpiresAt: &long})
	require.NoError(t, err)
	b, err := s.CreateSession(ctx, tn, adapters.Session{UserID: user, ExpiresAt: &abs, IdleExpiresAt: &short})
	require.NoError(t, err)
	l, err := s.CreateLogin(ctx, tn, adapters.LoginSession{ExpiresAt: now.Add(10 * time.Minute)})
	require.NoError(t, err)

	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	userKey := prefix + "{" + esc + "}:u:auth0|" + strings.TrimPrefix(user, "auth0|")
	require.ElementsMatch(t, []string{
		prefix + "{" + esc + "}:s:" + a.ID, prefix + "{" + esc + "}:s:" + b.ID,
		prefix + "{" + esc + "}:l:" + l.ID, userKey,
	}, keys, "one hash tag per tenant, so a tenant's keys share a Cluster slot")

	ttl := func(k string) time.Duration {
		d, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		return d
	}
	require.InDelta(t, time.Hour.Seconds(), ttl(prefix+"{"+esc+"}:s:"+a.ID).Seconds(), 5, "session TTL = until its idle expiry")
	require.InDelta(t, (10 * time.Minute).Seconds(), ttl(prefix+"{"+esc+"}:l:"+l.ID).Seconds(), 5, "login TTL = until its expires_at")
	require.InDelta(t, time.Hour.Seconds(), ttl(userKey).Seconds(), 5, "the index lives as long as the longest session")

	// An update moves the TTL: the idle expiry is extended past the hour,
	// capped by the absolute expiry.
	later := now.Add(3 * time.Hour)
	_, err = s.UpdateSession(ctx, tn, a.ID, func(x *adapters.Session) error { x.IdleExpiresAt = &later; return nil })
	require.NoError(t, err)
	require.InDelta(t, (2 * time.Hour).Seconds(), ttl(prefix+"{"+esc+"}:s:"+a.ID).Seconds(), 5)
	require.InDelta(t, (2 * time.Hour).Seconds(), ttl(userKey).Seconds(), 5)

	// b expires; its index entry stays until the index is read.
	time.Sleep(time.Until(short) + 200*time.Millisecond)
	n, err := c.ZCard(ctx, userKey).Result()
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	list, err := s.ListUserSessions(ctx, tn, user)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, a.ID, list[0].ID)
	n, err = c.ZCard(ctx, userKey).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the expired session's id was not pruned")

	// Revocation keeps the TTL.
	before := ttl(prefix + "{" + esc + "}:s:" + a.ID)
	cnt, err := s.RevokeUserSessions(ctx, tn, user, time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, cnt)
	require.InDelta(t, before.Seconds(), ttl(prefix+"{"+esc+"}:s:"+a.ID).Seconds(), 5)

	// Delete removes the key and the index entry.
	require.NoError(t, s.DeleteSession(ctx, tn, a.ID))
	n, err = c.Exists(ctx, userKey).Result()
	require.NoError(t, err)
	require.EqualValues(t, 0, n, "the index of a user without sessions is gone")
}

// TestRedisUniversalClients checks that the store takes any
// redis.UniversalClient: a failover (Sentinel) or cluster client too.
func TestRedisUniversalClients(t *testing.T) {
	for _, c := range []redis.UniversalClient{
		redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}}),
		redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}}),
		redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}),
	} {
		s := session.NewRedis(c, session.RedisOptions{Timeout: 500 * time.Millisecond})
		start := time.Now()
		require.Error(t, s.Ping(context.Background()))
		require.Less(t, time.Since(start), 2*time.Second)
		c.Close()
	}
}
