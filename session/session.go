// Package session is the port for browser sessions and login transactions,
// and its SQL (data adapter) and in-memory implementations. The Redis and
// stateless stores implement the same Store.
//
// A Session is the SSO session behind the tenant's session cookie; a login
// transaction (adapters.LoginSession) carries one /authorize request through
// the login pages to the callback.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Store keeps sessions and login transactions. Every method is tenant
// scoped; a session of another tenant is ErrNotFound (adapters.ErrNotFound).
type Store interface {
	// CreateSession stores s; an empty id is filled with NewID.
	CreateSession(ctx context.Context, tenantID string, s adapters.Session) (*adapters.Session, error)
	// GetSession returns a session, revoked or expired ones included: the
	// caller decides (Usable).
	GetSession(ctx context.Context, tenantID, id string) (*adapters.Session, error)
	// UpdateSession applies mutate atomically.
	UpdateSession(ctx context.Context, tenantID, id string, mutate func(*adapters.Session) error) (*adapters.Session, error)
	// DeleteSession removes a session.
	DeleteSession(ctx context.Context, tenantID, id string) error
	// ListUserSessions returns a user's sessions, newest first.
	ListUserSessions(ctx context.Context, tenantID, userID string) ([]adapters.Session, error)
	// RevokeUserSessions revokes every session of a user ("log out
	// everywhere", blocking).
	RevokeUserSessions(ctx context.Context, tenantID, userID string, at time.Time) (int, error)

	// CreateLogin stores a login transaction; an empty id is filled.
	CreateLogin(ctx context.Context, tenantID string, l adapters.LoginSession) (*adapters.LoginSession, error)
	// GetLogin returns a login transaction.
	GetLogin(ctx context.Context, tenantID, id string) (*adapters.LoginSession, error)
	// UpdateLogin applies mutate atomically.
	UpdateLogin(ctx context.Context, tenantID, id string, mutate func(*adapters.LoginSession) error) (*adapters.LoginSession, error)
	// DeleteLogin removes a login transaction.
	DeleteLogin(ctx context.Context, tenantID, id string) error

	// Ping checks the store answers (for /health).
	Ping(ctx context.Context) error
}

// NewID returns a new session id: 256 random bits, base64url. Session ids
// are bearer secrets (they are the cookie), so they are not ULIDs.
func NewID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Usable reports whether s may still be used for SSO at now: not revoked,
// not past its absolute or idle expiry.
func Usable(s *adapters.Session, now time.Time) bool {
	if s == nil || s.RevokedAt != nil {
		return false
	}
	if s.ExpiresAt != nil && !now.Before(*s.ExpiresAt) {
		return false
	}
	if s.IdleExpiresAt != nil && !now.Before(*s.IdleExpiresAt) {
		return false
	}
	return true
}
