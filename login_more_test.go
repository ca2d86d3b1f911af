package authhero

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/email"
	"github.com/authhero-go/authhero/internal/testdb"
)

// withOutbox swaps the App's email sender for an in-memory outbox.
func withOutbox(t *testing.T, e *env) *email.Outbox {
	t.Helper()
	out := &email.Outbox{}
	e.app.ul.Email = out
	return out
}

func TestSignupVerifyAndLogin(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	out := withOutbox(t, e)
	c := e.webApp(t, "acme", nil)
	_, challenge := pkce()
	b := e.browser(t)
	res, err := b.Get(e.authorizeURL("acme", c, challenge, url.Values{"screen_hint": {"signup"}}))
	require.NoError(t, err)
	body := readAll(t, res)
	require.Contains(t, body, `for="email"`, "labelled inputs")
	f := formFields(t, body)
	f.Set("email", "new@acme.test")
	f.Set("password", "short")
	res, err = b.PostForm(e.issuer("acme")+"u/signup", f)
	require.NoError(t, err)
	body = readAll(t, res)
	require.Equal(t, 400, res.StatusCode)
	require.Contains(t, body, "at least 8 characters")
	require.Contains(t, body, `aria-invalid="true"`)

	f.Set("password", "long enough password")
	res, err = b.PostForm(e.issuer("acme")+"u/signup", f)
	require.NoError(t, err)
	require.NotEmpty(t, callbackParams(t, res).Get("code"))

	msgs := out.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, email.VerifyEmail, msgs[0].Template)
	require.Equal(t, "new@acme.test", msgs[0].To)
	res, err = b.Get(msgs[0].Link)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode, readAll(t, res))
	l, err := e.app.DataAdapter().Users.List(e.ctx, "acme", adapters.ListParams{Q: "email:new@acme.test"})
	require.NoError(t, err)
	require.True(t, l.Items[0].EmailVerified)
	res, err = b.Get(msgs[0].Link)
	require.NoError(t, err)
	require.Equal(t, 400, res.StatusCode, "a verification link works once")
	res.Body.Close()

	// Signing up again with the same email fails without creating anything.
	res, err = e.browser(t).Get(e.authorizeURL("acme", c, challenge, url.Values{"screen_hint": {"signup"}}))
	require.NoError(t, err)
	f = formFields(t, readAll(t, res))
	f.Set("email", "NEW@acme.test")
	f.Set("password", "another long password")
	bb := e.browser(t)
	res, err = bb.Get(e.authorizeURL("acme", c, challenge, url.Values{"screen_hint": {"signup"}}))
	require.NoError(t, err)
	f2 := formFields(t, readAll(t, res))
	f2.Set("email", "NEW@acme.test")
	f2.Set("password", "another long password")
	res, err = bb.PostForm(e.issuer("acme")+"u/signup", f2)
	require.NoError(t, err)
	require.Equal(t, 400, res.StatusCode)
	res.Body.Close()
}

func TestPasswordResetThroughEmailLink(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	out := withOutbox(t, e)
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "old password 123")
	_, challenge := pkce()
	b := e.browser(t)
	res, err := b.Get(e.authorizeURL("acme", c, challenge, nil))
	require.NoError(t, err)
	f := formFields(t, readAll(t, res))
	request := func(addr string) string {
		f.Set("email", addr)
		res, err := b.PostForm(e.issuer("acme")+"u/reset-password/request", f)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		return readAll(t, res)
	}
	known, unknown := request("ann@acme.test"), request("nobody@acme.test")
	require.Contains(t, known, "If an account exists")
	require.Equal(t, strings.Count(known, "If an account exists"), strings.Count(unknown, "If an account exists"))
	msgs := out.Messages()
	require.Len(t, msgs, 1, "only the existing user gets an email")
	require.Equal(t, email.ResetEmail, msgs[0].Template)

	res, err = b.Get(msgs[0].Link)
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	v := url.Values{}
	for _, m := range regexpHidden.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], m[2])
	}
	v.Set("password", "new password 456")
	v.Set("password_confirm", "new password 456")
	res, err = b.PostForm(e.issuer("acme")+"u/reset-password", v)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode, readAll(t, res))

	// The new password works, the old one does not, the link is spent.
	ok := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "new password 456")
	require.NotEmpty(t, callbackParams(t, ok).Get("code"))
	bad := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "old password 123")
	require.Equal(t, 400, bad.StatusCode)
	bad.Body.Close()
	// Replaying the form: the CSRF cookie is gone and the ticket is spent.
	res, err = b.PostForm(e.issuer("acme")+"u/reset-password", v)
	require.NoError(t, err)
	require.Contains(t, []int{400, 403}, res.StatusCode)
	res.Body.Close()
	ok = e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "new password 456")
	require.NotEmpty(t, callbackParams(t, ok).Get("code"), "the replay changed nothing")
}

func TestBruteForceBlocksThePairOnly(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()
	var last *http.Response
	for i := 0; i < 10; i++ {
		last = e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "wrong")
		last.Body.Close()
	}
	require.Equal(t, http.StatusTooManyRequests, last.StatusCode)
	// Even the right password is refused from this IP now.
	res := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.Contains(t, readAll(t, res), "blocked")
	logs, err := e.app.DataAdapter().Logs.List(e.ctx, "acme", adapters.ListParams{Q: "type:limit_wc"})
	require.NoError(t, err)
	require.NotEmpty(t, logs.Items)
}

func TestResponseModes(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"))
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	_, challenge := pkce()

	res := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, url.Values{"response_mode": {"fragment"}}), "ann@acme.test", "correct horse battery")
	require.Equal(t, 302, res.StatusCode)
	loc, _ := url.Parse(res.Header.Get("Location"))
	frag, _ := url.ParseQuery(loc.Fragment)
	require.NotEmpty(t, frag.Get("code"))
	require.Empty(t, loc.RawQuery)

	res = e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, url.Values{"response_mode": {"form_post"}}), "ann@acme.test", "correct horse battery")
	body := readAll(t, res)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, body, `action="https://app.test/callback"`)
	require.Contains(t, body, `name="code"`)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action https://app.test")

	b := e.browser(t)
	res = e.passwordLogin(t, b, e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery")
	res.Body.Close()
	r2, err := b.Get(e.authorizeURL("acme", c, challenge, url.Values{"response_mode": {"web_message"}, "prompt": {"none"}}))
	require.NoError(t, err)
	body = readAll(t, r2)
	require.Contains(t, body, `"authorization_response"`)
	require.Contains(t, body, `"https://app.test"`)
	require.Contains(t, r2.Header.Get("Content-Security-Policy"), "frame-ancestors https://app.test")

	// web_message without a session carries login_required too.
	r3, err := e.browser(t).Get(e.authorizeURL("acme", c, challenge, url.Values{"response_mode": {"web_message"}, "prompt": {"none"}}))
	require.NoError(t, err)
	require.Contains(t, readAll(t, r3), "login_required")
}
