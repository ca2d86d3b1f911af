package bunadapter

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/authhero-go/authhero/adapters"
)

// The change feed.
//
// With the feed enabled (EnableChangeFeed or Configure), every write to a
// replicated entity also inserts a change event into change_events and the
// row's version into change_versions, in the write's own transaction: the
// event exists exactly when the write committed. A relay (package
// replication) publishes unsent events and marks them sent; an applier writes
// them into another database through ChangeLog.Apply.
//
// Covered writes: the generic insert, update and remove of every entity
// (store.go), the is_current flip of Passwords.Create, the relation tables
// (role permissions, user roles, user permissions, organization members) and
// the cascading deletes. A cascade records one delete event for the parent
// only (tenant, user, client, role, organization); applying it runs the same
// adapter Delete, which cascades the same way on the other side.
//
// Transient state (codes, login sessions, sessions, refresh tokens, logs) is
// recorded only with Options.Transient. DeleteExpired never records events:
// expiry follows from replicated data, so each side's cleanup deletes the
// same rows.

// Operations of a change event.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"
)

// ChangeEvent is one replicated write: the new state of one row (upsert) or
// its removal (delete). It is the wire format of package replication.
type ChangeEvent struct {
	// ID is a ULID, unique per event and increasing in recording order.
	ID string `json:"id"`
	// Entity names the kind of row, e.g. "user" or "role_permission"; see
	// Entities.
	Entity string `json:"entity"`
	// Op is OpUpsert or OpDelete.
	Op string `json:"op"`
	// TenantID is the tenant the row belongs to (a tenant's own id for
	// "tenant").
	TenantID string `json:"tenant"`
	// Key holds the row's key columns after tenant_id, e.g. [user_id].
	Key []string `json:"key"`
	// Data is the stored state of an upsert: {"doc": the entity document,
	// "cols": the columns the document does not carry, as strings}. Secrets
	// are in it as stored, that is sealed. Data is empty for a delete.
	Data json.RawMessage `json:"data,omitempty"`
	// UpdatedAt orders writes of one row for last-writer-wins. It is the
	// row's updated_at, raised when needed to be later than the last version
	// the recording database knew (a hybrid logical clock).
	UpdatedAt time.Time `json:"updated_at"`
	// Origin is the id of the database instance that made the write.
	Origin string `json:"origin"`
	// RecordedAt is when the event was recorded; replication lag is measured
	// from it.
	RecordedAt time.Time `json:"recorded_at"`
}

// Version is what last-writer-wins compares: the last write known for a row.
type Version struct {
	// Op is the last operation: OpUpsert, or OpDelete for a tombstone.
	Op string `json:"op"`
	// UpdatedAt and Origin are the write's ChangeEvent.UpdatedAt and
	// ChangeEvent.Origin; a row written without the feed has its updated_at
	// (or zero) and no origin.
	UpdatedAt time.Time `json:"updated_at"`
	Origin    string    `json:"origin"`
	// EventID is the id of the event that wrote the version, if any.
	EventID string `json:"event_id,omitempty"`
}

// LastWriterWins is the default conflict rule: the later UpdatedAt wins, and
// on a tie the greater origin id. It reports whether incoming replaces
// current; an equal version (a replay) does not.
func LastWriterWins(incoming, current Version) bool {
	if !incoming.UpdatedAt.Equal(current.UpdatedAt) {
		return incoming.UpdatedAt.After(current.UpdatedAt)
	}
	return incoming.Origin > current.Origin
}

// Options configures an adapter's change feed.
type Options struct {
	// OriginID identifies this database instance in the events it records;
	// required with ChangeFeed.
	OriginID string
	// ChangeFeed records a change event for every replicated write. Off by
	// default: nothing changes for deployments that do not replicate.
	ChangeFeed bool
	// Transient also records codes, login sessions, sessions, refresh tokens
	// and logs.
	Transient bool
}

// Configure sets the change feed options. Call it before the adapter is used
// (it rebinds the adapter's DataAdapters in place).
func (a *Adapter) Configure(o Options) error {
	root := a.root()
	if o.ChangeFeed {
		if o.OriginID == "" {
			return errors.New("bunadapter: the change feed needs an origin id")
		}
		if len(o.OriginID) > 191 {
			return errors.New("bunadapter: origin id is longer than 191 bytes")
		}
		root.feed = &feed{origin: o.OriginID, transient: o.Transient, notify: make(chan struct{}, 1)}
	}
	*a.DataAdapters = *a.bind(root)
	return nil
}

// EnableChangeFeed turns the change feed on with the given origin id; see
// Configure.
func (a *Adapter) EnableChangeFeed(origin string) error {
	return a.Configure(Options{OriginID: origin, ChangeFeed: true})
}

type replayKey struct{}

// Replaying returns a context whose writes record no change events: appliers
// write replicated state through it so that it does not travel back.
func Replaying(ctx context.Context) context.Context {
	return context.WithValue(ctx, replayKey{}, true)
}

// IsReplaying reports whether ctx came from Replaying.
func IsReplaying(ctx context.Context) bool {
	v, _ := ctx.Value(replayKey{}).(bool)
	return v
}

// feed is the change-feed state shared by an adapter's connections.
type feed struct {
	origin    string
	transient bool
	notify    chan struct{}
}

