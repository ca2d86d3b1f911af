package authhero

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/credentials"
	"github.com/authhero-go/authhero/internal/testdb"
)

// env is one running App with two tenants, "acme" and "globex", served at
// {tenant}.auth.test:{port}; every host name dials the test server.
type env struct {
	app    *App
	srv    *httptest.Server
	client *http.Client
	base   string // http://auth.test:port/
	ctx    context.Context
}

func (e *env) issuer(tenantID string) string {
	u, _ := url.Parse(e.base)
	return "http://" + tenantID + "." + u.Host + "/"
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// newEnv starts an App on a fresh database; configure changes its Options
// before InitMultiTenant. The App is closed with the test.
func newEnv(t *testing.T, dsn string, configure ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))

	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://auth.test:" + port + "/"
	opts := Options{DataAdapter: db.DataAdapters, EncryptionKey: newKey(), Issuer: base, Logger: quietLogger()}
	for _, f := range configure {
		f(&opts)
	}
	app, err := InitMultiTenant(opts)
	require.NoError(t, err)
	srv.Config.Handler = app
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { require.NoError(t, app.Close(ctx)) })
	addr := srv.Listener.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	for _, id := range []string{"acme", "globex"} {
		_, err := app.CreateTenant(ctx, adapters.Tenant{ID: id, FriendlyName: strings.ToUpper(id)})
		require.NoError(t, err)
	}
	return &env{app: app, srv: srv, client: client, base: base, ctx: oidc.ClientContext(ctx, client)}
}

// api creates a resource server, a confidential client and (if scopes is
// not nil) a client grant in tenantID; it returns the client id and secret.
func (e *env) api(t *testing.T, tenantID, audience string, defined, granted []string, mutate func(*adapters.Client)) (string, string) {
	t.Helper()
	d := e.app.DataAdapter()
	if _, err := d.ResourceServers.GetByIdentifier(e.ctx, tenantID, audience); err != nil {
		var scopes []adapters.ResourceServerScope
		for _, s := range defined {
			scopes = append(scopes, adapters.ResourceServerScope{Value: s})
		}
		_, err := d.ResourceServers.Create(e.ctx, tenantID, adapters.ResourceServer{Name: audience, Identifier: audience, Scopes: scopes, TokenLifetime: 600})
		require.NoError(t, err)
	}
	id, secret := adapters.NewID(""), credentials.NewSecret()
	sealed, err := credentials.Seal(e.app.prov.Box, id, secret)
	require.NoError(t, err)
	c := adapters.Client{ClientID: id, Name: "m2m", ClientSecret: sealed, AppType: "non_interactive", GrantTypes: []string{"client_credentials"}}
	if mutate != nil {
		mutate(&c)
	}
	_, err = d.Clients.Create(e.ctx, tenantID, c)
	require.NoError(t, err)
	if granted != nil {
		_, err = d.ClientGrants.Create(e.ctx, tenantID, adapters.ClientGrant{ClientID: id, Audience: audience, Scope: granted})
		require.NoError(t, err)
	}
	return id, secret
}

// TestClientCredentialsWithStockClients gets a token with
// golang.org/x/oauth2/clientcredentials and verifies it with go-oidc's
// discovery and remote key set, on every dialect.
func TestClientCredentialsWithStockClients(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		id, secret := e.api(t, "acme", "https://api.acme.test/", []string{"read:things", "write:things"}, []string{"read:things", "write:things"}, nil)
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cfg := clientcredentials.Config{
				ClientID: id, ClientSecret: secret, TokenURL: e.issuer("acme") + "oauth/token", AuthStyle: style,
				Scopes: []string{"read:things"}, EndpointParams: url.Values{"audience": {"https://api.acme.test/"}},
			}
			tok, err := cfg.Token(e.ctx)
			require.NoError(t, err)
			require.Equal(t, "Bearer", tok.TokenType)
			require.WithinDuration(t, time.Now().Add(600*time.Second), tok.Expiry, 5*time.Second)

			provider, err := oidc.NewProvider(e.ctx, e.issuer("acme"))
			require.NoError(t, err)
			idt, err := provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(e.ctx, tok.AccessToken)
			require.NoError(t, err)
			require.Equal(t, id+"@clients", idt.Subject)
			require.Equal(t, []string{"https://api.acme.test/"}, idt.Audience)
			var claims map[string]any
			require.NoError(t, idt.Claims(&claims))
			require.Equal(t, "read:things", claims["scope"])
			require.Equal(t, "client-credentials", claims["gty"])
			require.Equal(t, id, claims["azp"])
			require.NotEmpty(t, claims["jti"])

			// The same token does not verify against the other tenant's keys.
			other := oidc.NewVerifier(e.issuer("acme"), oidc.NewRemoteKeySet(e.ctx, e.issuer("globex")+".well-known/jwks.json"), &oidc.Config{SkipClientIDCheck: true})
			_, err = other.Verify(e.ctx, tok.AccessToken)
			require.Error(t, err)
		}
	})
}

