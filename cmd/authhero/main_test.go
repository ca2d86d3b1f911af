package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/internal/testdb"
)

// TestMigrateCommand runs `authhero migrate --database DSN` on every dialect,
// twice: the second run finds nothing to do and still succeeds.
func TestMigrateCommand(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		for i := 0; i < 2; i++ {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"migrate", "--database", dsn}, &out, &errb)
			require.Equal(t, 0, code, errb.String())
			require.Contains(t, out.String(), "migrated")
		}
	})
}

// TestMigrateBadDatabase reports a clear error and a non-zero exit code.
func TestMigrateBadDatabase(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"migrate", "--database", "oracle://x"}, &out, &errb)
	require.Equal(t, 1, code)
	require.Contains(t, errb.String(), "unsupported database scheme")
}

// TestUnknownCommand prints the usage.
func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, &out, &errb))
	require.Contains(t, errb.String(), "usage: authhero")
}
