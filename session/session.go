// Package session is the port for browser sessions and login transactions
// (Store) and its four implementations. A Session is the SSO session behind
// the tenant's session cookie; a login transaction (adapters.LoginSession)
// carries one /authorize request through the login pages to the callback and
// the token endpoint.
//
// The contract every Store meets, including a custom one given to
// Options.SessionStore, is written and tested in package session/storetest.
// In short: every method is tenant scoped (another tenant's id is
// ErrNotFound), updates are atomic, values are copies, and a store may forget
// a session once it is past its expires_at or idle_expires_at (and a login
// transaction past its expires_at): GetSession of a forgotten session is
// ErrNotFound, exactly as for one that never existed.
//
// # Choosing a store
//
// Sessions must work on every instance that may serve the browser's next
// request. The multi-cloud guide offers two ways, a shared session store or
// stateless (JWT-style) sessions, and this package has both, next to the
// default:
//
//   - SQL (NewSQL, the default): the data adapter's sessions and
//     login_sessions tables. Durable, shared by every instance on the
//     database, nothing more to run. Each login and SSO check is a database
//     round trip, and instances on independent databases only see each
//     other's sessions through replication.
//
//   - Redis (NewRedis): a shared session store, as the guide's Option 1.
//     Fast, shared by every instance (standalone, Sentinel or Cluster),
//     sessions expire on their own through key TTLs, and logout, "log out
//     everywhere" and revocation take effect at once everywhere. It is one
//     more piece of shared infrastructure: every region must reach it, and
//     while it is down nobody can log in (calls fail within
//     RedisOptions.Timeout, never hang). Sessions are lost if Redis loses
//     its data (users log in again; refresh tokens, in the data adapter,
//     keep working).
//
//   - Stateless (NewStateless): the guide's Option 2, "JWT tokens": the
//     session lives in its own cookie, sealed with AES-256-GCM (encrypted and
//     authenticated) under a secret every instance shares, and bound to its
//     tenant. No shared session infrastructure, every instance with the
//     secret accepts the cookie, nothing to scale. The guide's trade-offs
//     hold, and this is how they are handled:
//
//     Revocation: a cookie cannot be recalled from the browsers that hold
//     it. Logout, DeleteSession and RevokeUserSessions therefore write to a
//     small RevocationList (kept in the data adapter by NewRevocationList,
//     table session_revocations) that every read consults, until the refused
//     cookies would have expired; so revocation is immediate where that
//     list is shared, and the store is only as stateless as that list.
//     ListUserSessions cannot list anything (the server does not know the
//     sessions) and RevokeUserSessions cannot count them.
//
//     Size: the sealed session rides on every request to the tenant's host
//     and must fit a cookie (browsers keep about 4 KB per cookie; this store
//     refuses values above 3800 bytes with ErrInvalid). A session as the
//     login flow makes it seals to about 0.8 KB with a desktop browser's user
//     agent, growing by some 45 bytes per client it is used with.
//
//     Security: anyone holding the secret can mint sessions for any user of
//     any tenant, so it is a key like EncryptionKey (at least 32 random
//     bytes, rotated by listing the new one first). An old copy of a cookie
//     stays valid until it expires unless it is revoked, and updates are
//     last-cookie-wins rather than merged.
//
//     Cookie changes: UpdateSession returns the session under a NEW id (the
//     re-sealed value). The login flow must set the cookie again after every
//     update it wants the browser to keep (the idle expiry moving forward on
//     SSO, the client list); otherwise the browser keeps presenting the old
//     value, whose idle expiry does not move. Use StableID, not the id, to
//     name a session across updates (for the OIDC sid).
//
//     Login transactions are short-lived server-side state by nature and
//     stay in another Store (StatelessLogins): the SQL store for several
//     instances, Memory for one.
//
//   - Memory (NewMemory): this process only, lost on restart; for tests,
//     development and a single instance.
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
