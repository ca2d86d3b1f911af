package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/query"
)

// This file is the "library" part of the example: an implementation of
// adapters.UsersAdapter that keeps users in a Go map, and WithMemoryUsers,
// which plugs it into an existing set of adapters. Replace the map with calls
// to your own user store and keep the same validation, normalisation and
// paging rules to pass the conformance suite (see main_test.go).

// Storage limits, the same as the SQL adapter's columns.
const (
	// maxDocument caps the JSON encoding of one user (1 MiB).
	maxDocument = 1 << 20
	// idLen caps user_id, connection, provider, phone_number and linked_to.
	idLen = 191
	// emailLen caps email and username.
	emailLen = 512
	// shortLen caps locale and last_ip.
	shortLen = 64
)

// MemoryUsers is an in-memory [adapters.UsersAdapter]: users live in a Go map
// guarded by a mutex and are lost when the process exits. It honours the
// whole Users contract that package adaptertest checks: tenant scoping,
// generated ids, lower-cased email, UTC millisecond timestamps, uniqueness of
// user_id and of email and username per connection, size limits, deep copies,
// q search, sorting and both pagination styles.
//
// Limitations, inherent to an adapter that lives outside the SQL database:
//
//   - Transactions: writes through MemoryUsers take effect at once and are
//     never rolled back, even when made through the tx of a
//     DataAdapters.Transaction that fails. (WithMemoryUsers binds tx.Users to
//     the same MemoryUsers so that reads inside a transaction see its writes.)
//   - Delete removes the user only. The user's passwords, sessions, refresh
//     tokens, roles, permissions and memberships stay in the other adapters:
//     the port has no way to delete a user's passwords from outside the
//     passwords store.
//   - Deleting a tenant removes its users only when the tenants adapter is the
//     one WithMemoryUsers wraps (or when DropTenant is called).
//
// The zero value is not usable; call [NewMemoryUsers].
type MemoryUsers struct {
	// mu guards users. Stored records are never modified in place: an update
	// replaces the pointer, so a reader may keep a record after unlocking.
	mu sync.RWMutex
	// users maps tenant id to user id to the stored user.
	users map[string]map[string]*record
	// updateMu serialises Update calls, so that no concurrent update is lost,
	// without holding mu while the caller's mutate function runs (mutate may
	// therefore read through this adapter).
	updateMu sync.Mutex
}

// record is one stored user: its JSON document, from which every returned
// copy is decoded, and a decoded private copy for search and sorting.
type record struct {
	doc []byte
	u   adapters.User
}

var _ adapters.UsersAdapter = (*MemoryUsers)(nil)

// NewMemoryUsers returns an empty MemoryUsers.
func NewMemoryUsers() *MemoryUsers {
	return &MemoryUsers{users: map[string]map[string]*record{}}
}

// WithMemoryUsers returns a copy of d whose Users field is a new
// [MemoryUsers]; d itself is not changed. Two more fields are wrapped so that
// the copy stays consistent:
//
//   - Tenants.Delete also drops the deleted tenant's users from the map;
//   - Transaction hands fn a tx whose Users is the same MemoryUsers (and
//     whose Tenants and Transaction are wrapped the same way). User writes
//     made inside a transaction are not rolled back; see [MemoryUsers].
//
// The MemoryUsers is reachable as result.Users.(*MemoryUsers).
func WithMemoryUsers(d *adapters.DataAdapters) *adapters.DataAdapters {
	return bindUsers(d, NewMemoryUsers())
}

// bindUsers returns a copy of d using m for users.
func bindUsers(d *adapters.DataAdapters, m *MemoryUsers) *adapters.DataAdapters {
	c := *d
	c.Users = m
	if d.Tenants != nil {
		c.Tenants = purgingTenants{TenantsAdapter: d.Tenants, users: m}
	}
	if inner := d.Transaction; inner != nil {
		c.Transaction = func(ctx context.Context, fn func(ctx context.Context, tx *adapters.DataAdapters) error) error {
			return inner(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
				return fn(ctx, bindUsers(tx, m))
			})
		}
	}
	return &c
}

// purgingTenants drops a tenant's users from a MemoryUsers when the tenant is
// deleted, as the contract of TenantsAdapter.Delete asks.
type purgingTenants struct {
	adapters.TenantsAdapter
	users *MemoryUsers
}

// Delete deletes the tenant, then its users.
func (p purgingTenants) Delete(ctx context.Context, id string) error {
	if err := p.TenantsAdapter.Delete(ctx, id); err != nil {
		return err
	}
	p.users.DropTenant(id)
	return nil
}

// DropTenant removes every user of the tenant. WithMemoryUsers calls it when
// the tenant is deleted.
func (m *MemoryUsers) DropTenant(tenantID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, tenantID)
}

