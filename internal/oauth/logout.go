package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// SessionSID returns the sid claim (OpenID Connect Front-/Back-Channel
// Logout, RP-Initiated Logout) of an SSO session. The session id is the
// session cookie's value, a bearer secret, so tokens never carry it: sid is
// a one-way digest of it (128 bits, base64url). Anyone holding the cookie
// can compute the sid; no one holding a token can compute the cookie.
func SessionSID(sessionID string) string {
	if sessionID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("authhero-sid\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Logout serves GET /v2/logout, Auth0's logout
// (https://auth0.com/docs/api/authentication#logout). returnTo must be
// exactly one of the client's allowed_logout_urls (with client_id) or the
// tenant's (without); otherwise the answer is 400 JSON and nothing is
// redirected or ended (RFC 9700 §4.11: no open redirector). The browser's
// SSO session (the tenant's session cookie) is revoked and the cookie
// cleared; refresh tokens stay valid, as in Auth0. Without returnTo a small
// "You have been logged out" page is shown; the Referer is never used as a
// target.
func (s *Server) Logout(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			logoutError(w, fmt.Sprintf("parameter %q is repeated", limit(k)))
			return
		}
	}
	clientID, returnTo := q.Get("client_id"), q.Get("returnTo")
	allowed := ti.Tenant.AllowedLogoutURLs
	if clientID != "" {
		c, err := s.Data.Clients.Get(r.Context(), ti.ID(), clientID)
		if errors.Is(err, adapters.ErrNotFound) {
			logoutError(w, "Unknown client_id")
			return
		} else if err != nil {
			s.internal(w, r, "logout client lookup", err)
			return
		}
		allowed = c.AllowedLogoutURLs
	}
	if returnTo != "" && !logoutURLAllowed(returnTo, allowed) {
		logoutError(w, "The returnTo URL is not one of the allowed logout URLs")
		return
	}
	s.endSession(w, r, ti, "", clientID)
	if returnTo == "" {
		loggedOutPage(w)
		return
	}
	redirectAfterLogout(w, returnTo)
}

// OIDCLogout serves GET and POST /oidc/logout, OpenID Connect RP-Initiated
// Logout 1.0 (https://openid.net/specs/openid-connect-rpinitiated-1_0.html).
//
// id_token_hint must be an ID token this tenant signed (typ JWT, its own
// keys, its issuer). A hint that does not verify, including one of another
// tenant and an expired one, is refused with 400 and nothing is ended: the
// key service checks exp, and a logout that silently does nothing would be
// worse than an error the RP can see. client_id, when sent with a hint, must
// be one of its audiences. post_logout_redirect_uri needs a client (from
// client_id or the hint) and must be exactly one of its allowed_logout_urls;
// else 400 and no redirect. state is appended to the redirect. With a hint,
// only a session of the hint's subject is ended.
func (s *Server) OIDCLogout(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	var q url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			logoutError(w, "malformed form body")
			return
		}
		q = r.PostForm
	} else {
		q = r.URL.Query()
	}
	for k, v := range q {
		if len(v) > 1 {
			logoutError(w, fmt.Sprintf("parameter %q is repeated", limit(k)))
			return
		}
	}
	hint, clientID := q.Get("id_token_hint"), q.Get("client_id")
	target, state := q.Get("post_logout_redirect_uri"), q.Get("state")
	sub := ""
	if hint != "" {
		claims, err := s.Keys.Verify(r.Context(), ti.ID(), hint, "JWT")
		if iss, _ := claims["iss"].(string); err != nil || iss != ti.Issuer {
			logoutError(w, "Invalid id_token_hint")
			return
		}
		sub, _ = claims["sub"].(string)
		auds := audiences(claims["aud"])
		if clientID != "" && !slices.Contains(auds, clientID) {
			logoutError(w, "client_id does not match id_token_hint")
			return
		}
		if clientID == "" {
			if azp, _ := claims["azp"].(string); azp != "" && slices.Contains(auds, azp) {
				clientID = azp
			} else if len(auds) == 1 {
				clientID = auds[0]
			}
		}
		if sub == "" {
			logoutError(w, "Invalid id_token_hint")
			return
		}
	}
	if target != "" && clientID == "" {
		logoutError(w, "post_logout_redirect_uri requires id_token_hint or client_id")
		return
	}
	if clientID != "" {
		c, err := s.Data.Clients.Get(r.Context(), ti.ID(), clientID)
		if errors.Is(err, adapters.ErrNotFound) {
			logoutError(w, "Unknown client_id")
			return
		} else if err != nil {
			s.internal(w, r, "logout client lookup", err)
			return
		}
		if target != "" && !logoutURLAllowed(target, c.AllowedLogoutURLs) {
			logoutError(w, "post_logout_redirect_uri is not one of the allowed logout URLs")
			return
		}
	}
	s.endSession(w, r, ti, sub, clientID)
	if target == "" {
		loggedOutPage(w)
		return
	}
	if state != "" {
		u, _ := url.Parse(target) // parsed by logoutURLAllowed
		v := u.Query()
		v.Set("state", state)
		u.RawQuery = v.Encode()
		target = u.String()
	}
	redirectAfterLogout(w, target)
}

