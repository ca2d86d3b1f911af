package authhero

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/credentials"
	"github.com/authhero-go/authhero/internal/oauth"
	"github.com/authhero-go/authhero/internal/testdb"
)

// Tests of the user grants (authorization_code, refresh_token, password),
// logout and /dbconnections, driven over real HTTP. /authorize is not used:
// the login transaction, SSO session and code are written through the
// stores exactly as /authorize writes them.

const (
	tgCallback = "https://app.acme.test/cb"
	tgBye      = "https://app.acme.test/logged-out"
	tgConn     = "Username-Password-Authentication"
	tgAlice    = "alice@acme.test"
	tgAlicePw  = "correct horse battery"
)

// newClient creates a client in tenantID; a client whose
// token_endpoint_auth_method is not "none" gets a secret, returned in clear.
func (e *env) tgClient(t *testing.T, tenantID string, c adapters.Client) (string, string) {
	t.Helper()
	if c.ClientID == "" {
		c.ClientID = adapters.NewID("")
	}
	if c.Name == "" {
		c.Name = "app"
	}
	if len(c.Callbacks) == 0 {
		c.Callbacks = []string{tgCallback}
	}
	secret := ""
	if c.TokenEndpointAuthMethod != "none" {
		if c.TokenEndpointAuthMethod == "" {
			c.TokenEndpointAuthMethod = "client_secret_post"
		}
		secret = credentials.NewSecret()
		sealed, err := credentials.Seal(e.app.prov.Box, c.ClientID, secret)
		require.NoError(t, err)
		c.ClientSecret = sealed
	}
	_, err := e.app.DataAdapter().Clients.Create(e.ctx, tenantID, c)
	require.NoError(t, err)
	return c.ClientID, secret
}

