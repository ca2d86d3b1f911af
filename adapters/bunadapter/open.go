// Package bunadapter is the SQL implementation of the authhero-go storage
// port (package adapters) on github.com/uptrace/bun, for PostgreSQL (and
// Postgres-compatible services), MySQL/MariaDB (and PlanetScale) and SQLite
// (pure Go, no cgo; also the embedded and D1-style deployments).
//
// Every tenant-scoped table is keyed by (tenant_id, id). Each row keeps the
// columns that lookups, uniqueness, search and sorting need, plus the whole
// entity as a JSON document. Times are stored as Unix milliseconds (UTC) on
// every dialect. All values reach the database as bound parameters.
package bunadapter

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/schema"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/authhero-go/authhero/adapters"
)

// Adapter is the bun-backed storage. Its embedded *adapters.DataAdapters is
// what authhero.Options.DataAdapter takes.
type Adapter struct {
	*adapters.DataAdapters
	db  *bun.DB
	d   dialect
	rep *replica // read replica, nil without one (replica.go)
}

// Open connects to the database named by dsn and returns an adapter; call
// Migrate before first use. Accepted forms:
//
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://)
//	mysql://user:pass@host:3306/db
//	sqlite:///absolute/path/file.db   sqlite://relative/file.db   sqlite://:memory:
//
// SQLite files are opened in WAL mode with a busy timeout and IMMEDIATE
// transactions so that two processes can share one file.
//
// WithReplica adds a read replica for the configuration reads that tolerate
// replication lag; its documentation says which reads those are.
func Open(ctx context.Context, dsn string, opts ...OpenOption) (*Adapter, error) {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	sqldb, d, err := openSQL(dsn)
	if err != nil {
		return nil, fmt.Errorf("bunadapter: %w", err)
	}
	a := New(bun.NewDB(sqldb, d))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("bunadapter: connect %s: %w", redact(dsn), err)
	}
	if o.replicaDSN != "" {
		if err := a.openReplica(ctx, o.replicaDSN, o.replica); err != nil {
			sqldb.Close()
			return nil, err
		}
	}
	return a, nil
}

// openSQL opens the pool and picks the bun dialect of a database URL.
func openSQL(dsn string) (*sql.DB, schema.Dialect, error) {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, nil, fmt.Errorf("database URL %q has no scheme; use postgres://, mysql:// or sqlite://", redact(dsn))
	}
	var (
		sqldb *sql.DB
		d     schema.Dialect
		err   error
	)
	switch scheme {
	case "postgres", "postgresql":
		sqldb, err = sql.Open("pgx", dsn)
		d = pgdialect.New()
	case "mysql":
		var cfg *mysql.Config
		if cfg, err = mysqlConfig(dsn); err == nil {
			var conn driver.Connector
			if conn, err = mysql.NewConnector(cfg); err == nil {
				sqldb = sql.OpenDB(conn)
			}
		}
		d = mysqldialect.New()
	case "sqlite", "sqlite3", "file":
		path := strings.TrimPrefix(dsn, scheme+"://")
		sqldb, err = openSQLite(path)
		d = sqlitedialect.New()
	default:
		return nil, nil, fmt.Errorf("unsupported database scheme %q; use postgres://, mysql:// or sqlite://", scheme)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", redact(dsn), err)
	}
	return sqldb, d, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("empty sqlite path; use sqlite:///path/file.db or sqlite://:memory:")
	}
	if path == ":memory:" {
		// One connection: every connection to :memory: is a new database.
		db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return db, nil
	}
	path, query, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return db, nil
}

// mysqlConfig turns mysql://user:pass@host:port/db?params into the driver's
// configuration.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Host + ":3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.Params = map[string]string{}
	for k, v := range u.Query() {
		switch k {
		case "tls":
			cfg.TLSConfig = v[0]
		default:
			cfg.Params[k] = v[0]
		}
	}
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_bin"
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
	return cfg, nil
}

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// New wraps a *bun.DB the caller owns (its pool settings and lifetime). The
// dialect is taken from db.
func New(db *bun.DB) *Adapter {
	a := &Adapter{db: db}
	switch db.Dialect().Name().String() {
	case "pg":
		a.d = dialect{Postgres}
	case "mysql":
		a.d = dialect{MySQL}
	default:
		a.d = dialect{SQLite}
	}
	a.DataAdapters = a.bind(a.root())
	return a
}

// DB returns the underlying *bun.DB.
func (a *Adapter) DB() *bun.DB { return a.db }

// Dialect returns "postgres", "mysql" or "sqlite".
func (a *Adapter) Dialect() string { return a.d.name }

// Close closes the database pool, and the read replica's if Open opened it.
func (a *Adapter) Close() error {
	if a.rep != nil {
		a.rep.close()
	}
	return a.db.Close()
}