// TestManagementAudienceAliases asks for the Management API under both of its
// audiences with the bootstrap-style management client.
func TestManagementAudienceAliases(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c, secret, err := e.app.CreateManagementClient(e.ctx, "acme", "admin", "", "")
	require.NoError(t, err)
	for _, aud := range []string{e.issuer("acme") + "api/v2/", "urn:authhero:management"} {
		cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: secret, TokenURL: e.issuer("acme") + "oauth/token",
			EndpointParams: url.Values{"audience": {aud}}}
		tok, err := cfg.Token(e.ctx)
		require.NoError(t, err, aud)
		claims := decodeClaims(t, tok.AccessToken)
		require.Equal(t, aud, claims["aud"])
		require.Contains(t, claims["scope"], "read:users")
		require.Contains(t, claims["scope"], "create:clients")
	}
}

func decodeClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// post sends a token-endpoint style request and decodes the JSON answer.
func (e *env) post(t *testing.T, rawurl string, body string, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawurl, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := e.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &m), string(b))
	}
	return res, m
}

func basic(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}}
}

// TestTokenErrors checks each token-endpoint error's exact status, body and
// headers (RFC 6749 §5.2; Auth0 codes for auth0_conformant clients).
func TestTokenErrors(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	aud := "https://api.acme.test/"
	id, secret := e.api(t, "acme", aud, []string{"a", "b"}, []string{"a"}, nil)
	rfcFalse := false
	rfcID, rfcSecret := e.api(t, "acme", aud, []string{"a", "b"}, []string{"a"}, func(c *adapters.Client) { c.Auth0Conformant = &rfcFalse })
	noGrantID, noGrantSecret := e.api(t, "acme", aud, nil, nil, nil)
	spaID, spaSecret := e.api(t, "acme", aud, nil, []string{"a"}, func(c *adapters.Client) { c.GrantTypes = []string{"authorization_code"} })
	globexID, globexSecret := e.api(t, "globex", aud, []string{"a"}, []string{"a"}, nil)
	tok := e.issuer("acme") + "oauth/token"
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	cc := func(id, secret string, kv ...string) string {
		return form(append([]string{"grant_type", "client_credentials", "client_id", id, "client_secret", secret, "audience", aud}, kv...)...)
	}
	cases := []struct {
		name   string
		body   string
		header http.Header
		status int
		code   string
		desc   string
	}{
		{"missing grant_type", form("client_id", id), nil, 400, "invalid_request", "grant_type is required"},
		{"unknown grant_type", form("grant_type", "foo"), nil, 400, "unsupported_grant_type", `grant type "foo" is not supported`},
		{"duplicate parameter", cc(id, secret) + "&audience=x", nil, 400, "invalid_request", `parameter "audience" is repeated`},
		{"missing client_id", form("grant_type", "client_credentials"), nil, 400, "invalid_request", "client_id is required"},
		{"wrong secret in body", cc(id, "nope"), nil, 401, "invalid_client", "Client authentication failed"},
		{"unknown client", cc("nobody", "nope"), nil, 401, "invalid_client", "Client authentication failed"},
		{"no secret", form("grant_type", "client_credentials", "client_id", id, "audience", aud), nil, 401, "invalid_client", "Client authentication failed"},
		{"wrong secret in Basic", form("grant_type", "client_credentials", "audience", aud), basic(id, "nope"), 401, "invalid_client", "Client authentication failed"},
		{"Basic and body secret", form("grant_type", "client_credentials", "client_secret", secret, "audience", aud), basic(id, secret), 400, "invalid_request", "use one client authentication method, not Basic and client_secret together"},
		{"client of another tenant", cc(globexID, globexSecret), nil, 401, "invalid_client", "Client authentication failed"},
		{"grant type not allowed (Auth0)", cc(spaID, spaSecret), nil, 403, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client."},
		{"no client grant", cc(noGrantID, noGrantSecret), nil, 403, "access_denied", `Client is not authorized to access "https://api.acme.test/". You need to create a "client-grant" associated to this API.`},
		{"unknown audience", form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "audience", "https://nope/"), nil, 403, "access_denied", "Service not found: https://nope/"},
		{"no audience", form("grant_type", "client_credentials", "client_id", id, "client_secret", secret), nil, 403, "access_denied", "No audience parameter was provided, and no default audience has been configured"},
		{"scope outside grant (Auth0)", cc(id, secret, "scope", "a b"), nil, 403, "access_denied", "Client has not been granted scopes: b"},
		{"scope outside grant (RFC)", cc(rfcID, rfcSecret, "scope", "a b"), nil, 400, "invalid_scope", "Client has not been granted scopes: b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := e.post(t, tok, c.body, c.header)
			require.Equal(t, c.status, res.StatusCode)
			require.Equal(t, c.code, body["error"])
			require.Equal(t, c.desc, body["error_description"])
			require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			require.Equal(t, "no-cache", res.Header.Get("Pragma"))
			if c.status == 401 {
				require.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
	t.Run("JSON body accepted", func(t *testing.T) {
		res, body := e.post(t, tok, `{"grant_type":"client_credentials","client_id":"`+id+`","client_secret":"`+secret+`","audience":"`+aud+`"}`,
			http.Header{"Content-Type": {"application/json"}})
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, "a", body["scope"])
	})
	t.Run("body too large", func(t *testing.T) {
		res, body := e.post(t, tok, cc(id, secret, "pad", strings.Repeat("x", 70<<10)), nil)
		require.Equal(t, 413, res.StatusCode)
		require.Equal(t, "invalid_request", body["error"])
	})
	t.Run("GET is refused", func(t *testing.T) {
		res, err := e.client.Get(tok)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 405, res.StatusCode)
	})
	t.Run("secret with reserved characters in Basic", func(t *testing.T) {
		weird := "a+b%c:d"
		sealed, err := credentials.Seal(e.app.prov.Box, "weird-client", weird)
		require.NoError(t, err)
		_, err = e.app.DataAdapter().Clients.Create(e.ctx, "acme", adapters.Client{ClientID: "weird-client", ClientSecret: sealed, GrantTypes: []string{"client_credentials"}})
		require.NoError(t, err)
		_, err = e.app.DataAdapter().ClientGrants.Create(e.ctx, "acme", adapters.ClientGrant{ClientID: "weird-client", Audience: aud, Scope: []string{"a"}})
		require.NoError(t, err)
		res, body := e.post(t, tok, form("grant_type", "client_credentials", "audience", aud), basic("weird-client", weird))
		require.Equal(t, 200, res.StatusCode, body)
	})
}

// TestTenantResolution covers unknown tenants and forwarded headers.
func TestTenantResolution(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	get := func(rawurl string, h http.Header) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("GET", rawurl, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := e.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res, m
	}
	res, body := get(e.issuer("nope")+".well-known/openid-configuration", nil)
	require.Equal(t, 404, res.StatusCode)
	require.Equal(t, "Tenant not found", body["message"])

	// Two tenants and no default: the base host serves none.
	res, _ = get(e.base+".well-known/openid-configuration", nil)
	require.Equal(t, 404, res.StatusCode)

	// An untrusted peer cannot move the issuer with X-Forwarded-Host.
	res, body = get(e.issuer("acme")+".well-known/openid-configuration", http.Header{"X-Forwarded-Host": {"globex.auth.test"}, "X-Forwarded-Proto": {"https"}})
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, e.issuer("acme"), body["issuer"])
	require.Equal(t, "public, max-age=300, stale-while-revalidate=600", res.Header.Get("Cache-Control"))

	// The tenant-id header is ignored on the auth endpoints.
	res, body = get(e.issuer("acme")+".well-known/openid-configuration", http.Header{"Tenant-Id": {"globex"}})
	require.Equal(t, e.issuer("acme"), body["issuer"])

	// JWKS of the two tenants share no key.
	kids := func(tenantID string) map[string]bool {
		_, m := get(e.issuer(tenantID)+".well-known/jwks.json", nil)
		out := map[string]bool{}
		for _, k := range m["keys"].([]any) {
			km := k.(map[string]any)
			require.NotContains(t, km, "d", "no private parts")
			out[km["kid"].(string)] = true
		}
		require.Len(t, out, 2, "current and next key")
		return out
	}
	a, b := kids("acme"), kids("globex")
	for k := range a {
		require.False(t, b[k])
	}
}