// pkce returns a verifier and its S256 challenge.
func tgPKCE() (string, string) {
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// tgAuthz is what /authorize would have been asked.
type tgAuthz struct {
	tenant, client, user, redirect, scope, audience, nonce, challenge string
	ttl                                                               time.Duration // default 5 min
}

// tgGrant is an authorization code with the login and session behind it.
type tgGrant struct {
	code, loginID, sessionID string
	authTime                 time.Time
}

// authorize writes what a successful /authorize login leaves behind: an SSO
// session, the authenticated login transaction and an authorization code
// (the /authorize contract).
func (e *env) tgAuthorize(t *testing.T, a tgAuthz) tgGrant {
	t.Helper()
	if a.tenant == "" {
		a.tenant = "acme"
	}
	if a.ttl == 0 {
		a.ttl = 5 * time.Minute
	}
	store := e.app.opts.SessionStore
	now := time.Now()
	authTime := now.Add(-time.Minute).Truncate(time.Second)
	exp, idle := now.Add(30*24*time.Hour), now.Add(72*time.Hour)
	sess, err := store.CreateSession(e.ctx, a.tenant, adapters.Session{UserID: a.user, AuthenticatedAt: authTime,
		LastInteractionAt: now, ExpiresAt: &exp, IdleExpiresAt: &idle})
	require.NoError(t, err)
	method := ""
	if a.challenge != "" {
		method = "S256"
	}
	login, err := store.CreateLogin(e.ctx, a.tenant, adapters.LoginSession{CSRFToken: "csrf", ExpiresAt: now.Add(24 * time.Hour),
		AuthParams: adapters.AuthParams{ClientID: a.client, RedirectURI: a.redirect, Scope: a.scope, Audience: a.audience,
			Nonce: a.nonce, State: "st", ResponseType: "code", CodeChallenge: a.challenge, CodeChallengeMethod: method},
	})
	require.NoError(t, err)
	_, err = store.UpdateLogin(e.ctx, a.tenant, login.ID, func(l *adapters.LoginSession) error {
		l.SessionID, l.UserID, l.AuthenticatedAt = sess.ID, a.user, &authTime
		return nil
	})
	require.NoError(t, err)
	b := make([]byte, 32)
	rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	_, err = e.app.DataAdapter().Codes.Create(e.ctx, a.tenant, adapters.Code{CodeType: adapters.CodeAuthorization, CodeID: code,
		LoginID: login.ID, UserID: a.user, CodeChallenge: a.challenge, CodeChallengeMethod: method, RedirectURI: a.redirect,
		Nonce: a.nonce, State: "st", ExpiresAt: now.Add(a.ttl)})
	require.NoError(t, err)
	return tgGrant{code: code, loginID: login.ID, sessionID: sess.ID, authTime: authTime}
}

// form encodes key/value pairs.
func tgForm(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// token posts to tenantID's token endpoint.
func (e *env) tgToken(t *testing.T, tenantID string, kv ...string) (*http.Response, map[string]any) {
	t.Helper()
	return e.post(t, e.issuer(tenantID)+"oauth/token", tgForm(kv...), nil)
}

// exchange redeems a code with the usual parameters.
func (e *env) tgExchange(t *testing.T, tenantID, client, secret, code, redirect, verifier string) (*http.Response, map[string]any) {
	t.Helper()
	kv := []string{"grant_type", "authorization_code", "client_id", client, "code", code}
	if secret != "" {
		kv = append(kv, "client_secret", secret)
	}
	if redirect != "" {
		kv = append(kv, "redirect_uri", redirect)
	}
	if verifier != "" {
		kv = append(kv, "code_verifier", verifier)
	}
	return e.tgToken(t, tenantID, kv...)
}

// refresh uses a refresh token.
func (e *env) tgRefresh(t *testing.T, tenantID, client, secret, rt string, kv ...string) (*http.Response, map[string]any) {
	t.Helper()
	args := []string{"grant_type", "refresh_token", "client_id", client, "refresh_token", rt}
	if secret != "" {
		args = append(args, "client_secret", secret)
	}
	return e.tgToken(t, tenantID, append(args, kv...)...)
}

// requireInvalidGrant checks the exact error answer of a code or refresh
// problem.
func tgInvalidGrant(t *testing.T, res *http.Response, body map[string]any, status int, desc string) {
	t.Helper()
	require.Equal(t, status, res.StatusCode, body)
	require.Equal(t, map[string]any{"error": "invalid_grant", "error_description": desc}, body)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
}

// storedRT returns the stored row of a wire refresh token.
func (e *env) tgStoredRT(t *testing.T, tenantID, wire string) *adapters.RefreshToken {
	t.Helper()
	lookup, _, ok := oauth.SplitRefreshToken(wire)
	require.True(t, ok, wire)
	rt, err := e.app.DataAdapter().RefreshTokens.GetByLookup(e.ctx, tenantID, lookup)
	require.NoError(t, err)
	return rt
}

// logTypes counts the tenant's log entries of type typ.
func (e *env) tgLogCount(t *testing.T, tenantID, typ string) int {
	t.Helper()
	l, err := e.app.DataAdapter().Logs.List(e.ctx, tenantID, adapters.ListParams{Q: "type:" + typ, PerPage: 100})
	require.NoError(t, err)
	return len(l.Items)
}

func (e *env) tgUser(t *testing.T, tenantID, email string) *adapters.User {
	t.Helper()
	u, err := e.app.DataAdapter().Users.Create(e.ctx, tenantID, adapters.User{Email: email, Name: "Alice", GivenName: "Alice",
		EmailVerified: true, Connection: tgConn, Provider: "auth0"})
	require.NoError(t, err)
	return u
}

func TestAuthorizationCodeGrant(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	rfcFalse := false
	web, webSecret := e.tgClient(t, "acme", adapters.Client{AppType: "regular_web"})
	web2, web2Secret := e.tgClient(t, "acme", adapters.Client{AppType: "regular_web"})
	rfc, rfcSecret := e.tgClient(t, "acme", adapters.Client{AppType: "regular_web", Auth0Conformant: &rfcFalse})
	spa, _ := e.tgClient(t, "acme", adapters.Client{AppType: "spa", TokenEndpointAuthMethod: "none"})
	globexWeb, globexSecret := e.tgClient(t, "globex", adapters.Client{AppType: "regular_web"})
	u := e.tgUser(t, "acme", tgAlice)
	const badCode = "Invalid authorization code"

	t.Run("happy path verified by go-oidc", func(t *testing.T) {
		verifier, challenge := tgPKCE()
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, redirect: tgCallback, scope: "openid profile email offline_access", nonce: "n-0S6_WzA2Mj", challenge: challenge})
		cfg := oauth2.Config{ClientID: web, ClientSecret: webSecret, RedirectURL: tgCallback,
			Endpoint: oauth2.Endpoint{TokenURL: e.issuer("acme") + "oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
		tok, err := cfg.Exchange(e.ctx, g.code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		require.Equal(t, "Bearer", tok.TokenType)
		require.True(t, strings.HasPrefix(tok.RefreshToken, "rt_"), tok.RefreshToken)
		rawID, _ := tok.Extra("id_token").(string)
		require.NotEmpty(t, rawID)

		provider, err := oidc.NewProvider(e.ctx, e.issuer("acme"))
		require.NoError(t, err)
		idt, err := provider.Verifier(&oidc.Config{ClientID: web}).Verify(e.ctx, rawID)
		require.NoError(t, err)
		require.Equal(t, "n-0S6_WzA2Mj", idt.Nonce)
		require.NoError(t, idt.VerifyAccessToken(tok.AccessToken), "at_hash")
		require.Equal(t, u.UserID, idt.Subject)
		var c map[string]any
		require.NoError(t, idt.Claims(&c))
		require.Equal(t, float64(g.authTime.Unix()), c["auth_time"])
		require.Equal(t, oauth.SessionSID(g.sessionID), c["sid"])
		require.NotEqual(t, g.sessionID, c["sid"], "the sid claim must not be the session cookie")
		require.Equal(t, tgAlice, c["email"])
		require.Equal(t, "Alice", c["name"])
		require.Equal(t, web, c["azp"])

		at := decodeClaims(t, tok.AccessToken)
		require.Equal(t, e.issuer("acme")+"userinfo", at["aud"])
		require.Equal(t, u.UserID, at["sub"])
		require.Equal(t, "openid profile email offline_access", at["scope"])
		require.Equal(t, oauth.SessionSID(g.sessionID), at["sid"])
		require.NotEmpty(t, at["jti"])

		// The access token works at /userinfo.
		req, _ := http.NewRequest("GET", e.issuer("acme")+"userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := e.client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode)

		sess, err := e.app.opts.SessionStore.GetSession(e.ctx, "acme", g.sessionID)
		require.NoError(t, err)
		require.Contains(t, sess.Clients, web)
		rt := e.tgStoredRT(t, "acme", tok.RefreshToken)
		require.Equal(t, g.loginID, rt.LoginID)
		require.Equal(t, rt.ID, rt.FamilyID)
		require.True(t, rt.Rotating)
		require.WithinDuration(t, time.Now().Add(30*24*time.Hour), *rt.ExpiresAt, time.Minute)
		require.WithinDuration(t, time.Now().Add(15*24*time.Hour), *rt.IdleExpiresAt, time.Minute)
		require.Equal(t, 1, e.tgLogCount(t, "acme", "seacft"))
	})

	t.Run("API audience and lifetime", func(t *testing.T) {
		_, err := e.app.DataAdapter().ResourceServers.Create(e.ctx, "acme", adapters.ResourceServer{Name: "api", Identifier: "https://api.acme.test/", TokenLifetime: 900, TokenLifetimeForWeb: 300})
		require.NoError(t, err)
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid read:x", audience: "https://api.acme.test/"})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, float64(900), body["expires_in"])
		at := decodeClaims(t, body["access_token"].(string))
		require.Equal(t, []any{"https://api.acme.test/", e.issuer("acme") + "userinfo"}, at["aud"])
		require.NotContains(t, body, "refresh_token", "no offline_access, no refresh token")

		v2, c2 := tgPKCE()
		g = e.tgAuthorize(t, tgAuthz{client: spa, user: u.UserID, scope: "read:x", audience: "https://api.acme.test/", challenge: c2})
		res, body = e.tgExchange(t, "acme", spa, "", g.code, "", v2)
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, float64(300), body["expires_in"], "token_lifetime_for_web for SPAs")
		require.NotContains(t, body, "id_token", "no openid, no ID token")
	})

	t.Run("replayed code revokes what it issued", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, redirect: tgCallback, scope: "openid offline_access"})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, tgCallback, "")
		require.Equal(t, 200, res.StatusCode, body)
		rt1 := body["refresh_token"].(string)
		res, body = e.tgExchange(t, "acme", web, webSecret, g.code, tgCallback, "")
		tgInvalidGrant(t, res, body, 403, badCode)
		require.NotNil(t, e.tgStoredRT(t, "acme", rt1).RevokedAt)
		res, body = e.tgRefresh(t, "acme", web, webSecret, rt1)
		tgInvalidGrant(t, res, body, 403, "Unknown or invalid refresh token.")
	})

	t.Run("wrong verifier burns the code", func(t *testing.T) {
		verifier, challenge := tgPKCE()
		other, _ := tgPKCE()
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid", challenge: challenge})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", other)
		tgInvalidGrant(t, res, body, 403, badCode)
		res, body = e.tgExchange(t, "acme", web, webSecret, g.code, "", verifier)
		tgInvalidGrant(t, res, body, 403, badCode)

		g = e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid", challenge: challenge})
		res, body = e.tgExchange(t, "acme", web, webSecret, g.code, "", "short")
		tgInvalidGrant(t, res, body, 403, badCode)
	})

	t.Run("verifier without a stored challenge", func(t *testing.T) {
		verifier, _ := tgPKCE()
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", verifier)
		tgInvalidGrant(t, res, body, 403, badCode)
	})

	t.Run("public client", func(t *testing.T) {
		verifier, challenge := tgPKCE()
		g := e.tgAuthorize(t, tgAuthz{client: spa, user: u.UserID, scope: "openid", challenge: challenge})
		res, body := e.tgExchange(t, "acme", spa, "", g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)

		g = e.tgAuthorize(t, tgAuthz{client: spa, user: u.UserID, scope: "openid"})
		res, body = e.tgExchange(t, "acme", spa, "", g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)

		g = e.tgAuthorize(t, tgAuthz{client: spa, user: u.UserID, scope: "openid", challenge: challenge})
		res, body = e.tgExchange(t, "acme", spa, "", g.code, "", verifier)
		require.Equal(t, 200, res.StatusCode, body)
		require.NotEmpty(t, body["id_token"])
	})

	t.Run("confidential client must authenticate", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res, body := e.tgExchange(t, "acme", web, "", g.code, "", "")
		require.Equal(t, 401, res.StatusCode)
		require.Equal(t, "invalid_client", body["error"])
		res, body = e.tgExchange(t, "acme", web, "wrong", g.code, "", "")
		require.Equal(t, 401, res.StatusCode)
		require.Equal(t, "invalid_client", body["error"])
	})

	t.Run("redirect_uri", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, redirect: tgCallback, scope: "openid"})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, tgCallback+"/", "")
		tgInvalidGrant(t, res, body, 403, badCode)
		g = e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, redirect: tgCallback, scope: "openid"})
		res, body = e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)
	})

	t.Run("code of another client", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res, body := e.tgExchange(t, "acme", web2, web2Secret, g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)
	})

	t.Run("code of another tenant (T-04)", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res, body := e.tgExchange(t, "globex", globexWeb, globexSecret, g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)
		res, body = e.tgExchange(t, "globex", web, webSecret, g.code, "", "")
		require.Equal(t, 401, res.StatusCode)
		require.Equal(t, "invalid_client", body["error"])
		// Neither attempt touched acme's code.
		res, body = e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		require.Equal(t, 200, res.StatusCode, body)
	})

	t.Run("expired code, Auth0 403 and RFC 400", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid", ttl: -time.Second})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)
		g = e.tgAuthorize(t, tgAuthz{client: rfc, user: u.UserID, scope: "openid", ttl: -time.Second})
		res, body = e.tgExchange(t, "acme", rfc, rfcSecret, g.code, "", "")
		tgInvalidGrant(t, res, body, 400, badCode)
		res, body = e.tgExchange(t, "acme", rfc, rfcSecret, "no-such-code", "", "")
		tgInvalidGrant(t, res, body, 400, badCode)
	})

	t.Run("missing code", func(t *testing.T) {
		res, body := e.tgToken(t, "acme", "grant_type", "authorization_code", "client_id", web, "client_secret", webSecret)
		require.Equal(t, 400, res.StatusCode)
		require.Equal(t, "invalid_request", body["error"])
	})

	t.Run("blocked user", func(t *testing.T) {
		b := e.tgUser(t, "acme", "blocked@acme.test")
		_, err := e.app.DataAdapter().Users.Update(e.ctx, "acme", b.UserID, func(x *adapters.User) error { x.Blocked = true; return nil })
		require.NoError(t, err)
		g := e.tgAuthorize(t, tgAuthz{client: web, user: b.UserID, scope: "openid"})
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		require.Equal(t, 403, res.StatusCode)
		require.Equal(t, map[string]any{"error": "access_denied", "error_description": "User is blocked"}, body)
	})

	t.Run("revoked session", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		_, err := e.app.opts.SessionStore.UpdateSession(e.ctx, "acme", g.sessionID, func(s *adapters.Session) error {
			now := time.Now()
			s.RevokedAt = &now
			return nil
		})
		require.NoError(t, err)
		res, body := e.tgExchange(t, "acme", web, webSecret, g.code, "", "")
		tgInvalidGrant(t, res, body, 403, badCode)
	})

	t.Run("refresh_token grant disabled for the client", func(t *testing.T) {
		noRT, noRTSecret := e.tgClient(t, "acme", adapters.Client{GrantTypes: []string{"authorization_code"}})
		g := e.tgAuthorize(t, tgAuthz{client: noRT, user: u.UserID, scope: "openid offline_access"})
		res, body := e.tgExchange(t, "acme", noRT, noRTSecret, g.code, "", "")
		require.Equal(t, 200, res.StatusCode, body)
		require.NotContains(t, body, "refresh_token")
	})

	require.Positive(t, e.tgLogCount(t, "acme", "feacft"))
}

