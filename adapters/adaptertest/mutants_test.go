package adaptertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// The mutants below each break one rule of the contract on top of the bun
// adapter. TestMutantsDetected checks that
// the suite fails for every one of them, i.e. that its assertions can fail.

type mutant struct {
	groups []string
	apply  func(d *adapters.DataAdapters)
}

type usersM struct {
	adapters.UsersAdapter
	get    func(ctx context.Context, tn, id string) (*adapters.User, error)
	list   func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error)
	update func(ctx context.Context, tn, id string, m func(*adapters.User) error) (*adapters.User, error)
	create func(ctx context.Context, tn string, u adapters.User) (*adapters.User, error)
}

func (u usersM) Get(ctx context.Context, tn, id string) (*adapters.User, error) {
	if u.get != nil {
		return u.get(ctx, tn, id)
	}
	return u.UsersAdapter.Get(ctx, tn, id)
}

func (u usersM) List(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
	if u.list != nil {
		return u.list(ctx, tn, p)
	}
	return u.UsersAdapter.List(ctx, tn, p)
}

func (u usersM) Update(ctx context.Context, tn, id string, m func(*adapters.User) error) (*adapters.User, error) {
	if u.update != nil {
		return u.update(ctx, tn, id, m)
	}
	return u.UsersAdapter.Update(ctx, tn, id, m)
}

func (u usersM) Create(ctx context.Context, tn string, x adapters.User) (*adapters.User, error) {
	if u.create != nil {
		return u.create(ctx, tn, x)
	}
	return u.UsersAdapter.Create(ctx, tn, x)
}

type codesM struct {
	adapters.CodesAdapter
	consume func(ctx context.Context, tn, typ, id string, now time.Time) (*adapters.Code, error)
	expired func(ctx context.Context, before time.Time, batch int) (int, error)
}

func (c codesM) Consume(ctx context.Context, tn, typ, id string, now time.Time) (*adapters.Code, error) {
	return c.consume(ctx, tn, typ, id, now)
}

func (c codesM) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	if c.expired != nil {
		return c.expired(ctx, before, batch)
	}
	return c.CodesAdapter.DeleteExpired(ctx, before, batch)
}

type tokensM struct {
	adapters.RefreshTokensAdapter
	rotate func(ctx context.Context, tn, old string, next adapters.RefreshToken, now time.Time) (*adapters.RefreshToken, error)
}

func (r tokensM) Rotate(ctx context.Context, tn, old string, next adapters.RefreshToken, now time.Time) (*adapters.RefreshToken, error) {
	return r.rotate(ctx, tn, old, next, now)
}

type tenantsM struct {
	adapters.TenantsAdapter
	del func(ctx context.Context, id string) error
}

func (t tenantsM) Delete(ctx context.Context, id string) error { return t.del(ctx, id) }

type rolesM struct {
	adapters.RolesAdapter
	list func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.Role], error)
}

func (r rolesM) List(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.Role], error) {
	return r.list(ctx, tn, p)
}

type sessionsM struct {
	adapters.SessionsAdapter
	revoke func(ctx context.Context, tn, uid string, at time.Time) (int, error)
}

func (s sessionsM) RevokeByUser(ctx context.Context, tn, uid string, at time.Time) (int, error) {
	return s.revoke(ctx, tn, uid, at)
}

