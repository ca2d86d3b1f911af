package management

import (
	"context"
	"net/http"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

func (s *Server) sessionRoutes() {
	s.handle("GET /api/v2/sessions/{id}", "read:sessions", s.getSession)
	s.handle("DELETE /api/v2/sessions/{id}", "delete:sessions", s.deleteSession)
	s.handle("POST /api/v2/sessions/{id}/revoke", "update:sessions", s.revokeSession)
	s.handle("GET /api/v2/refresh-tokens/{id}", "read:refresh_tokens", s.getRefreshToken)
	s.handle("DELETE /api/v2/refresh-tokens/{id}", "delete:refresh_tokens", s.deleteRefreshToken)
}

// sessionClient is one client of a session, in Auth0's shape.
type sessionClient struct {
	ClientID string `json:"client_id"`
}

// sessionOut is a session in Auth0's shape
// (https://auth0.com/docs/api/management/v2/sessions/get-session), with
// revoked_at added.
type sessionOut struct {
	ID               string          `json:"id"`
	UserID           string          `json:"user_id"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	AuthenticatedAt  time.Time       `json:"authenticated_at"`
	LastInteractedAt time.Time       `json:"last_interacted_at"`
	ExpiresAt        *time.Time      `json:"expires_at,omitempty"`
	IdleExpiresAt    *time.Time      `json:"idle_expires_at,omitempty"`
	RevokedAt        *time.Time      `json:"revoked_at,omitempty"`
	Device           adapters.Device `json:"device"`
	Clients          []sessionClient `json:"clients"`
}

func newSessionOut(ss *adapters.Session) sessionOut {
	out := sessionOut{ID: ss.ID, UserID: ss.UserID, CreatedAt: ss.CreatedAt, UpdatedAt: ss.UpdatedAt,
		AuthenticatedAt: ss.AuthenticatedAt, LastInteractedAt: ss.LastInteractionAt, ExpiresAt: ss.ExpiresAt,
		IdleExpiresAt: ss.IdleExpiresAt, RevokedAt: ss.RevokedAt, Device: ss.Device, Clients: []sessionClient{}}
	for _, id := range ss.Clients {
		out.Clients = append(out.Clients, sessionClient{ClientID: id})
	}
	return out
}

// sessions returns the App's session store (the database's when none is
// set), so these endpoints reach Redis and stateless sessions too.
func (s *Server) sessions() session.Store {
	if s.Sessions != nil {
		return s.Sessions
	}
	return session.NewSQL(s.Data)
}

// sessionsInDB reports whether the session store is the database's, whose
// lists page with cursors; other stores' lists are paged in memory.
func (s *Server) sessionsInDB() bool {
	st := s.sessions()
	for {
		if _, ok := st.(*session.SQL); ok {
			return true
		}
		u, ok := st.(interface{ Unwrap() session.Store })
		if !ok {
			return false
		}
		st = u.Unwrap()
	}
}

func (s *Server) getSession(r *http.Request, c *call) (int, any, *apiError) {
	ss, err := s.sessions().GetSession(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "session")
	}
	return http.StatusOK, newSessionOut(ss), nil
}

// deleteSession is DELETE /api/v2/sessions/{id}; as in Auth0 it leaves the
// session's refresh tokens alone (revoke ends those too). 202 as Auth0.
func (s *Server) deleteSession(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.sessions().DeleteSession(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "session")
	}
	return http.StatusAccepted, nil, nil
}

// revokeSession is POST /api/v2/sessions/{id}/revoke: it sets the session's
// revoked_at in the session store, then revokes the refresh tokens issued
// through it in one database transaction.
func (s *Server) revokeSession(r *http.Request, c *call) (int, any, *apiError) {
	id := r.PathValue("id")
	now := adapters.Millis(s.now())
	sess, err := s.sessions().UpdateSession(r.Context(), c.tenantID(), id, func(ss *adapters.Session) error {
		if ss.RevokedAt == nil {
			ss.RevokedAt = &now
		}
		return nil
	})
	if err == nil {
		err = s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
			return revokeSessionTokens(ctx, tx, c.tenantID(), sess, now)
		})
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "session")
	}
	return http.StatusAccepted, nil, nil
}

// revokeSessionTokens revokes the refresh tokens issued through the session:
// a refresh token names its login transaction, and the login transaction
// names the session. Admin-only, so walking the user's tokens is fine.
func revokeSessionTokens(ctx context.Context, tx *adapters.DataAdapters, tenantID string, sess *adapters.Session, now time.Time) error {
	_, err := tx.RefreshTokens.RevokeByLogin(ctx, tenantID, sess.ID, now) // tokens that name the session itself
	if err != nil {
		return err
	}
	p := adapters.ListParams{Take: adapters.MaxPerPage}
	for {
		l, err := tx.RefreshTokens.ListByUser(ctx, tenantID, sess.UserID, p)
		if err != nil {
			return err
		}
		for _, rt := range l.Items {
			if rt.RevokedAt != nil || rt.LoginID == "" {
				continue
			}
			login, err := tx.LoginSessions.Get(ctx, tenantID, rt.LoginID)
			if err != nil || login.SessionID != sess.ID {
				continue
			}
			if _, err := tx.RefreshTokens.RevokeByLogin(ctx, tenantID, rt.LoginID, now); err != nil {
				return err
			}
		}
		if l.Next == "" {
			return nil
		}
		p.From = l.Next
	}
}

// refreshTokenOut is a refresh token as the API shows it: never its lookup
// or hash.
func refreshTokenOut(rt adapters.RefreshToken) adapters.RefreshToken {
	rt.TokenLookup, rt.TokenHash = "", ""
	return rt
}

func (s *Server) getRefreshToken(r *http.Request, c *call) (int, any, *apiError) {
	rt, err := s.Data.RefreshTokens.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "refresh token")
	}
	return http.StatusOK, refreshTokenOut(*rt), nil
}

// deleteRefreshToken is DELETE /api/v2/refresh-tokens/{id}. 202 as Auth0.
func (s *Server) deleteRefreshToken(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.Data.RefreshTokens.Delete(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "refresh token")
	}
	return http.StatusAccepted, nil, nil
}
