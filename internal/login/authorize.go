package login

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// randomToken returns n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("login: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceChallenge is a base64url SHA-256 (RFC 7636 §4.2): 43 characters.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// responseModes are the supported response_mode values.
var responseModes = []string{"query", "fragment", "form_post", "web_message"}

// authorizeError is an error sent back to the client's redirect URI.
type authorizeError struct{ code, desc string }

// Authorize serves GET /authorize.
func (s *Server) Authorize(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			s.errorPage(w, r, ti, http.StatusBadRequest, "The parameter "+k+" is repeated.")
			return
		}
	}
	client, redirect, ok := s.checkClient(w, r, ti, q.Get("client_id"), q.Get("redirect_uri"))
	if !ok {
		return
	}
	mode := q.Get("response_mode")
	if mode == "" {
		mode = "query"
	}
	ap := adapters.AuthParams{
		ClientID: client.ClientID, ResponseType: q.Get("response_type"), ResponseMode: mode,
		RedirectURI: q.Get("redirect_uri"), Audience: q.Get("audience"), Organization: q.Get("organization"),
		State: q.Get("state"), Nonce: q.Get("nonce"), Scope: q.Get("scope"), Prompt: q.Get("prompt"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
		Username: q.Get("login_hint"), UILocales: q.Get("ui_locales"), Connection: q.Get("connection"),
		ScreenHint: q.Get("screen_hint"), ACRValues: q.Get("acr_values"),
	}
	if !slices.Contains(responseModes, mode) {
		ap.ResponseMode = "query"
		s.respondError(w, r, ti, ap, redirect, authorizeError{"invalid_request", "Unsupported response_mode: " + mode})
		return
	}
	if e := s.validate(client, &ap, q.Get("max_age")); e != nil {
		s.respondError(w, r, ti, ap, redirect, *e)
		return
	}
	now := s.now()
	forceLogin := slices.Contains(strings.Fields(ap.Prompt), "login")
	sess, user, err := s.currentSession(r, ti)
	if err != nil {
		// The store could not say whether the cookie's session exists:
		// answering login_required (or a login page) would be a lie.
		s.unavailable(w, r, ti, "session lookup", err)
		return
	}
	if sess != nil && !forceLogin && withinMaxAge(sess, ap.MaxAge, now) {
		s.ssoLogin(w, r, ti, client, ap, redirect, sess, user)
		return
	}
	if slices.Contains(strings.Fields(ap.Prompt), "none") {
		s.event(r, ti, "fsa", client, "", "Login required")
		s.respondError(w, r, ti, ap, redirect, authorizeError{"login_required", "Login required"})
		return
	}
	login, err := s.Sessions.CreateLogin(r.Context(), ti.ID(), adapters.LoginSession{
		CSRFToken: randomToken(32), AuthParams: ap, ExpiresAt: now.Add(loginTTL), IP: clientIP(r),
		UserAgent: truncate(r.UserAgent(), 512), AuthorizationURL: truncate(r.URL.String(), 4096),
	})
	if err != nil {
		s.unavailable(w, r, ti, "create login", err)
		return
	}
	next := "/u/login/identifier"
	if ap.ScreenHint == "signup" {
		next = "/u/signup"
	}
	http.Redirect(w, r, next+"?state="+url.QueryEscape(login.ID), http.StatusFound)
}

// checkClient finds the client in the tenant and the exact registered
// redirect URI. Failures are shown on an error page, never redirected.
func (s *Server) checkClient(w http.ResponseWriter, r *http.Request, ti *tenant.Info, clientID, redirect string) (*adapters.Client, string, bool) {
	if clientID == "" {
		s.errorPage(w, r, ti, http.StatusBadRequest, "The client_id parameter is missing.")
		return nil, "", false
	}
	client, err := s.Data.Clients.Get(r.Context(), ti.ID(), clientID)
	if errors.Is(err, adapters.ErrNotFound) {
		s.errorPage(w, r, ti, http.StatusBadRequest, "Unknown client: the application is not registered in this tenant.")
		return nil, "", false
	} else if err != nil {
		s.unavailable(w, r, ti, "client lookup", err)
		return nil, "", false
	}
	if redirect == "" {
		if len(client.Callbacks) != 1 {
			s.errorPage(w, r, ti, http.StatusBadRequest, "The redirect_uri parameter is missing.")
			return nil, "", false
		}
		return client, client.Callbacks[0], true
	}
	// Exact string comparison (RFC 9700 §4.1.3): no port, path or wildcard
	// leniency.
	if !slices.Contains(client.Callbacks, redirect) {
		s.errorPage(w, r, ti, http.StatusBadRequest, "Callback URL mismatch: the redirect_uri is not in the application's list of allowed callback URLs.")
		return nil, "", false
	}
	return client, redirect, true
}

