package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/session/storetest"
)

// The mutants below each break one rule of the contract on top of the
// memory store; TestMutantsDetected checks that Run fails for every one of
// them, i.e. that its assertions can fail.

// mutant wraps the memory store and overrides some of its methods.
type mutant struct {
	*session.Memory
	mu      sync.Mutex
	tenants map[string]bool
	cache   map[string]*adapters.Session

	getSession    func(m *mutant, ctx context.Context, t, id string) (*adapters.Session, error)
	updateSession func(m *mutant, ctx context.Context, t, id string, f func(*adapters.Session) error) (*adapters.Session, error)
	deleteSession func(m *mutant, ctx context.Context, t, id string) error
	list          func(m *mutant, ctx context.Context, t, u string) ([]adapters.Session, error)
	revoke        func(m *mutant, ctx context.Context, t, u string, at time.Time) (int, error)
	updateLogin   func(m *mutant, ctx context.Context, t, id string, f func(*adapters.LoginSession) error) (*adapters.LoginSession, error)
}

func (m *mutant) CreateSession(ctx context.Context, t string, s adapters.Session) (*adapters.Session, error) {
	m.mu.Lock()
	m.tenants[t] = true
	m.mu.Unlock()
	return m.Memory.CreateSession(ctx, t, s)
}

func (m *mutant) others(t string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for o := range m.tenants {
		if o != t {
			out = append(out, o)
		}
	}
	return out
}

func (m *mutant) GetSession(ctx context.Context, t, id string) (*adapters.Session, error) {
	if m.getSession != nil {
		return m.getSession(m, ctx, t, id)
	}
	return m.Memory.GetSession(ctx, t, id)
}

func (m *mutant) UpdateSession(ctx context.Context, t, id string, f func(*adapters.Session) error) (*adapters.Session, error) {
	if m.updateSession != nil {
		return m.updateSession(m, ctx, t, id, f)
	}
	return m.Memory.UpdateSession(ctx, t, id, f)
}

func (m *mutant) DeleteSession(ctx context.Context, t, id string) error {
	if m.deleteSession != nil {
		return m.deleteSession(m, ctx, t, id)
	}
	return m.Memory.DeleteSession(ctx, t, id)
}

func (m *mutant) ListUserSessions(ctx context.Context, t, u string) ([]adapters.Session, error) {
	if m.list != nil {
		return m.list(m, ctx, t, u)
	}
	return m.Memory.ListUserSessions(ctx, t, u)
}

func (m *mutant) RevokeUserSessions(ctx context.Context, t, u string, at time.Time) (int, error) {
	if m.revoke != nil {
		return m.revoke(m, ctx, t, u, at)
	}
	return m.Memory.RevokeUserSessions(ctx, t, u, at)
}

func (m *mutant) UpdateLogin(ctx context.Context, t, id string, f func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	if m.updateLogin != nil {
		return m.updateLogin(m, ctx, t, id, f)
	}
	return m.Memory.UpdateLogin(ctx, t, id, f)
}

type mutantDef struct {
	apply func(m *mutant)
	opts  []storetest.Option
}

