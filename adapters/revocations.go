package adapters

import (
	"context"
	"time"
)

// SessionRevocation records that a browser session, or every session of a
// user issued up to a time, must no longer be accepted. The stateless
// session store (session.Stateless) keeps nothing else on the server: its
// sessions live in sealed cookies, and logout or "log out everywhere" can only
// be enforced by refusing cookies named here. A record is needed only until
// the cookies it refuses would have expired on their own (ExpiresAt), after
// which DeleteExpired may drop it.
type SessionRevocation struct {
	// TenantID is the tenant of the revoked session(s).
	TenantID string `json:"tenant_id"`
	// ID names what is revoked: the random id (jti) sealed inside one
	// session cookie, or "user:" followed by a user id for every session of
	// that user issued at or before RevokedAt. At most 191 bytes.
	ID string `json:"id"`
	// RevokedAt is when the revocation was made (UTC, milliseconds).
	RevokedAt time.Time `json:"revoked_at"`
	// ExpiresAt is when the record may be forgotten: every cookie it
	// refuses has expired by then (UTC, milliseconds).
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionRevocationsAdapter stores session revocations (see
// SessionRevocation). Records are keyed by (tenant, id).
type SessionRevocationsAdapter interface {
	// Revoke records (tenantID, id) as revoked at at, kept until until. If
	// the record exists, it keeps the later of the two RevokedAt and the
	// later of the two ExpiresAt, so revoking again never shortens or
	// back-dates a revocation. An empty or over-long id, or a zero until, is
	// ErrInvalid.
	Revoke(ctx context.Context, tenantID, id string, at, until time.Time) error
	// Get returns the record, or ErrNotFound. A record past its ExpiresAt is
	// still returned until DeleteExpired removes it.
	Get(ctx context.Context, tenantID, id string) (*SessionRevocation, error)
	// DeleteExpired deletes records whose ExpiresAt is before the given time,
	// in every tenant, at most batch rows per statement, and returns how
	// many it deleted.
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error)
}
