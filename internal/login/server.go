// Package login serves the browser side of authentication: GET /authorize
// (https://auth0.com/docs/api/authentication#authorize-application) and the
// universal login pages under /u/ (identifier, password, signup, password
// reset, email verification), with SSO sessions, PKCE and the response
// modes query, fragment, form_post and web_message.
//
// Errors about the client or the redirect URI are shown on our own page and
// never redirected (RFC 9700 §4.1); every other error goes back to the
// registered redirect URI with state and iss (RFC 9207).
package login

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/email"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/session"
)

// Lifetimes of the login flow (AuthHero's constants).
const (
	codeTTL        = 5 * time.Minute
	loginTTL       = time.Hour
	resetTTL       = 30 * time.Minute
	verifyTTL      = 7 * 24 * time.Hour
	defaultAbsLife = 7 * 24 * time.Hour // Auth0's default maximum session lifetime
	defaultIdle    = 3 * 24 * time.Hour // Auth0's default idle session lifetime
)

// Server serves /authorize and /u/.
type Server struct {
	Data     *adapters.DataAdapters
	Sessions session.Store
	Accounts *accounts.Service
	Limiter  bruteforce.Limiter
	// Email sends verification and reset links; nil logs them.
	Email email.Sender
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Logger receives operational errors; nil means slog.Default().
	Logger *slog.Logger
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) mailer() email.Sender {
	if s.Email != nil {
		return s.Email
	}
	return email.Log{Logger: s.log()}
}

// Routes registers the endpoints behind wrap (tenant resolution).
func (s *Server) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	h := func(f http.HandlerFunc) http.Handler { return wrap(f) }
	mux.Handle("GET /authorize", h(s.Authorize))
	mux.Handle("GET /u/login", h(s.loginRedirect))
	mux.Handle("GET /u/login/identifier", h(s.identifierPage))
	mux.Handle("POST /u/login/identifier", h(s.identifierPost))
	mux.Handle("GET /u/login/password", h(s.passwordPage))
	mux.Handle("POST /u/login/password", h(s.passwordPost))
	mux.Handle("GET /u/signup", h(s.signupPage))
	mux.Handle("POST /u/signup", h(s.signupPost))
	mux.Handle("GET /u/reset-password/request", h(s.resetRequestPage))
	mux.Handle("POST /u/reset-password/request", h(s.resetRequestPost))
	mux.Handle("GET /u/reset-password", h(s.resetPage))
	mux.Handle("POST /u/reset-password", h(s.resetPost))
	mux.Handle("GET /u/email-verification", h(s.verifyEmail))
}
