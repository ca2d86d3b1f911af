package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// lifetimes returns the tenant's absolute and idle session lifetimes.
func lifetimes(t *adapters.Tenant) (abs, idle time.Duration) {
	abs, idle = defaultAbsLife, defaultIdle
	if t.SessionLifetime > 0 {
		abs = time.Duration(t.SessionLifetime * float64(time.Hour))
	}
	if t.IdleSessionLifetime > 0 {
		idle = time.Duration(t.IdleSessionLifetime * float64(time.Hour))
	}
	return abs, idle
}

// ssoLogin answers /authorize from an existing session: no password, a new
// code bound to a fresh login transaction.
func (s *Server) ssoLogin(w http.ResponseWriter, r *http.Request, ti *tenant.Info, client *adapters.Client,
	ap adapters.AuthParams, redirect string, sess *adapters.Session, user *adapters.User) {
	ctx := r.Context()
	now := s.now()
	_, idle := lifetimes(ti.Tenant)
	sess, err := s.Sessions.UpdateSession(ctx, ti.ID(), sess.ID, func(x *adapters.Session) error {
		t := now
		x.LastInteractionAt, x.UsedAt = now, &t
		idleUntil := now.Add(idle)
		if x.ExpiresAt == nil || idleUntil.Before(*x.ExpiresAt) {
			x.IdleExpiresAt = &idleUntil
		} else {
			x.IdleExpiresAt = x.ExpiresAt
		}
		if !slices.Contains(x.Clients, client.ClientID) {
			x.Clients = append(x.Clients, client.ClientID)
		}
		x.Device.LastIP, x.Device.LastUserAgent = clientIP(r), truncate(r.UserAgent(), 512)
		return nil
	})
	if err != nil {
		s.unavailable(w, r, ti, "session update", err)
		return
	}
	// Re-set the cookie: its expiry follows the idle extension, and a
	// stateless store re-seals the session into a new value on every update.
	if sess.ExpiresAt != nil {
		session.SetCookie(w, ti.ID(), ti.Issuer, sess.ID, *sess.ExpiresAt)
	}
	authAt := sess.AuthenticatedAt
	// The login transaction lives as long as the session: refresh tokens find
	// their session (sid, auth_time) through it.
	loginUntil := now.Add(loginTTL)
	if sess.ExpiresAt != nil {
		loginUntil = *sess.ExpiresAt
	}
	login, err := s.Sessions.CreateLogin(ctx, ti.ID(), adapters.LoginSession{
		CSRFToken: randomToken(32), AuthParams: ap, ExpiresAt: loginUntil, SessionID: sess.ID,
		UserID: user.UserID, AuthenticatedAt: &authAt, IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 512),
	})
	if err != nil {
		s.unavailable(w, r, ti, "create login", err)
		return
	}
	code, err := s.issueCode(ctx, ti, login, user)
	if err != nil {
		s.unavailable(w, r, ti, "issue code", err)
		return
	}
	if ap.Prompt == "none" {
		s.event(r, ti, "ssa", client, user.UserID, "Successful silent authentication")
	}
	s.respond(w, r, ti, ap, redirect, url.Values{"code": {code}})
}

