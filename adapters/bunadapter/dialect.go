package bunadapter

import (
	"errors"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Dialect names returned by Adapter.Dialect.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
	SQLite   = "sqlite"
)

// dialect holds what differs between the three SQL dialects in the queries
// this package writes itself: placeholders, identifier quoting, row locks and
// the error codes of unique violations.
type dialect struct {
	name string
}

// rebind turns '?' placeholders into '$n' for Postgres. The queries this
// package writes never contain '?' inside string literals.
func (d dialect) rebind(q string) string {
	if d.name != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// forUpdate is the row-lock suffix for a SELECT inside a transaction. SQLite
// needs none: its transactions start IMMEDIATE and hold the write lock.
func (d dialect) forUpdate() string {
	if d.name == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// isUnique reports whether err is a unique or primary-key violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLITE_CONSTRAINT_PRIMARYKEY (1555), SQLITE_CONSTRAINT_UNIQUE (2067)
		return se.Code() == 1555 || se.Code() == 2067
	}
	return false
}

// isTooLong reports a value too long for its column (a safety net behind the
// length checks made before writing).
func isTooLong(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "22001"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1406
	}
	return false
}

// insertIgnore returns an INSERT that does nothing when the row exists.
func (d dialect) insertIgnore(table string, cols []string) string {
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	if d.name == MySQL {
		return "INSERT IGNORE" + strings.TrimPrefix(q, "INSERT")
	}
	return q + " ON CONFLICT DO NOTHING"
}

// likeEscape is the ESCAPE clause for LIKE patterns made by query.LikePattern.
func (d dialect) likeEscape() string {
	if d.name == MySQL {
		return ` ESCAPE '\\'`
	}
	return ` ESCAPE '\'`
}
