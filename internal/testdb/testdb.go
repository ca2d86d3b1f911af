// Package testdb gives tests a fresh database per dialect: SQLite always, and
// Postgres and MySQL when AUTHHERO_TEST_POSTGRES_DSN / AUTHHERO_TEST_MYSQL_DSN
// are set. Under CI=true a missing DSN or an unreachable server fails the test
// instead of skipping it, so a green CI always means all three ran.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// Environment variables naming the servers to test against.
const (
	PostgresEnv = "AUTHHERO_TEST_POSTGRES_DSN"
	MySQLEnv    = "AUTHHERO_TEST_MYSQL_DSN"
)

// Dialects lists the dialect subtest names in the order Each runs them.
var Dialects = []string{"sqlite", "postgres", "mysql"}

// Each runs fn once per dialect as a subtest named by the dialect, with the
// DSN of a fresh, empty database that is dropped when the subtest ends.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, Fresh(t, d))
		})
	}
}

// Fresh returns the DSN of a new empty database of the dialect, dropped at
// the end of the test. It skips (or fails under CI=true) when the dialect's
// server is not configured or not reachable.
func Fresh(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite://" + filepath.Join(t.TempDir(), "authhero.db")
	case "postgres":
		return freshServer(t, PostgresEnv, createPostgres)
	case "mysql":
		return freshServer(t, MySQLEnv, createMySQL)
	}
	t.Fatalf("testdb: unknown dialect %q", dialect)
	return ""
}

// Unavailable skips the test because a service or tool it needs is missing,
// or, under CI=true, fails it: CI must run every suite.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: a missing service is an error)", args...)
	}
	t.Skipf(format, args...)
}

func freshServer(t testing.TB, env string, create func(ctx context.Context, base, name string) (string, func(), error)) string {
	t.Helper()
	base := os.Getenv(env)
	if base == "" {
		Unavailable(t, "testdb: %s is not set", env)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "authhero_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, drop, err := create(ctx, base, name)
	if err != nil {
		Unavailable(t, "testdb: cannot create a database on %s: %v", env, err)
	}
	t.Cleanup(drop)
	return dsn
}

func withDB(u *url.URL, name string) string {
	v := *u
	v.Path = "/" + name
	return v.String()
}

func createPostgres(ctx context.Context, base, name string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return withDB(u, name), drop, nil
}

func createMySQL(ctx context.Context, base, name string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" {
		cfg.Addr += ":3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return "", nil, err
	}
	admin := sql.OpenDB(conn)
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", name)); err != nil {
		admin.Close()
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
		admin.Close()
	}
	return withDB(u, name), drop, nil
}