// completeLogin ends a successful interactive login: a new session (never
// the old id: no fixation), its cookie, a code, the response.
func (s *Server) completeLogin(w http.ResponseWriter, r *http.Request, ti *tenant.Info, login *adapters.LoginSession, user *adapters.User, logType string) {
	ctx := r.Context()
	now := s.now()
	client, err := s.Data.Clients.Get(ctx, ti.ID(), login.AuthParams.ClientID)
	if err != nil {
		s.unavailable(w, r, ti, "client lookup", err)
		return
	}
	if old := session.CookieValue(r, ti.ID(), ti.Issuer); old != "" {
		s.Sessions.UpdateSession(ctx, ti.ID(), old, func(x *adapters.Session) error {
			if x.RevokedAt == nil {
				x.RevokedAt = &now
			}
			return nil
		})
	}
	abs, idle := lifetimes(ti.Tenant)
	expires, idleUntil := now.Add(abs), now.Add(idle)
	if expires.Before(idleUntil) {
		idleUntil = expires
	}
	ua, ip := truncate(r.UserAgent(), 512), clientIP(r)
	sess, err := s.Sessions.CreateSession(ctx, ti.ID(), adapters.Session{
		UserID: user.UserID, LoginSessionID: login.ID, Clients: []string{client.ClientID},
		Device:          adapters.Device{InitialUserAgent: ua, InitialIP: ip, LastUserAgent: ua, LastIP: ip},
		AuthenticatedAt: now, LastInteractionAt: now, ExpiresAt: &expires, IdleExpiresAt: &idleUntil,
	})
	if err != nil {
		s.unavailable(w, r, ti, "create session", err)
		return
	}
	login, err = s.Sessions.UpdateLogin(ctx, ti.ID(), login.ID, func(x *adapters.LoginSession) error {
		x.SessionID, x.UserID, x.AuthenticatedAt, x.State = sess.ID, user.UserID, &now, "authenticated"
		x.ExpiresAt = expires // kept as long as the session, for refresh tokens
		return nil
	})
	if err != nil {
		s.unavailable(w, r, ti, "update login", err)
		return
	}
	if _, err := s.Accounts.RecordLogin(ctx, ti.ID(), user.UserID, ip); err != nil {
		s.log().WarnContext(ctx, "login: cannot record login", "err", err)
	}
	code, err := s.issueCode(ctx, ti, login, user)
	if err != nil {
		s.unavailable(w, r, ti, "issue code", err)
		return
	}
	session.SetCookie(w, ti.ID(), ti.Issuer, sess.ID, expires)
	s.event(r, ti, logType, client, user.UserID, "Successful login")
	redirect := login.AuthParams.RedirectURI
	if redirect == "" && len(client.Callbacks) == 1 {
		redirect = client.Callbacks[0]
	}
	if !slices.Contains(client.Callbacks, redirect) {
		// The client's callbacks changed during the login.
		s.errorPage(w, r, ti, http.StatusBadRequest, "Callback URL mismatch: the redirect_uri is no longer allowed.")
		return
	}
	s.respond(w, r, ti, login.AuthParams, redirect, url.Values{"code": {code}})
}

// issueCode stores an authorization code for the login transaction, bound to
// its client, redirect URI and PKCE challenge.
func (s *Server) issueCode(ctx context.Context, ti *tenant.Info, login *adapters.LoginSession, user *adapters.User) (string, error) {
	ap := login.AuthParams
	c, err := s.Data.Codes.Create(ctx, ti.ID(), adapters.Code{
		CodeType: adapters.CodeAuthorization, CodeID: randomToken(32), LoginID: login.ID, UserID: user.UserID,
		CodeChallenge: ap.CodeChallenge, CodeChallengeMethod: ap.CodeChallengeMethod, RedirectURI: ap.RedirectURI,
		Nonce: ap.Nonce, State: ap.State, ExpiresAt: s.now().Add(codeTTL),
	})
	if err != nil {
		return "", err
	}
	return c.CodeID, nil
}

// event writes a tenant log entry with an Auth0 event code; logging never
// fails the request.
func (s *Server) event(r *http.Request, ti *tenant.Info, typ string, client *adapters.Client, userID, desc string) {
	l := adapters.Log{Type: typ, Description: desc, IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 512),
		UserID: userID, Hostname: ti.Host, Strategy: "auth0", StrategyType: "database"}
	if client != nil {
		l.ClientID, l.ClientName = client.ClientID, client.Name
	}
	if _, err := s.Data.Logs.Create(context.WithoutCancel(r.Context()), ti.ID(), l); err != nil {
		s.log().WarnContext(r.Context(), "login: cannot write log", "type", typ, "err", err)
	}
}