var mutants = map[string]mutantDef{
	"no_mutation": {apply: func(*mutant) {}},
	"update_not_atomic": {apply: func(m *mutant) {
		m.updateSession = func(m *mutant, ctx context.Context, t, id string, f func(*adapters.Session) error) (*adapters.Session, error) {
			cur, err := m.Memory.GetSession(ctx, t, id)
			if err != nil {
				return nil, err
			}
			time.Sleep(time.Millisecond)
			if err := f(cur); err != nil {
				return nil, err
			}
			return m.Memory.UpdateSession(ctx, t, id, func(x *adapters.Session) error { *x = *cur; return nil })
		}
	}},
	"login_update_not_atomic": {apply: func(m *mutant) {
		m.updateLogin = func(m *mutant, ctx context.Context, t, id string, f func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
			cur, err := m.Memory.GetLogin(ctx, t, id)
			if err != nil {
				return nil, err
			}
			time.Sleep(time.Millisecond)
			if err := f(cur); err != nil {
				return nil, err
			}
			return m.Memory.UpdateLogin(ctx, t, id, func(x *adapters.LoginSession) error { *x = *cur; return nil })
		}
	}},
	"mutate_error_still_stored": {apply: func(m *mutant) {
		m.updateSession = func(m *mutant, ctx context.Context, t, id string, f func(*adapters.Session) error) (*adapters.Session, error) {
			var ferr error
			out, err := m.Memory.UpdateSession(ctx, t, id, func(x *adapters.Session) error { ferr = f(x); return nil })
			if ferr != nil {
				return nil, ferr
			}
			return out, err
		}
	}},
	"get_ignores_tenant": {apply: func(m *mutant) {
		m.getSession = func(m *mutant, ctx context.Context, t, id string) (*adapters.Session, error) {
			s, err := m.Memory.GetSession(ctx, t, id)
			for _, o := range m.others(t) {
				if err == nil {
					break
				}
				s, err = m.Memory.GetSession(ctx, o, id)
			}
			return s, err
		}
	}},
	"delete_ignores_tenant": {apply: func(m *mutant) {
		m.deleteSession = func(m *mutant, ctx context.Context, t, id string) error {
			err := m.Memory.DeleteSession(ctx, t, id)
			for _, o := range m.others(t) {
				if err == nil {
					break
				}
				err = m.Memory.DeleteSession(ctx, o, id)
			}
			return err
		}
	}},
	"update_calls_mutate_when_unknown": {apply: func(m *mutant) {
		m.updateSession = func(m *mutant, ctx context.Context, t, id string, f func(*adapters.Session) error) (*adapters.Session, error) {
			if _, err := m.Memory.GetSession(ctx, t, id); err != nil {
				_ = f(&adapters.Session{})
			}
			return m.Memory.UpdateSession(ctx, t, id, f)
		}
	}},
	"get_shares_values": {apply: func(m *mutant) {
		m.getSession = func(m *mutant, ctx context.Context, t, id string) (*adapters.Session, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if s, ok := m.cache[t+"/"+id]; ok {
				if cur, err := m.Memory.GetSession(ctx, t, id); err == nil && cur.UpdatedAt.Equal(s.UpdatedAt) {
					return s, nil
				}
			}
			s, err := m.Memory.GetSession(ctx, t, id)
			if err == nil {
				m.cache[t+"/"+id] = s
			}
			return s, err
		}
	}},
	"list_oldest_first": {apply: func(m *mutant) {
		m.list = func(m *mutant, ctx context.Context, t, u string) ([]adapters.Session, error) {
			l, err := m.Memory.ListUserSessions(ctx, t, u)
			slices.Reverse(l)
			return l, err
		}
	}},
	"revoke_miscounts": {apply: func(m *mutant) {
		m.revoke = func(m *mutant, ctx context.Context, t, u string, at time.Time) (int, error) {
			l, _ := m.Memory.ListUserSessions(ctx, t, u)
			_, err := m.Memory.RevokeUserSessions(ctx, t, u, at)
			return len(l), err
		}
	}},
	"revoke_reaches_other_tenants": {apply: func(m *mutant) {
		m.revoke = func(m *mutant, ctx context.Context, t, u string, at time.Time) (int, error) {
			for _, o := range m.others(t) {
				_, _ = m.Memory.RevokeUserSessions(ctx, o, u, at)
			}
			return m.Memory.RevokeUserSessions(ctx, t, u, at)
		}
	}},
	"keeps_expired_but_claims_to_forget":        {apply: func(*mutant) {}, opts: []storetest.Option{storetest.ForgetsExpiredSessions()}},
	"keeps_expired_logins_but_claims_to_forget": {apply: func(*mutant) {}, opts: []storetest.Option{storetest.ForgetsExpiredLogins()}},
}

// TestMutant runs the contract against the mutant named by
// STORETEST_MUTANT; it is a helper process of TestMutantsDetected.
func TestMutant(t *testing.T) {
	name := os.Getenv("STORETEST_MUTANT")
	if name == "" {
		t.Skip("helper process of TestMutantsDetected")
	}
	def, ok := mutants[name]
	require.True(t, ok, "unknown mutant %q", name)
	storetest.Run(t, func(t *testing.T) session.Store {
		m := &mutant{Memory: session.NewMemory(), tenants: map[string]bool{}, cache: map[string]*adapters.Session{}}
		def.apply(m)
		return m
	}, def.opts...)
}

// TestMutantsDetected checks that the contract fails on every mutant and
// passes on the unmutated store.
func TestMutantsDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the mutant run re-runs the contract once per mutant")
	}
	names := make([]string, 0, len(mutants))
	for n := range mutants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each run mostly sleeps through the expiry test
			cmd := exec.Command(os.Args[0], "-test.run", "^TestMutant$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STORETEST_MUTANT="+name)
			out, err := cmd.CombinedOutput()
			if name == "no_mutation" {
				require.NoError(t, err, "the unmutated store must pass:\n%s", out)
				return
			}
			require.Error(t, err, "the contract did not notice mutant %s", name)
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