// codeRT runs a code exchange and returns the refresh token it issued.
func (e *env) tgCodeRT(t *testing.T, tenantID, client, secret, userID, scope string) (string, tgGrant) {
	t.Helper()
	verifier, challenge := tgPKCE()
	g := e.tgAuthorize(t, tgAuthz{tenant: tenantID, client: client, user: userID, scope: scope, challenge: challenge})
	res, body := e.tgExchange(t, tenantID, client, secret, g.code, "", verifier)
	require.Equal(t, 200, res.StatusCode, body)
	rt, _ := body["refresh_token"].(string)
	require.NotEmpty(t, rt)
	return rt, g
}

func TestRefreshTokenGrant(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	d := e.app.DataAdapter()
	rfcFalse := false
	web, webSecret := e.tgClient(t, "acme", adapters.Client{})
	web2, web2Secret := e.tgClient(t, "acme", adapters.Client{})
	spa, _ := e.tgClient(t, "acme", adapters.Client{AppType: "spa", TokenEndpointAuthMethod: "none"})
	rfc, rfcSecret := e.tgClient(t, "acme", adapters.Client{Auth0Conformant: &rfcFalse})
	strict, strictSecret := e.tgClient(t, "acme", adapters.Client{RefreshToken: &adapters.RefreshTokenSettings{RotationType: "rotating", Leeway: 0}})
	fixed, fixedSecret := e.tgClient(t, "acme", adapters.Client{RefreshToken: &adapters.RefreshTokenSettings{RotationType: "non-rotating"}})
	globexWeb, globexSecret := e.tgClient(t, "globex", adapters.Client{})
	u := e.tgUser(t, "acme", tgAlice)
	const bad = "Unknown or invalid refresh token."
	scope := "openid profile offline_access"

	use := func(t *testing.T, client, secret, rt string) string {
		t.Helper()
		res, body := e.tgRefresh(t, "acme", client, secret, rt)
		require.Equal(t, 200, res.StatusCode, body)
		next, _ := body["refresh_token"].(string)
		require.NotEmpty(t, next)
		return next
	}

	t.Run("rotation, and reuse after the leeway revokes the family", func(t *testing.T) {
		rt1, g := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		res, body := e.tgRefresh(t, "acme", web, webSecret, rt1)
		require.Equal(t, 200, res.StatusCode, body)
		rt2 := body["refresh_token"].(string)
		require.NotEqual(t, rt1, rt2)
		idt := decodeClaims(t, body["id_token"].(string))
		require.Equal(t, oauth.SessionSID(g.sessionID), idt["sid"])
		require.Equal(t, float64(g.authTime.Unix()), idt["auth_time"])
		require.Equal(t, scope, body["scope"])
		old, child := e.tgStoredRT(t, "acme", rt1), e.tgStoredRT(t, "acme", rt2)
		require.Equal(t, child.ID, old.RotatedTo)
		require.Equal(t, old.FamilyID, child.FamilyID)
		require.Equal(t, old.ExpiresAt, child.ExpiresAt, "absolute expiry does not move")
		rt3 := use(t, web, webSecret, rt2)

		// rt1 presented 31 s after its rotation (default leeway 30 s).
		_, err := d.RefreshTokens.Update(e.ctx, "acme", old.ID, func(x *adapters.RefreshToken) error {
			at := time.Now().Add(-31 * time.Second)
			x.RotatedAt = &at
			return nil
		})
		require.NoError(t, err)
		res, body = e.tgRefresh(t, "acme", web, webSecret, rt1)
		tgInvalidGrant(t, res, body, 403, bad)
		res, body = e.tgRefresh(t, "acme", web, webSecret, rt3)
		tgInvalidGrant(t, res, body, 403, bad)
		for _, w := range []string{rt1, rt2, rt3} {
			require.NotNil(t, e.tgStoredRT(t, "acme", w).RevokedAt)
		}
	})

	t.Run("reuse within the leeway", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		rt2 := use(t, web, webSecret, rt1)
		// A retry of rt1 (its answer was lost): a new token, rt2 retired.
		rt3 := use(t, web, webSecret, rt1)
		require.NotEqual(t, rt2, rt3)
		require.NotNil(t, e.tgStoredRT(t, "acme", rt2).RotatedAt)
		rt4 := use(t, web, webSecret, rt3)
		// rt1 again: its successor rt2 is used up, so no new token, but
		// nothing is revoked either.
		res, body := e.tgRefresh(t, "acme", web, webSecret, rt1)
		tgInvalidGrant(t, res, body, 403, bad)
		require.Nil(t, e.tgStoredRT(t, "acme", rt4).RevokedAt)
		use(t, web, webSecret, rt4)
	})

	t.Run("parallel uses never revoke the family", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		const n = 8
		type result struct {
			status int
			body   map[string]any
		}
		out := make(chan result, n)
		for i := 0; i < n; i++ {
			go func() {
				req, _ := http.NewRequest("POST", e.issuer("acme")+"oauth/token", strings.NewReader(
					tgForm("grant_type", "refresh_token", "client_id", web, "client_secret", webSecret, "refresh_token", rt1)))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := e.client.Do(req)
				if err != nil {
					out <- result{status: -1}
					return
				}
				defer res.Body.Close()
				var m map[string]any
				json.NewDecoder(res.Body).Decode(&m)
				out <- result{res.StatusCode, m}
			}()
		}
		var live []string
		for i := 0; i < n; i++ {
			r := <-out
			require.Contains(t, []int{200, 403}, r.status, r.body)
			if r.status == 200 {
				live = append(live, r.body["refresh_token"].(string))
			} else {
				require.Equal(t, "invalid_grant", r.body["error"])
			}
		}
		require.NotEmpty(t, live)
		// Exactly one of the tokens handed out is still unused and live.
		alive := 0
		for _, w := range live {
			if rt := e.tgStoredRT(t, "acme", w); rt.RevokedAt == nil && rt.RotatedAt == nil {
				alive++
				use(t, web, webSecret, w)
			}
		}
		require.Equal(t, 1, alive)
	})

	t.Run("leeway 0 revokes on the first reuse", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", strict, strictSecret, u.UserID, scope)
		rt2 := use(t, strict, strictSecret, rt1)
		time.Sleep(5 * time.Millisecond)
		res, body := e.tgRefresh(t, "acme", strict, strictSecret, rt1)
		tgInvalidGrant(t, res, body, 403, bad)
		res, body = e.tgRefresh(t, "acme", strict, strictSecret, rt2)
		tgInvalidGrant(t, res, body, 403, bad)
	})

	t.Run("non-rotating", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", fixed, fixedSecret, u.UserID, scope)
		before := e.tgStoredRT(t, "acme", rt1)
		time.Sleep(10 * time.Millisecond)
		require.Equal(t, rt1, use(t, fixed, fixedSecret, rt1))
		require.Equal(t, rt1, use(t, fixed, fixedSecret, rt1))
		after := e.tgStoredRT(t, "acme", rt1)
		require.False(t, after.Rotating)
		require.Nil(t, after.RotatedAt)
		require.True(t, after.IdleExpiresAt.After(*before.IdleExpiresAt))
		require.True(t, after.LastExchangedAt.After(*before.LastExchangedAt))
	})

	t.Run("idle and absolute expiry", func(t *testing.T) {
		for _, field := range []string{"idle", "absolute"} {
			rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
			_, err := d.RefreshTokens.Update(e.ctx, "acme", e.tgStoredRT(t, "acme", rt1).ID, func(x *adapters.RefreshToken) error {
				past := time.Now().Add(-time.Second)
				if field == "idle" {
					x.IdleExpiresAt = &past
				} else {
					x.ExpiresAt = &past
				}
				return nil
			})
			require.NoError(t, err)
			res, body := e.tgRefresh(t, "acme", web, webSecret, rt1)
			tgInvalidGrant(t, res, body, 403, bad)
		}
	})

	t.Run("refresh token of another tenant (T-05)", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		res, body := e.tgRefresh(t, "globex", globexWeb, globexSecret, rt1)
		tgInvalidGrant(t, res, body, 403, bad)
		require.Nil(t, e.tgStoredRT(t, "acme", rt1).RevokedAt)
		require.Nil(t, e.tgStoredRT(t, "acme", rt1).RotatedAt)
		use(t, web, webSecret, rt1)
	})

	t.Run("refresh token of another client", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		res, body := e.tgRefresh(t, "acme", web2, web2Secret, rt1)
		tgInvalidGrant(t, res, body, 403, bad)
		use(t, web, webSecret, rt1)
	})

	t.Run("tampered secret", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		res, body := e.tgRefresh(t, "acme", web, webSecret, rt1[:len(rt1)-2]+"xx")
		tgInvalidGrant(t, res, body, 403, bad)
		use(t, web, webSecret, rt1)
	})

	t.Run("RFC status", func(t *testing.T) {
		res, body := e.tgRefresh(t, "acme", rfc, rfcSecret, "rt_nope.nope")
		tgInvalidGrant(t, res, body, 400, bad)
	})

	t.Run("public client", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", spa, "", u.UserID, scope)
		use(t, spa, "", rt1)
	})

	t.Run("scope narrowing", func(t *testing.T) {
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, u.UserID, scope)
		res, body := e.tgRefresh(t, "acme", web, webSecret, rt1, "scope", "openid email")
		require.Equal(t, 403, res.StatusCode)
		require.Equal(t, "invalid_scope", body["error"])
		res, body = e.tgRefresh(t, "acme", web, webSecret, rt1, "scope", "profile")
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, "profile", body["scope"])
		require.NotContains(t, body, "id_token")
		// The new refresh token keeps the full grant.
		res, body = e.tgRefresh(t, "acme", web, webSecret, body["refresh_token"].(string))
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, scope, body["scope"])
	})

	t.Run("blocked user", func(t *testing.T) {
		b := e.tgUser(t, "acme", "bob@acme.test")
		rt1, _ := e.tgCodeRT(t, "acme", web, webSecret, b.UserID, scope)
		_, err := d.Users.Update(e.ctx, "acme", b.UserID, func(x *adapters.User) error { x.Blocked = true; return nil })
		require.NoError(t, err)
		res, body := e.tgRefresh(t, "acme", web, webSecret, rt1)
		require.Equal(t, 403, res.StatusCode)
		require.Equal(t, "invalid_grant", body["error"])
	})
	require.Positive(t, e.tgLogCount(t, "acme", "sertft"))
	require.Positive(t, e.tgLogCount(t, "acme", "fertft"))
}