// lookup returns the stored record of the user, or nil.
func (m *MemoryUsers) lookup(tenantID, userID string) *record {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.users[tenantID][userID]
}

// Create stores a new user in the tenant and returns it as stored. An empty
// UserID becomes "{provider}|" followed by a new random id; an empty Provider
// is taken from the UserID prefix ("auth0" when there is none). Email is
// lower-cased, a zero CreatedAt becomes now and a zero UpdatedAt becomes
// CreatedAt, all times in UTC at millisecond precision. A missing connection
// or an oversized value is ErrInvalid; a taken user_id, or email or username
// in the same connection, is ErrConflict. Nothing is stored on error.
func (m *MemoryUsers) Create(ctx context.Context, tenantID string, u adapters.User) (*adapters.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if tenantID == "" {
		return nil, adapters.Invalid("tenant_id", "is required")
	}
	if u.Provider == "" {
		if p, _, ok := strings.Cut(u.UserID, "|"); ok {
			u.Provider = p
		} else {
			u.Provider = "auth0"
		}
	}
	if u.UserID == "" {
		u.UserID = u.Provider + "|" + adapters.NewID("")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = adapters.Now()
	}
	u.CreatedAt = adapters.Millis(u.CreatedAt)
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.UpdatedAt = adapters.Millis(u.UpdatedAt)
	normalize(&u)
	rec, err := newRecord(&u)
	if err != nil {
		return nil, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	tenant := m.users[tenantID]
	if _, taken := tenant[u.UserID]; taken {
		return nil, conflict()
	}
	if err := checkUnique(tenant, &rec.u, ""); err != nil {
		return nil, err
	}
	if tenant == nil {
		tenant = map[string]*record{}
		m.users[tenantID] = tenant
	}
	tenant[u.UserID] = rec
	return rec.copy()
}

// Get returns a copy of the user, or ErrNotFound when the tenant has no user
// with that id.
func (m *MemoryUsers) Get(ctx context.Context, tenantID, userID string) (*adapters.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec := m.lookup(tenantID, userID)
	if rec == nil {
		return nil, adapters.ErrNotFound
	}
	return rec.copy()
}

// Update calls mutate once on a copy of the stored user and stores the
// result. user_id and created_at keep their stored values, updated_at becomes
// now and email is lower-cased. An error from mutate is returned unchanged;
// like an ErrInvalid or ErrConflict from the checks, it leaves the stored
// user untouched. An unknown user is ErrNotFound and mutate is not called.
//
// Updates are serialised. mutate runs without the map lock, so it may read
// through this adapter, but it must not call Update itself.
func (m *MemoryUsers) Update(ctx context.Context, tenantID, userID string, mutate func(*adapters.User) error) (*adapters.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.updateMu.Lock()
	defer m.updateMu.Unlock()
	old := m.lookup(tenantID, userID)
	if old == nil {
		return nil, adapters.ErrNotFound
	}
	u, err := old.copy()
	if err != nil {
		return nil, err
	}
	if err := mutate(u); err != nil {
		return nil, err
	}
	u.UserID, u.CreatedAt, u.UpdatedAt = old.u.UserID, old.u.CreatedAt, adapters.Now()
	normalize(u)
	rec, err := newRecord(u)
	if err != nil {
		return nil, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	tenant := m.users[tenantID]
	if tenant[userID] != old {
		// Deleted (and maybe re-created) while mutate ran.
		return nil, adapters.ErrNotFound
	}
	if err := checkUnique(tenant, &rec.u, userID); err != nil {
		return nil, err
	}
	tenant[userID] = rec
	return rec.copy()
}

// Delete removes the user, or returns ErrNotFound. It does not reach the
// user's rows in other adapters; see [MemoryUsers].
func (m *MemoryUsers) Delete(ctx context.Context, tenantID, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tenant := m.users[tenantID]
	if _, ok := tenant[userID]; !ok {
		return adapters.ErrNotFound
	}
	delete(tenant, userID)
	if len(tenant) == 0 {
		delete(m.users, tenantID)
	}
	return nil
}

// List returns a page of the tenant's users. p.Q is searched with
// [adapters.UserSearch] semantics, p.FromDate and p.ToDate bound created_at
// (inclusively), and pages are cut as the SQL adapter cuts them:
//
//   - offset pages (Page, PerPage) sort by p.Sort, a field of
//     [adapters.UserSort] (default created_at ascending), ties broken by
//     user_id in the same direction;
//   - checkpoint pages (From, Take) always run by (created_at, user_id),
//     oldest first unless p.Sort is "created_at:-1"; the cursor in Next holds
//     the last item's created_at in Unix milliseconds and its user_id.
//
// Total counts every match when p.IncludeTotals is set. A malformed q, sort,
// page size or cursor is ErrInvalid and no list is returned.
func (m *MemoryUsers) List(ctx context.Context, tenantID string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	expr, err := adapters.ParseQuery(p.Q, adapters.UserSearch)
	if err != nil {
		return nil, err
	}
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}

	// Collect the matches; records are immutable, so the lock can go after.
	var matches []*record
	m.mu.RLock()
	for _, rec := range m.users[tenantID] {
		at := rec.u.CreatedAt.UnixMilli()
		if !p.FromDate.IsZero() && at < p.FromDate.UnixMilli() {
			continue
		}
		if !p.ToDate.IsZero() && at > p.ToDate.UnixMilli() {
			continue
		}
		if query.Match(expr, userField(&rec.u)) {
			matches = append(matches, rec)
		}
	}
	m.mu.RUnlock()

	out := &adapters.List[adapters.User]{Items: []adapters.User{}, Limit: limit}
	if p.IncludeTotals {
		out.Total = len(matches)
	}
	var page []*record
	if p.Checkpoint() {
		if page, out.Next, err = checkpointPage(matches, p, limit); err != nil {
			return nil, err
		}
	} else {
		if page, out.Start, err = offsetPage(matches, p, limit); err != nil {
			return nil, err
		}
	}
	for _, rec := range page {
		u, err := rec.copy()
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *u)
	}
	return out, nil
}