// TestUserInfo checks /userinfo with a user access token of the right and of
// the wrong tenant.
func TestUserInfo(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	u, err := e.app.DataAdapter().Users.Create(e.ctx, "acme", adapters.User{Email: "ann@acme.test", Name: "Ann", Connection: "Username-Password-Authentication", EmailVerified: true})
	require.NoError(t, err)
	sign := func(tenantID string, claims map[string]any) string {
		now := time.Now().Unix()
		c := map[string]any{"iss": e.issuer(tenantID), "sub": u.UserID, "aud": e.issuer(tenantID) + "userinfo", "iat": now, "exp": now + 60, "scope": "openid email profile"}
		for k, v := range claims {
			c[k] = v
		}
		tok, err := e.app.keys.Sign(e.ctx, tenantID, c, "at+jwt")
		require.NoError(t, err)
		return tok
	}
	call := func(tenantID, tok string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("GET", e.issuer(tenantID)+"userinfo", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := e.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res, m
	}
	res, body := call("acme", sign("acme", nil))
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, u.UserID, body["sub"])
	require.Equal(t, "ann@acme.test", body["email"])
	require.Equal(t, "Ann", body["name"])

	res, _ = call("acme", "")
	require.Equal(t, 401, res.StatusCode)
	require.Equal(t, `Bearer realm="userinfo"`, res.Header.Get("WWW-Authenticate"))

	// acme's token at globex: globex's keys do not know it.
	res, body = call("globex", sign("acme", nil))
	require.Equal(t, 401, res.StatusCode)
	require.Equal(t, "invalid_token", body["error"])
	require.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	// Signed by acme but claiming globex's issuer: still rejected at globex.
	res, _ = call("globex", sign("acme", map[string]any{"iss": e.issuer("globex")}))
	require.Equal(t, 401, res.StatusCode)

	res, body = call("acme", sign("acme", map[string]any{"scope": "email"}))
	require.Equal(t, 403, res.StatusCode)
	require.Equal(t, "insufficient_scope", body["error"])

	res, _ = call("acme", sign("acme", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	require.Equal(t, 401, res.StatusCode)
}

// TestInitMultiTenantOptions checks that bad options fail at start with a
// message naming the fix.
func TestInitMultiTenantOptions(t *testing.T) {
	db, err := bunadapter.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	cases := []struct {
		opts Options
		want string
	}{
		{Options{EncryptionKey: newKey()}, "Options.DataAdapter is required"},
		{Options{DataAdapter: db.DataAdapters}, "Options.EncryptionKey must be 32 bytes"},
		{Options{DataAdapter: db.DataAdapters, EncryptionKey: newKey(), Issuer: "auth.example.com"}, "Options.Issuer"},
		{Options{DataAdapter: db.DataAdapters, EncryptionKey: newKey(), Issuer: "https://auth.example.com/x"}, "Options.Issuer"},
		{Options{DataAdapter: &adapters.DataAdapters{}, EncryptionKey: newKey()}, "lacks an adapter"},
	}
	for _, c := range cases {
		_, err := InitMultiTenant(c.opts)
		require.ErrorContains(t, err, c.want)
	}
}

// TestClientCredentialsAreLogged checks the seccft and feccft log entries,
// written off the hot path and drained by Close.
func TestClientCredentialsAreLogged(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	id, secret := e.api(t, "acme", "https://api.acme.test/", []string{"a"}, []string{"a"}, nil)
	tok := e.issuer("acme") + "oauth/token"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "audience": {"https://api.acme.test/"}}
	form.Set("client_secret", secret)
	res, _ := e.post(t, tok, form.Encode(), nil)
	require.Equal(t, 200, res.StatusCode)
	form.Set("client_secret", "wrong")
	res, _ = e.post(t, tok, form.Encode(), nil)
	require.Equal(t, 401, res.StatusCode)
	require.NoError(t, e.app.Close(e.ctx))
	for typ, want := range map[string]string{"seccft": id, "feccft": id} {
		l, err := e.app.DataAdapter().Logs.List(e.ctx, "acme", adapters.ListParams{Q: "type:" + typ})
		require.NoError(t, err)
		require.Len(t, l.Items, 1, typ)
		require.Equal(t, want, l.Items[0].ClientID, typ)
	}
}
