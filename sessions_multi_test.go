package authhero

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/session/storetest"
)

// miStores makes the session store of one instance from that instance's
// own handle on the shared database.
type miStores func(t *testing.T, d *adapters.DataAdapters) session.Store

// miRedisStores gives every instance its own client on the test Redis, all
// under one key prefix whose keys are deleted when the test ends.
func miRedisStores(t *testing.T) miStores {
	t.Helper()
	addr := storetest.RedisAddr(t)
	prefix := "authhero-test:" + rand.Text()[:12] + ":"
	admin := redis.NewClient(&redis.Options{Addr: addr})
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
	return func(t *testing.T, _ *adapters.DataAdapters) session.Store {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { c.Close() })
		return session.NewRedis(c, session.RedisOptions{Prefix: prefix})
	}
}

// miStatelessStores gives every instance a stateless store with the same
// secret, its revocation list and login transactions in the shared
// database.
func miStatelessStores(t *testing.T) miStores {
	secret := newKey()
	return func(t *testing.T, d *adapters.DataAdapters) session.Store {
		revs, err := session.NewRevocationList(d)
		require.NoError(t, err)
		s, err := session.NewStateless([][]byte{secret}, revs, session.StatelessLogins(session.NewSQL(d)))
		require.NoError(t, err)
		return s
	}
}

// miPair starts two App instances on one database (dsn), each with its own
// connection pool and session store from stores, behind one issuer: the
// first is newEnv's, the second serves the same URLs from another listener.
// Both share the encryption key, as instances of one deployment do.
func miPair(t *testing.T, dsn string, stores miStores) (one, two *env) {
	t.Helper()
	key := newKey()
	one = newEnv(t, dsn, func(o *Options) {
		o.EncryptionKey = key
		o.SessionStore = stores(t, o.DataAdapter)
	})
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	app, err := InitMultiTenant(Options{DataAdapter: db.DataAdapters, EncryptionKey: key, Issuer: one.base,
		Logger: quietLogger(), SessionStore: stores(t, db.DataAdapters)})
	require.NoError(t, err)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { require.NoError(t, app.Close(ctx)) })
	addr := srv.Listener.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return one, &env{app: app, srv: srv, client: client, base: one.base, ctx: ctx}
}

// miVia points the browser at the instance of e (its cookie jar stays).
func miVia(b *http.Client, e *env) *http.Client {
	b.Transport = e.client.Transport
	return b
}

// miToken exchanges a code at e's token endpoint for the public client.
func miToken(t *testing.T, e *env, c *adapters.Client, code, verifier string) map[string]any {
	t.Helper()
	res, body := e.post(t, e.issuer("acme")+"oauth/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {c.ClientID}, "code": {code}, "redirect_uri": {"https://app.test/callback"},
		"code_verifier": {verifier}}.Encode(), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.NotEmpty(t, body["id_token"])
	return body
}

// miSilent asks e for a code with prompt=none and returns the callback
// query.
func miSilent(t *testing.T, b *http.Client, e *env, c *adapters.Client, challenge string) url.Values {
	t.Helper()
	res, err := b.Get(e.authorizeURL("acme", c, challenge, url.Values{"prompt": {"none"}}))
	require.NoError(t, err)
	return callbackParams(t, res)
}

// miCrossInstance is the scenario: a login started on one instance ends on
// the other, SSO and prompt=none work on either with the cookie of the
// other, and a logout on one ends the session on both.
func miCrossInstance(t *testing.T, dsn string, stores miStores) {
	one, two := miPair(t, dsn, stores)
	c := one.webApp(t, "acme", nil)
	one.user(t, "acme", "ann@acme.test", "correct horse battery")
	verifier, challenge := pkce()
	b := miVia(one.browser(t), one)

	// /authorize and the identifier page on one ...
	res, err := b.Get(one.authorizeURL("acme", c, challenge, nil))
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	form := formFields(t, body)
	form.Set("username", "ann@acme.test")
	res, err = b.PostForm(one.issuer("acme")+"u/login/identifier", form)
	require.NoError(t, err)
	body = readAll(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	// ... the password on two: the login transaction crossed over.
	form = formFields(t, body)
	form.Set("password", "correct horse battery")
	res, err = miVia(b, two).PostForm(two.issuer("acme")+"u/login/password", form)
	require.NoError(t, err)
	q := callbackParams(t, res)
	require.NotEmpty(t, q.Get("code"), q)
	// The code made on two is exchanged on one.
	miToken(t, one, c, q.Get("code"), verifier)

	// prompt=none on one with the cookie two set.
	q = miSilent(t, miVia(b, one), one, c, challenge)
	require.NotEmpty(t, q.Get("code"), "prompt=none on the other instance: %v", q)
	miToken(t, two, c, q.Get("code"), verifier)

	// A second browser logs in on one entirely; SSO (no prompt) and
	// prompt=none work on two with that cookie.
	b2 := miVia(one.browser(t), one)
	q = callbackParams(t, one.passwordLogin(t, b2, one.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery"))
	require.NotEmpty(t, q.Get("code"))
	res, err = miVia(b2, two).Get(two.authorizeURL("acme", c, challenge, url.Values{"state": {"sso"}}))
	require.NoError(t, err)
	q = callbackParams(t, res)
	require.NotEmpty(t, q.Get("code"), "SSO on the other instance shows no login page")
	require.Equal(t, "sso", q.Get("state"))
	miToken(t, two, c, q.Get("code"), verifier)
	q = miSilent(t, b2, two, c, challenge)
	require.NotEmpty(t, q.Get("code"), "prompt=none on the other instance: %v", q)

	// Logout on two ends the session on one too; the first browser is
	// still logged in.
	cookie := miCookie(b2, one)
	require.NotEmpty(t, cookie)
	res, err = b2.Get(two.issuer("acme") + "v2/logout?" + url.Values{"client_id": {c.ClientID}, "returnTo": {"https://app.test/"}}.Encode())
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, res.StatusCode, readAll(t, res))
	require.Equal(t, "https://app.test/", res.Header.Get("Location"))
	q = miSilent(t, miVia(b2, one), one, c, challenge)
	require.Equal(t, "login_required", q.Get("error"), "the session ended on two is still alive on one")
	// Even the old cookie, replayed after logout, is refused on one.
	replay := miVia(one.browser(t), one)
	u, _ := url.Parse(one.issuer("acme"))
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName("acme", false), Value: cookie, Path: "/"}})
	q = miSilent(t, replay, one, c, challenge)
	require.Equal(t, "login_required", q.Get("error"), "a copy of the logged-out cookie still works on one")
	q = miSilent(t, miVia(b, two), two, c, challenge)
	require.NotEmpty(t, q.Get("code"), "the other browser's session was ended too")
}

