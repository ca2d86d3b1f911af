package management_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

// env is a running App with tenants "acme" (the control plane, served at the
// base host) and "globex", each with a management client granted every
// scope. Requests for {tenant}.auth.test dial the test server.
type env struct {
	t      *testing.T
	app    *authhero.App
	client *http.Client
	base   string
	ctx    context.Context
	admin  map[string][2]string // tenant -> client id, secret
}

func (e *env) issuer(tenantID string) string {
	u, _ := url.Parse(e.base)
	return "http://" + tenantID + "." + u.Host + "/"
}

// newEnv starts the App on SQLite.
func newEnv(t *testing.T) *env { return newEnvOn(t, testdb.Fresh(t, "sqlite")) }

func newEnvOn(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://auth.test:" + port + "/"
	key := make([]byte, 32)
	rand.Read(key)
	app, err := authhero.InitMultiTenant(authhero.Options{DataAdapter: db.DataAdapters, EncryptionKey: key, Issuer: base,
		DefaultTenant: "acme", TrustTenantHeader: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv.Config.Handler = app
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	e := &env{t: t, app: app, base: base, ctx: ctx, admin: map[string][2]string{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}}}
	for _, id := range []string{"acme", "globex"} {
		_, err := app.CreateTenant(ctx, adapters.Tenant{ID: id, FriendlyName: strings.ToUpper(id)})
		require.NoError(t, err)
		c, secret, err := app.CreateManagementClient(ctx, id, "admin", "", "")
		require.NoError(t, err)
		e.admin[id] = [2]string{c.ClientID, secret}
	}
	return e
}

// token returns a management access token of tenantID with the given scopes
// (all granted scopes when none are given).
func (e *env) token(tenantID string, scopes ...string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.admin[tenantID][0]},
		"client_secret": {e.admin[tenantID][1]}, "audience": {e.issuer(tenantID) + "api/v2/"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	res, err := e.client.PostForm(e.issuer(tenantID)+"oauth/token", form)
	require.NoError(e.t, err)
	defer res.Body.Close()
	var body map[string]any
	require.NoError(e.t, json.NewDecoder(res.Body).Decode(&body))
	require.Equal(e.t, 200, res.StatusCode, body)
	return body["access_token"].(string)
}

// resp is a decoded API response.
type resp struct {
	status int
	body   any
	header http.Header
}

// m returns the body as an object.
func (r resp) m() map[string]any {
	m, _ := r.body.(map[string]any)
	return m
}

// list returns the body as an array.
func (r resp) list() []any {
	l, _ := r.body.([]any)
	return l
}

// do calls the Management API of tenantID with tok; body may be nil, a
// string (sent as is) or a value (sent as JSON).
func (e *env) do(tenantID, tok, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.issuer(tenantID)+strings.TrimPrefix(path, "/"), rd)
	require.NoError(e.t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v any
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(e.t, json.Unmarshal(raw, &v), string(raw))
	}
	return resp{status: res.StatusCode, body: v, header: res.Header}
}

// requireError asserts Auth0's error shape.
func requireError(t *testing.T, r resp, status int, errorCode string) {
	t.Helper()
	m := r.m()
	require.Equal(t, status, r.status, m)
	require.EqualValues(t, status, m["statusCode"], m)
	require.Equal(t, http.StatusText(status), m["error"])
	require.NotEmpty(t, m["message"])
	if errorCode != "" {
		require.Equal(t, errorCode, m["errorCode"], m)
	}
}

// routeCase is the standard check of one route: it succeeds with the right
// scope, fails 403 without it, 401 without a token, and with a token of the
// other tenant changes nothing.
type routeCase struct {
	method, path string
	scope        string
	body         any
	want         int
}

func (e *env) checkRoute(t *testing.T, c routeCase) resp {
	t.Helper()
	requireError(t, e.do("acme", "", c.method, c.path, c.body), 401, "")
	requireError(t, e.do("acme", e.token("acme", "read:stats"), c.method, c.path, c.body), 403, "insufficient_scope")
	// A token of globex with every scope gets nothing from acme.
	requireError(t, e.do("acme", e.token("globex"), c.method, c.path, c.body), 403, "")
	r := e.do("acme", e.token("acme", c.scope), c.method, c.path, c.body)
	require.Equal(t, c.want, r.status, r.body)
	return r
}
