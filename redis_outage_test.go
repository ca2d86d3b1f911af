package authhero

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/session/storetest"
)

// quietRedis drops go-redis's own log lines: dial failures are the point
// of the outage test.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// TestRedisOutage runs an App whose session store is the real test Redis,
// reached through a forwarder (health_test.go) that the test cuts both ways
// Redis disappears (connections refused, packets black-holed) and restores:
//
//   - before the cut a user logs in;
//   - while cut, the browser endpoints that need the store (a new
//     /authorize, which creates a login transaction; prompt=none with the
//     user's SSO cookie; a login page of a transaction made before the cut)
//     answer a readable 503 page, never a redirect, within the store's
//     Timeout + 1 s; /health/ready reports session_store failing (database
//     ok) while /health/live stays 200; client_credentials on /oauth/token,
//     which needs no session, still gets a token;
//   - once restored, without a restart, the old cookie gives SSO again (and
//     its code a token) and a new password login works;
//   - after the App, the servers, the Redis clients and the forwarder are
//     closed, no goroutine is left (goleak, no exceptions).
func TestRedisOutage(t *testing.T) {
	addr := storetest.RedisAddr(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last: after every cleanup below
	redis.SetLogger(quietRedis{})

	const (
		storeTimeout   = time.Second
		storageTimeout = 2 * time.Second
	)
	bound := storeTimeout + time.Second

	// A direct client for setup and for deleting the test's keys, whatever
	// state the forwarder is left in.
	prefix := "authhero-test:" + rand.Text()[:12] + ":"
	admin := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DialTimeout: time.Second, ReadTimeout: time.Second})
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := admin.Keys(ctx, prefix+"*").Result()
		require.NoError(t, err)
		if len(keys) > 0 {
			require.NoError(t, admin.Del(ctx, keys...).Err())
		}
	})
	{
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := admin.Ping(ctx).Err()
		cancel()
		if err != nil {
			t.Fatalf("redis at %s (%s) does not answer: %v", addr, storetest.RedisEnv, err)
		}
	}

	f := newForwarder(t, addr)
	// A client configured to fail fast, as the session.Redis godoc advises:
	// short dial and I/O timeouts that honour the context, one retry.
	rc := redis.NewClient(&redis.Options{Addr: f.addr(), ContextTimeoutEnabled: true,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		DialerRetries: 1, MaxRetries: 1})
	t.Cleanup(func() { require.NoError(t, rc.Close()) })
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) {
		o.SessionStore = session.NewRedis(rc, session.RedisOptions{Prefix: prefix, Timeout: storeTimeout})
		o.StorageTimeout = storageTimeout
	})
	t.Cleanup(e.client.CloseIdleConnections) // runs before the server closes

	web := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	m2mID, m2mSecret := e.api(t, "acme", "https://api.acme.test/", []string{"read:things"}, []string{"read:things"}, nil)

	// Ann logs in; her browser keeps the SSO cookie.
	verifier, challenge := pkce()
	ann := e.browser(t)
	q := callbackParams(t, e.passwordLogin(t, ann, e.authorizeURL("acme", web, challenge, nil), "ann@acme.test", "correct horse battery"))
	require.NotEmpty(t, q.Get("code"))
	res, tok := e.tgExchange(t, "acme", web.ClientID, "", q.Get("code"), "https://app.test/callback", verifier)
	require.Equal(t, 200, res.StatusCode, tok)
	require.NotEmpty(t, keysOf(t, admin, prefix), "the session lives in Redis under the test's prefix")

	// get fetches rawurl with a browser (nil: no cookies), stopping at the
	// first redirect, and times it.
	get := func(b *http.Client, rawurl string) (int, string, http.Header, time.Duration) {
		t.Helper()
		if b == nil {
			b = e.browser(t)
		}
		c := *b
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		start := time.Now()
		res, err := c.Get(rawurl)
		require.NoError(t, err)
		body := readAll(t, res)
		return res.StatusCode, body, res.Header, time.Since(start)
	}
	silent := func(state string) string {
		return e.authorizeURL("acme", web, challenge, url.Values{"prompt": {"none"}, "state": {state}})
	}
	type readyReport struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	ready := func() (int, readyReport) {
		code, body, _ := e.get(t, e.base+"health/ready", nil)
		var rep readyReport
		require.NoError(t, json.Unmarshal([]byte(body), &rep), body)
		return code, rep
	}
	clientCredentials := func() (int, map[string]any) {
		res, m := e.post(t, e.issuer("acme")+"oauth/token",
			"grant_type=client_credentials&audience="+url.QueryEscape("https://api.acme.test/"), basic(m2mID, m2mSecret))
		return res.StatusCode, m
	}

	for _, mode := range []cutMode{refused, blackHole} {
		name := map[cutMode]string{refused: "refused", blackHole: "black_hole"}[mode]
		// A login transaction made before the cut, whose page is then asked for.
		code, _, hdr, _ := get(nil, e.authorizeURL("acme", web, challenge, nil))
		require.Equal(t, http.StatusFound, code)
		loginPage := e.issuer("acme") + strings.TrimPrefix(hdr.Get("Location"), "/")
		require.Contains(t, loginPage, "/u/login/identifier?state=")

		f.set(mode)
		down := waitFor(t, 5*time.Second, name+": /health/ready reports the session store", func() bool {
			code, rep := ready()
			return code == 503 && rep.Checks["session_store"].Status == "error"
		})
		_, rep := ready()
		require.Equal(t, "ok", rep.Checks["database"].Status, "only the session store is down")
		code, _, _ = e.get(t, e.base+"health/live", nil)
		require.Equal(t, 200, code, "liveness does not depend on the session store")

		var took []string
		for _, c := range []struct {
			what string
			b    *http.Client
			url  string
		}{
			{"new /authorize", nil, e.authorizeURL("acme", web, challenge, nil)},
			{"/authorize with the SSO cookie", ann, e.authorizeURL("acme", web, challenge, nil)},
			{"prompt=none with the SSO cookie", ann, silent("silent-" + name)},
			{"login page", nil, loginPage},
		} {
			code, page, hdr, d := get(c.b, c.url)
			took = append(took, fmt.Sprintf("%s %v", c.what, d.Round(time.Millisecond)))
			require.Less(t, d, bound, "%s: %s", name, c.what)
			if code != http.StatusServiceUnavailable {
				// Not fatal, so that the other checks, the recovery and
				// goleak still run and report.
				t.Errorf("%s: %s: got %d, want 503 (Location %q): %s", name, c.what, code, hdr.Get("Location"), page)
				continue
			}
			require.Contains(t, hdr.Get("Content-Type"), "text/html", c.what)
			require.Contains(t, strings.ToLower(page), "<html", "%s: a readable page", c.what)
			require.Empty(t, hdr.Get("Location"), "%s: never redirect without the session store", c.what)
			require.Contains(t, page, "temporarily unavailable", c.what)
			require.NotEmpty(t, hdr.Get("Retry-After"), c.what)
		}

		start := time.Now()
		code, body := clientCredentials()
		ccTook := time.Since(start)
		require.Equal(t, 200, code, "%s: client_credentials needs no session: %v", name, body)
		require.NotEmpty(t, body["access_token"])

		f.set(up)
		upAgain := waitFor(t, 5*time.Second, name+": /health/ready turns 200", func() bool {
			code, _ := ready()
			return code == 200
		})
		// SSO with the old cookie at the first attempt, without a restart:
		// the client reconnects by itself; its code gives tokens.
		res, err := ann.Get(silent("back-" + name))
		require.NoError(t, err)
		q := callbackParams(t, res)
		require.Empty(t, q.Get("error"), q.Get("error_description"))
		require.Equal(t, "back-"+name, q.Get("state"))
		res, tok := e.tgExchange(t, "acme", web.ClientID, "", q.Get("code"), "https://app.test/callback", verifier)
		require.Equal(t, 200, res.StatusCode, tok)
		// A new login works too.
		q = callbackParams(t, e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", web, challenge, nil), "ann@acme.test", "correct horse battery"))
		require.NotEmpty(t, q.Get("code"))

		t.Logf("%s: answered in: %s (bound %v); client_credentials while cut: 200 in %v; /health/ready 503 after %v, 200 again %v after restore",
			name, strings.Join(took, ", "), bound, ccTook.Round(time.Millisecond), down.Round(time.Millisecond), upAgain.Round(time.Millisecond))
	}
}

// keysOf returns the keys under prefix.
func keysOf(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	return keys
}
