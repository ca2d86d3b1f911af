package cache_test

import (
	"testing"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/cache"
)

// TestConformance runs the storage contract against the cache over a
// temp-file SQLite database: decorating must not change any behaviour that a
// single process can observe.
func TestConformance(t *testing.T) {
	a := openSQLite(t)
	adaptertest.Run(t, func(*testing.T) *adapters.DataAdapters {
		return cache.New(a.DataAdapters, cache.Options{})
	})
}
