// Package adaptertest is the conformance suite of the authhero-go storage
// port (package adapters). Every storage adapter — the bun SQL adapter on
// SQLite, PostgreSQL and MySQL, and any custom adapter a user plugs in — must
// pass it:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters {
//			return openMyAdapter(t)
//		})
//	}
//
// An adapter that replaces a single entity (for example users served from
// another system) runs only the groups that concern it:
//
//	adaptertest.Run(t, newAdapters, adaptertest.Only("users", "passwords"))
//
// Run calls newAdapters once and shares the instance across all subtests.
// Every subtest isolates itself with freshly created tenants (ids from
// adapters.NewID("t_")) and random entity ids, so the suite can run against
// a database that already holds other data, and it removes its tenants when
// it is done. Assertions on global data (the tenant list, signing keys,
// custom domains, client ids, DeleteExpired) tolerate rows the suite did not
// create.
//
// Subtests are named by group, then case, e.g. "users/create_get". The groups
// are listed in [Groups].
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// Option configures Run.
type Option func(*config)

type config struct {
	only map[string]bool
}

// Only restricts Run to the named groups, e.g. Only("users") for an adapter
// that replaces one entity. The group names are those of [Groups]; an unknown
// name fails the test.
func Only(groups ...string) Option {
	return func(c *config) {
		if c.only == nil {
			c.only = map[string]bool{}
		}
		for _, g := range groups {
			c.only[g] = true
		}
	}
}

// group is one named part of the contract with the adapters it needs.
type group struct {
	name  string
	needs []string
	run   func(t *testing.T, s *suite)
}

var groups = []group{
	{"tenants", []string{"Tenants"}, testTenants},
	{"users", []string{"Tenants", "Users"}, testUsers},
	{"passwords", []string{"Tenants", "Users", "Passwords"}, testPasswords},
	{"clients", []string{"Tenants", "Clients"}, testClients},
	{"client_grants", []string{"Tenants", "Clients", "ClientGrants"}, testClientGrants},
	{"connections", []string{"Tenants", "Connections"}, testConnections},
	{"resource_servers", []string{"Tenants", "ResourceServers"}, testResourceServers},
	{"roles", []string{"Tenants", "Roles"}, testRoles},
	{"role_permissions", []string{"Tenants", "Roles", "RolePermissions"}, testRolePermissions},
	{"user_roles", []string{"Tenants", "Users", "Roles", "UserRoles"}, testUserRoles},
	{"user_permissions", []string{"Tenants", "Users", "UserPermissions"}, testUserPermissions},
	{"keys", []string{"Tenants", "Keys"}, testKeys},
	{"codes", []string{"Tenants", "Codes"}, testCodes},
	{"login_sessions", []string{"Tenants", "LoginSessions"}, testLoginSessions},
	{"sessions", []string{"Tenants", "Sessions"}, testSessions},
	{"refresh_tokens", []string{"Tenants", "Sessions", "RefreshTokens"}, testRefreshTokens},
	{"logs", []string{"Tenants", "Logs"}, testLogs},
	{"custom_domains", []string{"Tenants", "CustomDomains"}, testCustomDomains},
	{"organizations", []string{"Tenants", "Users", "Organizations"}, testOrganizations},
	{"session_revocations", []string{"Tenants", "SessionRevocations"}, testSessionRevocations},
	{"transactions", []string{"Tenants", "Users"}, testTransactions},
	{"isolation", allAdapters, testIsolation},
	{"contention", []string{"Tenants", "Codes", "RefreshTokens"}, testContention},
	{"cleanup", []string{"Tenants", "Codes", "LoginSessions", "Sessions", "RefreshTokens"}, testCleanup},
}

var allAdapters = []string{
	"Tenants", "Users", "Passwords", "Clients", "ClientGrants", "Connections",
	"ResourceServers", "Roles", "RolePermissions", "UserRoles", "UserPermissions",
	"Keys", "Codes", "LoginSessions", "Sessions", "RefreshTokens", "Logs",
	"CustomDomains", "Organizations",
}

// Groups returns the names of the suite's groups in the order Run runs
// them: tenants, users, passwords, clients, client_grants, connections,
// resource_servers, roles, role_permissions, user_roles, user_permissions,
// keys, codes, login_sessions, sessions, refresh_tokens, logs,
// custom_domains, organizations, session_revocations, transactions,
// isolation, contention and cleanup.
func Groups() []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.name
	}
	return out
}

