package adaptertest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// TestSelfSQLite runs the suite against the bun adapter on a temp-file
// SQLite database.
func TestSelfSQLite(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters {
		ctx := context.Background()
		a, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "conformance.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = a.Close() })
		require.NoError(t, a.Migrate(ctx))
		return a.DataAdapters
	})
}