// clientFrom returns an HTTP client whose connections come from localIP.
func (e *env) tgClientFrom(localIP string) *http.Client {
	addr := e.srv.Listener.Addr().String()
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	ropg, ropgSecret := e.tgClient(t, "acme", adapters.Client{GrantTypes: []string{oauth.GrantPasswordRealm, "password", "refresh_token"}})
	web, webSecret := e.tgClient(t, "acme", adapters.Client{})
	u, err := e.app.CreateUser(e.ctx, "acme", tgConn, tgAlice, tgAlicePw)
	require.NoError(t, err)
	login := func(t *testing.T, c *http.Client, username, password string, kv ...string) (*http.Response, map[string]any) {
		t.Helper()
		body := tgForm(append([]string{"grant_type", oauth.GrantPasswordRealm, "client_id", ropg, "client_secret", ropgSecret,
			"username", username, "password", password, "realm", tgConn}, kv...)...)
		req, _ := http.NewRequest("POST", e.issuer("acme")+"oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		return res, m
	}

	t.Run("happy path", func(t *testing.T) {
		res, body := login(t, e.client, "ALICE@acme.test", tgAlicePw, "scope", "openid email offline_access")
		require.Equal(t, 200, res.StatusCode, body)
		require.NotEmpty(t, body["refresh_token"])
		idt := decodeClaims(t, body["id_token"].(string))
		require.Equal(t, u.UserID, idt["sub"])
		require.NotContains(t, idt, "sid")
		at := decodeClaims(t, body["access_token"].(string))
		require.Equal(t, "password", at["gty"])
		got, err := e.app.DataAdapter().Users.Get(e.ctx, "acme", u.UserID)
		require.NoError(t, err)
		require.Equal(t, 1, got.LoginsCount)
		// The plain password grant uses the default directory.
		res, body = e.tgToken(t, "acme", "grant_type", "password", "client_id", ropg, "client_secret", ropgSecret, "username", tgAlice, "password", tgAlicePw)
		require.Equal(t, 200, res.StatusCode, body)
		require.NotContains(t, body, "id_token")
		require.NotContains(t, body, "refresh_token")
	})

	t.Run("not allowed for the client", func(t *testing.T) {
		res, body := e.tgToken(t, "acme", "grant_type", oauth.GrantPasswordRealm, "client_id", web, "client_secret", webSecret,
			"username", tgAlice, "password", tgAlicePw, "realm", tgConn)
		require.Equal(t, 403, res.StatusCode)
		require.Equal(t, "unauthorized_client", body["error"])
	})

	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		r1, b1 := login(t, e.client, tgAlice, "wrong password!")
		r2, b2 := login(t, e.client, "nobody@acme.test", "wrong password!")
		require.Equal(t, 403, r1.StatusCode)
		require.Equal(t, r1.StatusCode, r2.StatusCode)
		require.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "Wrong email or password."}, b1)
		require.Equal(t, b1, b2)
		require.Equal(t, r1.Header.Get("Content-Type"), r2.Header.Get("Content-Type"))
		require.Equal(t, 1, e.tgLogCount(t, "acme", "fp"))
		require.Equal(t, 1, e.tgLogCount(t, "acme", "fu"))
		// A success resets the counter.
		res, body := login(t, e.client, tgAlice, tgAlicePw)
		require.Equal(t, 200, res.StatusCode, body)
	})

	t.Run("brute force blocks the IP, not the user", func(t *testing.T) {
		for i := 0; i < 10; i++ {
			res, body := login(t, e.client, tgAlice, "guess")
			require.Equal(t, 403, res.StatusCode, "attempt %d: %v", i, body)
		}
		res, body := login(t, e.client, tgAlice, tgAlicePw)
		require.Equal(t, 429, res.StatusCode, body)
		require.Equal(t, "too_many_attempts", body["error"])
		require.NotEmpty(t, body["error_description"])
		res, body = login(t, e.tgClientFrom("127.0.0.2"), tgAlice, tgAlicePw)
		require.Equal(t, 200, res.StatusCode, body)
		require.Positive(t, e.tgLogCount(t, "acme", "limit_wc"))
	})
}