// Run runs the whole contract against the adapters newAdapters returns.
// newAdapters is called once; the caller owns the instance (close it with
// t.Cleanup). Subtests run sequentially.
func Run(t *testing.T, newAdapters func(t *testing.T) *adapters.DataAdapters, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	for name := range cfg.only {
		if !slices.Contains(Groups(), name) {
			t.Fatalf("adaptertest.Only: unknown group %q (groups: %s)", name, strings.Join(Groups(), ", "))
		}
	}
	d := newAdapters(t)
	require.NotNil(t, d, "newAdapters returned nil")
	s := &suite{d: d}
	for _, g := range groups {
		if cfg.only != nil && !cfg.only[g.name] {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			s.need(t, g.needs...)
			g.run(t, s)
		})
	}
}

// contextT abbreviates context.Context in adapter closures.
type contextT = context.Context

// suite is the shared state of one Run.
type suite struct {
	d *adapters.DataAdapters
}

// need fails the test when one of the named DataAdapters fields is nil.
func (s *suite) need(t *testing.T, fields ...string) {
	t.Helper()
	v := reflect.ValueOf(s.d).Elem()
	for _, f := range fields {
		fv := v.FieldByName(f)
		require.True(t, fv.IsValid(), "DataAdapters has no field %s", f)
		require.False(t, fv.IsNil(), "DataAdapters.%s is nil but group %q needs it", f, t.Name())
	}
}

// tenant creates a fresh tenant and removes it (with everything it owns)
// when the test ends.
func (s *suite) tenant(t *testing.T) string {
	t.Helper()
	id := adapters.NewID("t_")
	_, err := s.d.Tenants.Create(t.Context(), adapters.Tenant{ID: id, FriendlyName: "adaptertest " + id})
	require.NoError(t, err, "create tenant %s", id)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.d.Tenants.Delete(ctx, id)
	})
	return id
}

// errBoom is what failing mutate functions return.
var errBoom = errors.New("adaptertest: mutate refused")

// requireMillisUTC checks that ts is set, in UTC and at millisecond precision.
func requireMillisUTC(t *testing.T, ts time.Time, what string) {
	t.Helper()
	require.False(t, ts.IsZero(), "%s is zero", what)
	require.Equal(t, time.UTC, ts.Location(), "%s is not in UTC: %v", what, ts)
	require.True(t, ts.Equal(ts.Truncate(time.Millisecond)), "%s has sub-millisecond precision: %v", what, ts.Format(time.RFC3339Nano))
}

// requireRecent checks that ts (filled in by the adapter) lies between
// before and after, at millisecond precision and in UTC.
func requireRecent(t *testing.T, ts, before, after time.Time, what string) {
	t.Helper()
	requireMillisUTC(t, ts, what)
	require.False(t, ts.Before(before.Truncate(time.Millisecond)), "%s %v is before the call started (%v)", what, ts, before)
	require.False(t, ts.After(after.Add(time.Millisecond)), "%s %v is after the call returned (%v)", what, ts, after)
}

// requireMillisPtr checks an optional time like requireMillisUTC.
func requireMillisPtr(t *testing.T, ts *time.Time, what string) {
	t.Helper()
	require.NotNil(t, ts, "%s is nil", what)
	requireMillisUTC(t, *ts, what)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// ms returns a fixed point in time at millisecond precision in UTC, offset
// from a base in 2021 by d.
func ms(d time.Duration) time.Time {
	return time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC).Add(d).Truncate(time.Millisecond)
}

// sleepTick waits long enough for the millisecond clock to move.
func sleepTick() { time.Sleep(3 * time.Millisecond) }

// listFn is one list method bound to its tenant and filters.
type listFn[T any] func(ctx context.Context, p adapters.ListParams) (*adapters.List[T], error)

