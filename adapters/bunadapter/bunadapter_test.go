package bunadapter_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

// open opens and migrates a fresh database and closes it with the test.
func open(t *testing.T, dsn string) *bunadapter.Adapter {
	t.Helper()
	a, err := bunadapter.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(context.Background()))
	return a
}

// TestConformance runs the adapter contract on every dialect.
func TestConformance(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		a := open(t, dsn)
		adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters { return a.DataAdapters })
	})
}

// TestMigrateConcurrently runs Migrate from several pools at once on one
// database: all succeed and each version is recorded once.
func TestMigrateConcurrently(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		const n = 4
		as := make([]*bunadapter.Adapter, n)
		for i := range as {
			a, err := bunadapter.Open(ctx, dsn)
			require.NoError(t, err)
			t.Cleanup(func() { a.Close() })
			as[i] = a
		}
		errs := make(chan error, n)
		for _, a := range as {
			go func() { errs <- a.Migrate(ctx) }()
		}
		for range as {
			require.NoError(t, <-errs)
		}
		require.NoError(t, as[0].Migrate(ctx), "a second Migrate is a no-op")
		var versions, distinct int
		require.NoError(t, as[0].DB().DB.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT version) FROM authhero_migrations").Scan(&versions, &distinct))
		require.Equal(t, distinct, versions)
		require.Positive(t, versions)
		// The schema works after the race.
		_, err := as[1].Tenants.Create(ctx, adapters.Tenant{ID: "t1", FriendlyName: "One"})
		require.NoError(t, err)
	})
}

// TestOpenRejectsBadURLs checks that Open explains what it accepts.
func TestOpenRejectsBadURLs(t *testing.T) {
	for _, dsn := range []string{"", "nope", "oracle://x", "sqlite://"} {
		_, err := bunadapter.Open(context.Background(), dsn)
		require.Error(t, err, dsn)
	}
}
