package session_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/session/storetest"
)

// sqliteData opens a migrated temp-file SQLite database.
func sqliteData(t *testing.T) *adapters.DataAdapters {
	t.Helper()
	return openData(t, "sqlite://"+filepath.Join(t.TempDir(), "sessions.db"))
}

// openData opens and migrates the database at dsn.
func openData(t *testing.T, dsn string) *adapters.DataAdapters {
	t.Helper()
	ctx := context.Background()
	a, err := bunadapter.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.NoError(t, a.Migrate(ctx))
	return a.DataAdapters
}

// redisClient connects to the test Redis and returns a key prefix of its
// own, whose keys are deleted when the test ends.
func redisClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	addr := storetest.RedisAddr(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DialTimeout: time.Second, ReadTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("redis at %s (%s) does not answer: %v", addr, storetest.RedisEnv, err)
	}
	prefix := "authhero-test:" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		require.NoError(t, iter.Err())
		if len(keys) > 0 {
			require.NoError(t, c.Del(ctx, keys...).Err())
		}
	})
	return c, prefix
}

func secret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func TestStoreContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store { return session.NewMemory() })
	})
	for _, dialect := range testdb.Dialects {
		t.Run("sql_"+dialect, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) session.Store { return session.NewSQL(openData(t, testdb.Fresh(t, dialect))) })
		})
	}
	t.Run("redis", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store {
			c, prefix := redisClient(t)
			return session.NewRedis(c, session.RedisOptions{Prefix: prefix})
		}, storetest.ForgetsExpiredSessions(), storetest.ForgetsExpiredLogins())
	})
	t.Run("stateless_memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store {
			s, err := session.NewStateless([][]byte{secret()}, session.NewMemoryRevocationList())
			require.NoError(t, err)
			return s
		}, storetest.Stateless())
	})
	t.Run("stateless_sql", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store {
			d := sqliteData(t)
			revs, err := session.NewRevocationList(d)
			require.NoError(t, err)
			s, err := session.NewStateless([][]byte{secret(), secret()}, revs, session.StatelessLogins(session.NewSQL(d)))
			require.NoError(t, err)
			return s
		}, storetest.Stateless())
	})
	t.Run("stateless_redis_logins", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store {
			c, prefix := redisClient(t)
			s, err := session.NewStateless([][]byte{secret()}, session.NewMemoryRevocationList(),
				session.StatelessLogins(session.NewRedis(c, session.RedisOptions{Prefix: prefix})))
			require.NoError(t, err)
			return s
		}, storetest.Stateless(), storetest.ForgetsExpiredLogins())
	})
}
