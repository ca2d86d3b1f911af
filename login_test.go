package authhero

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/testdb"
)

// browser is an HTTP client with a cookie jar that stops at the app's
// callback (app.test) instead of following it.
func (e *env) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: e.client.Transport, Timeout: e.client.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasSuffix(req.URL.Hostname(), "app.test") {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

// webApp creates a client with a callback on app.test and a user with a
// password in tenantID.
func (e *env) webApp(t *testing.T, tenantID string, mutate func(*adapters.Client)) *adapters.Client {
	t.Helper()
	c := adapters.Client{ClientID: adapters.NewID(""), Name: "Web", AppType: "spa", TokenEndpointAuthMethod: "none",
		Callbacks: []string{"https://app.test/callback"}, AllowedLogoutURLs: []string{"https://app.test/"}}
	if mutate != nil {
		mutate(&c)
	}
	out, err := e.app.DataAdapter().Clients.Create(e.ctx, tenantID, c)
	require.NoError(t, err)
	return out
}

func (e *env) user(t *testing.T, tenantID, email, pw string) *adapters.User {
	t.Helper()
	u, err := e.app.accounts.CreateUser(e.ctx, tenantID, accounts.NewUser{Connection: "Username-Password-Authentication", Email: email, Password: pw})
	require.NoError(t, err)
	return u
}

var inputValue = regexp.MustCompile(`name="(state|csrf_token)" value="([^"]*)"`)

// formFields returns the hidden state and csrf_token of a page.
func formFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range inputValue.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], m[2])
	}
	require.NotEmpty(t, v.Get("state"), body)
	return v
}

func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + adapters.NewID("")
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// authorizeURL builds an /authorize request.
func (e *env) authorizeURL(tenantID string, c *adapters.Client, challenge string, extra url.Values) string {
	q := url.Values{"client_id": {c.ClientID}, "redirect_uri": {"https://app.test/callback"}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {"xyz"}, "nonce": {"n-0S6"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return e.issuer(tenantID) + "authorize?" + q.Encode()
}

// passwordLogin drives identifier and password pages and returns the final
// response (the redirect to the callback, or the page with an error).
func (e *env) passwordLogin(t *testing.T, b *http.Client, authorize, email, pw string) *http.Response {
	t.Helper()
	res, err := b.Get(authorize)
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	f := formFields(t, body)
	f.Set("username", email)
	res, err = b.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/u/login/identifier", f)
	require.NoError(t, err)
	body = readAll(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	f = formFields(t, body)
	f.Set("password", pw)
	res, err = b.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/u/login/password", f)
	require.NoError(t, err)
	return res
}

// callbackParams returns the query of a redirect to the app's callback.
func callbackParams(t *testing.T, res *http.Response) url.Values {
	t.Helper()
	require.Equal(t, http.StatusFound, res.StatusCode, readAll(t, res))
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "app.test", loc.Host)
	return loc.Query()
}

func TestLoginIssuesCodeAndSession(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		c := e.webApp(t, "acme", nil)
		u := e.user(t, "acme", "ann@acme.test", "correct horse battery")
		_, challenge := pkce()
		b := e.browser(t)
		res := e.passwordLogin(t, b, e.authorizeURL("acme", c, challenge, nil), "Ann@Acme.test", "correct horse battery")
		q := callbackParams(t, res)
		require.Equal(t, "xyz", q.Get("state"))
		require.Equal(t, e.issuer("acme"), q.Get("iss"), "RFC 9207 iss")
		code, err := e.app.DataAdapter().Codes.Get(e.ctx, "acme", adapters.CodeAuthorization, q.Get("code"))
		require.NoError(t, err)
		require.Equal(t, u.UserID, code.UserID)
		require.Equal(t, challenge, code.CodeChallenge)
		require.Equal(t, "https://app.test/callback", code.RedirectURI)

		// SSO: the same browser gets a code without a password.
		res, err = b.Get(e.authorizeURL("acme", c, challenge, url.Values{"prompt": {"none"}, "state": {"second"}}))
		require.NoError(t, err)
		q = callbackParams(t, res)
		require.NotEmpty(t, q.Get("code"))
		require.Equal(t, "second", q.Get("state"))

		// Another browser without a session: login_required.
		res, err = e.browser(t).Get(e.authorizeURL("acme", c, challenge, url.Values{"prompt": {"none"}}))
		require.NoError(t, err)
		q = callbackParams(t, res)
		require.Equal(t, "login_required", q.Get("error"))

		// The session cookie of acme gives nothing at globex.
		g := e.webApp(t, "globex", nil)
		res, err = b.Get(e.authorizeURL("globex", g, challenge, url.Values{"prompt": {"none"}}))
		require.NoError(t, err)
		require.Equal(t, "login_required", callbackParams(t, res).Get("error"))
	})
}

