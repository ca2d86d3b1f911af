package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// openSQLite returns the bun adapter on a migrated temp-file SQLite database.
func openSQLite(t *testing.T) *adapters.DataAdapters {
	t.Helper()
	ctx := context.Background()
	a, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "conformance.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.NoError(t, a.Migrate(ctx))
	return a.DataAdapters
}

// TestConformance runs the conformance suite against SQLite with MemoryUsers
// swapped in: the users group, which is the whole Users contract, plus the
// groups that need the Users field next to SQL adapters (passwords,
// user_roles, user_permissions, organizations) and the tenants group, since
// WithMemoryUsers wraps Tenants.Delete.
//
// Two groups are left out on purpose:
//
//   - "transactions" checks that user writes inside a failed transaction are
//     rolled back, which a map outside the database cannot do (see
//     TestTransactionsDoNotRollBackUsers; its commit case would pass);
//   - "isolation" needs every adapter, and its user_delete_cascade case
//     expects Users.Delete to remove the user's passwords, sessions, roles and
//     memberships, which live in the SQL adapters (the port has no call to
//     delete a user's passwords). Its other cases pass.
func TestConformance(t *testing.T) {
	sqlite := openSQLite(t)
	adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters {
		return WithMemoryUsers(sqlite)
	}, adaptertest.Only("users", "tenants", "passwords", "user_roles", "user_permissions", "organizations"))
}

// TestRun runs the example program.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), filepath.Join(t.TempDir(), "example.db"), &out))
	require.Contains(t, out.String(), "tenant (SQLite):")
	require.Contains(t, out.String(), "user (MemoryUsers):")
	require.Contains(t, out.String(), `"email": "jane.doe@example.com"`)
	require.Contains(t, out.String(), `"user_id": "auth0|`)
}

// TestRunTempDatabase runs the example the way `go run` does, on a temporary
// database.
func TestRunTempDatabase(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), "", &out))
	require.Contains(t, out.String(), "jane.doe@example.com")
}

// TestSearchGetterCoversAllowList checks that the query.Match getter knows
// every field a users q may name.
func TestSearchGetterCoversAllowList(t *testing.T) {
	login := adapters.Now()
	u := adapters.User{
		UserID: "auth0|1", Email: "a@example.com", Username: "a", PhoneNumber: "+1", Name: "A",
		GivenName: "A", FamilyName: "B", Nickname: "a", Picture: "p", Locale: "en", LinkedTo: "x|1",
		Provider: "auth0", Connection: "c", LastIP: "203.0.113.1", LastLogin: &login,
		CreatedAt: login, UpdatedAt: login,
	}
	get := userField(&u)
	for field := range adapters.UserSearch.Fields {
		_, ok := get(field)
		require.True(t, ok, "the getter does not know %q", field)
	}
}

// TestTransactionsDoNotRollBackUsers documents the limitation of a map-based
// adapter: inside DataAdapters.Transaction, tx.Users is the same MemoryUsers,
// so the transaction sees its own user writes and a commit keeps them, but a
// rollback does not undo them.
func TestTransactionsDoNotRollBackUsers(t *testing.T) {
	d := WithMemoryUsers(openSQLite(t))
	ctx := t.Context()
	tn, err := d.Tenants.Create(ctx, adapters.Tenant{FriendlyName: "tx"})
	require.NoError(t, err)
	boom := errors.New("boom")
	var id string
	err = d.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		require.Same(t, d.Users, tx.Users, "tx.Users must be the MemoryUsers")
		u, err := tx.Users.Create(ctx, tn.ID, adapters.User{Connection: "db"})
		if err != nil {
			return err
		}
		id = u.UserID
		if _, err := tx.Users.Get(ctx, tn.ID, id); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = d.Users.Get(ctx, tn.ID, id)
	require.NoError(t, err, "MemoryUsers cannot roll back: the user is still there")
}

// TestTenantDeleteDropsUsers checks that deleting a tenant through the
// wrapped adapters removes its users from the map.
func TestTenantDeleteDropsUsers(t *testing.T) {
	d := WithMemoryUsers(openSQLite(t))
	ctx := t.Context()
	tn, err := d.Tenants.Create(ctx, adapters.Tenant{FriendlyName: "gone"})
	require.NoError(t, err)
	u, err := d.Users.Create(ctx, tn.ID, adapters.User{Connection: "db"})
	require.NoError(t, err)
	require.NoError(t, d.Tenants.Delete(ctx, tn.ID))
	_, err = d.Users.Get(ctx, tn.ID, u.UserID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
	require.ErrorIs(t, d.Tenants.Delete(ctx, tn.ID), adapters.ErrNotFound)
}

// TestCopies checks that neither the caller's input nor a returned user
// shares maps or slices with the stored one.
func TestCopies(t *testing.T) {
	m := NewMemoryUsers()
	ctx := t.Context()
	in := adapters.User{Connection: "db", AppMetadata: adapters.Metadata{"plan": "free"},
		Identities: []adapters.Identity{{Connection: "db", UserID: "1", Provider: "auth0"}}}
	got, err := m.Create(ctx, "t1", in)
	require.NoError(t, err)
	in.AppMetadata["plan"] = "changed input"
	in.Identities[0].UserID = "changed input"
	got.AppMetadata["plan"] = "changed output"
	got.Identities[0].UserID = "changed output"

	var seen *adapters.User
	_, err = m.Update(ctx, "t1", got.UserID, func(u *adapters.User) error {
		seen = u
		return nil
	})
	require.NoError(t, err)
	seen.AppMetadata["plan"] = "changed after update"

	res, err := m.List(ctx, "t1", adapters.ListParams{})
	require.NoError(t, err)
	res.Items[0].AppMetadata["plan"] = "changed list item"

	stored, err := m.Get(ctx, "t1", got.UserID)
	require.NoError(t, err)
	require.Equal(t, "free", stored.AppMetadata["plan"])
	require.Equal(t, "1", stored.Identities[0].UserID)
}

// TestConcurrentUpdates checks that concurrent updates of one user lose no
// write, and that mutate may read through the adapter.
func TestConcurrentUpdates(t *testing.T) {
	m := NewMemoryUsers()
	ctx := t.Context()
	u, err := m.Create(ctx, "t1", adapters.User{Connection: "db"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				_, err := m.Update(ctx, "t1", u.UserID, func(x *adapters.User) error {
					if _, err := m.Get(ctx, "t1", x.UserID); err != nil {
						return err
					}
					x.LoginsCount++
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := m.Get(ctx, "t1", u.UserID)
	require.NoError(t, err)
	require.Equal(t, 200, got.LoginsCount)
}

// TestDeletedDuringMutate checks that an update whose user is deleted while
// mutate runs stores nothing.
func TestDeletedDuringMutate(t *testing.T) {
	m := NewMemoryUsers()
	ctx := t.Context()
	u, err := m.Create(ctx, "t1", adapters.User{Connection: "db"})
	require.NoError(t, err)
	_, err = m.Update(ctx, "t1", u.UserID, func(x *adapters.User) error {
		x.Name = "late"
		return m.Delete(ctx, "t1", x.UserID)
	})
	require.ErrorIs(t, err, adapters.ErrNotFound)
	_, err = m.Get(ctx, "t1", u.UserID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
	require.True(t, strings.HasPrefix(u.UserID, "auth0|"))
}