// validate checks the request parameters once the redirect URI is trusted.
func (s *Server) validate(client *adapters.Client, ap *adapters.AuthParams, maxAge string) *authorizeError {
	if ap.ResponseType == "" {
		return &authorizeError{"invalid_request", "response_type is required"}
	}
	if ap.ResponseType != "code" {
		return &authorizeError{"unsupported_response_type", "Unsupported response_type: " + ap.ResponseType}
	}
	if len(client.GrantTypes) > 0 && !slices.Contains(client.GrantTypes, "authorization_code") {
		return &authorizeError{"unauthorized_client", "The client may not use the authorization code flow"}
	}
	if ap.CodeChallenge != "" || ap.CodeChallengeMethod != "" {
		if ap.CodeChallengeMethod != "S256" {
			return &authorizeError{"invalid_request", "code_challenge_method must be S256"}
		}
		if !pkceChallenge.MatchString(ap.CodeChallenge) {
			return &authorizeError{"invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)"}
		}
	} else if client.TokenEndpointAuthMethod == "none" {
		return &authorizeError{"invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256"}
	}
	if ap.Scope == "" {
		ap.Scope = "openid"
	}
	for _, p := range strings.Fields(ap.Prompt) {
		switch p {
		case "none", "login", "consent", "select_account":
		default:
			return &authorizeError{"invalid_request", "Unsupported prompt: " + p}
		}
	}
	if slices.Contains(strings.Fields(ap.Prompt), "none") && len(strings.Fields(ap.Prompt)) > 1 {
		return &authorizeError{"invalid_request", "prompt=none cannot be combined with other values"}
	}
	if maxAge != "" {
		n, err := strconv.Atoi(maxAge)
		if err != nil || n < 0 {
			return &authorizeError{"invalid_request", "max_age must be a non-negative integer"}
		}
		ap.MaxAge = &n
	}
	for name, v := range map[string]string{"state": ap.State, "nonce": ap.Nonce, "scope": ap.Scope, "login_hint": ap.Username, "audience": ap.Audience} {
		if len(v) > 2048 {
			return &authorizeError{"invalid_request", name + " is too long"}
		}
	}
	return nil
}

// currentSession returns the usable SSO session of the request's cookie in
// this tenant and its (unblocked) user, or nils; an error when the session
// store or the database failed (not when the session or user is unknown).
func (s *Server) currentSession(r *http.Request, ti *tenant.Info) (*adapters.Session, *adapters.User, error) {
	id := session.CookieValue(r, ti.ID(), ti.Issuer)
	if id == "" {
		return nil, nil, nil
	}
	sess, err := s.Sessions.GetSession(r.Context(), ti.ID(), id)
	if errors.Is(err, adapters.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if !session.Usable(sess, s.now()) {
		return nil, nil, nil
	}
	u, err := s.Data.Users.Get(r.Context(), ti.ID(), sess.UserID)
	if errors.Is(err, adapters.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if u.Blocked {
		return nil, nil, nil
	}
	return sess, u, nil
}

func withinMaxAge(sess *adapters.Session, maxAge *int, now interface{ Unix() int64 }) bool {
	if maxAge == nil {
		return true
	}
	return now.Unix()-sess.AuthenticatedAt.Unix() <= int64(*maxAge)
}

func clientIP(r *http.Request) string { return tenant.ClientIP(r) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
