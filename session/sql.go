package session

import (
	"context"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// SQL is the Store kept in the data adapter's sessions and login_sessions
// tables: durable and shared by every instance on the database.
type SQL struct{ Data *adapters.DataAdapters }

// NewSQL returns the data-adapter store.
func NewSQL(d *adapters.DataAdapters) *SQL { return &SQL{Data: d} }

// CreateSession implements Store.
func (s *SQL) CreateSession(ctx context.Context, t string, v adapters.Session) (*adapters.Session, error) {
	if v.ID == "" {
		v.ID = NewID()
	}
	return s.Data.Sessions.Create(ctx, t, v)
}

// GetSession implements Store.
func (s *SQL) GetSession(ctx context.Context, t, id string) (*adapters.Session, error) {
	return s.Data.Sessions.Get(ctx, t, id)
}

// UpdateSession implements Store.
func (s *SQL) UpdateSession(ctx context.Context, t, id string, m func(*adapters.Session) error) (*adapters.Session, error) {
	return s.Data.Sessions.Update(ctx, t, id, m)
}

// DeleteSession implements Store.
func (s *SQL) DeleteSession(ctx context.Context, t, id string) error {
	return s.Data.Sessions.Delete(ctx, t, id)
}

// ListUserSessions implements Store.
func (s *SQL) ListUserSessions(ctx context.Context, t, userID string) ([]adapters.Session, error) {
	var out []adapters.Session
	p := adapters.ListParams{Take: adapters.MaxPerPage}
	for {
		l, err := s.Data.Sessions.ListByUser(ctx, t, userID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.Next == "" {
			return out, nil
		}
		p.From = l.Next
	}
}

// RevokeUserSessions implements Store.
func (s *SQL) RevokeUserSessions(ctx context.Context, t, userID string, at time.Time) (int, error) {
	return s.Data.Sessions.RevokeByUser(ctx, t, userID, at)
}

// CreateLogin implements Store.
func (s *SQL) CreateLogin(ctx context.Context, t string, l adapters.LoginSession) (*adapters.LoginSession, error) {
	if l.ID == "" {
		l.ID = NewID()
	}
	return s.Data.LoginSessions.Create(ctx, t, l)
}

// GetLogin implements Store.
func (s *SQL) GetLogin(ctx context.Context, t, id string) (*adapters.LoginSession, error) {
	return s.Data.LoginSessions.Get(ctx, t, id)
}

// UpdateLogin implements Store.
func (s *SQL) UpdateLogin(ctx context.Context, t, id string, m func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	return s.Data.LoginSessions.Update(ctx, t, id, m)
}

// DeleteLogin implements Store.
func (s *SQL) DeleteLogin(ctx context.Context, t, id string) error {
	return s.Data.LoginSessions.Delete(ctx, t, id)
}

// Ping implements Store.
func (s *SQL) Ping(ctx context.Context) error {
	if s.Data.Ping == nil {
		return nil
	}
	return s.Data.Ping(ctx)
}
