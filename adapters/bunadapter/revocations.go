package bunadapter

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// sessionRevocations implements adapters.SessionRevocationsAdapter on the
// session_revocations table (migration 0002).
type sessionRevocations struct{ c *conn }

// revokeUpdate raises revoked_at and expires_at of an existing record to the
// given values when they are later; it never lowers them.
const revokeUpdate = "UPDATE session_revocations SET " +
	"revoked_at = CASE WHEN revoked_at < ? THEN ? ELSE revoked_at END, " +
	"expires_at = CASE WHEN expires_at < ? THEN ? ELSE expires_at END " +
	"WHERE tenant_id = ? AND id = ?"

func (r sessionRevocations) Revoke(ctx context.Context, t, id string, at, until time.Time) error {
	if t == "" {
		return adapters.Invalid("tenant_id", "is required")
	}
	if id == "" {
		return adapters.Invalid("id", "is required")
	}
	if err := lengths("session revocation", idLen, "id", id); err != nil {
		return err
	}
	if err := lengths("session revocation", shortLen, "tenant_id", t); err != nil {
		return err
	}
	if until.IsZero() {
		return adapters.Invalid("expires_at", "is required")
	}
	atMs, untilMs := ms(adapters.Millis(at)), ms(adapters.Millis(until))
	update := func() (int, error) {
		return rowsAffected(r.c.exec(ctx, revokeUpdate, atMs, atMs, untilMs, untilMs, t, id))
	}
	// Update first; when no row changed, insert unless a row exists; when
	// the insert lost a race with another Revoke, update that row. MySQL
	// counts changed rows only, so an update to equal values also lands in
	// the insert, which is then ignored: the outcome is the same.
	n, err := update()
	if err != nil || n > 0 {
		return err
	}
	q := r.c.a.d.insertIgnore("session_revocations", []string{"tenant_id", "id", "revoked_at", "expires_at"})
	if n, err = rowsAffected(r.c.exec(ctx, q, t, id, atMs, untilMs)); err != nil || n > 0 {
		return err
	}
	_, err = update()
	return err
}

func (r sessionRevocations) Get(ctx context.Context, t, id string) (*adapters.SessionRevocation, error) {
	var at, until int64
	err := r.c.x.QueryRowContext(ctx, r.c.a.d.rebind("SELECT revoked_at, expires_at FROM session_revocations WHERE tenant_id = ? AND id = ?"), t, id).Scan(&at, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, adapters.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &adapters.SessionRevocation{TenantID: t, ID: id, RevokedAt: time.UnixMilli(at).UTC(), ExpiresAt: time.UnixMilli(until).UTC()}, nil
}

func (r sessionRevocations) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	return r.c.deleteExpired(ctx, "session_revocations", []string{"tenant_id", "id"}, "expires_at < ?", before, batch)
}
