package management

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/internal/secrets"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// Keys is what the Management API needs of the signing-key service.
type Keys interface {
	// Verify checks a JWT of the given JOSE typ against the tenant's keys.
	Verify(ctx context.Context, tenantID, token, typ string) (map[string]any, error)
	// Rotate and Revoke manage the tenant's signing keys.
	Rotate(ctx context.Context, tenantID string) error
	Revoke(ctx context.Context, tenantID, kid string) error
	// List returns the tenant's keys without private material.
	List(ctx context.Context, tenantID string) ([]adapters.SigningKey, error)
}

// Server serves /api/v2 for the tenant in the request context.
type Server struct {
	// Data is the storage (the cached adapters, so writes invalidate the
	// token path's caches).
	Data *adapters.DataAdapters
	// Keys verifies management tokens and manages signing keys.
	Keys Keys
	// Provisioner creates tenants and management clients.
	Provisioner *provision.Provisioner
	// Box seals and opens client secrets.
	Box *secrets.Box
	// Sessions is the App's session store; blocking a user revokes its
	// sessions there too. Nil: only the database's sessions are revoked.
	Sessions session.Store
	// ControlPlane is the tenant whose tokens may manage other tenants
	// through /api/v2/tenants. Empty: no tenant may.
	ControlPlane string
	// RateLimit is the sustained Management API requests per second allowed
	// per tenant on this instance, with bursts of twice that. Zero: 50.
	// Negative: no limit.
	RateLimit float64
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Logger receives operational errors; nil means slog.Default().
	Logger *slog.Logger

	mux    *http.ServeMux
	limits *limiter
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

// handler is a Management API handler: it returns the status and body to
// write, or an error.
type handler func(r *http.Request, c *call) (int, any, *apiError)

// call carries what a handler needs about the request.
type call struct {
	tenant *tenant.Info
	token  *token
}

func (c *call) tenantID() string { return c.tenant.ID() }

// Routes mounts /api/v2/ on mux behind wrap (tenant resolution with the
// tenant-id header allowed).
func (s *Server) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	s.mux = http.NewServeMux()
	switch {
	case s.RateLimit == 0:
		s.limits = &limiter{rate: 50, burst: 100}
	case s.RateLimit > 0:
		s.limits = &limiter{rate: s.RateLimit, burst: 2 * s.RateLimit}
	}
	s.routes()
	mux.Handle("/api/v2/", wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern == "" {
			writeJSON(w, http.StatusNotFound, newErr(http.StatusNotFound, "", "Not Found"))
			return
		}
		s.mux.ServeHTTP(w, r) // sets the path values
	})))
}

// handle registers a route that needs any one of scopes. A route that starts
// "tenants!" is a control-plane route; all others need a token of the
// request's own tenant.
func (s *Server) handle(pattern string, scope string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ti := tenant.FromContext(r.Context())
		e := s.rateLimit(w, ti.ID())
		var tok *token
		if e == nil {
			tok, e = s.authenticate(r, ti)
		}
		if e == nil {
			e = tok.require(scope)
		}
		if e != nil {
			s.finish(w, r, ti, nil, e.StatusCode, e)
			return
		}
		status, body, e := h(r, &call{tenant: ti, token: tok})
		if e != nil {
			s.finish(w, r, ti, tok, e.StatusCode, e)
			return
		}
		s.finish(w, r, ti, tok, status, body)
	})
}

// finish writes the response and the management log entry: sapi for a
// successful write, fapi for a failure (not for a GET that found nothing).
func (s *Server) finish(w http.ResponseWriter, r *http.Request, ti *tenant.Info, tok *token, status int, body any) {
	if status == http.StatusNoContent {
		writeJSON(w, status, nil)
	} else {
		writeJSON(w, status, body)
	}
	write := r.Method != http.MethodGet
	failed := status >= 400
	if !write && (!failed || status == http.StatusNotFound) {
		return
	}
	l := adapters.Log{Type: "sapi", Description: "Management API: " + r.Method + " " + r.URL.Path,
		IP: clientIP(r), UserAgent: r.UserAgent(), Hostname: ti.Host, Details: map[string]any{"status": status}}
	if failed {
		l.Type = "fapi"
		if e, ok := body.(*apiError); ok {
			l.Details["message"] = e.Message
		}
	}
	if tok != nil {
		l.ClientID = tok.clientID
	}
	if _, err := s.Data.Logs.Create(context.WithoutCancel(r.Context()), ti.ID(), l); err != nil {
		s.log().WarnContext(r.Context(), "management: cannot write log", "err", err)
	}
}

func clientIP(r *http.Request) string { return tenant.ClientIP(r) }

// internal logs err and returns a 500 without its text.
func (s *Server) internal(r *http.Request, where string, err error) *apiError {
	s.log().ErrorContext(r.Context(), "management: "+where, "err", err)
	return newErr(http.StatusInternalServerError, "", "Internal Server Error")
}

// fail maps a storage error to the API error for entity, or a 500.
func (s *Server) fail(r *http.Request, err error, entity string) *apiError {
	if e := storeErr(err, entity); e != nil {
		return e
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return s.internal(r, entity, err)
}

// ---- list parameters and responses ----

// listParams reads page, per_page, include_totals, from, take, sort and q.
func listParams(r *http.Request) (adapters.ListParams, *apiError) {
	q := r.URL.Query()
	var p adapters.ListParams
	var err error
	ints := []struct {
		name string
		dst  *int
	}{{"page", &p.Page}, {"per_page", &p.PerPage}, {"take", &p.Take}}
	for _, f := range ints {
		if v := q.Get(f.name); v != "" {
			if *f.dst, err = strconv.Atoi(v); err != nil || *f.dst < 0 {
				return p, badQuery("'%s' must be a non-negative integer", f.name)
			}
		}
	}
	if v := q.Get("include_totals"); v != "" {
		if p.IncludeTotals, err = strconv.ParseBool(v); err != nil {
			return p, badQuery("'include_totals' must be true or false")
		}
	}
	p.From, p.Sort, p.Q = q.Get("from"), q.Get("sort"), q.Get("q")
	return p, nil
}

// page renders a list in Auth0's shapes: a bare array, an object with
// totals (include_totals) or with next (checkpoint pagination).
func page[T any](key string, p adapters.ListParams, l *adapters.List[T]) any {
	if p.Checkpoint() {
		out := map[string]any{key: l.Items}
		if l.Next != "" {
			out["next"] = l.Next
		}
		if p.IncludeTotals {
			out["total"] = l.Total
		}
		return out
	}
	if !p.IncludeTotals {
		return l.Items
	}
	return map[string]any{"start": l.Start, "limit": l.Limit, "length": len(l.Items), "total": l.Total, key: l.Items}
}

// listErr maps a list error (bad q, cursor, sort) to a 400.
func listErr(s *Server, r *http.Request, err error, entity string) *apiError {
	var inv *adapters.InvalidError
	if errors.As(err, &inv) {
		return badQuery("%s", inv.Error())
	}
	return s.fail(r, err, entity)
}