var mutants = map[string]mutant{
	"users_get_crosses_tenants": {[]string{"isolation"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		var mu sync.Mutex
		owner := map[string]string{}
		d.Users = usersM{UsersAdapter: inner,
			create: func(ctx context.Context, tn string, u adapters.User) (*adapters.User, error) {
				got, err := inner.Create(ctx, tn, u)
				if err == nil {
					mu.Lock()
					if _, ok := owner[got.UserID]; !ok {
						owner[got.UserID] = tn
					}
					mu.Unlock()
				}
				return got, err
			},
			get: func(ctx context.Context, tn, id string) (*adapters.User, error) {
				mu.Lock()
				o, ok := owner[id]
				mu.Unlock()
				if ok {
					tn = o
				}
				return inner.Get(ctx, tn, id)
			}}
	}},
	"users_not_found_wrapped_wrong": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, get: func(ctx context.Context, tn, id string) (*adapters.User, error) {
			u, err := inner.Get(ctx, tn, id)
			if errors.Is(err, adapters.ErrNotFound) {
				return nil, fmt.Errorf("no such user %s", id)
			}
			return u, err
		}}
	}},
	"users_times_not_utc": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, get: func(ctx context.Context, tn, id string) (*adapters.User, error) {
			u, err := inner.Get(ctx, tn, id)
			if err == nil {
				u.CreatedAt = u.CreatedAt.In(time.FixedZone("X", 3600))
			}
			return u, err
		}}
	}},
	"users_update_drops_field": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, update: func(ctx context.Context, tn, id string, m func(*adapters.User) error) (*adapters.User, error) {
			return inner.Update(ctx, tn, id, func(u *adapters.User) error {
				if err := m(u); err != nil {
					return err
				}
				u.Locale = ""
				return nil
			})
		}}
	}},
	"users_update_calls_mutate_for_unknown": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, update: func(ctx context.Context, tn, id string, m func(*adapters.User) error) (*adapters.User, error) {
			if _, err := inner.Get(ctx, tn, id); err != nil {
				_ = m(&adapters.User{})
			}
			return inner.Update(ctx, tn, id, m)
		}}
	}},
	"users_list_ignores_q": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
			if strings.HasPrefix(p.Q, "email:") {
				p.Q = ""
			}
			return inner.List(ctx, tn, p)
		}}
	}},
	"users_list_ignores_sort": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
			if p.Sort == "email:-1" {
				p.Sort = ""
			}
			return inner.List(ctx, tn, p)
		}}
	}},
	"users_total_is_page_length": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
			res, err := inner.List(ctx, tn, p)
			if err == nil && p.IncludeTotals {
				res.Total = len(res.Items)
			}
			return res, err
		}}
	}},
	"users_per_page_101_accepted": {[]string{"users"}, func(d *adapters.DataAdapters) {
		inner := d.Users
		d.Users = usersM{UsersAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
			if p.PerPage > adapters.MaxPerPage {
				p.PerPage = adapters.MaxPerPage
			}
			return inner.List(ctx, tn, p)
		}}
	}},
	"roles_checkpoint_next_on_last_page": {[]string{"roles"}, func(d *adapters.DataAdapters) {
		inner := d.Roles
		d.Roles = rolesM{RolesAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.Role], error) {
			res, err := inner.List(ctx, tn, p)
			if err == nil && p.Checkpoint() && res.Next == "" && len(res.Items) > 0 {
				last := res.Items[len(res.Items)-1]
				res.Next = adapters.EncodeCursor(adapters.Cursor{Time: last.CreatedAt.UnixMilli(), ID: last.ID})
			}
			return res, err
		}}
	}},
	"roles_checkpoint_skips_ties": {[]string{"roles"}, func(d *adapters.DataAdapters) {
		inner := d.Roles
		d.Roles = rolesM{RolesAdapter: inner, list: func(ctx context.Context, tn string, p adapters.ListParams) (*adapters.List[adapters.Role], error) {
			res, err := inner.List(ctx, tn, p)
			if err == nil && p.Checkpoint() && res.Next != "" && len(res.Items) > 0 {
				last := res.Items[len(res.Items)-1]
				res.Next = adapters.EncodeCursor(adapters.Cursor{Time: last.CreatedAt.UnixMilli(), ID: "\U0010FFFF"})
			}
			return res, err
		}}
	}},
	"codes_consume_not_single_use": {[]string{"codes"}, func(d *adapters.DataAdapters) {
		inner := d.Codes
		d.Codes = codesM{CodesAdapter: inner, consume: func(ctx context.Context, tn, typ, id string, now time.Time) (*adapters.Code, error) {
			c, err := inner.Consume(ctx, tn, typ, id, now)
			if errors.Is(err, adapters.ErrConsumed) {
				return c, nil
			}
			return c, err
		}}
	}},
	"codes_consume_racy": {[]string{"contention"}, func(d *adapters.DataAdapters) {
		inner := d.Codes
		d.Codes = codesM{CodesAdapter: inner, consume: func(ctx context.Context, tn, typ, id string, now time.Time) (*adapters.Code, error) {
			c, err := inner.Get(ctx, tn, typ, id)
			if err != nil {
				return nil, err
			}
			if c.UsedAt != nil {
				return c, adapters.ErrConsumed
			}
			time.Sleep(20 * time.Millisecond)
			got, err := inner.Consume(ctx, tn, typ, id, now)
			if errors.Is(err, adapters.ErrConsumed) {
				return got, nil
			}
			return got, err
		}}
	}},
	"codes_delete_expired_miscounts": {[]string{"cleanup"}, func(d *adapters.DataAdapters) {
		inner := d.Codes
		d.Codes = codesM{CodesAdapter: inner, consume: inner.Consume, expired: func(ctx context.Context, before time.Time, batch int) (int, error) {
			_, err := inner.DeleteExpired(ctx, before, batch)
			return 0, err
		}}
	}},
	"codes_delete_expired_one_batch": {[]string{"cleanup"}, func(d *adapters.DataAdapters) {
		inner := d.Codes
		d.Codes = codesM{CodesAdapter: inner, consume: inner.Consume, expired: func(ctx context.Context, before time.Time, batch int) (int, error) {
			return inner.DeleteExpired(ctx, before.Add(-3*time.Minute), batch)
		}}
	}},
	"tokens_rotate_creates_on_replay": {[]string{"refresh_tokens"}, func(d *adapters.DataAdapters) {
		inner := d.RefreshTokens
		d.RefreshTokens = tokensM{RefreshTokensAdapter: inner, rotate: func(ctx context.Context, tn, old string, next adapters.RefreshToken, now time.Time) (*adapters.RefreshToken, error) {
			got, err := inner.Rotate(ctx, tn, old, next, now)
			if errors.Is(err, adapters.ErrConsumed) {
				_, _ = inner.Create(ctx, tn, next)
			}
			return got, err
		}}
	}},
	"sessions_revoke_counts_all": {[]string{"sessions"}, func(d *adapters.DataAdapters) {
		inner := d.Sessions
		d.Sessions = sessionsM{SessionsAdapter: inner, revoke: func(ctx context.Context, tn, uid string, at time.Time) (int, error) {
			n, err := inner.RevokeByUser(ctx, tn, uid, at)
			return n + 1, err
		}}
	}},
	"tenants_delete_keeps_data": {[]string{"isolation"}, func(d *adapters.DataAdapters) {
		inner := d.Tenants
		d.Tenants = tenantsM{TenantsAdapter: inner, del: func(ctx context.Context, id string) error {
			if _, err := inner.Get(ctx, id); err != nil {
				return err
			}
			return nil
		}}
	}},
	"no_mutation": {[]string{"users"}, func(*adapters.DataAdapters) {}},
}

