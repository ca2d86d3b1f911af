package bunadapter

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// maxDocument caps the JSON document of one entity (1 MiB).
const maxDocument = 1 << 20

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn is a handle on the pool or on one transaction.
type conn struct {
	a  *Adapter
	x  execer
	tx bool
	// feed is the change feed (changes.go), nil when off; dirty is set on a
	// transaction that recorded change events.
	feed  *feed
	dirty bool
}

func (a *Adapter) root() *conn { return &conn{a: a, x: a.db.DB} }

func (c *conn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.x.ExecContext(ctx, c.a.d.rebind(q), args...)
}

func (c *conn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.x.QueryContext(ctx, c.a.d.rebind(q), args...)
}

// within runs fn in a transaction, reusing the current one if any.
func (c *conn) within(ctx context.Context, fn func(c *conn) error) error {
	if c.tx {
		return fn(c)
	}
	tx, err := c.a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bunadapter: begin: %w", err)
	}
	tc := &conn{a: c.a, x: tx.Tx, tx: true, feed: c.feed}
	if err := fn(tc); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bunadapter: commit: %w", err)
	}
	if tc.dirty {
		c.feed.signal()
	}
	return nil
}

// spec describes how one entity type maps to its table.
type spec[E any] struct {
	table  string
	entity string
	// tenant is true when the table has a tenant_id column that scopes it.
	tenant bool
	// keys are the key columns after tenant_id; keyOf returns their values.
	keys  []string
	keyOf func(*E) []any
	// prepare fills ids, timestamps and normalised fields on create.
	prepare func(e *E, now time.Time)
	// fix restores the immutable fields of old on e after a mutate and bumps
	// updated_at.
	fix func(old, e *E, now time.Time)
	// cols returns the indexed columns (keys and timestamps included, tenant_id
	// and data excluded) and their values.
	cols func(e *E) ([]string, []any, error)
	// hidden columns are read back into fields that JSON omits.
	hidden  []string
	restore func(e *E, vals []sql.NullString)
}

func (s *spec[E]) keyWhere() string {
	parts := make([]string, 0, len(s.keys)+1)
	if s.tenant {
		parts = append(parts, "tenant_id = ?")
	}
	for _, k := range s.keys {
		parts = append(parts, k+" = ?")
	}
	return strings.Join(parts, " AND ")
}

func (s *spec[E]) keyArgs(tenantID string, keys []any) []any {
	if !s.tenant {
		return keys
	}
	return append([]any{tenantID}, keys...)
}

func (s *spec[E]) selectCols() string {
	return strings.Join(append([]string{"data"}, s.hidden...), ", ")
}

// encode validates e and returns its columns, values and document.
func (s *spec[E]) encode(tenantID string, e *E) ([]string, []any, error) {
	cols, vals, err := s.cols(e)
	if err != nil {
		return nil, nil, err
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return nil, nil, adapters.Invalid(s.entity, "cannot encode: %v", err)
	}
	if len(doc) > maxDocument {
		return nil, nil, adapters.Invalid(s.entity, "is %d bytes encoded; the limit is %d", len(doc), maxDocument)
	}
	cols = append(cols, "data")
	vals = append(vals, string(doc))
	if s.tenant {
		cols = append([]string{"tenant_id"}, cols...)
		vals = append([]any{tenantID}, vals...)
	}
	return cols, vals, nil
}

func (s *spec[E]) mapErr(err error, rule string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return &adapters.ConflictError{Entity: s.entity, Rule: rule}
	case isTooLong(err):
		return adapters.Invalid(s.entity, "a value is too long")
	}
	return err
}

// insert creates e (already prepared).
func (s *spec[E]) insert(ctx context.Context, c *conn, tenantID string, e *E, rule string) error {
	if s.tenant && tenantID == "" {
		return adapters.Invalid("tenant_id", "is required")
	}
	if !c.tx && c.recorder(ctx, s.table) != nil {
		return c.within(ctx, func(c *conn) error { return s.insert(ctx, c, tenantID, e, rule) })
	}
	cols, vals, err := s.encode(tenantID, e)
	if err != nil {
		return err
	}
	q := "INSERT INTO " + s.table + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
	if _, err = c.exec(ctx, q, vals...); err != nil {
		return s.mapErr(err, rule)
	}
	return recordSpec(ctx, c, s, tenantID, e, cols, vals)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scan reads the document and hidden columns of one row.
func (s *spec[E]) scan(rows interface{ Scan(...any) error }) (*E, error) {
	var doc string
	hidden := make([]sql.NullString, len(s.hidden))
	dst := []any{&doc}
	for i := range hidden {
		dst = append(dst, &hidden[i])
	}
	if err := rows.Scan(dst...); err != nil {
		return nil, err
	}
	e := new(E)
	if err := json.Unmarshal([]byte(doc), e); err != nil {
		return nil, fmt.Errorf("bunadapter: decode %s: %w", s.entity, err)
	}
	if s.restore != nil {
		s.restore(e, hidden)
	}
	return e, nil
}

// one returns the first row matching where, or ErrNotFound.
func (s *spec[E]) one(ctx context.Context, c *conn, where string, args []any, lock bool) (*E, error) {
	q := "SELECT " + s.selectCols() + " FROM " + s.table + " WHERE " + where
	if lock {
		q += c.a.d.forUpdate()
	}
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, adapters.ErrNotFound
	}
	return s.scan(rows)
}

