package keys

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/secrets"
	"github.com/authhero-go/authhero/internal/testdb"
)

// clock is a settable clock shared by the managers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one database with a box and a clock.
type env struct {
	dsn   string
	store *adapters.DataAdapters
	box   *secrets.Box
	clk   *clock
}

func newEnv(t testing.TB) *env {
	return newEnvDSN(t, testdb.Fresh(t, "sqlite"))
}

func newEnvDSN(t testing.TB, dsn string) *env {
	t.Helper()
	e := &env{dsn: dsn, clk: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	a := openStore(t, dsn)
	require.NoError(t, a.Migrate(context.Background()))
	e.store = a.DataAdapters
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	e.box, err = secrets.NewBox(key)
	require.NoError(t, err)
	return e
}

// openStore opens another connection pool on the database: another instance.
func openStore(t testing.TB, dsn string) *bunadapter.Adapter {
	t.Helper()
	a, err := bunadapter.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// manager returns a Manager on store (the env's by default) with the env's
// clock.
func (e *env) manager(store *adapters.DataAdapters, opts Options) *Manager {
	if store == nil {
		store = e.store
	}
	if opts.Now == nil {
		opts.Now = e.clk.Now
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	return NewManager(store, e.box, opts)
}

func (e *env) tenant(t testing.TB, id, signingAlg string) {
	t.Helper()
	_, err := e.store.Tenants.Create(context.Background(), adapters.Tenant{ID: id, FriendlyName: id, SigningAlg: signingAlg})
	require.NoError(t, err)
}

// claims returns ID-token-like claims valid for ttl from the env's clock.
func (e *env) claims(ttl time.Duration) map[string]any {
	now := e.clk.Now()
	return map[string]any{
		"iss": "https://tenant.example.com/",
		"sub": "auth0|123",
		"aud": "client-1",
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
}

// roles counts a tenant's rows in the database.
type roles struct {
	current, next, previous, total int
	currentKid, nextKid            string
}

func countRoles(t testing.TB, store *adapters.DataAdapters, tenantID string) roles {
	t.Helper()
	rows, err := store.Keys.List(context.Background(), tenantID)
	require.NoError(t, err)
	var r roles
	for _, k := range rows {
		r.total++
		switch {
		case k.Current:
			r.current++
			r.currentKid = k.Kid
		case k.Next:
			r.next++
			r.nextKid = k.Kid
		case k.Previous:
			r.previous++
		}
	}
	return r
}

// countingKeys counts the reads that reach the store.
type countingKeys struct {
	adapters.KeysAdapter
	lists atomic.Int64
}

func (c *countingKeys) List(ctx context.Context, tenantID string) ([]adapters.SigningKey, error) {
	c.lists.Add(1)
	return c.KeysAdapter.List(ctx, tenantID)
}