// miCookie returns the session cookie b holds for the acme tenant of e.
func miCookie(b *http.Client, e *env) string {
	u, _ := url.Parse(e.issuer("acme"))
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == session.CookieName("acme", false) {
			return c.Value
		}
	}
	return ""
}

// TestSessionsAcrossInstancesRedis: two instances on one database and one
// Redis session store are interchangeable for the browser.
func TestSessionsAcrossInstancesRedis(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		miCrossInstance(t, dsn, miRedisStores(t))
	})
}

// TestSessionsAcrossInstancesStateless: the same with stateless sessions
// (a shared secret; revocations and login transactions in the database).
func TestSessionsAcrossInstancesStateless(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		miCrossInstance(t, dsn, miStatelessStores(t))
	})
}

// TestJWTSecretsSelectStatelessSessions logs in with Options.JWTSecrets set:
// the cookie carries the sealed session and SSO works from it.
func TestJWTSecretsSelectStatelessSessions(t *testing.T) {
	_, err := InitMultiTenant(Options{DataAdapter: &adapters.DataAdapters{}, EncryptionKey: newKey(), JWTSecrets: [][]byte{[]byte("short")}})
	require.ErrorContains(t, err, "JWTSecrets[0] must be at least 32 bytes")

	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.JWTSecrets = [][]byte{newKey()} })
	_, ok := e.app.opts.SessionStore.(*session.Stateless)
	require.True(t, ok, "JWTSecrets selects the stateless store")
	c := e.webApp(t, "acme", nil)
	u := e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()
	b := e.browser(t)
	res := e.passwordLogin(t, b, e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery")
	require.NotEmpty(t, callbackParams(t, res).Get("code"))
	res, err = b.Get(e.authorizeURL("acme", c, challenge, url.Values{"prompt": {"none"}}))
	require.NoError(t, err)
	require.NotEmpty(t, callbackParams(t, res).Get("code"), "SSO from the sealed cookie")
	stored, err := e.app.DataAdapter().Sessions.ListByUser(e.ctx, "acme", u.UserID, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, stored.Items, "nothing is stored server-side")
}

// TestBlockingRevokesStoreSessions blocks a user through the Management API
// while sessions live in a store outside the database: the store's session
// is revoked too.
func TestBlockingRevokesStoreSessions(t *testing.T) {
	mem := session.NewMemory()
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.SessionStore = mem })
	c := e.webApp(t, "acme", nil)
	u := e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()
	res := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery")
	require.NotEmpty(t, callbackParams(t, res).Get("code"))
	before, err := mem.ListUserSessions(e.ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Len(t, before, 1)
	require.Nil(t, before[0].RevokedAt)

	admin, secret, err := e.app.CreateManagementClient(e.ctx, "acme", "admin", "", "")
	require.NoError(t, err)
	_, tok := e.post(t, e.issuer("acme")+"oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {admin.ClientID},
		"client_secret": {secret}, "audience": {"urn:authhero:management"}}.Encode(), nil)
	// The Management API sees the store's sessions.
	get := func(path string) map[string]any {
		req, _ := http.NewRequest(http.MethodGet, e.issuer("acme")+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		res, err := e.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		return m
	}
	listed := get("api/v2/users/" + url.PathEscape(u.UserID) + "/sessions")["sessions"].([]any)
	require.Len(t, listed, 1)
	require.Equal(t, before[0].ID, listed[0].(map[string]any)["id"])
	require.Equal(t, before[0].ID, get("api/v2/sessions/" + url.PathEscape(before[0].ID))["id"])

	req, _ := http.NewRequest(http.MethodPatch, e.issuer("acme")+"api/v2/users/"+url.PathEscape(u.UserID), strings.NewReader(`{"blocked":true}`))
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	req.Header.Set("Content-Type", "application/json")
	r2, err := e.client.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	require.Equal(t, 200, r2.StatusCode)

	after, err := mem.ListUserSessions(e.ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.NotNil(t, after[0].RevokedAt, "the memory store's session is revoked")
}