// endSession revokes the SSO session named by the request's session cookie
// (only if it is sub's, when sub is given), clears the cookie and logs slo.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, ti *tenant.Info, sub, clientID string) {
	ctx := r.Context()
	now := s.now()
	userID := ""
	if id := session.CookieValue(r, ti.ID(), ti.Issuer); id != "" && s.Sessions != nil {
		sess, err := s.Sessions.GetSession(ctx, ti.ID(), id)
		switch {
		case err == nil && (sub == "" || sess.UserID == sub):
			userID = sess.UserID
			if sess.RevokedAt == nil {
				_, err := s.Sessions.UpdateSession(ctx, ti.ID(), id, func(x *adapters.Session) error {
					if x.RevokedAt == nil {
						x.RevokedAt = &now
					}
					return nil
				})
				if err != nil && !errors.Is(err, adapters.ErrNotFound) {
					s.log().ErrorContext(ctx, "oauth: cannot revoke the session at logout", "err", err)
				}
			}
		case err != nil && !errors.Is(err, adapters.ErrNotFound):
			s.log().ErrorContext(ctx, "oauth: session lookup at logout", "err", err)
		}
	}
	session.ClearCookie(w, ti.ID(), ti.Issuer)
	s.event(r, logLogout, adapters.Log{ClientID: limit(clientID), UserID: userID, Description: "User successfully logged out"})
}

// logoutURLAllowed reports whether target is an absolute http(s) URL equal,
// byte for byte, to one of allowed (OpenID RP-Initiated Logout §3: exact
// match).
func logoutURLAllowed(target string, allowed []string) bool {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return false
	}
	return slices.Contains(allowed, target)
}

// audiences reads an aud claim, a string or an array of strings.
func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}

// pageHeaders are the headers of the HTML pages served here: no caching, no
// framing, no referrer, no scripts.
func pageHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
}

// redirectAfterLogout answers 302 to an already validated target.
func redirectAfterLogout(w http.ResponseWriter, target string) {
	pageHeaders(w.Header())
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// loggedOutPage is shown when no return URL was given.
func loggedOutPage(w http.ResponseWriter) {
	pageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Logged out</title></head>` +
		`<body style="font-family:sans-serif;text-align:center;margin-top:4rem"><h1>You have been logged out</h1><p>You can close this window.</p></body></html>`))
}

// logoutError is the 400 JSON answer of the logout endpoints (no redirect).
func logoutError(w http.ResponseWriter, desc string) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeJSON(w, http.StatusBadRequest, errInvalidRequest(desc))
}