// noRedirect returns the env's client that does not follow redirects.
func (e *env) tgNoRedirect() *http.Client {
	c := *e.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestLogout(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	d := e.app.DataAdapter()
	_, err := d.Tenants.Update(e.ctx, "acme", func(x *adapters.Tenant) error {
		x.AllowedLogoutURLs = []string{"https://acme.test/bye"}
		return nil
	})
	require.NoError(t, err)
	web, webSecret := e.tgClient(t, "acme", adapters.Client{AllowedLogoutURLs: []string{tgBye}})
	globexWeb, globexSecret := e.tgClient(t, "globex", adapters.Client{AllowedLogoutURLs: []string{tgBye}})
	u := e.tgUser(t, "acme", tgAlice)
	gu := e.tgUser(t, "globex", tgAlice)
	hc := e.tgNoRedirect()
	store := e.app.opts.SessionStore

	do := func(t *testing.T, method, rawurl, sessionID, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, rawurl, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if sessionID != "" {
			req.AddCookie(&http.Cookie{Name: "ah_session_acme", Value: sessionID})
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(strings.NewReader(string(b)))
		return res
	}
	revoked := func(t *testing.T, id string) bool {
		t.Helper()
		s, err := store.GetSession(e.ctx, "acme", id)
		require.NoError(t, err)
		return s.RevokedAt != nil
	}
	cleared := func(t *testing.T, res *http.Response) {
		t.Helper()
		var found bool
		for _, c := range res.Cookies() {
			if c.Name == "ah_session_acme" {
				found = true
				require.Empty(t, c.Value)
				require.LessOrEqual(t, c.MaxAge, 0)
			}
		}
		require.True(t, found, "session cookie cleared")
	}
	idToken := func(t *testing.T, tenantID, client, secret, userID string) (string, tgGrant) {
		t.Helper()
		g := e.tgAuthorize(t, tgAuthz{tenant: tenantID, client: client, user: userID, scope: "openid"})
		res, body := e.tgExchange(t, tenantID, client, secret, g.code, "", "")
		require.Equal(t, 200, res.StatusCode, body)
		return body["id_token"].(string), g
	}
	v2 := func(q url.Values) string { return e.issuer("acme") + "v2/logout?" + q.Encode() }

	t.Run("v2 logout with an allowed returnTo", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res := do(t, "GET", v2(url.Values{"client_id": {web}, "returnTo": {tgBye}}), g.sessionID, "")
		require.Equal(t, 302, res.StatusCode)
		require.Equal(t, tgBye, res.Header.Get("Location"))
		require.True(t, revoked(t, g.sessionID))
		cleared(t, res)
		require.Positive(t, e.tgLogCount(t, "acme", "slo"))
	})

	t.Run("v2 logout with a tenant URL and no client", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res := do(t, "GET", v2(url.Values{"returnTo": {"https://acme.test/bye"}}), g.sessionID, "")
		require.Equal(t, 302, res.StatusCode)
		require.Equal(t, "https://acme.test/bye", res.Header.Get("Location"))
		require.True(t, revoked(t, g.sessionID))
	})

	t.Run("v2 logout refuses other URLs", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		for _, q := range []url.Values{
			{"client_id": {web}, "returnTo": {"https://evil.com"}},
			{"client_id": {web}, "returnTo": {tgBye + "/x"}},
			{"client_id": {web}, "returnTo": {"https://app.acme.test.evil.com/logged-out"}},
			{"client_id": {web}, "returnTo": {"https://acme.test/bye"}}, // the tenant's, but a client was named
			{"returnTo": {tgBye}}, // the client's, but no client was named
			{"client_id": {"nobody"}, "returnTo": {tgBye}},
			{"client_id": {globexWeb}, "returnTo": {tgBye}},
		} {
			res := do(t, "GET", v2(q), g.sessionID, "")
			require.Equal(t, 400, res.StatusCode, q)
			require.Empty(t, res.Header.Get("Location"))
			var body map[string]any
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			require.Equal(t, "invalid_request", body["error"])
		}
		require.False(t, revoked(t, g.sessionID))
	})

	t.Run("v2 logout without returnTo shows a page", func(t *testing.T) {
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res := do(t, "GET", v2(url.Values{"client_id": {web}}), g.sessionID, "")
		require.Equal(t, 200, res.StatusCode)
		b, _ := io.ReadAll(res.Body)
		require.Contains(t, string(b), "You have been logged out")
		require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		require.True(t, revoked(t, g.sessionID))
	})

	t.Run("oidc logout with id_token_hint", func(t *testing.T) {
		hint, g := idToken(t, "acme", web, webSecret, u.UserID)
		q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {tgBye}, "state": {"a b&c"}}
		res := do(t, "GET", e.issuer("acme")+"oidc/logout?"+q.Encode(), g.sessionID, "")
		require.Equal(t, 302, res.StatusCode)
		require.Equal(t, tgBye+"?state=a+b%26c", res.Header.Get("Location"))
		require.True(t, revoked(t, g.sessionID))
		cleared(t, res)

		// POST form, with client_id instead of a hint.
		g = e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res = do(t, "POST", e.issuer("acme")+"oidc/logout", g.sessionID, tgForm("client_id", web, "post_logout_redirect_uri", tgBye))
		require.Equal(t, 302, res.StatusCode)
		require.Equal(t, tgBye, res.Header.Get("Location"))
		require.True(t, revoked(t, g.sessionID))
	})

	t.Run("oidc logout refusals", func(t *testing.T) {
		hint, g := idToken(t, "acme", web, webSecret, u.UserID)
		globexHint, _ := idToken(t, "globex", globexWeb, globexSecret, gu.UserID)
		for name, q := range map[string]url.Values{
			"unregistered uri":        {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.com/"}},
			"hint of another tenant":  {"id_token_hint": {globexHint}, "post_logout_redirect_uri": {tgBye}},
			"hint of another tenant2": {"id_token_hint": {globexHint}},
			"garbage hint":            {"id_token_hint": {"a.b.c"}},
			"client_id mismatch":      {"id_token_hint": {hint}, "client_id": {globexWeb}},
			"uri without client":      {"post_logout_redirect_uri": {tgBye}},
			"unknown client":          {"client_id": {"nobody"}},
		} {
			res := do(t, "GET", e.issuer("acme")+"oidc/logout?"+q.Encode(), g.sessionID, "")
			require.Equal(t, 400, res.StatusCode, name)
			require.Empty(t, res.Header.Get("Location"), name)
		}
		require.False(t, revoked(t, g.sessionID), "a refused logout ends nothing (T-02)")
	})

	t.Run("a hint for another user does not end this session", func(t *testing.T) {
		other := e.tgUser(t, "acme", "carol@acme.test")
		hint, _ := idToken(t, "acme", web, webSecret, other.UserID)
		g := e.tgAuthorize(t, tgAuthz{client: web, user: u.UserID, scope: "openid"})
		res := do(t, "GET", e.issuer("acme")+"oidc/logout?"+url.Values{"id_token_hint": {hint}}.Encode(), g.sessionID, "")
		require.Equal(t, 200, res.StatusCode)
		require.False(t, revoked(t, g.sessionID))
	})
}