// all returns every row of a query.
func (s *spec[E]) all(ctx context.Context, c *conn, tail string, args []any) ([]E, error) {
	rows, err := c.query(ctx, "SELECT "+s.selectCols()+" FROM "+s.table+" "+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []E{}
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

func (s *spec[E]) get(ctx context.Context, c *conn, tenantID string, keys ...any) (*E, error) {
	return s.one(ctx, c, s.keyWhere(), s.keyArgs(tenantID, keys), false)
}

// create prepares and inserts e and returns it.
func (s *spec[E]) create(ctx context.Context, c *conn, tenantID string, e E, rule string) (*E, error) {
	s.prepare(&e, adapters.Now())
	if err := s.insert(ctx, c, tenantID, &e, rule); err != nil {
		return nil, err
	}
	return &e, nil
}

// update loads the row under a lock, applies mutate and writes it back.
func (s *spec[E]) update(ctx context.Context, c *conn, tenantID string, mutate func(*E) error, rule string, keys ...any) (*E, error) {
	var out *E
	err := c.within(ctx, func(c *conn) error {
		e, err := s.one(ctx, c, s.keyWhere(), s.keyArgs(tenantID, keys), true)
		if err != nil {
			return err
		}
		old := *e // fix reads only value fields (keys, created_at) of old
		if err := mutate(e); err != nil {
			return err
		}
		s.fix(&old, e, adapters.Now())
		cols, vals, err := s.encode(tenantID, e)
		if err != nil {
			return err
		}
		set := make([]string, 0, len(cols))
		for _, col := range cols {
			set = append(set, col+" = ?")
		}
		q := "UPDATE " + s.table + " SET " + strings.Join(set, ", ") + " WHERE " + s.keyWhere()
		if _, err := c.exec(ctx, q, append(vals, s.keyArgs(tenantID, keys)...)...); err != nil {
			return s.mapErr(err, rule)
		}
		out = e
		return recordSpec(ctx, c, s, tenantID, e, cols, vals)
	})
	return out, err
}

// remove deletes the row with the key, or returns ErrNotFound.
func (s *spec[E]) remove(ctx context.Context, c *conn, tenantID string, keys ...any) error {
	if !c.tx && c.recorder(ctx, s.table) != nil {
		return c.within(ctx, func(c *conn) error { return s.remove(ctx, c, tenantID, keys...) })
	}
	res, err := c.exec(ctx, "DELETE FROM "+s.table+" WHERE "+s.keyWhere(), s.keyArgs(tenantID, keys)...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return adapters.ErrNotFound
	}
	return recordDelete(ctx, c, s.table, tenantID, keys)
}

// listing describes how an entity is listed and sorted.
type listing struct {
	// sorts maps an allowed sort field to its column.
	sorts map[string]string
	// def is the default sort of offset pages.
	def adapters.SortSpec
	// timeCol and idCol order checkpoint pages; timeField is the sort field
	// name of timeCol.
	timeCol, timeField, idCol string
	// checkpointDesc orders checkpoint pages newest first by default.
	checkpointDesc bool
}

// where is a SQL condition with its bound arguments.
type where struct {
	sql  []string
	args []any
}

func (w *where) add(cond string, args ...any) {
	w.sql = append(w.sql, "("+cond+")")
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.sql) == 0 {
		return "1=1"
	}
	return strings.Join(w.sql, " AND ")
}

// list runs a paged query.
func (s *spec[E]) list(ctx context.Context, c *conn, w where, p adapters.ListParams, l listing) (*adapters.List[E], error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	if !p.FromDate.IsZero() {
		w.add(l.timeCol+" >= ?", p.FromDate.UnixMilli())
	}
	if !p.ToDate.IsZero() {
		w.add(l.timeCol+" <= ?", p.ToDate.UnixMilli())
	}
	out := &adapters.List[E]{Limit: limit}
	if p.Checkpoint() {
		desc := l.checkpointDesc
		if p.Sort != "" {
			spec, err := adapters.ParseSort(p.Sort, []string{l.timeField}, adapters.SortSpec{})
			if err != nil {
				return nil, adapters.Invalid("sort", "checkpoint pagination sorts only by %s", l.timeField)
			}
			desc = spec.Desc
		}
		page := w
		if p.From != "" {
			cur, err := adapters.DecodeCursor(p.From)
			if err != nil {
				return nil, err
			}
			if cur.Desc != desc {
				return nil, adapters.Invalid("from", "cursor was made for the other sort order")
			}
			op := ">"
			if desc {
				op = "<"
			}
			page.sql = append(append([]string{}, w.sql...), fmt.Sprintf("(%s %s ? OR (%s = ? AND %s %s ?))", l.timeCol, op, l.timeCol, l.idCol, op))
			page.args = append(append([]any{}, w.args...), cur.Time, cur.Time, cur.ID)
		}
		dir := " ASC"
		if desc {
			dir = " DESC"
		}
		rows, err := c.query(ctx, "SELECT "+s.selectCols()+", "+l.timeCol+", "+l.idCol+" FROM "+s.table+" WHERE "+page.String()+
			" ORDER BY "+l.timeCol+dir+", "+l.idCol+dir+fmt.Sprintf(" LIMIT %d", limit+1), page.args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		items := []E{}
		var lastTime int64
		var lastID string
		for rows.Next() {
			var doc string
			hidden := make([]sql.NullString, len(s.hidden))
			dst := []any{&doc}
			for i := range hidden {
				dst = append(dst, &hidden[i])
			}
			var t int64
			var id string
			dst = append(dst, &t, &id)
			if err := rows.Scan(dst...); err != nil {
				return nil, err
			}
			if len(items) == limit {
				out.Next = adapters.EncodeCursor(adapters.Cursor{Time: lastTime, ID: lastID, Desc: desc})
				break
			}
			e := new(E)
			if err := json.Unmarshal([]byte(doc), e); err != nil {
				return nil, fmt.Errorf("bunadapter: decode %s: %w", s.entity, err)
			}
			if s.restore != nil {
				s.restore(e, hidden)
			}
			items = append(items, *e)
			lastTime, lastID = t, id
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out.Items = items
		if p.IncludeTotals {
			if out.Total, err = s.count(ctx, c, w); err != nil {
				return nil, err
			}
		}
		return out, nil
	}

	offset, err := p.Offset()
	if err != nil {
		return nil, err
	}
	allowed := make([]string, 0, len(l.sorts))
	for f := range l.sorts {
		allowed = append(allowed, f)
	}
	sortSpec, err := adapters.ParseSort(p.Sort, allowed, l.def)
	if err != nil {
		return nil, err
	}
	col := l.sorts[sortSpec.Field]
	dir := " ASC"
	if sortSpec.Desc {
		dir = " DESC"
	}
	order := col + dir
	if col != l.idCol {
		order += ", " + l.idCol + dir
	}
	items, err := s.all(ctx, c, "WHERE "+w.String()+" ORDER BY "+order+fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset), w.args)
	if err != nil {
		return nil, err
	}
	out.Items, out.Start = items, offset
	if p.IncludeTotals {
		if out.Total, err = s.count(ctx, c, w); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *spec[E]) count(ctx context.Context, c *conn, w where) (int, error) {
	var n int
	err := c.x.QueryRowContext(ctx, c.a.d.rebind("SELECT COUNT(*) FROM "+s.table+" WHERE "+w.String()), w.args...).Scan(&n)
	return n, err
}

// ---- column value helpers ----

// ms returns t as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msp returns a nullable time as Unix milliseconds or NULL.
func msp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// str returns s, or NULL for the empty string.
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkLen returns ErrInvalid for a column value longer than max bytes.
func checkLen(entity, field, v string, max int) error {
	if len(v) > max {
		return adapters.Invalid(field, "is %d bytes; the limit is %d", len(v), max)
	}
	return nil
}

// lengths checks several column values at once: pairs of field name and value
// against one limit.
func lengths(entity string, max int, fv ...string) error {
	for i := 0; i+1 < len(fv); i += 2 {
		if err := checkLen(entity, fv[i], fv[i+1], max); err != nil {
			return err
		}
	}
	return nil
}

// stamp fills zero created/updated times and truncates both to ms in UTC.
func stamp(created, updated *time.Time, now time.Time) {
	if created.IsZero() {
		*created = now
	}
	*created = adapters.Millis(*created)
	if updated != nil {
		if updated.IsZero() {
			*updated = *created
		}
		*updated = adapters.Millis(*updated)
	}
}

// millisPtr truncates an optional time.
func millisPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := adapters.Millis(*t)
	return &v
}

// rowsAffected returns the affected row count of an exec.
func rowsAffected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
