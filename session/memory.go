package session

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Memory is a Store in this process's memory: for tests, development and
// single-instance deployments. Sessions are lost on restart and not shared
// between instances. Expired entries are dropped as they are met and by
// Sweep.
type Memory struct {
	mu       sync.Mutex
	sessions map[[2]string]adapters.Session
	logins   map[[2]string]adapters.LoginSession
	now      func() time.Time
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{sessions: map[[2]string]adapters.Session{}, logins: map[[2]string]adapters.LoginSession{}, now: time.Now}
}

// clone deep-copies through JSON so callers never share maps or slices with
// the store.
func clone[T any](v T) *T {
	b, _ := json.Marshal(v)
	out := new(T)
	json.Unmarshal(b, out)
	return out
}

func stampSession(s *adapters.Session, now time.Time) {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.CreatedAt = adapters.Millis(s.CreatedAt)
	s.UpdatedAt = adapters.Millis(now)
	if s.AuthenticatedAt.IsZero() {
		s.AuthenticatedAt = s.CreatedAt
	}
	if s.LastInteractionAt.IsZero() {
		s.LastInteractionAt = s.CreatedAt
	}
	if s.Clients == nil {
		s.Clients = []string{}
	}
}

// CreateSession implements Store.
func (m *Memory) CreateSession(_ context.Context, t string, s adapters.Session) (*adapters.Session, error) {
	if s.ID == "" {
		s.ID = NewID()
	}
	if s.UserID == "" {
		return nil, adapters.Invalid("user_id", "is required")
	}
	stampSession(&s, m.now())
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, s.ID}
	if _, ok := m.sessions[k]; ok {
		return nil, &adapters.ConflictError{Entity: "session", Rule: "id"}
	}
	m.sessions[k] = *clone(s)
	return clone(s), nil
}

// GetSession implements Store.
func (m *Memory) GetSession(_ context.Context, t, id string) (*adapters.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[[2]string{t, id}]
	if !ok {
		return nil, adapters.ErrNotFound
	}
	return clone(s), nil
}

// UpdateSession implements Store.
func (m *Memory) UpdateSession(_ context.Context, t, id string, mutate func(*adapters.Session) error) (*adapters.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	old, ok := m.sessions[k]
	if !ok {
		return nil, adapters.ErrNotFound
	}
	s := clone(old)
	if err := mutate(s); err != nil {
		return nil, err
	}
	s.ID, s.CreatedAt = old.ID, old.CreatedAt
	stampSession(s, m.now())
	m.sessions[k] = *clone(*s)
	return s, nil
}

// DeleteSession implements Store.
func (m *Memory) DeleteSession(_ context.Context, t, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	if _, ok := m.sessions[k]; !ok {
		return adapters.ErrNotFound
	}
	delete(m.sessions, k)
	return nil
}

// ListUserSessions implements Store.
func (m *Memory) ListUserSessions(_ context.Context, t, userID string) ([]adapters.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []adapters.Session{}
	for k, s := range m.sessions {
		if k[0] == t && s.UserID == userID {
			out = append(out, *clone(s))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RevokeUserSessions implements Store.
func (m *Memory) RevokeUserSessions(_ context.Context, t, userID string, at time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	at = adapters.Millis(at)
	for k, s := range m.sessions {
		if k[0] == t && s.UserID == userID && s.RevokedAt == nil {
			s.RevokedAt = &at
			m.sessions[k] = s
			n++
		}
	}
	return n, nil
}

// CreateLogin implements Store.
func (m *Memory) CreateLogin(_ context.Context, t string, l adapters.LoginSession) (*adapters.LoginSession, error) {
	if l.ID == "" {
		l.ID = NewID()
	}
	if l.ExpiresAt.IsZero() {
		return nil, adapters.Invalid("expires_at", "is required")
	}
	now := adapters.Millis(m.now())
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now
	}
	l.UpdatedAt = now
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, l.ID}
	if _, ok := m.logins[k]; ok {
		return nil, &adapters.ConflictError{Entity: "login session", Rule: "id"}
	}
	m.logins[k] = *clone(l)
	return clone(l), nil
}

// GetLogin implements Store.
func (m *Memory) GetLogin(_ context.Context, t, id string) (*adapters.LoginSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logins[[2]string{t, id}]
	if !ok {
		return nil, adapters.ErrNotFound
	}
	return clone(l), nil
}

// UpdateLogin implements Store.
func (m *Memory) UpdateLogin(_ context.Context, t, id string, mutate func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	old, ok := m.logins[k]
	if !ok {
		return nil, adapters.ErrNotFound
	}
	l := clone(old)
	if err := mutate(l); err != nil {
		return nil, err
	}
	l.ID, l.CreatedAt, l.UpdatedAt = old.ID, old.CreatedAt, adapters.Millis(m.now())
	m.logins[k] = *clone(*l)
	return l, nil
}

// DeleteLogin implements Store.
func (m *Memory) DeleteLogin(_ context.Context, t, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{t, id}
	if _, ok := m.logins[k]; !ok {
		return adapters.ErrNotFound
	}
	delete(m.logins, k)
	return nil
}

// Sweep drops expired sessions and login transactions and returns how many.
func (m *Memory) Sweep(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, s := range m.sessions {
		if (s.ExpiresAt != nil && !now.Before(*s.ExpiresAt)) || (s.IdleExpiresAt != nil && !now.Before(*s.IdleExpiresAt)) {
			delete(m.sessions, k)
			n++
		}
	}
	for k, l := range m.logins {
		if !now.Before(l.ExpiresAt) {
			delete(m.logins, k)
			n++
		}
	}
	return n
}

// Ping implements Store; memory always answers.
func (m *Memory) Ping(context.Context) error { return nil }
