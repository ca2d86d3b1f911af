package authhero

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/testdb"
)

// get fetches rawurl with the env's client and returns the status, the body
// and the headers.
func (e *env) get(t *testing.T, rawurl string, header http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawurl, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	c := *e.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b), res.Header
}

func TestHealthEndpoints(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	code, body, h := e.get(t, e.base+"health", nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
	require.Equal(t, "no-store", h.Get("Cache-Control"))

	code, body, _ = e.get(t, e.base+"health/live", nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"status":"ok"}`, body)

	code, body, _ = e.get(t, e.base+"health/ready", nil)
	require.Equal(t, 200, code, body)
	var rep struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status    string   `json:"status"`
			LatencyMS *float64 `json:"latency_ms"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, "ok", rep.Status)
	require.Len(t, rep.Checks, 3)
	for _, name := range []string{"database", "session_store", "signing_keys"} {
		require.Equal(t, "ok", rep.Checks[name].Status, name)
		require.NotNil(t, rep.Checks[name].LatencyMS, name)
	}

	// Health is also served on tenant hosts (a load balancer probes them).
	code, _, _ = e.get(t, e.issuer("acme")+"health", nil)
	require.Equal(t, 200, code)
}

func TestHealthCanBeDisabled(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.DisableHealth = true })
	code, _, _ := e.get(t, e.base+"health", nil)
	require.Equal(t, 404, code)
	// The host mounts the checker itself.
	e.app.Handle("GET /status/", e.app.Health())
	code, body, _ := e.get(t, e.base+"status/ready", nil)
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"signing_keys"`)
}

// TestSigningKeysCheckNeedsAUsableKey: an instance whose ENCRYPTION_KEY
// cannot open the tenant's keys is not ready.
func TestSigningKeysCheckNeedsAUsableKey(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.DefaultTenant = "acme" })
	other, err := InitMultiTenant(Options{DataAdapter: e.app.opts.DataAdapter, EncryptionKey: newKey(),
		DefaultTenant: "acme", Logger: quietLogger(), CleanupInterval: -1})
	require.NoError(t, err)
	rep := other.Health().Run(e.ctx)
	require.Equal(t, "error", rep.Status)
	require.Equal(t, "error", rep.Checks["signing_keys"].Status)
	require.Equal(t, "ok", rep.Checks["database"].Status)
	require.NotContains(t, rep.Checks["signing_keys"].Error, "acme", "details stay in the log")
	require.True(t, e.app.Health().Run(e.ctx).OK())
}

// cutMode is how a forwarder fails.
type cutMode int

const (
	up        cutMode = iota
	refused           // connections are closed at once: the database process is gone
	blackHole         // bytes are dropped and nothing answers: a network partition
)

// forwarder is a TCP proxy on 127.0.0.1 in front of the database, which a
// test can cut (refuse or black-hole) and restore without touching the
// shared database server.
type forwarder struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  cutMode
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newForwarder(t *testing.T, target string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &forwarder{t: t, ln: ln, target: target, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		mode := f.mode
		if mode == refused {
			f.mu.Unlock()
			c.Close()
			continue
		}
		f.conns[c] = true
		f.mu.Unlock()
		if mode == blackHole {
			continue // held open, never answered
		}
		s, err := net.DialTimeout("tcp", f.target, 5*time.Second)
		if err != nil {
			f.drop(c)
			continue
		}
		f.mu.Lock()
		f.conns[s] = true
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(c, s)
		go f.pipe(s, c)
	}
}

// pipe copies src to dst, dropping what it reads while black-holed.
func (f *forwarder) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			drop := f.mode == blackHole
			f.mu.Unlock()
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
		}
		if err != nil {
			break
		}
	}
	f.drop(src)
	f.drop(dst)
}

func (f *forwarder) drop(c net.Conn) {
	c.Close()
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// set switches the mode. Refusing closes every connection; leaving a black
// hole closes the connections that lived through it (their streams lost
// bytes), as a partition that heals leaves dead TCP connections behind.
func (f *forwarder) set(mode cutMode) {
	f.mu.Lock()
	was := f.mode
	f.mode = mode
	var kill []net.Conn
	if mode == refused || was == blackHole {
		for c := range f.conns {
			kill = append(kill, c)
		}
	}
	f.mu.Unlock()
	for _, c := range kill {
		f.drop(c)
	}
}

func (f *forwarder) close() {
	f.ln.Close()
	f.set(refused)
	f.wg.Wait()
}

// waitFor polls fn every 50 ms until it is true and returns how long that
// took; it fails after limit.
func waitFor(t *testing.T, limit time.Duration, what string, fn func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !fn() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestStorageOutage cuts a real Postgres away from a running App through a
// forwarder, both ways a database disappears (connections refused, packets
// black-holed): /health turns 503 within its check timeout and cache,
// liveness stays 200; a token request, a login page and a Management API
// call answer 503 in their own shapes within StorageTimeout (+1 s); when the
// database returns, everything succeeds again without a restart; and once
// the App, the servers and the database are closed no goroutine is left
// (goleak, with no exceptions needed for database/sql or pgx).
func TestStorageOutage(t *testing.T) {
	const storageTimeout = 2 * time.Second
	bound := storageTimeout + time.Second
	for _, mode := range []cutMode{refused, blackHole} {
		name := map[cutMode]string{refused: "refused", blackHole: "black_hole"}[mode]
		t.Run(name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last: after every cleanup below
			dsn, err := url.Parse(testdb.Fresh(t, "postgres"))
			require.NoError(t, err)
			f := newForwarder(t, dsn.Host)
			dsn.Host = f.addr()
			e := newEnv(t, dsn.String(), func(o *Options) {
				o.CacheTTL = -1 // every request reads the database
				o.StorageTimeout = storageTimeout
				o.Provider = "test"
			})
			t.Cleanup(e.client.CloseIdleConnections)
			id, secret := e.api(t, "acme", "https://api.acme.test/", []string{"read:things"}, []string{"read:things"}, nil)
			web := e.webApp(t, "acme", nil)
			_, challenge := pkce()
			admin, adminSecret, err := e.app.CreateManagementClient(e.ctx, "acme", "admin", "", "")
			require.NoError(t, err)
			mgmtTok, err := (&clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: adminSecret,
				TokenURL: e.issuer("acme") + "oauth/token", EndpointParams: url.Values{"audience": {e.issuer("acme") + "api/v2/"}}}).Token(e.ctx)
			require.NoError(t, err)
			bearer := http.Header{"Authorization": {"Bearer " + mgmtTok.AccessToken}}

			health := func() int { c, _, _ := e.get(t, e.base+"health", nil); return c }
			token := func() (int, map[string]any, http.Header, time.Duration) {
				start := time.Now()
				res, m := e.post(t, e.issuer("acme")+"oauth/token",
					"grant_type=client_credentials&audience="+url.QueryEscape("https://api.acme.test/"), basic(id, secret))
				return res.StatusCode, m, res.Header, time.Since(start)
			}
			timed := func(rawurl string, h http.Header) (int, string, http.Header, time.Duration) {
				start := time.Now()
				c, b, hd := e.get(t, rawurl, h)
				return c, b, hd, time.Since(start)
			}
			authorize := e.authorizeURL("acme", web, challenge, nil)
			clients := e.issuer("acme") + "api/v2/clients"

			require.Equal(t, 200, health())
			code, _, _, _ := token()
			require.Equal(t, 200, code)
			code, _, hdr, _ := timed(authorize, nil)
			require.Equal(t, http.StatusFound, code)
			loginPage := e.issuer("acme") + strings.TrimPrefix(hdr.Get("Location"), "/")
			require.Contains(t, loginPage, "/u/login/identifier?state=")
			code, _, _, _ = timed(loginPage, nil)
			require.Equal(t, 200, code)

			f.set(mode)
			down := waitFor(t, 3*time.Second, "/health turns 503", func() bool { return health() == 503 })
			code, _, _ = e.get(t, e.base+"health/live", nil)
			require.Equal(t, 200, code, "liveness does not depend on the database")
			_, ready, _ := e.get(t, e.base+"health/ready", nil)
			require.Contains(t, ready, `"database":{"status":"error"`)
			require.NotContains(t, ready, dsn.Hostname()+":", "no address in the public body")

			code, body, hdr, tokTook := token()
			require.Equal(t, 503, code, "%v", body)
			require.Equal(t, "temporarily_unavailable", body["error"])
			require.NotEmpty(t, hdr.Get("Retry-After"))
			require.Less(t, tokTook, bound)

			var pageTook time.Duration
			for _, u := range []string{authorize, loginPage} {
				code, page, hdr, took := timed(u, nil)
				require.Equal(t, 503, code, page)
				require.Contains(t, hdr.Get("Content-Type"), "text/html")
				require.Empty(t, hdr.Get("Location"), "never redirect without the database")
				require.Contains(t, page, "temporarily unavailable")
				require.Less(t, took, bound)
				pageTook = max(pageTook, took)
			}

			code, mbody, _, mgmtTook := timed(clients, bearer)
			require.Equal(t, 503, code, mbody)
			require.JSONEq(t, `{"statusCode":503,"error":"Service Unavailable","message":"`+unavailableText+`"}`, mbody)
			require.Less(t, mgmtTook, bound)

			f.set(up)
			upAgain := waitFor(t, 5*time.Second, "/health turns 200", func() bool { return health() == 200 })
			start := time.Now()
			var firstToken time.Duration
			waitFor(t, 5*time.Second, "a token after the database returns", func() bool {
				c, _, _, _ := token()
				firstToken = time.Since(start)
				return c == 200
			})
			code, _, _, _ = timed(authorize, nil)
			require.Equal(t, http.StatusFound, code)
			code, page, _, _ := timed(loginPage, nil)
			require.Equal(t, 200, code, page)
			code, mbody, _, _ = timed(clients, bearer)
			require.Equal(t, 200, code, mbody)

			t.Logf("%s: /health 200→503 in %v, 503→200 in %v after restore; while cut: token 503 in %v, login pages 503 in ≤ %v, management 503 in %v; first token after restore in %v",
				name, down.Round(time.Millisecond), upAgain.Round(time.Millisecond), tokTook.Round(time.Millisecond),
				pageTook.Round(time.Millisecond), mgmtTook.Round(time.Millisecond), firstToken.Round(time.Millisecond))
		})
	}
}

// TestCleanupJob runs the cleanup job every 20 ms: rows expired past their
// retention go, rows still within it or alive stay; Close stops the job
// (goleak).
func TestCleanupJob(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.CleanupInterval = 20 * time.Millisecond })
	t.Cleanup(e.client.CloseIdleConnections)
	d := e.app.DataAdapter()
	now := adapters.Now()
	ago := func(x time.Duration) *time.Time { v := now.Add(-x); return &v }
	const day = 24 * time.Hour

	code := func(exp time.Time) string {
		c, err := d.Codes.Create(e.ctx, "acme", adapters.Code{CodeID: adapters.NewID(""), CodeType: adapters.CodeAuthorization,
			UserID: "auth0|u", ExpiresAt: exp})
		require.NoError(t, err)
		return c.CodeID
	}
	sess := func(exp *time.Time) string {
		s, err := d.Sessions.Create(e.ctx, "acme", adapters.Session{ID: adapters.NewULID(), UserID: "auth0|u", ExpiresAt: exp})
		require.NoError(t, err)
		return s.ID
	}
	login := func(exp time.Time) string {
		l, err := d.LoginSessions.Create(e.ctx, "acme", adapters.LoginSession{ID: adapters.NewULID(), ExpiresAt: exp})
		require.NoError(t, err)
		return l.ID
	}
	rt := func(exp *time.Time) string {
		r, err := d.RefreshTokens.Create(e.ctx, "acme", adapters.RefreshToken{ID: adapters.NewULID(), UserID: "auth0|u",
			ClientID: "c", TokenLookup: adapters.NewID("rt_"), TokenHash: "sha256:x", FamilyID: adapters.NewULID(), ExpiresAt: exp})
		require.NoError(t, err)
		return r.ID
	}
	has := func(err error) bool {
		if err == nil {
			return true
		}
		require.ErrorIs(t, err, adapters.ErrNotFound)
		return false
	}
	codeGone, codeGrace, codeLive := code(*ago(2 * day)), code(*ago(time.Hour)), code(now.Add(time.Hour))
	sessGone, sessGrace, sessLive := sess(ago(8*day)), sess(ago(6*day)), sess(nil)
	loginGone, loginGrace := login(*ago(8 * day)), login(*ago(day))
	rtGone, rtLive := rt(ago(8*day)), rt(nil)

	codeExists := func(id string) bool {
		_, err := d.Codes.Get(e.ctx, "acme", adapters.CodeAuthorization, id)
		return has(err)
	}
	sessExists := func(id string) bool { _, err := d.Sessions.Get(e.ctx, "acme", id); return has(err) }
	loginExists := func(id string) bool { _, err := d.LoginSessions.Get(e.ctx, "acme", id); return has(err) }
	rtExists := func(id string) bool { _, err := d.RefreshTokens.Get(e.ctx, "acme", id); return has(err) }

	waitFor(t, 5*time.Second, "expired rows deleted", func() bool {
		return !codeExists(codeGone) && !sessExists(sessGone) && !loginExists(loginGone) && !rtExists(rtGone)
	})
	for _, ok := range []bool{codeExists(codeGrace), codeExists(codeLive), sessExists(sessGrace), sessExists(sessLive),
		loginExists(loginGrace), rtExists(rtLive)} {
		require.True(t, ok, "a row within its retention was deleted")
	}
	_, body, _ := e.get(t, e.base+"health", nil) // the App still serves
	require.JSONEq(t, `{"status":"ok"}`, body)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.app.Close(ctx))
	require.NoError(t, e.app.Close(ctx), "Close twice is fine")
	rec := httptest.NewRecorder()
	e.app.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var deleted, runs bool
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		deleted = deleted || strings.HasPrefix(line, "authhero_cleanup_deleted_total{") && strings.Contains(line, `table="codes"`)
		runs = runs || strings.HasPrefix(line, "authhero_cleanup_runs_total{") && strings.Contains(line, `result="ok"`)
	}
	require.True(t, deleted && runs, rec.Body.String())
}

// TestCloseIsBoundedByItsContext: Close returns when its context ends even
// if a job is still running.
func TestCloseIsBoundedByItsContext(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.CleanupInterval = -1 })
	e.app.jobs.Add(1) // a job that never ends
	defer e.app.jobs.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, e.app.Close(ctx), context.DeadlineExceeded)
}

// flakyUsers fails Get and List while down is set, as a database that went
// away would.
type flakyUsers struct {
	adapters.UsersAdapter
	down *atomic.Bool
}

var errConnRefused = errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")

func (f flakyUsers) Get(ctx context.Context, tenantID, id string) (*adapters.User, error) {
	if f.down.Load() {
		return nil, errConnRefused
	}
	return f.UsersAdapter.Get(ctx, tenantID, id)
}

func (f flakyUsers) List(ctx context.Context, tenantID string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
	if f.down.Load() {
		return nil, errConnRefused
	}
	return f.UsersAdapter.List(ctx, tenantID, p)
}

// TestHandlerStorageErrorsBecome503: with the tenant still in the cache, a
// handler whose storage call fails answers 500 internally; the App turns it
// into the 503 of the endpoint (OAuth shape on /userinfo, Auth0 shape on the
// Management API), without the error text.
func TestHandlerStorageErrorsBecome503(t *testing.T) {
	var down atomic.Bool
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) {
		d := *o.DataAdapter
		d.Users = flakyUsers{d.Users, &down}
		o.DataAdapter = &d
	})
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	verifier, challenge := pkce()
	q := callbackParams(t, e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery"))
	res, tok := e.tgExchange(t, "acme", c.ClientID, "", q.Get("code"), "https://app.test/callback", verifier)
	require.Equal(t, 200, res.StatusCode, tok)
	userBearer := http.Header{"Authorization": {"Bearer " + tok["access_token"].(string)}}
	admin, adminSecret, err := e.app.CreateManagementClient(e.ctx, "acme", "admin", "", "")
	require.NoError(t, err)
	mt, err := (&clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: adminSecret,
		TokenURL: e.issuer("acme") + "oauth/token", EndpointParams: url.Values{"audience": {e.issuer("acme") + "api/v2/"}}}).Token(e.ctx)
	require.NoError(t, err)
	adminBearer := http.Header{"Authorization": {"Bearer " + mt.AccessToken}}

	code, _, _ := e.get(t, e.issuer("acme")+"userinfo", userBearer)
	require.Equal(t, 200, code)
	code, _, _ = e.get(t, e.issuer("acme")+"api/v2/users", adminBearer)
	require.Equal(t, 200, code)

	down.Store(true)
	code, body, h := e.get(t, e.issuer("acme")+"userinfo", userBearer)
	require.Equal(t, 503, code, body)
	require.JSONEq(t, `{"error":"temporarily_unavailable","error_description":"`+unavailableText+`"}`, body)
	require.Equal(t, "5", h.Get("Retry-After"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	code, body, _ = e.get(t, e.issuer("acme")+"api/v2/users", adminBearer)
	require.Equal(t, 503, code, body)
	require.JSONEq(t, `{"statusCode":503,"error":"Service Unavailable","message":"`+unavailableText+`"}`, body)
	require.NotContains(t, body, "10.0.0.5")

	down.Store(false)
	code, _, _ = e.get(t, e.issuer("acme")+"userinfo", userBearer)
	require.Equal(t, 200, code)
}

// TestCleanupByTwoInstancesAtOnce: two Apps sharing a database sweep at the
// same moment; both succeed and every expired row is gone once.
func TestCleanupByTwoInstancesAtOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, testdb.Fresh(t, dialect), func(o *Options) { o.CleanupInterval = -1 })
			other, err := InitMultiTenant(Options{DataAdapter: e.app.opts.DataAdapter, EncryptionKey: newKey(),
				Logger: quietLogger(), CleanupInterval: -1})
			require.NoError(t, err)
			d := e.app.DataAdapter()
			old := adapters.Now().Add(-30 * 24 * time.Hour)
			for range 300 {
				_, err := d.Codes.Create(e.ctx, "acme", adapters.Code{CodeID: adapters.NewID(""), CodeType: adapters.CodeAuthorization,
					UserID: "auth0|u", ExpiresAt: old})
				require.NoError(t, err)
				_, err = d.Sessions.Create(e.ctx, "acme", adapters.Session{ID: adapters.NewULID(), UserID: "auth0|u", ExpiresAt: &old})
				require.NoError(t, err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, app := range []*App{e.app, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = app.Cleanup(e.ctx)
				}()
			}
			wg.Wait()
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			n, err := d.Codes.DeleteExpired(e.ctx, adapters.Now(), 100)
			require.NoError(t, err)
			require.Zero(t, n, "nothing left to delete")
			n, err = d.Sessions.DeleteExpired(e.ctx, adapters.Now(), 100)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}