// checkpointPage orders matches by (created_at, user_id), skips to the item
// after the cursor p.From and returns up to limit items and the cursor of the
// next page ("" on the last page).
func checkpointPage(matches []*record, p adapters.ListParams, limit int) ([]*record, string, error) {
	desc := false
	if p.Sort != "" {
		spec, err := adapters.ParseSort(p.Sort, []string{"created_at"}, adapters.SortSpec{})
		if err != nil {
			return nil, "", adapters.Invalid("sort", "checkpoint pagination sorts only by created_at")
		}
		desc = spec.Desc
	}
	order := func(a, b *record) int {
		c := cmp.Or(cmp.Compare(a.u.CreatedAt.UnixMilli(), b.u.CreatedAt.UnixMilli()), strings.Compare(a.u.UserID, b.u.UserID))
		if desc {
			return -c
		}
		return c
	}
	if p.From != "" {
		cur, err := adapters.DecodeCursor(p.From)
		if err != nil {
			return nil, "", err
		}
		if cur.Desc != desc {
			return nil, "", adapters.Invalid("from", "cursor was made for the other sort order")
		}
		last := &record{u: adapters.User{UserID: cur.ID, CreatedAt: time.UnixMilli(cur.Time)}}
		matches = slices.DeleteFunc(matches, func(r *record) bool { return order(r, last) <= 0 })
	}
	slices.SortFunc(matches, order)
	if len(matches) <= limit {
		return matches, "", nil
	}
	page := matches[:limit]
	end := page[limit-1].u
	next := adapters.EncodeCursor(adapters.Cursor{Time: end.CreatedAt.UnixMilli(), ID: end.UserID, Desc: desc})
	return page, next, nil
}

// offsetPage sorts matches by p.Sort and returns the page p.Page of limit
// items and its offset.
func offsetPage(matches []*record, p adapters.ListParams, limit int) ([]*record, int, error) {
	offset, err := p.Offset()
	if err != nil {
		return nil, 0, err
	}
	spec, err := adapters.ParseSort(p.Sort, adapters.UserSort, adapters.SortSpec{Field: "created_at"})
	if err != nil {
		return nil, 0, err
	}
	by := sortKey(spec.Field)
	slices.SortFunc(matches, func(a, b *record) int {
		c := cmp.Or(by(&a.u, &b.u), strings.Compare(a.u.UserID, b.u.UserID))
		if spec.Desc {
			return -c
		}
		return c
	})
	if offset < 0 || offset >= len(matches) {
		return nil, offset, nil
	}
	return matches[offset:min(offset+limit, len(matches))], offset, nil
}

// sortKey compares two users by a field of adapters.UserSort. Absent values
// (empty strings, a nil last_login) sort first, as NULLs do in SQLite.
func sortKey(field string) func(a, b *adapters.User) int {
	switch field {
	case "created_at":
		return func(a, b *adapters.User) int { return a.CreatedAt.Compare(b.CreatedAt) }
	case "updated_at":
		return func(a, b *adapters.User) int { return a.UpdatedAt.Compare(b.UpdatedAt) }
	case "email":
		return func(a, b *adapters.User) int { return strings.Compare(a.Email, b.Email) }
	case "name":
		return func(a, b *adapters.User) int { return strings.Compare(a.Name, b.Name) }
	case "username":
		return func(a, b *adapters.User) int { return strings.Compare(a.Username, b.Username) }
	case "logins_count":
		return func(a, b *adapters.User) int { return cmp.Compare(a.LoginsCount, b.LoginsCount) }
	case "user_id":
		return func(a, b *adapters.User) int { return 0 } // the tie-break sorts by user_id
	case "last_login":
		return func(a, b *adapters.User) int {
			switch {
			case a.LastLogin == nil && b.LastLogin == nil:
				return 0
			case a.LastLogin == nil:
				return -1
			case b.LastLogin == nil:
				return 1
			}
			return a.LastLogin.Compare(*b.LastLogin)
		}
	}
	return func(a, b *adapters.User) int { return 0 }
}

