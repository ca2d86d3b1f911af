package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/internal/secrets"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// Keys is what the endpoints need of the signing-key service.
type Keys interface {
	// Sign signs claims with the tenant's current key; typ is the JOSE typ.
	Sign(ctx context.Context, tenantID string, claims map[string]any, typ string) (string, error)
	// JWKS returns the tenant's public key set as JSON.
	JWKS(ctx context.Context, tenantID string) ([]byte, error)
	// Verify checks a JWT's signature, its JOSE typ and its time claims
	// against the tenant's published keys and returns its claims.
	Verify(ctx context.Context, tenantID, token, typ string) (claims map[string]any, err error)
}

// Server serves the OAuth/OIDC endpoints. The tenant comes from the request
// context (package tenant).
type Server struct {
	// Data is the storage.
	Data *adapters.DataAdapters
	// Keys signs and verifies tokens.
	Keys Keys
	// Box opens client secrets.
	Box *secrets.Box
	// Sessions holds SSO sessions and login transactions.
	Sessions session.Store
	// Accounts checks database users' passwords (password grants).
	Accounts *accounts.Service
	// Limiter blocks brute-force password guessing per (tenant, user, IP).
	Limiter bruteforce.Limiter
	// Audit writes the client_credentials log entries (seccft, feccft) in
	// the background; nil writes them inline.
	Audit *AuditQueue
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives operational errors; nil means slog.Default().
	Logger *slog.Logger
	// Reset delivers password-reset codes (/dbconnections/change_password);
	// nil sends nothing.
	Reset ResetSender
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

// internal reports an unexpected failure without leaking its text.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, where string, err error) {
	s.log().ErrorContext(r.Context(), "oauth: "+where, "err", err)
	writeJSON(w, http.StatusInternalServerError, &Error{Code: "server_error", Description: "The server could not complete the request"})
}

// Routes registers the endpoints on mux, each behind wrap (tenant
// resolution).
func (s *Server) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	mux.Handle("POST /oauth/token", wrap(http.HandlerFunc(s.Token)))
	mux.Handle("GET /oauth/token", http.HandlerFunc(methodNotAllowed("POST")))
	mux.Handle("GET /userinfo", wrap(http.HandlerFunc(s.UserInfo)))
	mux.Handle("POST /userinfo", wrap(http.HandlerFunc(s.UserInfo)))
	mux.Handle("POST /oauth/revoke", wrap(http.HandlerFunc(s.Revoke)))
	mux.Handle("GET /.well-known/openid-configuration", wrap(http.HandlerFunc(s.Discovery)))
	mux.Handle("GET /.well-known/jwks.json", wrap(http.HandlerFunc(s.JWKS)))
	mux.Handle("GET /v2/logout", wrap(http.HandlerFunc(s.Logout)))
	mux.Handle("GET /oidc/logout", wrap(http.HandlerFunc(s.OIDCLogout)))
	mux.Handle("POST /oidc/logout", wrap(http.HandlerFunc(s.OIDCLogout)))
	mux.Handle("POST /dbconnections/signup", wrap(http.HandlerFunc(s.Signup)))
	mux.Handle("POST /dbconnections/change_password", wrap(http.HandlerFunc(s.ChangePassword)))
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errInvalidRequest("use "+allow))
	}
}

func tenantOf(r *http.Request) *tenant.Info { return tenant.FromContext(r.Context()) }