func (f *feed) signal() {
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// ---- entity kinds ----

// kindInfo describes one replicated table.
type kindInfo struct {
	name  string
	table string
	// scoped is true when tenant_id is part of the key.
	scoped bool
	// keyCols are the key columns after tenant_id.
	keyCols []string
	// timeCol is compared with a watermark; "" compares every row.
	timeCol   string
	transient bool
}

func (k *kindInfo) meta() *kindInfo { return k }

func (k *kindInfo) keyWhere() string {
	parts := make([]string, 0, len(k.keyCols)+1)
	if k.scoped {
		parts = append(parts, "tenant_id = ?")
	}
	for _, c := range k.keyCols {
		parts = append(parts, c+" = ?")
	}
	return strings.Join(parts, " AND ")
}

func (k *kindInfo) keyArgs(tenant string, key []string) []any {
	args := make([]any, 0, len(key)+1)
	if k.scoped {
		args = append(args, tenant)
	}
	for _, v := range key {
		args = append(args, v)
	}
	return args
}

// tenantWhere selects the rows of one tenant.
func (k *kindInfo) tenantWhere() string {
	if k.table == "tenants" {
		return "id = ?"
	}
	return "tenant_id = ?"
}

// kind reads and writes the rows of one replicated table as change events.
type kind interface {
	meta() *kindInfo
	// scan calls fn with an upsert event (no id or version) for every row
	// matching where, and the row's timeCol value (0 without one).
	scan(ctx context.Context, c *conn, where string, args []any, fn func(ChangeEvent, int64) error) error
	// put writes an upsert event's state.
	put(ctx context.Context, c *conn, ev *ChangeEvent) error
	// drop deletes a row and what the adapter's Delete cascades to; a missing
	// row is not an error.
	drop(ctx context.Context, c *conn, tenant string, key []string) error
}

// rowData is the Data of an upsert event.
type rowData struct {
	Doc  json.RawMessage    `json:"doc,omitempty"`
	Cols map[string]*string `json:"cols,omitempty"`
}

// specKind is an entity table with a spec.
type specKind[E any] struct {
	kindInfo
	s *spec[E]
	// carry are columns copied verbatim besides the hidden ones (seq).
	carry []string
	// del deletes with the adapter's cascade; nil removes the row only.
	del func(ctx context.Context, c *conn, tenant string, key []string) error
}

// carried reports whether an event carries column col.
func (k *specKind[E]) carried(col string) bool {
	return col != "tenant_id" && (slices.Contains(k.s.hidden, col) || slices.Contains(k.carry, col))
}

func (k *specKind[E]) scan(ctx context.Context, c *conn, where string, args []any, fn func(ChangeEvent, int64) error) error {
	cols := append([]string{"data"}, k.s.hidden...)
	cols = append(cols, k.carry...)
	if k.table != "tenants" {
		cols = append(cols, "tenant_id")
	}
	timeCol := k.timeCol
	if timeCol == "" {
		timeCol = "0"
	}
	cols = append(cols, timeCol)
	rows, err := c.query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+k.table+" WHERE "+where+" ORDER BY "+strings.Join(k.keyCols, ", "), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		var tenant sql.NullString
		var tm sql.NullInt64
		hidden := make([]sql.NullString, len(k.s.hidden))
		carry := make([]sql.NullString, len(k.carry))
		dst := []any{&doc}
		for i := range hidden {
			dst = append(dst, &hidden[i])
		}
		for i := range carry {
			dst = append(dst, &carry[i])
		}
		if k.table != "tenants" {
			dst = append(dst, &tenant)
		}
		dst = append(dst, &tm)
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		e := new(E)
		if err := json.Unmarshal([]byte(doc), e); err != nil {
			return fmt.Errorf("bunadapter: decode %s: %w", k.name, err)
		}
		if k.s.restore != nil {
			k.s.restore(e, hidden)
		}
		d := rowData{Cols: map[string]*string{}}
		if d.Doc, err = json.Marshal(e); err != nil {
			return err
		}
		if len(k.s.hidden) > 0 {
			names, vals, err := k.s.cols(e)
			if err != nil {
				return err
			}
			for i, n := range names {
				if k.carried(n) && slices.Contains(k.s.hidden, n) {
					d.Cols[n] = stringify(vals[i])
				}
			}
		}
		for i, n := range k.carry {
			d.Cols[n] = nullable(carry[i])
		}
		key := keyStrings(k.s.keyOf(e))
		t := tenant.String
		if k.table == "tenants" {
			t = key[0]
		}
		ev := ChangeEvent{Entity: k.name, Op: OpUpsert, TenantID: t, Key: key}
		if ev.Data, err = marshalData(d); err != nil {
			return err
		}
		if err := fn(ev, tm.Int64); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (k *specKind[E]) put(ctx context.Context, c *conn, ev *ChangeEvent) error {
	var d rowData
	if err := json.Unmarshal(ev.Data, &d); err != nil || len(d.Doc) == 0 {
		return adapters.Invalid("data", "%s event %s has no document", k.name, ev.ID)
	}
	e := new(E)
	if err := json.Unmarshal(d.Doc, e); err != nil {
		return adapters.Invalid("data", "cannot decode %s: %v", k.name, err)
	}
	if k.s.restore != nil {
		hidden := make([]sql.NullString, len(k.s.hidden))
		for i, h := range k.s.hidden {
			if h == "tenant_id" {
				hidden[i] = sql.NullString{String: ev.TenantID, Valid: true}
			} else if v := d.Cols[h]; v != nil {
				hidden[i] = sql.NullString{String: *v, Valid: true}
			}
		}
		k.s.restore(e, hidden)
	}
	if key := keyStrings(k.s.keyOf(e)); !slices.Equal(key, ev.Key) {
		return adapters.Invalid("key", "%s event key %v does not match its document %v", k.name, ev.Key, key)
	}
	cols, vals, err := k.s.encode(ev.TenantID, e)
	if err != nil {
		return err
	}
	for i, col := range cols {
		if slices.Contains(k.carry, col) {
			if v := d.Cols[col]; v != nil {
				n, err := strconv.ParseInt(*v, 10, 64)
				if err != nil {
					return adapters.Invalid(col, "is not a number")
				}
				vals[i] = n
			}
		}
	}
	return k.s.mapErr(c.upsert(ctx, k.table, k.keyWhere(), k.keyArgs(ev.TenantID, ev.Key), cols, vals), "replicated "+k.name)
}

func (k *specKind[E]) drop(ctx context.Context, c *conn, tenant string, key []string) error {
	var err error
	if k.del != nil {
		err = k.del(ctx, c, tenant, key)
	} else {
		_, err = c.exec(ctx, "DELETE FROM "+k.table+" WHERE "+k.keyWhere(), k.keyArgs(tenant, key)...)
	}
	if errors.Is(err, adapters.ErrNotFound) {
		return nil
	}
	return err
}

// relKind is a relation table: tenant_id, key columns, created_at, and
// optionally seq and a JSON data column.
type relKind struct {
	kindInfo
	seq, doc bool
}

func (k *relKind) cols() []string {
	cols := append([]string{"tenant_id"}, k.keyCols...)
	cols = append(cols, "created_at")
	if k.seq {
		cols = append(cols, "seq")
	}
	if k.doc {
		cols = append(cols, "data")
	}
	return cols
}

func (k *relKind) scan(ctx context.Context, c *conn, where string, args []any, fn func(ChangeEvent, int64) error) error {
	rows, err := c.query(ctx, "SELECT "+strings.Join(k.cols(), ", ")+" FROM "+k.table+" WHERE "+where+" ORDER BY "+strings.Join(k.keyCols, ", "), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var tenant, doc string
		var created, seq int64
		key := make([]string, len(k.keyCols))
		dst := []any{&tenant}
		for i := range key {
			dst = append(dst, &key[i])
		}
		dst = append(dst, &created)
		if k.seq {
			dst = append(dst, &seq)
		}
		if k.doc {
			dst = append(dst, &doc)
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		d := rowData{Cols: map[string]*string{"created_at": ptr(strconv.FormatInt(created, 10))}}
		if k.seq {
			d.Cols["seq"] = ptr(strconv.FormatInt(seq, 10))
		}
		if k.doc {
			if d.Doc, err = canonicalJSON([]byte(doc)); err != nil {
				return fmt.Errorf("bunadapter: decode %s: %w", k.name, err)
			}
		}
		ev := ChangeEvent{Entity: k.name, Op: OpUpsert, TenantID: tenant, Key: key}
		if ev.Data, err = marshalData(d); err != nil {
			return err
		}
		if err := fn(ev, created); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (k *relKind) put(ctx context.Context, c *conn, ev *ChangeEvent) error {
	var d rowData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return adapters.Invalid("data", "cannot decode %s: %v", k.name, err)
	}
	num := func(col string) (int64, error) {
		v := d.Cols[col]
		if v == nil {
			return 0, adapters.Invalid(col, "is required in a %s event", k.name)
		}
		n, err := strconv.ParseInt(*v, 10, 64)
		if err != nil {
			return 0, adapters.Invalid(col, "is not a number")
		}
		return n, nil
	}
	vals := k.keyArgs(ev.TenantID, ev.Key)
	created, err := num("created_at")
	if err != nil {
		return err
	}
	vals = append(vals, created)
	if k.seq {
		seq, err := num("seq")
		if err != nil {
			return err
		}
		vals = append(vals, seq)
	}
	if k.doc {
		if len(d.Doc) == 0 {
			return adapters.Invalid("data", "%s event %s has no document", k.name, ev.ID)
		}
		vals = append(vals, string(d.Doc))
	}
	return c.upsert(ctx, k.table, k.keyWhere(), k.keyArgs(ev.TenantID, ev.Key), k.cols(), vals)
}

func (k *relKind) drop(ctx context.Context, c *conn, tenant string, key []string) error {
	_, err := c.exec(ctx, "DELETE FROM "+k.table+" WHERE "+k.keyWhere(), k.keyArgs(tenant, key)...)
	return err
}

// del adapts a cascading Delete of the port to specKind.del.
func del(fn func(c *conn) func(ctx context.Context, t, id string) error) func(context.Context, *conn, string, []string) error {
	return func(ctx context.Context, c *conn, t string, key []string) error { return fn(c)(ctx, t, key[0]) }
}

func info(name, timeCol string, transient bool) kindInfo {
	return kindInfo{name: name, timeCol: timeCol, transient: transient}
}

// kinds lists the replicated tables, parents first.
var kinds = []kind{
	&specKind[adapters.Tenant]{kindInfo: info("tenant", "updated_at", false), s: tenantSpec,
		del: func(ctx context.Context, c *conn, _ string, key []string) error {
			return tenants{c}.Delete(ctx, key[0])
		}},
	&specKind[adapters.Connection]{kindInfo: info("connection", "updated_at", false), s: connectionSpec},
	&specKind[adapters.Client]{kindInfo: info("client", "updated_at", false), s: clientSpec,
		del: del(func(c *conn) func(context.Context, string, string) error { return clients{c}.Delete })},
	&specKind[adapters.ClientGrant]{kindInfo: info("client_grant", "updated_at", false), s: clientGrantSpec},
	&specKind[adapters.ResourceServer]{kindInfo: info("resource_server", "updated_at", false), s: resourceServerSpec},
	&specKind[adapters.Role]{kindInfo: info("role", "updated_at", false), s: roleSpec,
		del: del(func(c *conn) func(context.Context, string, string) error { return roles{c}.Delete })},
	&relKind{kindInfo: kindInfo{name: "role_permission", table: "role_permissions", scoped: true,
		keyCols: []string{"role_id", "resource_server_identifier", "permission_name"}, timeCol: "created_at"}, doc: true},
	&specKind[adapters.User]{kindInfo: info("user", "updated_at", false), s: userSpec,
		del: del(func(c *conn) func(context.Context, string, string) error { return users{c}.Delete })},
	&specKind[adapters.Password]{kindInfo: info("password", "created_at", false), s: passwordSpec, carry: []string{"seq"}},
	&relKind{kindInfo: kindInfo{name: "user_role", table: "user_roles", scoped: true,
		keyCols: []string{"user_id", "organization_id", "role_id"}, timeCol: "created_at"}},
	&relKind{kindInfo: kindInfo{name: "user_permission", table: "user_permissions", scoped: true,
		keyCols: []string{"user_id", "organization_id", "resource_server_identifier", "permission_name"}, timeCol: "created_at"}, doc: true},
	&specKind[adapters.Organization]{kindInfo: info("organization", "updated_at", false), s: organizationSpec,
		del: del(func(c *conn) func(context.Context, string, string) error { return organizations{c}.Delete })},
	&relKind{kindInfo: kindInfo{name: "organization_member", table: "organization_members", scoped: true,
		keyCols: []string{"organization_id", "user_id"}, timeCol: "created_at"}, seq: true},
	&specKind[adapters.CustomDomain]{kindInfo: info("custom_domain", "updated_at", false), s: customDomainSpec},
	&specKind[adapters.SigningKey]{kindInfo: info("signing_key", "", false), s: keySpec},
	&specKind[adapters.Code]{kindInfo: info("code", "created_at", true), s: codeSpec},
	&specKind[adapters.LoginSession]{kindInfo: info("login_session", "updated_at", true), s: loginSessionSpec},
	&specKind[adapters.Session]{kindInfo: info("session", "updated_at", true), s: sessionSpec},
	&specKind[adapters.RefreshToken]{kindInfo: info("refresh_token", "created_at", true), s: refreshTokenSpec},
	&specKind[adapters.Log]{kindInfo: info("log", "log_date", true), s: logSpec},
}

var kindByName, kindByTable = map[string]kind{}, map[string]kind{}

func init() {
	for _, k := range kinds {
		m := k.meta()
		if s, ok := k.(specBacked); ok {
			m.table, m.scoped, m.keyCols = s.specInfo()
		}
		kindByName[m.name] = k
		kindByTable[m.table] = k
	}
}

// specBacked is a kind whose table, scoping and key columns come from its
// spec.
type specBacked interface {
	specInfo() (table string, scoped bool, keys []string)
}

func (k *specKind[E]) specInfo() (string, bool, []string) { return k.s.table, k.s.tenant, k.s.keys }

// Entities returns the replicated entity names, parents first; with transient
// the transient ones too.
func Entities(transient bool) []string {
	var out []string
	for _, k := range kinds {
		if transient || !k.meta().transient {
			out = append(out, k.meta().name)
		}
	}
	return out
}

// IsTransient reports whether entity is transient state (codes, login
// sessions, sessions, refresh tokens, logs).
func IsTransient(entity string) bool {
	k := kindByName[entity]
	return k != nil && k.meta().transient
}

// ---- recording ----

// recorder returns the kind of table when writes to it are recorded on c.
func (c *conn) recorder(ctx context.Context, table string) kind {
	if c.feed == nil || IsReplaying(ctx) {
		return nil
	}
	k := kindByTable[table]
	if k == nil || (k.meta().transient && !c.feed.transient) {
		return nil
	}
	return k
}

// recordSpec records the upsert of e, just written with cols and vals.
func recordSpec[E any](ctx context.Context, c *conn, s *spec[E], tenantID string, e *E, cols []string, vals []any) error {
	k, _ := c.recorder(ctx, s.table).(*specKind[E])
	if k == nil {
		return nil
	}
	key := keyStrings(s.keyOf(e))
	d := rowData{Cols: map[string]*string{}}
	var updated int64
	tenant := tenantID
	for i, col := range cols {
		switch {
		case col == "data":
			d.Doc = json.RawMessage(vals[i].(string))
		case col == "updated_at":
			updated, _ = vals[i].(int64)
		case col == "tenant_id" && tenant == "":
			tenant, _ = vals[i].(string)
		case k.carried(col):
			d.Cols[col] = stringify(vals[i])
		}
	}
	if k.table == "tenants" {
		tenant = key[0]
	}
	data, err := marshalData(d)
	if err != nil {
		return err
	}
	return c.record(ctx, k, OpUpsert, tenant, key, data, updated)
}

// recordDelete records the removal of the row with keys.
func recordDelete(ctx context.Context, c *conn, table, tenantID string, keys []any) error {
	k := c.recorder(ctx, table)
	if k == nil {
		return nil
	}
	key := keyStrings(keys)
	if table == "tenants" {
		tenantID = key[0]
	}
	return c.record(ctx, k, OpDelete, tenantID, key, nil, 0)
}

// record inserts one change event and the row's new version. c must be a
// transaction.
func (c *conn) record(ctx context.Context, k kind, op, tenant string, key []string, data json.RawMessage, updated int64) error {
	if !c.tx {
		return errors.New("bunadapter: change event recorded outside a transaction")
	}
	name := k.meta().name
	kj, _ := json.Marshal(key)
	h := versionKey(name, tenant, kj)
	now := time.Now()
	ts := updated
	if ts == 0 {
		ts = now.UnixMilli()
	}
	var prev int64
	switch err := c.x.QueryRowContext(ctx, c.a.d.rebind("SELECT updated_at FROM change_versions WHERE key_hash = ?"), h).Scan(&prev); {
	case err == nil:
		if prev >= ts {
			ts = prev + 1
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("bunadapter: change feed: %w", err)
	}
	id := newEventID(now)
	var doc any
	if len(data) > 0 {
		doc = string(data)
	}
	if _, err := c.exec(ctx, "INSERT INTO change_events (id, entity, op, tenant_id, entity_key, data, updated_at, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		id, name, op, tenant, string(kj), doc, ts, c.feed.origin, now.UnixMilli()); err != nil {
		return fmt.Errorf("bunadapter: change feed: %w", err)
	}
	if err := c.putVersion(ctx, h, name, tenant, string(kj), Version{Op: op, UpdatedAt: time.UnixMilli(ts), Origin: c.feed.origin, EventID: id}); err != nil {
		return err
	}
	c.dirty = true
	return nil
}

// putVersion upserts the version of one row.
func (c *conn) putVersion(ctx context.Context, h, entity, tenant, key string, v Version) error {
	q := "INSERT INTO change_versions (key_hash, entity, tenant_id, entity_key, op, updated_at, origin, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	if c.a.d.name == MySQL {
		q += " ON DUPLICATE KEY UPDATE op = VALUES(op), updated_at = VALUES(updated_at), origin = VALUES(origin), event_id = VALUES(event_id)"
	} else {
		q += " ON CONFLICT (key_hash) DO UPDATE SET op = excluded.op, updated_at = excluded.updated_at, origin = excluded.origin, event_id = excluded.event_id"
	}
	if _, err := c.exec(ctx, q, h, entity, tenant, key, v.Op, v.UpdatedAt.UnixMilli(), v.Origin, v.EventID); err != nil {
		return fmt.Errorf("bunadapter: change feed: %w", err)
	}
	return nil
}

// get returns the current state of one row as an upsert event, or nil.
func get(ctx context.Context, c *conn, k kind, tenant string, key []string) (*ChangeEvent, int64, error) {
	var out *ChangeEvent
	var tm int64
	err := k.scan(ctx, c, k.meta().keyWhere(), k.meta().keyArgs(tenant, key), func(ev ChangeEvent, t int64) error {
		out, tm = &ev, t
		return nil
	})
	return out, tm, err
}

// track runs op in a transaction and records the rows of k with the given
// keys that op created, changed or removed. Without a recorder it just runs
// op.
func (c *conn) track(ctx context.Context, table, tenant string, keys [][]string, op func(c *conn) error) error {
	k := c.recorder(ctx, table)
	if k == nil {
		return op(c)
	}
	return c.within(ctx, func(c *conn) error {
		before := make([]*ChangeEvent, len(keys))
		for i, key := range keys {
			var err error
			if before[i], _, err = get(ctx, c, k, tenant, key); err != nil {
				return err
			}
		}
		if err := op(c); err != nil {
			return err
		}
		for i, key := range keys {
			after, tm, err := get(ctx, c, k, tenant, key)
			switch {
			case err != nil:
				return err
			case after == nil && before[i] != nil:
				err = c.record(ctx, k, OpDelete, tenant, key, nil, 0)
			case after != nil && (before[i] == nil || !bytes.Equal(before[i].Data, after.Data)):
				if k.meta().timeCol != "updated_at" {
					tm = 0
				}
				err = c.record(ctx, k, OpUpsert, tenant, key, after.Data, tm)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// trackWhere is track for the rows of table matching cond when op starts.
func (c *conn) trackWhere(ctx context.Context, table, tenant, cond string, args []any, op func(c *conn) error) error {
	k := c.recorder(ctx, table)
	if k == nil {
		return op(c)
	}
	return c.within(ctx, func(c *conn) error {
		m := k.meta()
		rows, err := c.query(ctx, "SELECT "+strings.Join(m.keyCols, ", ")+" FROM "+m.table+" WHERE "+cond, args...)
		if err != nil {
			return err
		}
		var keys [][]string
		for rows.Next() {
			key := make([]string, len(m.keyCols))
			dst := make([]any, len(key))
			for i := range key {
				dst[i] = &key[i]
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return c.track(ctx, table, tenant, keys, op)
	})
}

// ---- write decorators ----

// wrap replaces the adapters whose writes bypass the generic spec writes with
// decorators that record them.
func (f *feed) wrap(c *conn, d *adapters.DataAdapters) {
	d.Passwords = feedPasswords{passwords{c}}
	d.RolePermissions = feedRolePermissions{rolePermissions{c}}
	d.UserRoles = feedUserRoles{userRoles{c}}
	d.UserPermissions = feedUserPermissions{userPermissions{c}}
	d.Organizations = feedOrganizations{organizations{c}}
	if f.transient {
		d.Codes = feedCodes{codes{c}}
		d.Sessions = feedSessions{sessions{c}}
		d.RefreshTokens = feedRefreshTokens{refreshTokens{c}}
	}
}

type feedPasswords struct{ passwords }

func (r feedPasswords) Create(ctx context.Context, t string, p adapters.Password) (*adapters.Password, error) {
	var out *adapters.Password
	err := r.c.trackWhere(ctx, "passwords", t, "tenant_id = ? AND user_id = ? AND is_current = ?", []any{t, p.UserID, true}, func(c *conn) error {
		var err error
		out, err = passwords{c}.Create(ctx, t, p)
		return err
	})
	return out, err
}

func permKeys(prefix []string, perms []adapters.Permission) [][]string {
	keys := make([][]string, 0, len(perms))
	for _, p := range perms {
		keys = append(keys, append(slices.Clone(prefix), p.ResourceServerIdentifier, p.PermissionName))
	}
	return keys
}

type feedRolePermissions struct{ rolePermissions }

func (r feedRolePermissions) Assign(ctx context.Context, t, roleID string, perms []adapters.Permission) error {
	return r.c.track(ctx, "role_permissions", t, permKeys([]string{roleID}, perms), func(c *conn) error {
		return rolePermissions{c}.Assign(ctx, t, roleID, perms)
	})
}

func (r feedRolePermissions) Remove(ctx context.Context, t, roleID string, perms []adapters.Permission) error {
	return r.c.track(ctx, "role_permissions", t, permKeys([]string{roleID}, perms), func(c *conn) error {
		return rolePermissions{c}.Remove(ctx, t, roleID, perms)
	})
}

func roleKeys(userID, orgID string, roleIDs []string) [][]string {
	keys := make([][]string, 0, len(roleIDs))
	for _, id := range roleIDs {
		keys = append(keys, []string{userID, orgID, id})
	}
	return keys
}

type feedUserRoles struct{ userRoles }

func (r feedUserRoles) Assign(ctx context.Context, t, userID, orgID string, roleIDs []string) error {
	return r.c.track(ctx, "user_roles", t, roleKeys(userID, orgID, roleIDs), func(c *conn) error {
		return userRoles{c}.Assign(ctx, t, userID, orgID, roleIDs)
	})
}

func (r feedUserRoles) Remove(ctx context.Context, t, userID, orgID string, roleIDs []string) error {
	return r.c.track(ctx, "user_roles", t, roleKeys(userID, orgID, roleIDs), func(c *conn) error {
		return userRoles{c}.Remove(ctx, t, userID, orgID, roleIDs)
	})
}

type feedUserPermissions struct{ userPermissions }

func (r feedUserPermissions) Assign(ctx context.Context, t, userID, orgID string, perms []adapters.Permission) error {
	return r.c.track(ctx, "user_permissions", t, permKeys([]string{userID, orgID}, perms), func(c *conn) error {
		return userPermissions{c}.Assign(ctx, t, userID, orgID, perms)
	})
}

func (r feedUserPermissions) Remove(ctx context.Context, t, userID, orgID string, perms []adapters.Permission) error {
	return r.c.track(ctx, "user_permissions", t, permKeys([]string{userID, orgID}, perms), func(c *conn) error {
		return userPermissions{c}.Remove(ctx, t, userID, orgID, perms)
	})
}

func memberKeys(orgID string, userIDs []string) [][]string {
	keys := make([][]string, 0, len(userIDs))
	for _, u := range userIDs {
		keys = append(keys, []string{orgID, u})
	}
	return keys
}

type feedOrganizations struct{ organizations }

func (r feedOrganizations) AddMembers(ctx context.Context, t, orgID string, userIDs []string) error {
	return r.c.track(ctx, "organization_members", t, memberKeys(orgID, userIDs), func(c *conn) error {
		return organizations{c}.AddMembers(ctx, t, orgID, userIDs)
	})
}

func (r feedOrganizations) RemoveMembers(ctx context.Context, t, orgID string, userIDs []string) error {
	return r.c.track(ctx, "organization_members", t, memberKeys(orgID, userIDs), func(c *conn) error {
		return organizations{c}.RemoveMembers(ctx, t, orgID, userIDs)
	})
}

type feedCodes struct{ codes }

func (r feedCodes) Consume(ctx context.Context, t, typ, id string, now time.Time) (*adapters.Code, error) {
	var out *adapters.Code
	var consumed error
	err := r.c.track(ctx, "codes", t, [][]string{{typ, id}}, func(c *conn) error {
		var err error
		out, err = codes{c}.Consume(ctx, t, typ, id, now)
		if errors.Is(err, adapters.ErrConsumed) {
			consumed, err = err, nil
		}
		return err
	})
	if err == nil {
		err = consumed
	}
	return out, err
}

type feedSessions struct{ sessions }

func (r feedSessions) RevokeByUser(ctx context.Context, t, userID string, at time.Time) (int, error) {
	var n int
	err := r.c.trackWhere(ctx, "sessions", t, "tenant_id = ? AND user_id = ? AND revoked_at IS NULL", []any{t, userID}, func(c *conn) error {
		var err error
		n, err = sessions{c}.RevokeByUser(ctx, t, userID, at)
		return err
	})
	return n, err
}

type feedRefreshTokens struct{ refreshTokens }

func (r feedRefreshTokens) Rotate(ctx context.Context, t, oldID string, next adapters.RefreshToken, now time.Time) (*adapters.RefreshToken, error) {
	var out *adapters.RefreshToken
	var consumed error
	err := r.c.track(ctx, "refresh_tokens", t, [][]string{{oldID}}, func(c *conn) error {
		var err error
		out, err = refreshTokens{c}.Rotate(ctx, t, oldID, next, now)
		if errors.Is(err, adapters.ErrConsumed) {
			consumed, err = err, nil
		}
		return err
	})
	if err == nil {
		err = consumed
	}
	return out, err
}

func (r feedRefreshTokens) revokeBy(ctx context.Context, col, t, v string, at time.Time) (int, error) {
	var n int
	err := r.c.trackWhere(ctx, "refresh_tokens", t, "tenant_id = ? AND "+col+" = ? AND revoked_at IS NULL", []any{t, v}, func(c *conn) error {
		var err error
		n, err = refreshTokens{c}.revoke(ctx, col, t, v, at)
		return err
	})
	return n, err
}

func (r feedRefreshTokens) RevokeFamily(ctx context.Context, t, familyID string, at time.Time) (int, error) {
	return r.revokeBy(ctx, "family_id", t, familyID, at)
}

func (r feedRefreshTokens) RevokeByUser(ctx context.Context, t, userID string, at time.Time) (int, error) {
	return r.revokeBy(ctx, "user_id", t, userID, at)
}

func (r feedRefreshTokens) RevokeByLogin(ctx context.Context, t, loginID string, at time.Time) (int, error) {
	return r.revokeBy(ctx, "login_id", t, loginID, at)
}

// ---- the change log API ----

// ChangeLog reads and writes an adapter's change-feed tables: the outbox a
// relay publishes, and the version, applied-id and dead-letter tables an
// applier keeps. Package replication is its user.
type ChangeLog struct{ a *Adapter }

// Changes returns the adapter's change log.
func (a *Adapter) Changes() *ChangeLog { return &ChangeLog{a: a} }

// feed returns the adapter's change feed, or nil.
func (a *Adapter) feed() *feed {
	if t, ok := a.DataAdapters.Tenants.(tenants); ok {
		return t.c.feed
	}
	return nil
}

// Origin returns the origin id of the adapter's change feed, or "" when the
// feed is off.
func (l *ChangeLog) Origin() string {
	if f := l.a.feed(); f != nil {
		return f.origin
	}
	return ""
}

// Notify returns a channel that receives a value (coalesced) after a
// transaction of this process that recorded events commits, so that an
// in-process relay need not wait for its next poll. It is nil when the feed
// is off.
func (l *ChangeLog) Notify() <-chan struct{} {
	if f := l.a.feed(); f != nil {
		return f.notify
	}
	return nil
}

const eventCols = "id, entity, op, tenant_id, entity_key, data, updated_at, origin, created_at"

func scanEvent(rows interface{ Scan(...any) error }) (ChangeEvent, error) {
	var ev ChangeEvent
	var key string
	var data sql.NullString
	var updated, created int64
	if err := rows.Scan(&ev.ID, &ev.Entity, &ev.Op, &ev.TenantID, &key, &data, &updated, &ev.Origin, &created); err != nil {
		return ev, err
	}
	if err := json.Unmarshal([]byte(key), &ev.Key); err != nil {
		return ev, fmt.Errorf("bunadapter: change event %s: bad key: %w", ev.ID, err)
	}
	if data.Valid {
		ev.Data = json.RawMessage(data.String)
	}
	ev.UpdatedAt, ev.RecordedAt = time.UnixMilli(updated).UTC(), time.UnixMilli(created).UTC()
	return ev, nil
}

// Pending returns up to limit unsent events in id order.
func (l *ChangeLog) Pending(ctx context.Context, limit int) ([]ChangeEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := l.a.root().query(ctx, "SELECT "+eventCols+" FROM change_events WHERE sent_at IS NULL ORDER BY id LIMIT "+itoa(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChangeEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Events returns up to limit events, sent or not, with ids after the given
// one, in id order: the outbox as a log, for inspection and tests.
func (l *ChangeLog) Events(ctx context.Context, after string, limit int) ([]ChangeEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := l.a.root().query(ctx, "SELECT "+eventCols+" FROM change_events WHERE id > ? ORDER BY id LIMIT "+itoa(limit), after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChangeEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// MarkSent marks events as published.
func (l *ChangeLog) MarkSent(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{time.Now().UnixMilli()}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := l.a.root().exec(ctx, "UPDATE change_events SET sent_at = ? WHERE id IN ("+placeholders(len(ids))+")", args...)
	return err
}

// Backlog returns the number of unsent events.
func (l *ChangeLog) Backlog(ctx context.Context) (int, error) {
	var n int
	err := l.a.db.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM change_events WHERE sent_at IS NULL").Scan(&n)
	return n, err
}

// Prune deletes sent events and applied-event ids older than before and
// returns how many rows it deleted. Versions stay: they are what
// last-writer-wins compares.
func (l *ChangeLog) Prune(ctx context.Context, before time.Time) (int, error) {
	c := l.a.root()
	n1, err := rowsAffected(c.exec(ctx, "DELETE FROM change_events WHERE sent_at IS NOT NULL AND sent_at < ?", before.UnixMilli()))
	if err != nil {
		return n1, err
	}
	n2, err := rowsAffected(c.exec(ctx, "DELETE FROM change_applied WHERE applied_at < ?", before.UnixMilli()))
	return n1 + n2, err
}

// Outcomes of Apply.
const (
	// Applied: the event's state was written.
	Applied = "applied"
	// Duplicate: the event id was applied before; nothing changed.
	Duplicate = "duplicate"
	// Stale: the row has a version the resolver prefers; nothing changed.
	Stale = "stale"
)

func (l *ChangeLog) kind(ev *ChangeEvent) (kind, error) {
	k := kindByName[ev.Entity]
	switch {
	case k == nil:
		return nil, adapters.Invalid("entity", "unknown replicated entity %q", ev.Entity)
	case ev.ID == "" || len(ev.ID) > 32:
		return nil, adapters.Invalid("id", "is required (at most 32 bytes)")
	case ev.Op != OpUpsert && ev.Op != OpDelete:
		return nil, adapters.Invalid("op", "must be %s or %s", OpUpsert, OpDelete)
	case ev.TenantID == "":
		return nil, adapters.Invalid("tenant", "is required")
	case len(ev.Key) != len(k.meta().keyCols):
		return nil, adapters.Invalid("key", "%s needs %d key values", ev.Entity, len(k.meta().keyCols))
	}
	return k, nil
}

// version returns the last known version of a row: its change_versions
// entry, or for a row written without the feed (imported, copied) its
// timeCol with no origin, or nil when the row is unknown.
func version(ctx context.Context, c *conn, k kind, tenant string, key []string) (*Version, error) {
	kj, _ := json.Marshal(key)
	if v, err := versionRow(ctx, c, versionKey(k.meta().name, tenant, kj), false); v != nil || err != nil {
		return v, err
	}
	row, tm, err := get(ctx, c, k, tenant, key)
	if err != nil || row == nil {
		return nil, err
	}
	if k.meta().timeCol != "updated_at" {
		tm = 0
	}
	return &Version{Op: OpUpsert, UpdatedAt: time.UnixMilli(tm).UTC()}, nil
}

// versionRow reads the change_versions row h, or nil.
func versionRow(ctx context.Context, c *conn, h string, lock bool) (*Version, error) {
	q := "SELECT op, updated_at, origin, event_id FROM change_versions WHERE key_hash = ?"
	if lock {
		q += c.a.d.forUpdate()
	}
	var v Version
	var ts int64
	err := c.x.QueryRowContext(ctx, c.a.d.rebind(q), h).Scan(&v.Op, &ts, &v.Origin, &v.EventID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	v.UpdatedAt = time.UnixMilli(ts).UTC()
	return &v, nil
}

// errVersionMoved aborts an apply whose row got a new version between the
// decision and the write; the apply is then tried again.
var errVersionMoved = errors.New("bunadapter: the row changed while applying; retry")

// Apply writes a replicated event in one transaction, without recording a
// new event: it returns Duplicate when the event id was applied before,
// Stale when the row's current version wins under resolve (nil means
// LastWriterWins), and Applied after writing the state (an upsert of the
// stored row, or the adapter's cascading Delete) and the row's new version.
// An error leaves nothing written.
func (l *ChangeLog) Apply(ctx context.Context, ev ChangeEvent, resolve func(incoming, current Version) bool) (string, error) {
	out, err := l.ApplyBatch(ctx, []ChangeEvent{ev}, resolve)
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// ApplyBatch is Apply for several events in order, in one transaction (one
// commit for all): it returns their outcomes, or an error and nothing
// written when any of them fails.
func (l *ChangeLog) ApplyBatch(ctx context.Context, evs []ChangeEvent, resolve func(incoming, current Version) bool) ([]string, error) {
	ks := make([]kind, len(evs))
	for i := range evs {
		var err error
		if ks[i], err = l.kind(&evs[i]); err != nil {
			return nil, err
		}
	}
	if resolve == nil {
		resolve = LastWriterWins
	}
	ctx = Replaying(ctx)
	out := make([]string, len(evs))
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = l.a.root().within(ctx, func(c *conn) error {
			for i := range evs {
				var err error
				if out[i], err = apply(ctx, c, ks[i], &evs[i], resolve); err != nil {
					return fmt.Errorf("%s %s/%s: %w", evs[i].Entity, evs[i].TenantID, strings.Join(evs[i].Key, "/"), err)
				}
			}
			return nil
		})
		if !errors.Is(err, errVersionMoved) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// apply applies one event inside the transaction c.
func apply(ctx context.Context, c *conn, k kind, ev *ChangeEvent, resolve func(incoming, current Version) bool) (string, error) {
	n, err := rowsAffected(c.exec(ctx, c.a.d.insertIgnore("change_applied", []string{"event_id", "origin", "outcome", "applied_at"}),
		ev.ID, ev.Origin, Applied, time.Now().UnixMilli()))
	if err != nil {
		return "", err
	}
	if n == 0 {
		return Duplicate, nil
	}
	// Lock order: local writes lock the entity row, then its version row.
	// So decide on an unlocked read, write (locking the row), then lock the
	// version and make sure it did not move meanwhile.
	kj, _ := json.Marshal(ev.Key)
	h := versionKey(ev.Entity, ev.TenantID, kj)
	seen, err := versionRow(ctx, c, h, false)
	if err != nil {
		return "", err
	}
	cur := seen
	if cur == nil {
		if cur, err = version(ctx, c, k, ev.TenantID, ev.Key); err != nil {
			return "", err
		}
	}
	in := Version{Op: ev.Op, UpdatedAt: ev.UpdatedAt, Origin: ev.Origin, EventID: ev.ID}
	if cur != nil && !resolve(in, *cur) {
		_, err := c.exec(ctx, "UPDATE change_applied SET outcome = ? WHERE event_id = ?", Stale, ev.ID)
		return Stale, err
	}
	if err := write(ctx, c, k, ev); err != nil {
		return "", err
	}
	now, err := versionRow(ctx, c, h, true)
	if err != nil {
		return "", err
	}
	if (now == nil) != (seen == nil) || (now != nil && *now != *seen) {
		return "", errVersionMoved
	}
	return Applied, c.putVersion(ctx, h, ev.Entity, ev.TenantID, string(kj), in)
}

func write(ctx context.Context, c *conn, k kind, ev *ChangeEvent) error {
	if ev.Op == OpDelete {
		return k.drop(ctx, c, ev.TenantID, ev.Key)
	}
	return k.put(ctx, c, ev)
}

// Write stores events' states as they are, in one transaction, without
// versions, applied ids or new events: the import of a backup. Upserts
// overwrite, deletes of missing rows are no-ops, so writing twice is
// harmless.
func (l *ChangeLog) Write(ctx context.Context, evs []ChangeEvent) error {
	ctx = Replaying(ctx)
	return l.a.root().within(ctx, func(c *conn) error {
		for _, ev := range evs {
			if ev.ID == "" {
				ev.ID = "import"
			}
			k, err := l.kind(&ev)
			if err != nil {
				return err
			}
			if err := write(ctx, c, k, &ev); err != nil {
				return fmt.Errorf("%s %s/%s: %w", ev.Entity, ev.TenantID, strings.Join(ev.Key, "/"), err)
			}
		}
		return nil
	})
}

// SnapshotOptions selects the rows Snapshot reads.
type SnapshotOptions struct {
	// TenantID limits the snapshot to one tenant; "" reads all.
	TenantID string
	// Entities limits the snapshot to these entities; nil reads every
	// replicated entity (and the transient ones with Transient).
	Entities []string
	// Transient adds codes, login sessions, sessions, refresh tokens and logs
	// when Entities is nil.
	Transient bool
	// Since, when set, reads only rows whose updated_at (created_at for rows
	// that are never updated) is at or after it. Signing keys are always
	// read.
	Since time.Time
}

// Snapshot calls fn with the current state of every selected row as an
// upsert event without id, entity by entity (parents first) in key order.
// UpdatedAt is the row's watermark column (zero for signing keys). On
// Postgres and MySQL it reads in one read-only repeatable-read transaction,
// a consistent snapshot; on SQLite, where a transaction would hold the write
// lock, table by table.
func (l *ChangeLog) Snapshot(ctx context.Context, o SnapshotOptions, fn func(ChangeEvent) error) error {
	names := o.Entities
	if names == nil {
		names = Entities(o.Transient)
	}
	c := l.a.root()
	if l.a.d.name != SQLite {
		tx, err := l.a.db.DB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return fmt.Errorf("bunadapter: snapshot: %w", err)
		}
		defer tx.Rollback()
		c = &conn{a: l.a, x: tx, tx: true}
	}
	for _, name := range names {
		k := kindByName[name]
		if k == nil {
			return fmt.Errorf("bunadapter: unknown entity %q", name)
		}
		m := k.meta()
		w := where{}
		if o.TenantID != "" {
			w.add(m.tenantWhere(), o.TenantID)
		}
		if !o.Since.IsZero() && m.timeCol != "" {
			w.add(m.timeCol+" >= ?", o.Since.UnixMilli())
		}
		err := k.scan(ctx, c, w.String(), w.args, func(ev ChangeEvent, tm int64) error {
			if m.timeCol != "" {
				ev.UpdatedAt = time.UnixMilli(tm).UTC()
			}
			return fn(ev)
		})
		if err != nil {
			return fmt.Errorf("bunadapter: snapshot %s: %w", name, err)
		}
	}
	return nil
}

// Current returns one row's state as an upsert event (nil when the row does
// not exist) and its last known version (nil when unknown; a delete
// tombstone for a row deleted through the feed).
func (l *ChangeLog) Current(ctx context.Context, entity, tenant string, key []string) (*ChangeEvent, *Version, error) {
	k := kindByName[entity]
	if k == nil {
		return nil, nil, fmt.Errorf("bunadapter: unknown entity %q", entity)
	}
	c := l.a.root()
	row, _, err := get(ctx, c, k, tenant, key)
	if err != nil {
		return nil, nil, err
	}
	v, err := version(ctx, c, k, tenant, key)
	return row, v, err
}

// Changed calls fn with every row whose version was written at or after
// since (updated_at of the version), deletes included.
func (l *ChangeLog) Changed(ctx context.Context, since time.Time, fn func(entity, tenant string, key []string) error) error {
	rows, err := l.a.root().query(ctx, "SELECT entity, tenant_id, entity_key FROM change_versions WHERE updated_at >= ? ORDER BY entity, tenant_id, entity_key", since.UnixMilli())
	if err != nil {
		return err
	}
	type item struct {
		entity, tenant string
		key            []string
	}
	var items []item
	for rows.Next() {
		var it item
		var kj string
		if err := rows.Scan(&it.entity, &it.tenant, &kj); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(kj), &it.key); err != nil {
			rows.Close()
			return err
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, it := range items {
		if err := fn(it.entity, it.tenant, it.key); err != nil {
			return err
		}
	}
	return nil
}

// Repair writes ev over the row whatever the row's version, records ev's
// version, and records nothing in the outbox: how reconcile fixes drift.
func (l *ChangeLog) Repair(ctx context.Context, ev ChangeEvent) error {
	if ev.ID == "" {
		ev.ID = newEventID(time.Now())
	}
	_, err := l.Apply(ctx, ev, func(Version, Version) bool { return true })
	return err
}

// Applied reports whether an event id was applied (or found stale).
func (l *ChangeLog) Applied(ctx context.Context, eventID string) (bool, error) {
	var n int
	err := l.a.db.DB.QueryRowContext(ctx, l.a.d.rebind("SELECT COUNT(*) FROM change_applied WHERE event_id = ?"), eventID).Scan(&n)
	return n > 0, err
}

// DeadLetter is an event that could not be applied.
type DeadLetter struct {
	// Event is the event as received.
	Event ChangeEvent `json:"event"`
	// Error is the last failure; Attempts counts the stored failures and
	// FailedAt is the time of the last one.
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failed_at"`
}

// AddDeadLetter stores ev with the reason it failed; a second failure of
// the same event counts another attempt.
func (l *ChangeLog) AddDeadLetter(ctx context.Context, ev ChangeEvent, cause error) error {
	doc, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	return l.a.root().within(ctx, func(c *conn) error {
		n, err := rowsAffected(c.exec(ctx, "UPDATE change_dead_letters SET attempts = attempts + 1, error = ?, failed_at = ? WHERE event_id = ?", msg, time.Now().UnixMilli(), ev.ID))
		if err != nil || n > 0 {
			return err
		}
		_, err = c.exec(ctx, "INSERT INTO change_dead_letters (event_id, event, error, attempts, failed_at) VALUES (?, ?, ?, ?, ?)", ev.ID, string(doc), msg, 1, time.Now().UnixMilli())
		return err
	})
}

// DeadLetters returns up to limit dead letters, oldest event first.
func (l *ChangeLog) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := l.a.root().query(ctx, "SELECT event, error, attempts, failed_at FROM change_dead_letters ORDER BY event_id LIMIT "+itoa(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var doc string
		var failed int64
		if err := rows.Scan(&doc, &d.Error, &d.Attempts, &failed); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &d.Event); err != nil {
			return nil, err
		}
		d.FailedAt = time.UnixMilli(failed).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// RemoveDeadLetter deletes one dead letter.
func (l *ChangeLog) RemoveDeadLetter(ctx context.Context, eventID string) error {
	_, err := l.a.root().exec(ctx, "DELETE FROM change_dead_letters WHERE event_id = ?", eventID)
	return err
}

// ---- helpers ----

// upsert updates the row matching where or inserts it.
func (c *conn) upsert(ctx context.Context, table, where string, keyArgs []any, cols []string, vals []any) error {
	var one int
	err := c.x.QueryRowContext(ctx, c.a.d.rebind("SELECT 1 FROM "+table+" WHERE "+where+c.a.d.forUpdate()), keyArgs...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = c.exec(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES ("+placeholders(len(cols))+")", vals...)
		return err
	}
	if err != nil {
		return err
	}
	set := make([]string, len(cols))
	for i, col := range cols {
		set[i] = col + " = ?"
	}
	_, err = c.exec(ctx, "UPDATE "+table+" SET "+strings.Join(set, ", ")+" WHERE "+where, append(slices.Clone(vals), keyArgs...)...)
	return err
}

func versionKey(entity, tenant string, keyJSON []byte) string {
	h := sha256.New()
	h.Write([]byte(entity))
	h.Write([]byte{0})
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write(keyJSON)
	return hex.EncodeToString(h.Sum(nil))
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// newEventID returns a lower-case ULID, strictly increasing within the
// process while the clock does not go back.
func newEventID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), idEntropy)
	if err != nil {
		id = ulid.MustNew(ulid.Timestamp(t), rand.Reader)
	}
	return strings.ToLower(id.String())
}

func keyStrings(keys []any) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprint(k)
	}
	return out
}

func ptr(s string) *string { return &s }

func nullable(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// stringify renders a column value as an event carries it.
func stringify(v any) *string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return &x
	case bool:
		return ptr(strconv.FormatBool(x))
	case int64:
		return ptr(strconv.FormatInt(x, 10))
	case int:
		return ptr(strconv.Itoa(x))
	default:
		return ptr(fmt.Sprint(x))
	}
}

func marshalData(d rowData) (json.RawMessage, error) {
	if len(d.Cols) == 0 {
		d.Cols = nil
	}
	return json.Marshal(d)
}

// canonicalJSON re-encodes a JSON value with sorted object keys and numbers
// kept as written.
func canonicalJSON(b []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