// userField returns the query.Match getter of u: the value of every field of
// adapters.UserSearch (aliases are resolved by the parser). Empty strings
// are absent, as the SQL adapter stores them as NULL.
func userField(u *adapters.User) func(field string) (any, bool) {
	return func(field string) (any, bool) {
		switch field {
		case "user_id":
			return u.UserID, u.UserID != ""
		case "email":
			return u.Email, u.Email != ""
		case "username":
			return u.Username, u.Username != ""
		case "phone_number":
			return u.PhoneNumber, u.PhoneNumber != ""
		case "name":
			return u.Name, u.Name != ""
		case "given_name":
			return u.GivenName, u.GivenName != ""
		case "family_name":
			return u.FamilyName, u.FamilyName != ""
		case "nickname":
			return u.Nickname, u.Nickname != ""
		case "picture":
			return u.Picture, u.Picture != ""
		case "locale":
			return u.Locale, u.Locale != ""
		case "linked_to":
			return u.LinkedTo, u.LinkedTo != ""
		case "provider":
			return u.Provider, u.Provider != ""
		case "connection":
			return u.Connection, u.Connection != ""
		case "last_ip":
			return u.LastIP, u.LastIP != ""
		case "email_verified":
			return u.EmailVerified, true
		case "phone_verified":
			return u.PhoneVerified, true
		case "is_social":
			return u.IsSocial, true
		case "blocked":
			return u.Blocked, true
		case "logins_count":
			return u.LoginsCount, true
		case "last_login":
			return u.LastLogin, u.LastLogin != nil
		case "created_at":
			return u.CreatedAt, true
		case "updated_at":
			return u.UpdatedAt, true
		}
		return nil, false
	}
}

// normalize lower-cases the email and truncates the optional times to UTC
// milliseconds.
func normalize(u *adapters.User) {
	u.Email = strings.ToLower(u.Email)
	u.LastLogin = millisPtr(u.LastLogin)
	u.RegistrationCompletedAt = millisPtr(u.RegistrationCompletedAt)
}

func millisPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := adapters.Millis(*t)
	return &v
}

// newRecord validates a prepared user and encodes it. The stored copy is
// decoded from the document, so it shares no map or slice with u.
func newRecord(u *adapters.User) (*record, error) {
	if u.Connection == "" {
		return nil, adapters.Invalid("connection", "is required")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"user_id", u.UserID, idLen}, {"connection", u.Connection, idLen}, {"provider", u.Provider, idLen},
		{"phone_number", u.PhoneNumber, idLen}, {"linked_to", u.LinkedTo, idLen},
		{"email", u.Email, emailLen}, {"username", u.Username, emailLen},
		{"locale", u.Locale, shortLen}, {"last_ip", u.LastIP, shortLen},
	} {
		if len(f.value) > f.max {
			return nil, adapters.Invalid(f.name, "is %d bytes; the limit is %d", len(f.value), f.max)
		}
	}
	doc, err := json.Marshal(u)
	if err != nil {
		return nil, adapters.Invalid("user", "cannot encode: %v", err)
	}
	if len(doc) > maxDocument {
		return nil, adapters.Invalid("user", "is %d bytes encoded; the limit is %d", len(doc), maxDocument)
	}
	rec := &record{doc: doc}
	if err := json.Unmarshal(doc, &rec.u); err != nil {
		return nil, fmt.Errorf("memory users: decode: %w", err)
	}
	return rec, nil
}

// copy returns a deep copy of the stored user.
func (r *record) copy() (*adapters.User, error) {
	u := new(adapters.User)
	if err := json.Unmarshal(r.doc, u); err != nil {
		return nil, fmt.Errorf("memory users: decode: %w", err)
	}
	return u, nil
}

// checkUnique returns ErrConflict when another user of the tenant than self
// has u's email or username in u's connection. Empty values are not unique.
func checkUnique(tenant map[string]*record, u *adapters.User, self string) error {
	if u.Email == "" && u.Username == "" {
		return nil
	}
	for id, other := range tenant {
		if id == self || other.u.Connection != u.Connection {
			continue
		}
		if (u.Email != "" && other.u.Email == u.Email) || (u.Username != "" && other.u.Username == u.Username) {
			return conflict()
		}
	}
	return nil
}

func conflict() error {
	return &adapters.ConflictError{Entity: "user", Rule: "user_id, or email or username in the connection"}
}
