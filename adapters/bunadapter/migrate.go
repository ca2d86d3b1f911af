package bunadapter

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema step, rendered for a dialect.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file is
// named NNNN_name.sql; NNNN_name.<dialect>.sql overrides it for one dialect.
func (d dialect) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]migration{}
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		name, only, hasDialect := strings.Cut(base, ".")
		if hasDialect && only != d.name {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("bunadapter: bad migration file name %q", e.Name())
		}
		if _, seen := byVersion[v]; seen && !hasDialect {
			continue
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		byVersion[v] = migration{version: v, name: name, sql: d.render(string(body))}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// render replaces the type placeholders of a migration for the dialect.
func (d dialect) render(s string) string {
	var doc, text, boolean, opts string
	switch d.name {
	case Postgres:
		doc, text, boolean = "TEXT", "TEXT", "BOOLEAN"
	case MySQL:
		doc, text, boolean = "LONGTEXT", "TEXT", "BOOLEAN"
		opts = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	default:
		doc, text, boolean = "TEXT", "TEXT", "BOOLEAN"
	}
	return strings.NewReplacer("{doc}", doc, "{text}", text, "{bool}", boolean, "{opts}", opts).Replace(s)
}

// statements splits a migration into statements, dropping comments.
func statements(s string) []string {
	var out []string
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(b.String()), ";"))
			b.Reset()
		}
	}
	if strings.TrimSpace(b.String()) != "" {
		out = append(out, strings.TrimSpace(b.String()))
	}
	return out
}

// Migrate applies the embedded migrations that the database lacks. It is safe
// to run from several processes at once: Postgres takes an advisory lock,
// MySQL a named lock, and SQLite an IMMEDIATE transaction, so exactly one
// process applies each version and the others wait, then find nothing to do.
func (a *Adapter) Migrate(ctx context.Context) error {
	ms, err := a.d.migrations()
	if err != nil {
		return err
	}
	conn, err := a.db.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bunadapter: migrate: %w", err)
	}
	defer conn.Close()

	unlock, err := a.lock(ctx, conn)
	if err != nil {
		return fmt.Errorf("bunadapter: migrate lock: %w", err)
	}
	ok := false
	defer func() { unlock(ok) }()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS authhero_migrations (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(191) NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("bunadapter: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM authhero_migrations`)
	if err != nil {
		return fmt.Errorf("bunadapter: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := a.apply(ctx, conn, m); err != nil {
			return fmt.Errorf("bunadapter: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	ok = true
	return nil
}

// apply runs one migration. On Postgres and SQLite DDL is transactional and
// the migration is all or nothing; MySQL commits each DDL statement, so a
// failed MySQL migration is reported and left for an operator.
func (a *Adapter) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	record := a.d.rebind(`INSERT INTO authhero_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
	if a.d.name == MySQL {
		for _, st := range statements(m.sql) {
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return err
			}
		}
		_, err := conn.ExecContext(ctx, record, m.version, m.name, time.Now().UnixMilli())
		return err
	}
	if a.d.name == SQLite {
		// Already inside the BEGIN IMMEDIATE lock transaction.
		for _, st := range statements(m.sql) {
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return err
			}
		}
		_, err := conn.ExecContext(ctx, record, m.version, m.name, time.Now().UnixMilli())
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, st := range statements(m.sql) {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			tx.Rollback()
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, record, m.version, m.name, time.Now().UnixMilli()); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lock takes the dialect's cross-process migration lock on conn. The returned
// function releases it; on SQLite it commits the work done under the lock when
// ok is true and rolls it back otherwise.
func (a *Adapter) lock(ctx context.Context, conn *sql.Conn) (func(ok bool), error) {
	switch a.d.name {
	case Postgres:
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7383412094)`); err != nil {
			return nil, err
		}
		return func(bool) { conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7383412094)`) }, nil
	case MySQL:
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK('authhero_migrate', 120)`).Scan(&got); err != nil {
			return nil, err
		}
		if !got.Valid || got.Int64 != 1 {
			return nil, fmt.Errorf("timed out waiting for the migration lock")
		}
		return func(bool) { conn.ExecContext(context.Background(), `SELECT RELEASE_LOCK('authhero_migrate')`) }, nil
	default:
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return nil, err
		}
		return func(ok bool) {
			if ok {
				conn.ExecContext(context.Background(), `COMMIT`)
			} else {
				conn.ExecContext(context.Background(), `ROLLBACK`)
			}
		}, nil
	}
}