func TestLoginWrongPasswordAndUnknownUserLookTheSame(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()
	wrong := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "nope")
	unknown := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "bob@acme.test", "nope")
	require.Equal(t, 400, wrong.StatusCode)
	require.Equal(t, 400, unknown.StatusCode)
	wb, ub := readAll(t, wrong), readAll(t, unknown)
	require.Contains(t, wb, "Wrong email or password.")
	require.Contains(t, ub, "Wrong email or password.")
	require.Equal(t, "DENY", wrong.Header.Get("X-Frame-Options"))
	require.Contains(t, wrong.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "no-referrer", wrong.Header.Get("Referrer-Policy"))
}

func TestAuthorizeRefusesBadClientsWithoutRedirect(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c := e.webApp(t, "acme", nil)
	g := e.webApp(t, "globex", nil)
	_, challenge := pkce()
	cases := map[string]string{
		"unknown client":           e.authorizeURL("acme", &adapters.Client{ClientID: "nope"}, challenge, nil),
		"client of another tenant": e.authorizeURL("acme", g, challenge, nil),
		"unregistered redirect":    e.authorizeURL("acme", c, challenge, url.Values{"redirect_uri": {"https://evil.test/callback"}}),
		"redirect with extra path": e.authorizeURL("acme", c, challenge, url.Values{"redirect_uri": {"https://app.test/callback/x"}}),
		"redirect with other port": e.authorizeURL("acme", c, challenge, url.Values{"redirect_uri": {"https://app.test:8443/callback"}}),
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := e.browser(t).Get(u)
			require.NoError(t, err)
			body := readAll(t, res)
			require.Equal(t, 400, res.StatusCode)
			require.Empty(t, res.Header.Get("Location"))
			require.NotContains(t, body, "code=")
		})
	}
	redirected := map[string]url.Values{
		"plain PKCE":          {"code_challenge_method": {"plain"}},
		"public without PKCE": {"code_challenge": {""}, "code_challenge_method": {""}},
		"bad response_type":   {"response_type": {"token"}},
		"bad prompt":          {"prompt": {"sometimes"}},
	}
	wantErr := map[string]string{"plain PKCE": "invalid_request", "public without PKCE": "invalid_request",
		"bad response_type": "unsupported_response_type", "bad prompt": "invalid_request"}
	for name, extra := range redirected {
		t.Run(name, func(t *testing.T) {
			res, err := e.browser(t).Get(e.authorizeURL("acme", c, challenge, extra))
			require.NoError(t, err)
			q := callbackParams(t, res)
			require.Equal(t, wantErr[name], q.Get("error"))
			require.Equal(t, "xyz", q.Get("state"))
			require.Equal(t, e.issuer("acme"), q.Get("iss"))
			require.Empty(t, q.Get("code"))
		})
	}
}

func TestLoginFormWithoutCSRFIsRefused(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()
	b := e.browser(t)
	res, err := b.Get(e.authorizeURL("acme", c, challenge, nil))
	require.NoError(t, err)
	f := formFields(t, readAll(t, res))
	f.Del("csrf_token")
	f.Set("username", "ann@acme.test")
	res, err = b.PostForm(e.issuer("acme")+"u/login/identifier", f)
	require.NoError(t, err)
	require.Equal(t, 403, res.StatusCode)
	f.Set("csrf_token", "forged")
	f.Set("password", "correct horse battery")
	res, err = b.PostForm(e.issuer("acme")+"u/login/password", f)
	require.NoError(t, err)
	require.Equal(t, 403, res.StatusCode)
	require.Empty(t, res.Header.Get("Location"))
}

var regexpHidden = regexp.MustCompile(`name="(ticket|csrf_token)" value="([^"]*)"`)
