// Package flow drives the universal login and the token endpoint over plain
// HTTP for the examples' tests: authorize with PKCE, the identifier and
// password pages, prompt=none, code exchange and refresh.
package flow

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// App is the public client and user an example registers.
type App struct {
	ClientID, Callback, Email, Password string
}

// PKCE returns a verifier and its S256 challenge.
func PKCE() (verifier, challenge string) {
	verifier = rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthorizeURL builds an /authorize request at base (an issuer URL).
func (a App) AuthorizeURL(base, challenge string, extra url.Values) string {
	q := url.Values{"client_id": {a.ClientID}, "redirect_uri": {a.Callback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {"st-" + rand.Text()[:8]}, "nonce": {"n-" + rand.Text()[:8]},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return base + "authorize?" + q.Encode()
}

var inputValue = regexp.MustCompile(`name="(state|csrf_token)" value="([^"]*)"`)

// FormFields returns the hidden state and csrf_token of a login page.
func FormFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range inputValue.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], m[2])
	}
	require.NotEmpty(t, v.Get("state"), body)
	return v
}

// ReadBody reads and closes a response body.
func ReadBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// CallbackCode returns the code of a redirect to the app's callback.
func (a App) CallbackCode(t *testing.T, res *http.Response) string {
	t.Helper()
	body := ReadBody(t, res)
	require.Equal(t, http.StatusFound, res.StatusCode, body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	cb, _ := url.Parse(a.Callback)
	require.Equal(t, cb.Host, loc.Host, loc.String())
	require.Empty(t, loc.Query().Get("error"), loc.String())
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

// Login signs the user in through the universal login pages and returns the
// code and its PKCE verifier.
func (a App) Login(t *testing.T, b *http.Client, base string) (code, verifier string) {
	t.Helper()
	verifier, challenge := PKCE()
	res, err := b.Get(a.AuthorizeURL(base, challenge, nil))
	require.NoError(t, err)
	body := ReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	f := FormFields(t, body)
	f.Set("username", a.Email)
	res, err = b.PostForm(base+"u/login/identifier", f)
	require.NoError(t, err)
	body = ReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	f = FormFields(t, body)
	f.Set("password", a.Password)
	res, err = b.PostForm(base+"u/login/password", f)
	require.NoError(t, err)
	return a.CallbackCode(t, res), verifier
}

// Silent asks for a code with prompt=none: SSO on the session cookie.
func (a App) Silent(t *testing.T, b *http.Client, base string) (code, verifier string) {
	t.Helper()
	verifier, challenge := PKCE()
	res, err := b.Get(a.AuthorizeURL(base, challenge, url.Values{"prompt": {"none"}}))
	require.NoError(t, err)
	return a.CallbackCode(t, res), verifier
}

// Token posts to the token endpoint and returns the JSON answer.
func (a App) Token(t *testing.T, b *http.Client, base string, form url.Values) map[string]any {
	t.Helper()
	form.Set("client_id", a.ClientID)
	res, err := b.PostForm(base+"oauth/token", form)
	require.NoError(t, err)
	body := ReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	require.NotEmpty(t, m["access_token"])
	return m
}

// Exchange trades a code for tokens.
func (a App) Exchange(t *testing.T, b *http.Client, base, code, verifier string) map[string]any {
	t.Helper()
	m := a.Token(t, b, base, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.Callback}, "code_verifier": {verifier}})
	require.NotEmpty(t, m["id_token"])
	require.NotEmpty(t, m["refresh_token"])
	return m
}

// Refresh rotates a refresh token.
func (a App) Refresh(t *testing.T, b *http.Client, base, rt string) map[string]any {
	t.Helper()
	m := a.Token(t, b, base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	require.NotEmpty(t, m["refresh_token"])
	require.NotEqual(t, rt, m["refresh_token"], "rotated")
	return m
}
