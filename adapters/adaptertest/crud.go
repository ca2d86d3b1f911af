package adaptertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// entity describes one entity for the generic get/delete/update contract.
// Every function is bound to one tenant.
type entity[T any] struct {
	// create stores a new entity with every field set and returns it as
	// stored.
	create func(t *testing.T) *T
	get    func(ctx context.Context, key string) (*T, error)
	// update is nil for entities without Update.
	update func(ctx context.Context, key string, mutate func(*T) error) (*T, error)
	// del is nil for entities without Delete.
	del       func(ctx context.Context, key string) error
	key       func(*T) string
	setKey    func(*T, string)
	createdAt func(*T) *time.Time
	// updatedAt is nil for entities without updated_at.
	updatedAt func(*T) *time.Time
	// change assigns a new value to exactly one field (it must assign, not
	// modify shared maps or slices in place).
	change func(*T)
	// newKey returns a fresh key that no entity has.
	newKey func() string
}

// runEntity runs get_unknown, delete, delete_unknown and the update contract
// as subtests.
func runEntity[T any](t *testing.T, e entity[T]) {
	t.Run("get_unknown", func(t *testing.T) {
		got, err := e.get(t.Context(), e.newKey())
		require.ErrorIs(t, err, adapters.ErrNotFound, "Get of an unknown key returned %+v", got)
	})
	if e.del != nil {
		t.Run("delete", func(t *testing.T) {
			x := e.create(t)
			k := e.key(x)
			require.NoError(t, e.del(t.Context(), k))
			_, err := e.get(t.Context(), k)
			require.ErrorIs(t, err, adapters.ErrNotFound, "Get after Delete")
			require.ErrorIs(t, e.del(t.Context(), k), adapters.ErrNotFound, "second Delete")
		})
		t.Run("delete_unknown", func(t *testing.T) {
			require.ErrorIs(t, e.del(t.Context(), e.newKey()), adapters.ErrNotFound)
		})
		t.Run("delete_leaves_others", func(t *testing.T) {
			a, b := e.create(t), e.create(t)
			require.NoError(t, e.del(t.Context(), e.key(a)))
			got, err := e.get(t.Context(), e.key(b))
			require.NoError(t, err, "Delete removed another entity")
			require.Equal(t, *b, *got)
		})
	}
	if e.update != nil {
		runUpdate(t, e)
	}
}

// runUpdate runs the partial-update contract as subtests.
func runUpdate[T any](t *testing.T, e entity[T]) {
	t.Run("update_one_field", func(t *testing.T) {
		orig := e.create(t)
		k := e.key(orig)
		sleepTick()
		want := *orig
		e.change(&want)
		require.NotEqual(t, *orig, want, "the test's change function changes nothing")
		var seen T
		calls := 0
		before := time.Now()
		got, err := e.update(t.Context(), k, func(x *T) error {
			calls++
			seen = *x
			e.change(x)
			return nil
		})
		after := time.Now()
		require.NoError(t, err)
		require.Equal(t, 1, calls, "mutate must be called exactly once")
		require.Equal(t, *orig, seen, "mutate must receive the stored entity")
		stored, err := e.get(t.Context(), k)
		require.NoError(t, err)
		require.Equal(t, *got, *stored, "Update must return the entity as stored")
		if e.updatedAt != nil {
			up := *e.updatedAt(stored)
			requireRecent(t, up, before, after, "updated_at after Update")
			require.True(t, up.After(*e.updatedAt(orig)), "updated_at did not move forward: %v -> %v", *e.updatedAt(orig), up)
			*e.updatedAt(&want) = up
		}
		require.Equal(t, *e.createdAt(orig), *e.createdAt(stored), "Update changed created_at")
		require.Equal(t, want, *stored, "Update must change the one field and preserve every other")
	})
	t.Run("update_mutate_error", func(t *testing.T) {
		orig := e.create(t)
		k := e.key(orig)
		got, err := e.update(t.Context(), k, func(x *T) error {
			e.change(x)
			return errBoom
		})
		require.ErrorIs(t, err, errBoom, "Update must return mutate's error (got entity %+v)", got)
		stored, err := e.get(t.Context(), k)
		require.NoError(t, err)
		require.Equal(t, *orig, *stored, "a failed mutate changed the stored entity")
	})
	t.Run("update_key_immutable", func(t *testing.T) {
		orig := e.create(t)
		k := e.key(orig)
		nk := e.newKey()
		_, err := e.update(t.Context(), k, func(x *T) error {
			e.setKey(x, nk)
			e.change(x)
			return nil
		})
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrInvalid, "changing the key must be ignored or ErrInvalid")
		}
		stored, err := e.get(t.Context(), k)
		require.NoError(t, err, "the entity moved away from its key")
		require.Equal(t, k, e.key(stored))
		moved, err := e.get(t.Context(), nk)
		require.ErrorIs(t, err, adapters.ErrNotFound, "an entity appeared under the new key: %+v", moved)
	})
	t.Run("update_created_at_immutable", func(t *testing.T) {
		orig := e.create(t)
		k := e.key(orig)
		_, err := e.update(t.Context(), k, func(x *T) error {
			*e.createdAt(x) = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			return nil
		})
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrInvalid, "changing created_at must be ignored or ErrInvalid")
		}
		stored, err := e.get(t.Context(), k)
		require.NoError(t, err)
		require.Equal(t, *e.createdAt(orig), *e.createdAt(stored), "Update changed created_at")
	})
	t.Run("update_unknown", func(t *testing.T) {
		called := false
		_, err := e.update(t.Context(), e.newKey(), func(*T) error {
			called = true
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.False(t, called, "mutate was called for an unknown key")
	})
}

// requireCreated checks the stored entity that Create returned against what
// was asked, once id and timestamps are copied over, and that Get returns the
// same.
func requireCreated[T any](t *testing.T, want T, got *T, get func() (*T, error)) {
	t.Helper()
	require.NotNil(t, got, "Create returned nil")
	require.Equal(t, want, *got, "Create must return the entity as stored")
	fetched, err := get()
	require.NoError(t, err)
	require.Equal(t, *got, *fetched, "Get must return what Create returned")
}
