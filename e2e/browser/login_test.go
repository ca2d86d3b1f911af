package browser

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authhero-go/authhero/adapters"
)

// TestBrowserLoginSSOAndLogout logs in through the universal login in
// Chromium, then: SSO on a second client, prompt=none with a session, logout,
// prompt=none without one, and no SSO in another tenant.
func TestBrowserLoginSSOAndLogout(t *testing.T) {
	w := newWorld(t)
	w.user("acme", "ann@acme.test", "correct horse battery")
	app1, app2 := w.newRP("acme"), w.newRP("acme")
	other := w.newRP("globex")
	ctx := chrome(t)

	login(t, ctx, app1.url+"/login", "ann@acme.test", "correct horse battery")
	sub := text(t, ctx, "#sub")
	require.True(t, strings.HasPrefix(sub, "auth0|"), sub)
	require.NotEmpty(t, app1.token().RefreshToken, "offline_access gives a refresh token")

	// SSO: the second application logs in without the password.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app2.url+"/login")))
	require.Equal(t, sub, text(t, ctx, "#sub"))

	// prompt=none with a session.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app1.url+"/login?prompt=none")))
	require.Equal(t, sub, text(t, ctx, "#sub"))

	// The session of acme gives no SSO at globex.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(other.url+"/login?prompt=none")))
	require.Equal(t, "login_required", text(t, ctx, "#error"))

	// Logout, then prompt=none is login_required.
	logout := w.issuer("acme") + "v2/logout?" + url.Values{"client_id": {app1.client.ClientID}, "returnTo": {app1.url + "/"}}.Encode()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(logout)))
	require.Equal(t, "home", text(t, ctx, "#home"))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app1.url+"/login?prompt=none")))
	require.Equal(t, "login_required", text(t, ctx, "#error"))
}

// TestBrowserWrongPassword shows the error on the page, tied to the field.
func TestBrowserWrongPassword(t *testing.T) {
	w := newWorld(t)
	w.user("acme", "ann@acme.test", "correct horse battery")
	app := w.newRP("acme")
	ctx := chrome(t)
	login(t, ctx, app.url+"/login", "ann@acme.test", "wrong password")
	require.Equal(t, "Wrong email or password.", text(t, ctx, "#form-error"))
	desc, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#password"), "aria-describedby"))
	require.NoError(t, err)
	require.Equal(t, "form-error", desc.Value)
}

// TestBrowserSignupAndReset signs up in the browser, then resets the
// password through the emailed link and logs in with the new one.
func TestBrowserSignupAndReset(t *testing.T) {
	w := newWorld(t)
	app := w.newRP("acme")
	ctx := chrome(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(app.url+"/login?screen_hint=signup"),
		fill("#email", "new@acme.test"),
		fill("#password", "a long enough password"),
		chromedp.Submit(chromedp.CSS("#password")),
	))
	require.NotEmpty(t, text(t, ctx, "#sub"))

	// Reset from a fresh browser.
	ctx2 := chrome(t)
	require.NoError(t, chromedp.Do(ctx2,
		chromedp.Navigate(app.url+"/login"),
		fill("#username", "new@acme.test"),
		chromedp.Submit(chromedp.CSS("#username")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.Click(chromedp.CSS(`a[href^="/u/reset-password/request"]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.Submit(chromedp.CSS("#email")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	))
	var link string
	for _, m := range w.outbox.Messages() {
		if m.Template == "reset_email" {
			link = m.Link
		}
	}
	require.NotEmpty(t, link, "the reset link was emailed")
	require.NoError(t, chromedp.Do(ctx2,
		chromedp.Navigate(link),
		fill("#password", "my brand new password"),
		fill("#password_confirm", "my brand new password"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	))
	ctx3 := chrome(t)
	login(t, ctx3, app.url+"/login", "new@acme.test", "my brand new password")
	require.NotEmpty(t, text(t, ctx3, "#sub"))
}

// TestBrowserRefreshRotationAndReuse uses the refresh token the browser login
// produced: rotation works, and replaying a rotated token after the leeway
// revokes the whole family.
func TestBrowserRefreshRotationAndReuse(t *testing.T) {
	w := newWorld(t)
	w.user("acme", "ann@acme.test", "correct horse battery")
	app := w.newRP("acme")
	_, err := w.app.DataAdapter().Clients.Update(context.Background(), "acme", app.client.ClientID, func(c *adapters.Client) error {
		c.RefreshToken = &adapters.RefreshTokenSettings{RotationType: "rotating", Leeway: 0}
		return nil
	})
	require.NoError(t, err)
	ctx := chrome(t)
	login(t, ctx, app.url+"/login", "ann@acme.test", "correct horse battery")
	text(t, ctx, "#sub")
	first := app.token()
	require.NotEmpty(t, first.RefreshToken)

	c := context.WithValue(context.Background(), oauth2.HTTPClient, w.dial)
	refresh := func(rt string) (*oauth2.Token, error) {
		return app.cfg.TokenSource(c, &oauth2.Token{RefreshToken: rt}).Token()
	}
	second, err := refresh(first.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken, "rotated")
	third, err := refresh(second.RefreshToken)
	require.NoError(t, err)

	_, err = refresh(first.RefreshToken)
	require.Error(t, err, "reuse of a rotated token is refused")
	_, err = refresh(third.RefreshToken)
	require.Error(t, err, "and it revoked the whole family")
}

// TestBrowserCSRF submits the password form with its CSRF token removed.
func TestBrowserCSRF(t *testing.T) {
	w := newWorld(t)
	w.user("acme", "ann@acme.test", "correct horse battery")
	app := w.newRP("acme")
	ctx := chrome(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(app.url+"/login"),
		fill("#username", "ann@acme.test"),
		chromedp.Submit(chromedp.CSS("#username")),
		fill("#password", "correct horse battery"),
	))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('input[name=csrf_token]').remove()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Submit(chromedp.CSS("#password"))))
	require.Contains(t, text(t, ctx, "main"), "The form has expired or was not sent from this page")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.NotContains(t, loc, "app.test", "no code reached the app")
}
