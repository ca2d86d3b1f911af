package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// RevocationList is what the stateless store (Stateless) keeps on the
// server: the sessions that were logged out before their cookies expired,
// and per user a "revoked before" time for "log out everywhere". An entry
// is needed only until the cookies it refuses would have expired (until);
// after that it may be forgotten. Every method is tenant scoped.
//
// NewRevocationList keeps it in the data adapter (shared by every instance
// on the database); NewMemoryRevocationList in this process only.
type RevocationList interface {
	// Revoke refuses the session with this id (the random jti sealed in its
	// cookie, never the cookie itself) until until.
	Revoke(ctx context.Context, tenantID, sessionID string, until time.Time) error
	// IsRevoked reports whether the session id was revoked.
	IsRevoked(ctx context.Context, tenantID, sessionID string) (bool, error)
	// RevokeUser refuses every session of the user issued at or before
	// before, until until. A later call with an earlier before does not
	// back-date it.
	RevokeUser(ctx context.Context, tenantID, userID string, before, until time.Time) error
	// UserRevokedBefore returns the user's "revoked before" time, or the
	// zero time when there is none.
	UserRevokedBefore(ctx context.Context, tenantID, userID string) (time.Time, error)
}

// AdapterRevocations is the RevocationList kept in the data adapter's
// SessionRevocations (the session_revocations table of bunadapter).
// Records are named by the jti, or "user:"+userID for a user's "revoked
// before" time (a user id too long for a 191-byte id is hashed).
type AdapterRevocations struct {
	a adapters.SessionRevocationsAdapter
}

// NewRevocationList returns the RevocationList kept in the data adapter,
// or an error when it has no SessionRevocations.
func NewRevocationList(d *adapters.DataAdapters) (*AdapterRevocations, error) {
	if d == nil || d.SessionRevocations == nil {
		return nil, errors.New("session: the data adapter has no SessionRevocations (run the bunadapter migrations, or give the stateless store another RevocationList)")
	}
	return &AdapterRevocations{a: d.SessionRevocations}, nil
}

// userKey names the "revoked before" record of a user.
func userKey(userID string) string {
	k := "user:" + userID
	if len(k) > 191 {
		sum := sha256.Sum256([]byte(userID))
		k = "user#" + hex.EncodeToString(sum[:])
	}
	return k
}

// Revoke implements RevocationList.
func (r *AdapterRevocations) Revoke(ctx context.Context, t, id string, until time.Time) error {
	return r.a.Revoke(ctx, t, id, time.Now(), until)
}

// IsRevoked implements RevocationList.
func (r *AdapterRevocations) IsRevoked(ctx context.Context, t, id string) (bool, error) {
	_, err := r.a.Get(ctx, t, id)
	if errors.Is(err, adapters.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RevokeUser implements RevocationList.
func (r *AdapterRevocations) RevokeUser(ctx context.Context, t, userID string, before, until time.Time) error {
	return r.a.Revoke(ctx, t, userKey(userID), before, until)
}

// UserRevokedBefore implements RevocationList.
func (r *AdapterRevocations) UserRevokedBefore(ctx context.Context, t, userID string) (time.Time, error) {
	rec, err := r.a.Get(ctx, t, userKey(userID))
	if errors.Is(err, adapters.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return rec.RevokedAt, nil
}

// MemoryRevocations is a RevocationList in this process's memory: for
// tests and single-instance deployments. Entries past their until are
// dropped as they are met and by Sweep.
type MemoryRevocations struct {
	mu    sync.Mutex
	ids   map[[2]string]time.Time // (tenant, jti) -> until
	users map[[2]string][2]time.Time
}

// NewMemoryRevocationList returns an empty in-memory RevocationList.
func NewMemoryRevocationList() *MemoryRevocations {
	return &MemoryRevocations{ids: map[[2]string]time.Time{}, users: map[[2]string][2]time.Time{}}
}

// Revoke implements RevocationList.
func (m *MemoryRevocations) Revoke(_ context.Context, t, id string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	if old, ok := m.ids[k]; !ok || until.After(old) {
		m.ids[k] = until
	}
	return nil
}

// IsRevoked implements RevocationList.
func (m *MemoryRevocations) IsRevoked(_ context.Context, t, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	until, ok := m.ids[k]
	if ok && !time.Now().Before(until) {
		delete(m.ids, k)
		return false, nil
	}
	return ok, nil
}

// RevokeUser implements RevocationList.
func (m *MemoryRevocations) RevokeUser(_ context.Context, t, userID string, before, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, userID}
	old := m.users[k]
	if before.After(old[0]) {
		old[0] = before
	}
	if until.After(old[1]) {
		old[1] = until
	}
	m.users[k] = old
	return nil
}

// UserRevokedBefore implements RevocationList.
func (m *MemoryRevocations) UserRevokedBefore(_ context.Context, t, userID string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, userID}
	v, ok := m.users[k]
	if ok && !time.Now().Before(v[1]) {
		delete(m.users, k)
		return time.Time{}, nil
	}
	return v[0], nil
}

// Sweep drops the entries whose until has passed and returns how many.
func (m *MemoryRevocations) Sweep(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, until := range m.ids {
		if !now.Before(until) {
			delete(m.ids, k)
			n++
		}
	}
	for k, v := range m.users {
		if !now.Before(v[1]) {
			delete(m.users, k)
			n++
		}
	}
	return n
}