// keysOf maps items to their keys.
func keysOf[T any](items []T, key func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

// sorted returns a sorted copy.
func sorted(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}

// requireExactlyOnce checks that got holds every key of want exactly once and
// nothing else.
func requireExactlyOnce(t *testing.T, want, got []string, msgAndArgs ...any) {
	t.Helper()
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for k, n := range seen {
		if n != 1 {
			require.Fail(t, fmt.Sprintf("%s listed %d times", k, n), msgAndArgs...)
		}
	}
	require.Equal(t, sorted(want), sorted(got), msgAndArgs...)
}

// listAll reads every item of an offset-paginated list, 100 at a time.
func listAll[T any](t *testing.T, list listFn[T], base adapters.ListParams) []T {
	t.Helper()
	var out []T
	for page := 0; ; page++ {
		require.Less(t, page, 100000, "offset pagination does not terminate")
		p := base
		p.Page, p.PerPage = page, adapters.MaxPerPage
		res, err := list(t.Context(), p)
		require.NoError(t, err)
		require.NotNil(t, res.Items, "List.Items is nil")
		out = append(out, res.Items...)
		if len(res.Items) < adapters.MaxPerPage {
			return out
		}
	}
}

// walkOffset reads the pages of an offset-paginated list of total items with
// perPage, checking every page's Start, Limit and length, and the empty page
// past the end.
func walkOffset[T any](t *testing.T, list listFn[T], base adapters.ListParams, perPage, total int) []T {
	t.Helper()
	var out []T
	pages := (total + perPage - 1) / perPage
	for page := 0; page <= pages; page++ {
		p := base
		p.Page, p.PerPage = page, perPage
		res, err := list(t.Context(), p)
		require.NoError(t, err, "page %d per_page %d", page, perPage)
		require.NotNil(t, res.Items, "List.Items is nil (page %d per_page %d)", page, perPage)
		require.Equal(t, page*perPage, res.Start, "Start of page %d per_page %d", page, perPage)
		require.Equal(t, perPage, res.Limit, "Limit of page %d per_page %d", page, perPage)
		want := min(perPage, total-page*perPage)
		require.Len(t, res.Items, max(want, 0), "items on page %d per_page %d of %d", page, perPage, total)
		out = append(out, res.Items...)
	}
	return out
}

// walkCheckpoint follows Next from an empty From with the given take and
// returns every item visited. Every page but the last is full, no page is
// empty unless the whole list is, and Next is empty on the last page.
func walkCheckpoint[T any](t *testing.T, list listFn[T], base adapters.ListParams, take, limit int) []T {
	t.Helper()
	var out []T
	p := base
	p.Take, p.From = take, ""
	for i := 0; ; i++ {
		require.LessOrEqual(t, i, limit+1, "checkpoint pagination with take %d does not terminate", take)
		res, err := list(t.Context(), p)
		require.NoError(t, err, "checkpoint page %d take %d", i, take)
		require.NotNil(t, res.Items, "List.Items is nil (checkpoint page %d take %d)", i, take)
		require.LessOrEqual(t, len(res.Items), take, "checkpoint page %d longer than take %d", i, take)
		out = append(out, res.Items...)
		if res.Next == "" {
			if i > 0 {
				require.NotEmpty(t, res.Items, "take %d: the page after the last item is empty; Next must be empty on the last page", take)
			}
			return out
		}
		require.Len(t, res.Items, take, "take %d: a page with a Next cursor is not full (page %d)", take, i)
		require.NotEqual(t, p.From, res.Next, "take %d: Next did not move (page %d)", take, i)
		p.From = res.Next
	}
}

// item is the identity and creation time of a listed entity.
type item struct {
	id string
	at time.Time
}

// checkpointOrder returns the ids of items ordered by creation time then id,
// ascending or descending.
func checkpointOrder(items []item, desc bool) []string {
	s := slices.Clone(items)
	sort.Slice(s, func(i, j int) bool {
		if !s[i].at.Equal(s[j].at) {
			return s[i].at.Before(s[j].at)
		}
		return s[i].id < s[j].id
	})
	out := make([]string, len(s))
	for i, it := range s {
		out[i] = it.id
	}
	if desc {
		slices.Reverse(out)
	}
	return out
}

// paging describes one list for the pagination contract.
type paging[T any] struct {
	// list lists the tenant's entities; only the created items match base.
	list listFn[T]
	base adapters.ListParams
	id   func(T) string
	// items are the entities created for the test (15 of them), with their
	// creation times; several share a creation time.
	items []item
	// offsetOrder checks the order of a full offset page (nil: any order).
	offsetOrder func(t *testing.T, got []T)
	// checkpointDesc is true when checkpoint pages run newest first by
	// default; nil when either direction is acceptable.
	checkpointDesc *bool
	// timeSort is the sort field of the creation time ("created_at" or
	// "date"); empty to skip the explicit-direction checkpoint checks.
	timeSort string
}

// runPaging runs the pagination contract (both styles, at their boundaries)
// as subtests.
func runPaging[T any](t *testing.T, pg paging[T]) {
	want := make([]string, len(pg.items))
	for i, it := range pg.items {
		want[i] = it.id
	}
	n := len(want)

	t.Run("offset_pages", func(t *testing.T) {
		res, err := pg.list(t.Context(), withPage(pg.base, 0, adapters.MaxPerPage, false))
		require.NoError(t, err)
		full := keysOf(res.Items, pg.id)
		requireExactlyOnce(t, want, full, "single page of all items")
		if pg.offsetOrder != nil {
			pg.offsetOrder(t, res.Items)
		}
		for _, per := range []int{1, 2, 7} {
			got := keysOf(walkOffset(t, pg.list, pg.base, per, n), pg.id)
			require.Equal(t, full, got, "offset pages with per_page %d do not cover every item exactly once in order", per)
		}
	})
	t.Run("offset_past_end", func(t *testing.T) {
		for _, page := range []int{n, 1000} {
			res, err := pg.list(t.Context(), withPage(pg.base, page, 1, false))
			require.NoError(t, err)
			require.NotNil(t, res.Items, "Items must be non-nil past the end")
			require.Empty(t, res.Items, "page %d with per_page 1 is past the end of %d items", page, n)
		}
	})
	t.Run("offset_totals", func(t *testing.T) {
		res, err := pg.list(t.Context(), withPage(pg.base, 1, 2, true))
		require.NoError(t, err)
		require.Equal(t, n, res.Total, "Total with include_totals")
		require.Equal(t, 2, res.Start)
		require.Equal(t, 2, res.Limit)
		require.Len(t, res.Items, 2)
	})
	t.Run("offset_default_limit", func(t *testing.T) {
		res, err := pg.list(t.Context(), withPage(pg.base, 0, 0, false))
		require.NoError(t, err)
		require.Equal(t, adapters.DefaultPerPage, res.Limit, "per_page 0 must apply the default")
		require.Equal(t, 0, res.Start)
		require.Len(t, res.Items, min(n, adapters.DefaultPerPage))
	})
	t.Run("offset_invalid", func(t *testing.T) {
		_, err := pg.list(t.Context(), withPage(pg.base, 0, adapters.MaxPerPage+1, false))
		require.ErrorIs(t, err, adapters.ErrInvalid, "per_page %d", adapters.MaxPerPage+1)
		_, err = pg.list(t.Context(), withPage(pg.base, -1, 10, false))
		require.ErrorIs(t, err, adapters.ErrInvalid, "page -1")
		_, err = pg.list(t.Context(), withPage(pg.base, 0, -1, false))
		require.ErrorIs(t, err, adapters.ErrInvalid, "per_page -1")
	})
	t.Run("checkpoint_pages", func(t *testing.T) {
		asc := checkpointOrder(pg.items, false)
		desc := checkpointOrder(pg.items, true)
		for _, take := range []int{1, 2, 7, n, adapters.MaxPerPage} {
			got := keysOf(walkCheckpoint(t, pg.list, pg.base, take, n), pg.id)
			requireExactlyOnce(t, want, got, "checkpoint pages with take %d", take)
			switch {
			case pg.checkpointDesc == nil:
				if !slices.Equal(got, asc) {
					require.Equal(t, desc, got, "take %d: checkpoint order is neither oldest first nor newest first (ties by id)", take)
				}
			case *pg.checkpointDesc:
				require.Equal(t, desc, got, "take %d: checkpoint pages must run newest first, ties by id", take)
			default:
				require.Equal(t, asc, got, "take %d: checkpoint pages must run oldest first, ties by id", take)
			}
		}
	})
	if pg.timeSort != "" {
		t.Run("checkpoint_sort_direction", func(t *testing.T) {
			for _, c := range []struct {
				sort string
				desc bool
			}{{pg.timeSort + ":1", false}, {pg.timeSort + ":-1", true}} {
				base := pg.base
				base.Sort = c.sort
				for _, take := range []int{1, 4} {
					got := keysOf(walkCheckpoint(t, pg.list, base, take, n), pg.id)
					require.Equal(t, checkpointOrder(pg.items, c.desc), got, "checkpoint with sort %s take %d", c.sort, take)
				}
			}
		})
	}
	t.Run("checkpoint_invalid", func(t *testing.T) {
		for _, from := range []string{"!!!", "e30", "bm90IGpzb24", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", strings.Repeat("A", 2000)} {
			p := pg.base
			p.From, p.Take = from, 5
			res, err := pg.list(t.Context(), p)
			require.ErrorIs(t, err, adapters.ErrInvalid, "malformed From %q must be ErrInvalid (got %v)", from, res)
		}
		p := pg.base
		p.Take = adapters.MaxPerPage + 1
		_, err := pg.list(t.Context(), p)
		require.ErrorIs(t, err, adapters.ErrInvalid, "take %d", adapters.MaxPerPage+1)
	})
}

// withPage returns base set up for one offset page.
func withPage(base adapters.ListParams, page, perPage int, totals bool) adapters.ListParams {
	base.Page, base.PerPage, base.IncludeTotals = page, perPage, totals
	base.From, base.Take = "", 0
	return base
}

// tieTimes returns n creation times where consecutive groups of three are
// identical, oldest first.
func tieTimes(base time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = base.Add(time.Duration(i/3) * time.Second)
	}
	return out
}