func TestDBConnections(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	d := e.app.DataAdapter()
	web, _ := e.tgClient(t, "acme", adapters.Client{})
	globexWeb, _ := e.tgClient(t, "globex", adapters.Client{})
	_, err := d.Connections.Create(e.ctx, "acme", adapters.Connection{Name: "closed", Strategy: "auth0",
		Options: adapters.ConnectionOptions{DisableSignup: true}})
	require.NoError(t, err)
	_, err = d.Connections.Create(e.ctx, "acme", adapters.Connection{Name: "other-app-only", Strategy: "auth0", EnabledClients: []string{"someone-else"}})
	require.NoError(t, err)
	post := func(t *testing.T, path string, v any) (*http.Response, []byte) {
		t.Helper()
		b, _ := json.Marshal(v)
		req, _ := http.NewRequest("POST", e.issuer("acme")+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		res, err := e.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res, out
	}
	signup := func(t *testing.T, v map[string]any) (*http.Response, map[string]any) {
		t.Helper()
		res, b := post(t, "dbconnections/signup", v)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), string(b))
		return res, m
	}

	t.Run("signup", func(t *testing.T) {
		res, body := signup(t, map[string]any{"client_id": web, "connection": tgConn, "email": "Dan@acme.test", "password": "long enough pw",
			"given_name": "Dan", "user_metadata": map[string]any{"plan": "pro"}})
		require.Equal(t, 200, res.StatusCode, body)
		require.Equal(t, "dan@acme.test", body["email"])
		require.Equal(t, false, body["email_verified"])
		require.Equal(t, "Dan", body["given_name"])
		require.Equal(t, map[string]any{"plan": "pro"}, body["user_metadata"])
		id, _ := body["_id"].(string)
		require.NotEmpty(t, id)
		require.NotContains(t, id, "|")
		got, err := d.Users.Get(e.ctx, "acme", "auth0|"+id)
		require.NoError(t, err)
		require.Equal(t, tgConn, got.Connection)
		require.Equal(t, 1, e.tgLogCount(t, "acme", "ss"))

		// The new user can log in.
		ropg, ropgSecret := e.tgClient(t, "acme", adapters.Client{GrantTypes: []string{"password"}})
		res, tok := e.tgToken(t, "acme", "grant_type", "password", "client_id", ropg, "client_secret", ropgSecret, "username", "dan@acme.test", "password", "long enough pw")
		require.Equal(t, 200, res.StatusCode, tok)
	})

	t.Run("duplicate", func(t *testing.T) {
		res, body := signup(t, map[string]any{"client_id": web, "connection": tgConn, "email": "dan@acme.test", "password": "another long pw"})
		require.Equal(t, 400, res.StatusCode)
		require.Equal(t, map[string]any{"code": "invalid_signup", "description": "Invalid sign up", "name": "BadRequestError", "statusCode": float64(400)}, body)
	})

	t.Run("password policy", func(t *testing.T) {
		res, body := signup(t, map[string]any{"client_id": web, "connection": tgConn, "email": "eve@acme.test", "password": "short"})
		require.Equal(t, 400, res.StatusCode)
		require.Equal(t, "PasswordStrengthError", body["name"])
		require.Equal(t, "invalid_password", body["code"])
		require.Equal(t, float64(400), body["statusCode"])
		require.NotEmpty(t, body["description"])
	})

	t.Run("refusals", func(t *testing.T) {
		for name, c := range map[string]struct {
			body map[string]any
			code string
		}{
			"disable_signup":         {map[string]any{"client_id": web, "connection": "closed", "email": "f@acme.test", "password": "long enough pw"}, "operation_not_supported"},
			"client of other tenant": {map[string]any{"client_id": globexWeb, "connection": tgConn, "email": "f@acme.test", "password": "long enough pw"}, "invalid_client"},
			"unknown connection":     {map[string]any{"client_id": web, "connection": "nope", "email": "f@acme.test", "password": "long enough pw"}, "invalid_connection"},
			"connection not enabled": {map[string]any{"client_id": web, "connection": "other-app-only", "email": "f@acme.test", "password": "long enough pw"}, "invalid_connection"},
			"no email":               {map[string]any{"client_id": web, "connection": tgConn, "password": "long enough pw"}, "invalid_parameter"},
		} {
			res, body := signup(t, c.body)
			require.Equal(t, 400, res.StatusCode, name)
			require.Equal(t, c.code, body["code"], name)
			require.Equal(t, "BadRequestError", body["name"], name)
		}
		l, err := d.Users.List(e.ctx, "acme", adapters.ListParams{Q: `email:"f@acme.test"`})
		require.NoError(t, err)
		require.Empty(t, l.Items)
		require.Positive(t, e.tgLogCount(t, "acme", "fs"))
	})

	t.Run("change_password does not reveal accounts", func(t *testing.T) {
		r1, b1 := post(t, "dbconnections/change_password", map[string]any{"client_id": web, "connection": tgConn, "email": "dan@acme.test"})
		r2, b2 := post(t, "dbconnections/change_password", map[string]any{"client_id": web, "connection": tgConn, "email": "nobody@acme.test"})
		require.Equal(t, 200, r1.StatusCode)
		require.Equal(t, r1.StatusCode, r2.StatusCode)
		require.Equal(t, "We've just sent you an email to reset your password.", string(b1))
		require.Equal(t, string(b1), string(b2))
		require.Equal(t, r1.Header.Get("Content-Type"), r2.Header.Get("Content-Type"))
		require.Equal(t, 1, e.tgLogCount(t, "acme", "scpr"))
		require.Equal(t, 1, e.tgLogCount(t, "acme", "fcpr"))
	})
}

func TestDiscoveryListsUserGrants(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	res, err := e.client.Get(e.issuer("acme") + ".well-known/openid-configuration")
	require.NoError(t, err)
	defer res.Body.Close()
	var doc map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&doc))
	require.Equal(t, e.issuer("acme")+"oidc/logout", doc["end_session_endpoint"])
	require.Subset(t, doc["grant_types_supported"], []any{"authorization_code", "refresh_token", "password", oauth.GrantPasswordRealm})
	require.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
	require.Equal(t, []any{"code"}, doc["response_types_supported"])
	require.Contains(t, doc["token_endpoint_auth_methods_supported"], "none")
}