func openSQLite(t *testing.T) *adapters.DataAdapters {
	ctx := context.Background()
	a, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "conformance.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.NoError(t, a.Migrate(ctx))
	return a.DataAdapters
}

// TestMutant runs the suite on the mutant named by ADAPTERTEST_MUTANT.
func TestMutant(t *testing.T) {
	name := os.Getenv("ADAPTERTEST_MUTANT")
	if name == "" {
		t.Skip("set ADAPTERTEST_MUTANT")
	}
	m, ok := mutants[name]
	require.True(t, ok, "unknown mutant %q", name)
	adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters {
		d := openSQLite(t)
		m.apply(d)
		return d
	}, adaptertest.Only(m.groups...))
}

// TestMutantsDetected checks that the suite fails on every mutant and passes
// on the unmutated adapter.
func TestMutantsDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the mutant run re-runs the suite once per mutant")
	}
	names := make([]string, 0, len(mutants))
	for n := range mutants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestMutant$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ADAPTERTEST_MUTANT="+name, "ADAPTERTEST_MUTANTS=")
			out, err := cmd.CombinedOutput()
			if name == "no_mutation" {
				require.NoError(t, err, "the unmutated adapter must pass:\n%s", out)
				return
			}
			require.Error(t, err, "the suite did not notice mutant %s", name)
			var fails []string
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "--- FAIL") && strings.Count(line, "/") >= 2 {
					fails = append(fails, strings.TrimSpace(line))
				}
			}
			t.Logf("%s caught by %d failing cases, e.g. %v", name, len(fails), fails[:min(3, len(fails))])
		})
	}
}
