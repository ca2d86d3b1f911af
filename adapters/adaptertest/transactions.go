package adaptertest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func testTransactions(t *testing.T, s *suite) {
	d := s.d
	if d.Transaction == nil {
		t.Skip("DataAdapters.Transaction is nil: the adapter has no transactions")
	}
	tn := s.tenant(t)

	t.Run("rollback", func(t *testing.T) {
		u1, u2 := fullUser(), fullUser()
		var seenInside bool
		err := d.InTx(t.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
			if _, err := tx.Users.Create(ctx, tn, u1); err != nil {
				return err
			}
			if _, err := tx.Users.Create(ctx, tn, u2); err != nil {
				return err
			}
			got, err := tx.Users.Get(ctx, tn, u1.UserID)
			seenInside = err == nil && got.UserID == u1.UserID
			return errBoom
		})
		require.ErrorIs(t, err, errBoom, "InTx must return fn's error")
		require.True(t, seenInside, "a transaction must read its own writes")
		for _, u := range []adapters.User{u1, u2} {
			_, err = d.Users.Get(t.Context(), tn, u.UserID)
			require.ErrorIs(t, err, adapters.ErrNotFound, "a rolled-back user exists")
		}
		res, err := d.Users.List(t.Context(), tn, adapters.ListParams{Q: "email:" + u1.Email})
		require.NoError(t, err)
		require.Empty(t, res.Items, "a rolled-back user is listed")
	})
	t.Run("rollback_update", func(t *testing.T) {
		orig, err := d.Users.Create(t.Context(), tn, fullUser())
		require.NoError(t, err)
		err = d.InTx(t.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
			if _, err := tx.Users.Update(ctx, tn, orig.UserID, func(u *adapters.User) error {
				u.Name = "inside"
				return nil
			}); err != nil {
				return err
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		got, err := d.Users.Get(t.Context(), tn, orig.UserID)
		require.NoError(t, err)
		require.Equal(t, *orig, *got, "a rolled-back update changed the user")
	})
	t.Run("commit", func(t *testing.T) {
		u := fullUser()
		var created *adapters.User
		err := d.InTx(t.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
			var err error
			created, err = tx.Users.Create(ctx, tn, u)
			if err != nil {
				return err
			}
			_, err = tx.Users.Update(ctx, tn, u.UserID, func(x *adapters.User) error {
				x.Nickname = "committed"
				return nil
			})
			return err
		})
		require.NoError(t, err)
		got, err := d.Users.Get(t.Context(), tn, u.UserID)
		require.NoError(t, err, "a committed user is missing")
		require.Equal(t, "committed", got.Nickname)
		require.Equal(t, created.CreatedAt, got.CreatedAt)
	})
	t.Run("conflict_inside_rolls_back", func(t *testing.T) {
		first, err := d.Users.Create(t.Context(), tn, fullUser())
		require.NoError(t, err)
		fresh := fullUser()
		err = d.InTx(t.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
			if _, err := tx.Users.Create(ctx, tn, fresh); err != nil {
				return err
			}
			dup := fullUser()
			dup.UserID = first.UserID
			_, err := tx.Users.Create(ctx, tn, dup)
			return err
		})
		require.ErrorIs(t, err, adapters.ErrConflict)
		_, err = d.Users.Get(t.Context(), tn, fresh.UserID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a write before the failing one survived the rollback")
	})
}
