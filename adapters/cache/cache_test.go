package cache_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/adapters/cache"
)

// clock is a fake time source for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openSQLite opens and migrates a fresh temp-file SQLite database.
func openSQLite(t *testing.T) *bunadapter.Adapter {
	t.Helper()
	ctx := context.Background()
	a, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(ctx))
	return a
}

// env is a database with a tenant, seen raw and through the cache.
type env struct {
	raw *adapters.DataAdapters // undecorated: writes "behind the cache's back"
	d   *adapters.DataAdapters // decorated
	clk *clock
	tn  string
}

// setup decorates a fresh database; opts.Now defaults to a fake clock.
func setup(t *testing.T, opts cache.Options) *env {
	t.Helper()
	return decorated(t, openSQLite(t).DataAdapters, opts)
}

func decorated(t *testing.T, raw *adapters.DataAdapters, opts cache.Options) *env {
	t.Helper()
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	e := &env{raw: raw, d: cache.New(raw, opts), clk: clk, tn: adapters.NewID("t_")}
	_, err := raw.Tenants.Create(t.Context(), adapters.Tenant{ID: e.tn, FriendlyName: "cache test"})
	require.NoError(t, err)
	return e
}

func (e *env) stats(t *testing.T) (hits, misses uint64) {
	t.Helper()
	hits, misses, ok := cache.Stats(e.d)
	require.True(t, ok)
	return hits, misses
}

func (e *env) client(t *testing.T, tn string) *adapters.Client {
	t.Helper()
	c, err := e.raw.Clients.Create(t.Context(), tn, adapters.Client{
		Name: "app", Callbacks: []string{"https://a.example/cb"},
		JWTConfiguration: map[string]any{"alg": "RS256", "scopes": map[string]any{"u": []any{"read"}}},
		RefreshToken:     &adapters.RefreshTokenSettings{RotationType: "rotating", Leeway: 3},
		ClientMetadata:   map[string]string{"team": "core"},
	})
	require.NoError(t, err)
	return c
}

func (e *env) grant(t *testing.T, tn, clientID, audience string) *adapters.ClientGrant {
	t.Helper()
	g, err := e.raw.ClientGrants.Create(t.Context(), tn, adapters.ClientGrant{ClientID: clientID, Audience: audience, Scope: []string{"read"}})
	require.NoError(t, err)
	return g
}

func (e *env) key(t *testing.T, tn string) *adapters.SigningKey {
	t.Helper()
	since := adapters.Now()
	k, err := e.raw.Keys.Create(t.Context(), adapters.SigningKey{
		Kid: adapters.NewID("kid"), TenantID: tn, Alg: "RS256", Cert: "cert-1",
		PrivateKeyEncrypted: "enc:private", Current: true, CurrentSince: &since,
	})
	require.NoError(t, err)
	return k
}

func (e *env) domain(t *testing.T, tn string) *adapters.CustomDomain {
	t.Helper()
	d, err := e.raw.CustomDomains.Create(t.Context(), tn, adapters.CustomDomain{
		Domain: "login-" + adapters.NewID("") + ".example.com", Type: "self_managed_certs", Status: "pending",
		Verification: map[string]any{"methods": []any{map[string]any{"name": "txt"}}},
	})
	require.NoError(t, err)
	return d
}

// lookup reads one cached method through the decorator and returns the
// field the test changes.
type lookup func(ctx context.Context) (string, error)

func name[T any](get func(ctx context.Context) (T, error), field func(T) string) lookup {
	return func(ctx context.Context) (string, error) {
		v, err := get(ctx)
		if err != nil {
			return "", err
		}
		return field(v), nil
	}
}

// cachedCase is one cached method: prepare creates the rows (through raw)
// and returns the read through the cache and a change made through raw.
type cachedCase struct {
	name    string
	prepare func(t *testing.T, e *env) (read lookup, change func())
}

func cachedCases() []cachedCase {
	return []cachedCase{
		{"Tenants.Get", func(t *testing.T, e *env) (lookup, func()) {
			return name(func(ctx context.Context) (*adapters.Tenant, error) { return e.d.Tenants.Get(ctx, e.tn) },
					func(v *adapters.Tenant) string { return v.FriendlyName }),
				func() {
					_, err := e.raw.Tenants.Update(t.Context(), e.tn, func(x *adapters.Tenant) error { x.FriendlyName = "renamed"; return nil })
					require.NoError(t, err)
				}
		}},
		{"Clients.Get", func(t *testing.T, e *env) (lookup, func()) {
			c := e.client(t, e.tn)
			return name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.Get(ctx, e.tn, c.ClientID) },
				func(v *adapters.Client) string { return v.Name }), renameClient(t, e, c.ClientID)
		}},
		{"Clients.GetByClientID", func(t *testing.T, e *env) (lookup, func()) {
			c := e.client(t, e.tn)
			return name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, c.ClientID) },
				func(v *adapters.Client) string { return v.Name }), renameClient(t, e, c.ClientID)
		}},
		{"ClientGrants.List(client, audience)", func(t *testing.T, e *env) (lookup, func()) {
			c := e.client(t, e.tn)
			g := e.grant(t, e.tn, c.ClientID, "https://api.example.com")
			return grantScopes(e, c.ClientID, g.Audience), func() {
				_, err := e.raw.ClientGrants.Update(t.Context(), e.tn, g.ID, func(x *adapters.ClientGrant) error { x.Scope = []string{"read", "write"}; return nil })
				require.NoError(t, err)
			}
		}},
		{"ResourceServers.Get", func(t *testing.T, e *env) (lookup, func()) {
			rs := resourceServer(t, e)
			return name(func(ctx context.Context) (*adapters.ResourceServer, error) {
				return e.d.ResourceServers.Get(ctx, e.tn, rs.ID)
			},
				func(v *adapters.ResourceServer) string { return v.Name }), renameResourceServer(t, e, rs.ID)
		}},
		{"ResourceServers.GetByIdentifier", func(t *testing.T, e *env) (lookup, func()) {
			rs := resourceServer(t, e)
			return name(func(ctx context.Context) (*adapters.ResourceServer, error) {
				return e.d.ResourceServers.GetByIdentifier(ctx, e.tn, rs.Identifier)
			}, func(v *adapters.ResourceServer) string { return v.Name }), renameResourceServer(t, e, rs.ID)
		}},
		{"Connections.Get", func(t *testing.T, e *env) (lookup, func()) {
			cn := connection(t, e)
			return name(func(ctx context.Context) (*adapters.Connection, error) { return e.d.Connections.Get(ctx, e.tn, cn.ID) },
				func(v *adapters.Connection) string { return v.DisplayName }), renameConnection(t, e, cn.ID)
		}},
		{"Connections.GetByName", func(t *testing.T, e *env) (lookup, func()) {
			cn := connection(t, e)
			return name(func(ctx context.Context) (*adapters.Connection, error) {
				return e.d.Connections.GetByName(ctx, e.tn, cn.Name)
			},
				func(v *adapters.Connection) string { return v.DisplayName }), renameConnection(t, e, cn.ID)
		}},
		{"Keys.Get", func(t *testing.T, e *env) (lookup, func()) {
			k := e.key(t, e.tn)
			return name(func(ctx context.Context) (*adapters.SigningKey, error) { return e.d.Keys.Get(ctx, k.Kid) },
				func(v *adapters.SigningKey) string { return v.Cert }), recertKey(t, e, k.Kid)
		}},
		{"Keys.List", func(t *testing.T, e *env) (lookup, func()) {
			k := e.key(t, e.tn)
			return name(func(ctx context.Context) ([]adapters.SigningKey, error) { return e.d.Keys.List(ctx, e.tn) },
				func(v []adapters.SigningKey) string { return v[0].Cert }), recertKey(t, e, k.Kid)
		}},
		{"CustomDomains.GetByDomain", func(t *testing.T, e *env) (lookup, func()) {
			cd := e.domain(t, e.tn)
			return name(func(ctx context.Context) (*adapters.CustomDomain, error) {
					return e.d.CustomDomains.GetByDomain(ctx, cd.Domain)
				},
					func(v *adapters.CustomDomain) string { return v.Status }),
				func() {
					_, err := e.raw.CustomDomains.Update(t.Context(), e.tn, cd.CustomDomainID, func(x *adapters.CustomDomain) error { x.Status = "ready"; return nil })
					require.NoError(t, err)
				}
		}},
	}
}

func renameClient(t *testing.T, e *env, clientID string) func() {
	return func() {
		_, err := e.raw.Clients.Update(t.Context(), e.tn, clientID, func(x *adapters.Client) error { x.Name = "renamed"; return nil })
		require.NoError(t, err)
	}
}

func grantScopes(e *env, clientID, audience string) lookup {
	return name(func(ctx context.Context) (*adapters.List[adapters.ClientGrant], error) {
		return e.d.ClientGrants.List(ctx, e.tn, adapters.ClientGrantFilter{ClientID: clientID, Audience: audience}, adapters.ListParams{})
	}, func(l *adapters.List[adapters.ClientGrant]) string {
		var out []string
		for _, g := range l.Items {
			out = append(out, strings.Join(g.Scope, " "))
		}
		return strings.Join(out, "|")
	})
}

func resourceServer(t *testing.T, e *env) *adapters.ResourceServer {
	rs, err := e.raw.ResourceServers.Create(t.Context(), e.tn, adapters.ResourceServer{
		Name: "API", Identifier: "https://" + adapters.NewID("") + ".example.com",
		Scopes: []adapters.ResourceServerScope{{Value: "read"}}, Metadata: map[string]string{"k": "v"},
	})
	require.NoError(t, err)
	return rs
}

func renameResourceServer(t *testing.T, e *env, id string) func() {
	return func() {
		_, err := e.raw.ResourceServers.Update(t.Context(), e.tn, id, func(x *adapters.ResourceServer) error { x.Name = "renamed"; return nil })
		require.NoError(t, err)
	}
}

func connection(t *testing.T, e *env) *adapters.Connection {
	cn, err := e.raw.Connections.Create(t.Context(), e.tn, adapters.Connection{
		Name: "db-" + adapters.NewID(""), DisplayName: "Database", Strategy: "auth0",
		Options: adapters.ConnectionOptions{PasswordHistory: &adapters.PasswordHistory{Enable: true, Size: 3}},
	})
	require.NoError(t, err)
	return cn
}

func renameConnection(t *testing.T, e *env, id string) func() {
	return func() {
		_, err := e.raw.Connections.Update(t.Context(), e.tn, id, func(x *adapters.Connection) error { x.DisplayName = "renamed"; return nil })
		require.NoError(t, err)
	}
}

func recertKey(t *testing.T, e *env, kid string) func() {
	return func() {
		_, err := e.raw.Keys.Update(t.Context(), kid, func(x *adapters.SigningKey) error { x.Cert = "cert-2"; return nil })
		require.NoError(t, err)
	}
}

// TestSecondReadIsHit reads every cached method twice (the second read is a
// hit), changes the row behind the cache's back and sees the cached value
// until the default TTL of 30s has passed, then the new one.
func TestSecondReadIsHit(t *testing.T) {
	for _, c := range cachedCases() {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, cache.Options{})
			read, change := c.prepare(t, e)
			ctx := t.Context()

			first, err := read(ctx)
			require.NoError(t, err)
			h0, m0 := e.stats(t)
			again, err := read(ctx)
			require.NoError(t, err)
			require.Equal(t, first, again)
			h1, m1 := e.stats(t)
			require.Equal(t, h0+1, h1, "the second read must be a hit")
			require.Equal(t, m0, m1, "the second read must not load")

			change()
			got, err := read(ctx)
			require.NoError(t, err)
			require.Equal(t, first, got, "a change behind the cache's back is not seen before the TTL")
			e.clk.Add(cache.DefaultTTL - time.Millisecond)
			got, err = read(ctx)
			require.NoError(t, err)
			require.Equal(t, first, got, "still cached just before the TTL")
			e.clk.Add(time.Millisecond)
			got, err = read(ctx)
			require.NoError(t, err)
			require.NotEqual(t, first, got, "the new value must be seen once the TTL has passed")
			_, m2 := e.stats(t)
			require.Equal(t, m1+1, m2, "an expired entry is loaded again")
		})
	}
}

// TestUncachedPassThrough checks that Management API lists and non-token
// grant lists are not cached, that other fields pass through unchanged and
// that Stats refuses undecorated adapters.
func TestUncachedPassThrough(t *testing.T) {
	e := setup(t, cache.Options{})
	ctx := t.Context()
	c := e.client(t, e.tn)
	g := e.grant(t, e.tn, c.ClientID, "https://api.example.com")

	require.Equal(t, e.raw.Users, e.d.Users)
	require.Equal(t, e.raw.Sessions, e.d.Sessions)
	require.Equal(t, e.raw.RefreshTokens, e.d.RefreshTokens)
	require.NotNil(t, e.d.Ping)
	require.NotNil(t, e.d.Transaction)
	_, _, ok := cache.Stats(e.raw)
	require.False(t, ok)
	_, _, ok = cache.Stats(nil)
	require.False(t, ok)

	for _, f := range []adapters.ClientGrantFilter{{ClientID: c.ClientID}, {Audience: g.Audience}, {}} {
		_, err := e.d.ClientGrants.List(ctx, e.tn, f, adapters.ListParams{})
		require.NoError(t, err)
	}
	_, err := e.d.ClientGrants.List(ctx, e.tn, adapters.ClientGrantFilter{ClientID: c.ClientID, Audience: g.Audience}, adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	_, err = e.d.Clients.List(ctx, e.tn, adapters.ListParams{})
	require.NoError(t, err)
	_, err = e.d.Tenants.List(ctx, adapters.ListParams{})
	require.NoError(t, err)
	_, err = e.d.CustomDomains.List(ctx, e.tn)
	require.NoError(t, err)
	_, err = e.d.ClientGrants.Get(ctx, e.tn, g.ID)
	require.NoError(t, err)
	hits, misses := e.stats(t)
	require.Zero(t, hits)
	require.Zero(t, misses)

	// A paged client list sees a change at once.
	_, err = e.raw.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = "renamed"; return nil })
	require.NoError(t, err)
	res, err := e.d.Clients.List(ctx, e.tn, adapters.ListParams{})
	require.NoError(t, err)
	require.Equal(t, "renamed", res.Items[0].Name)
}

// TestWriteInvalidates checks that writes through the decorator are seen at
// once, without advancing the clock.
func TestWriteInvalidates(t *testing.T) {
	e := setup(t, cache.Options{})
	ctx := t.Context()
	const aud, aud2 = "https://api.example.com", "https://other.example.com"

	t.Run("client_and_grants", func(t *testing.T) {
		c := e.client(t, e.tn)
		g := e.grant(t, e.tn, c.ClientID, aud)
		get := name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.Get(ctx, e.tn, c.ClientID) },
			func(v *adapters.Client) string { return v.Name })
		byID := name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, c.ClientID) },
			func(v *adapters.Client) string { return v.Name })
		scopes, scopes2 := grantScopes(e, c.ClientID, aud), grantScopes(e, c.ClientID, aud2)
		requireRead(t, "app", get)
		requireRead(t, "app", byID)
		requireRead(t, "read", scopes)
		requireRead(t, "", scopes2) // an empty result is cached too

		_, err := e.d.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = "v2"; return nil })
		require.NoError(t, err)
		requireRead(t, "v2", get)
		requireRead(t, "v2", byID)

		_, err = e.d.ClientGrants.Update(ctx, e.tn, g.ID, func(x *adapters.ClientGrant) error { x.Scope = []string{"read", "write"}; return nil })
		require.NoError(t, err)
		requireRead(t, "read write", scopes)

		g2, err := e.d.ClientGrants.Create(ctx, e.tn, adapters.ClientGrant{ClientID: c.ClientID, Audience: aud2, Scope: []string{"x"}})
		require.NoError(t, err)
		requireRead(t, "x", scopes2)
		require.NoError(t, e.d.ClientGrants.Delete(ctx, e.tn, g2.ID))
		requireRead(t, "", scopes2)

		// Deleting the client deletes its grants.
		require.NoError(t, e.d.Clients.Delete(ctx, e.tn, c.ClientID))
		requireNotFound(t, get)
		requireNotFound(t, byID)
		requireRead(t, "", scopes)
	})
	t.Run("tenant", func(t *testing.T) {
		get := name(func(ctx context.Context) (*adapters.Tenant, error) { return e.d.Tenants.Get(ctx, e.tn) },
			func(v *adapters.Tenant) string { return v.FriendlyName })
		requireRead(t, "cache test", get)
		_, err := e.d.Tenants.Update(ctx, e.tn, func(x *adapters.Tenant) error { x.FriendlyName = "v2"; return nil })
		require.NoError(t, err)
		requireRead(t, "v2", get)
	})
	t.Run("resource_server", func(t *testing.T) {
		rs := resourceServer(t, e)
		get := name(func(ctx context.Context) (*adapters.ResourceServer, error) {
			return e.d.ResourceServers.Get(ctx, e.tn, rs.ID)
		},
			func(v *adapters.ResourceServer) string { return v.Name })
		byIdent := name(func(ctx context.Context) (*adapters.ResourceServer, error) {
			return e.d.ResourceServers.GetByIdentifier(ctx, e.tn, rs.Identifier)
		}, func(v *adapters.ResourceServer) string { return v.Name })
		requireRead(t, "API", get)
		requireRead(t, "API", byIdent)
		_, err := e.d.ResourceServers.Update(ctx, e.tn, rs.ID, func(x *adapters.ResourceServer) error { x.Name = "v2"; return nil })
		require.NoError(t, err)
		requireRead(t, "v2", get)
		requireRead(t, "v2", byIdent)
		require.NoError(t, e.d.ResourceServers.Delete(ctx, e.tn, rs.ID))
		requireNotFound(t, get)
		requireNotFound(t, byIdent)
	})
	t.Run("connection_rename", func(t *testing.T) {
		cn := connection(t, e)
		newName := "renamed-" + adapters.NewID("")
		byOld := name(func(ctx context.Context) (*adapters.Connection, error) {
			return e.d.Connections.GetByName(ctx, e.tn, cn.Name)
		},
			func(v *adapters.Connection) string { return v.ID })
		byNew := name(func(ctx context.Context) (*adapters.Connection, error) {
			return e.d.Connections.GetByName(ctx, e.tn, newName)
		},
			func(v *adapters.Connection) string { return v.ID })
		get := name(func(ctx context.Context) (*adapters.Connection, error) { return e.d.Connections.Get(ctx, e.tn, cn.ID) },
			func(v *adapters.Connection) string { return v.Name })
		requireRead(t, cn.ID, byOld)
		requireNotFound(t, byNew)
		requireRead(t, cn.Name, get)
		_, err := e.d.Connections.Update(ctx, e.tn, cn.ID, func(x *adapters.Connection) error { x.Name = newName; return nil })
		require.NoError(t, err)
		requireNotFound(t, byOld)
		requireRead(t, cn.ID, byNew)
		requireRead(t, newName, get)
		require.NoError(t, e.d.Connections.Delete(ctx, e.tn, cn.ID))
		requireNotFound(t, byNew)
	})
	t.Run("keys", func(t *testing.T) {
		tn := adapters.NewID("t_")
		_, err := e.d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: "keys"})
		require.NoError(t, err)
		list := name(func(ctx context.Context) ([]adapters.SigningKey, error) { return e.d.Keys.List(ctx, tn) },
			func(v []adapters.SigningKey) string {
				var out []string
				for _, k := range v {
					out = append(out, k.Kid+"="+strconv.FormatBool(k.RevokedAt != nil))
				}
				return strings.Join(out, ",")
			})
		requireRead(t, "", list)
		k, err := e.d.Keys.Create(ctx, adapters.SigningKey{Kid: adapters.NewID("kid"), TenantID: tn, Alg: "RS256", PrivateKeyEncrypted: "enc"})
		require.NoError(t, err)
		requireRead(t, k.Kid+"=false", list)
		get := name(func(ctx context.Context) (*adapters.SigningKey, error) { return e.d.Keys.Get(ctx, k.Kid) },
			func(v *adapters.SigningKey) string {
				return strconv.FormatBool(v.RevokedAt != nil) + " " + v.PrivateKeyEncrypted
			})
		requireRead(t, "false enc", get)
		_, err = e.d.Keys.Update(ctx, k.Kid, func(x *adapters.SigningKey) error { at := adapters.Now(); x.RevokedAt = &at; return nil })
		require.NoError(t, err)
		requireRead(t, "true enc", get)
		requireRead(t, k.Kid+"=true", list)
	})
	t.Run("custom_domain_rename", func(t *testing.T) {
		cd := e.domain(t, e.tn)
		newDomain := "new-" + adapters.NewID("") + ".example.com"
		byOld := name(func(ctx context.Context) (*adapters.CustomDomain, error) {
			return e.d.CustomDomains.GetByDomain(ctx, cd.Domain)
		},
			func(v *adapters.CustomDomain) string { return v.TenantID })
		byNew := name(func(ctx context.Context) (*adapters.CustomDomain, error) {
			return e.d.CustomDomains.GetByDomain(ctx, newDomain)
		},
			func(v *adapters.CustomDomain) string { return v.TenantID })
		requireRead(t, e.tn, byOld)
		requireNotFound(t, byNew) // cached as not found
		_, err := e.d.CustomDomains.Update(ctx, e.tn, cd.CustomDomainID, func(x *adapters.CustomDomain) error { x.Domain = newDomain; return nil })
		require.NoError(t, err)
		requireNotFound(t, byOld)
		requireRead(t, e.tn, byNew)
		require.NoError(t, e.d.CustomDomains.Delete(ctx, e.tn, cd.CustomDomainID))
		requireNotFound(t, byNew)
	})
	t.Run("tenant_delete_drops_everything", func(t *testing.T) {
		tn := adapters.NewID("t_")
		_, err := e.d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: "doomed"})
		require.NoError(t, err)
		c := e.client(t, tn)
		e.grant(t, tn, c.ClientID, aud)
		k := e.key(t, tn)
		cd := e.domain(t, tn)
		lookups := map[string]lookup{
			"tenant": name(func(ctx context.Context) (*adapters.Tenant, error) { return e.d.Tenants.Get(ctx, tn) },
				func(v *adapters.Tenant) string { return v.ID }),
			"client by id": name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, c.ClientID) },
				func(v *adapters.Client) string { return v.ClientID }),
			"key": name(func(ctx context.Context) (*adapters.SigningKey, error) { return e.d.Keys.Get(ctx, k.Kid) },
				func(v *adapters.SigningKey) string { return v.Kid }),
			"domain": name(func(ctx context.Context) (*adapters.CustomDomain, error) {
				return e.d.CustomDomains.GetByDomain(ctx, cd.Domain)
			},
				func(v *adapters.CustomDomain) string { return v.Domain }),
		}
		for what, l := range lookups {
			_, err := l(ctx)
			require.NoError(t, err, what)
		}
		keysList := func() []adapters.SigningKey {
			ks, err := e.d.Keys.List(ctx, tn)
			require.NoError(t, err)
			return ks
		}
		grants := func() []adapters.ClientGrant {
			res, err := e.d.ClientGrants.List(ctx, tn, adapters.ClientGrantFilter{ClientID: c.ClientID, Audience: aud}, adapters.ListParams{})
			require.NoError(t, err)
			return res.Items
		}
		require.Len(t, keysList(), 1)
		require.Len(t, grants(), 1)

		require.NoError(t, e.d.Tenants.Delete(ctx, tn))
		for what, l := range lookups {
			_, err := l(ctx)
			require.ErrorIs(t, err, adapters.ErrNotFound, what)
		}
		require.Empty(t, keysList())
		require.Empty(t, grants())
	})
}

func requireRead(t *testing.T, want string, l lookup) {
	t.Helper()
	got, err := l(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func requireNotFound(t *testing.T, l lookup) {
	t.Helper()
	_, err := l(t.Context())
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

// TestNegativeCaching checks that ErrNotFound of the global lookups is
// cached for NegativeTTL (default 5s), and nothing else's.
func TestNegativeCaching(t *testing.T) {
	type negCase struct {
		name   string
		lookup func(e *env, id string) lookup
		create func(t *testing.T, e *env, id string)
	}
	cases := []negCase{
		{"Clients.GetByClientID",
			func(e *env, id string) lookup {
				return name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, id) },
					func(v *adapters.Client) string { return v.ClientID })
			},
			func(t *testing.T, e *env, id string) {
				_, err := e.raw.Clients.Create(t.Context(), e.tn, adapters.Client{ClientID: id, Name: "late"})
				require.NoError(t, err)
			}},
		{"CustomDomains.GetByDomain",
			func(e *env, id string) lookup {
				return name(func(ctx context.Context) (*adapters.CustomDomain, error) {
					return e.d.CustomDomains.GetByDomain(ctx, id+".example.com")
				},
					func(v *adapters.CustomDomain) string { return v.Domain })
			},
			func(t *testing.T, e *env, id string) {
				_, err := e.raw.CustomDomains.Create(t.Context(), e.tn, adapters.CustomDomain{Domain: id + ".example.com", Type: "self_managed_certs", Status: "ready"})
				require.NoError(t, err)
			}},
		{"Tenants.Get",
			func(e *env, id string) lookup {
				return name(func(ctx context.Context) (*adapters.Tenant, error) { return e.d.Tenants.Get(ctx, id) },
					func(v *adapters.Tenant) string { return v.ID })
			},
			func(t *testing.T, e *env, id string) {
				_, err := e.raw.Tenants.Create(t.Context(), adapters.Tenant{ID: id, FriendlyName: "late"})
				require.NoError(t, err)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, cache.Options{})
			id := adapters.NewID("neg")
			l := c.lookup(e, id)
			requireNotFound(t, l)
			h0, m0 := e.stats(t)
			c.create(t, e, id)
			requireNotFound(t, l)
			h1, m1 := e.stats(t)
			require.Equal(t, h0+1, h1, "the not-found must be served from the cache")
			require.Equal(t, m0, m1)
			e.clk.Add(cache.DefaultNegativeTTL - time.Millisecond)
			requireNotFound(t, l)
			e.clk.Add(time.Millisecond)
			_, err := l(t.Context())
			require.NoError(t, err, "the not-found must expire after NegativeTTL")
		})
	}
	t.Run("write_through_clears_not_found", func(t *testing.T) {
		e := setup(t, cache.Options{})
		id := adapters.NewID("")
		l := cases[0].lookup(e, id)
		requireNotFound(t, l)
		_, err := e.d.Clients.Create(t.Context(), e.tn, adapters.Client{ClientID: id, Name: "now"})
		require.NoError(t, err)
		requireRead(t, id, l)

		tid := adapters.NewID("t_")
		lt := cases[2].lookup(e, tid)
		requireNotFound(t, lt)
		_, err = e.d.Tenants.Create(t.Context(), adapters.Tenant{ID: tid, FriendlyName: "now"})
		require.NoError(t, err)
		requireRead(t, tid, lt)

		host := adapters.NewID("")
		ld := cases[1].lookup(e, host)
		requireNotFound(t, ld)
		_, err = e.d.CustomDomains.Create(t.Context(), e.tn, adapters.CustomDomain{Domain: host + ".example.com", Type: "self_managed_certs", Status: "ready"})
		require.NoError(t, err)
		requireRead(t, host+".example.com", ld)
	})
	t.Run("other_not_founds_are_not_cached", func(t *testing.T) {
		e := setup(t, cache.Options{})
		id := adapters.NewID("")
		get := name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.Get(ctx, e.tn, id) },
			func(v *adapters.Client) string { return v.ClientID })
		requireNotFound(t, get)
		_, err := e.raw.Clients.Create(t.Context(), e.tn, adapters.Client{ClientID: id, Name: "late"})
		require.NoError(t, err)
		requireRead(t, id, get)

		kid := adapters.NewID("kid")
		key := name(func(ctx context.Context) (*adapters.SigningKey, error) { return e.d.Keys.Get(ctx, kid) },
			func(v *adapters.SigningKey) string { return v.Kid })
		requireNotFound(t, key)
		_, err = e.raw.Keys.Create(t.Context(), adapters.SigningKey{Kid: kid, TenantID: e.tn, Alg: "RS256"})
		require.NoError(t, err)
		requireRead(t, kid, key)
	})
	t.Run("disabled", func(t *testing.T) {
		e := setup(t, cache.Options{NegativeTTL: -1})
		id := adapters.NewID("")
		l := cases[0].lookup(e, id)
		requireNotFound(t, l)
		cases[0].create(t, e, id)
		requireRead(t, id, l)
	})
}

// TestReturnedValuesAreCopies mutates everything a read returns (the
// loading read and the hits) and checks the next caller is unaffected.
func TestReturnedValuesAreCopies(t *testing.T) {
	e := setup(t, cache.Options{})
	ctx := t.Context()
	c := e.client(t, e.tn)
	e.grant(t, e.tn, c.ClientID, "https://api.example.com")
	k := e.key(t, e.tn)
	cd := e.domain(t, e.tn)
	_, err := e.raw.Tenants.Update(ctx, e.tn, func(x *adapters.Tenant) error {
		x.Flags = map[string]any{"nested": map[string]any{"list": []any{"a"}}}
		x.EnabledLocales = []string{"en"}
		return nil
	})
	require.NoError(t, err)

	t.Run("client", func(t *testing.T) {
		requireCopies(t, e, func() (*adapters.Client, error) { return e.d.Clients.Get(ctx, e.tn, c.ClientID) },
			func() (*adapters.Client, error) { return e.raw.Clients.Get(ctx, e.tn, c.ClientID) },
			func(x *adapters.Client) {
				x.Name = "mutated"
				x.Callbacks[0] = "https://evil.example"
				x.Callbacks = append(x.Callbacks, "more")
				x.JWTConfiguration["scopes"].(map[string]any)["u"].([]any)[0] = "write"
				x.ClientMetadata["team"] = "evil"
				x.RefreshToken.Leeway = 99
			})
	})
	t.Run("client_by_id", func(t *testing.T) {
		requireCopies(t, e, func() (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, c.ClientID) },
			func() (*adapters.Client, error) { return e.raw.Clients.GetByClientID(ctx, c.ClientID) },
			func(x *adapters.Client) {
				x.TenantID = "other"
				x.JWTConfiguration["alg"] = "none"
				x.Callbacks[0] = "https://evil.example"
			})
	})
	t.Run("tenant", func(t *testing.T) {
		requireCopies(t, e, func() (*adapters.Tenant, error) { return e.d.Tenants.Get(ctx, e.tn) },
			func() (*adapters.Tenant, error) { return e.raw.Tenants.Get(ctx, e.tn) },
			func(x *adapters.Tenant) {
				x.Flags["nested"].(map[string]any)["list"].([]any)[0] = "b"
				x.EnabledLocales[0] = "xx"
			})
	})
	t.Run("grant_lookup", func(t *testing.T) {
		f := adapters.ClientGrantFilter{ClientID: c.ClientID, Audience: "https://api.example.com"}
		requireCopies(t, e, func() (*adapters.List[adapters.ClientGrant], error) {
			return e.d.ClientGrants.List(ctx, e.tn, f, adapters.ListParams{})
		},
			func() (*adapters.List[adapters.ClientGrant], error) {
				return e.raw.ClientGrants.List(ctx, e.tn, f, adapters.ListParams{})
			},
			func(x *adapters.List[adapters.ClientGrant]) {
				x.Items[0].Scope[0] = "admin"
				x.Items = append(x.Items, adapters.ClientGrant{ID: "fake"})
			})
	})
	t.Run("keys", func(t *testing.T) {
		requireCopies(t, e, func() ([]adapters.SigningKey, error) { return e.d.Keys.List(ctx, e.tn) },
			func() ([]adapters.SigningKey, error) { return e.raw.Keys.List(ctx, e.tn) },
			func(x []adapters.SigningKey) {
				x[0].PrivateKeyEncrypted = "stolen"
				*x[0].CurrentSince = time.Time{}
			})
		requireCopies(t, e, func() (*adapters.SigningKey, error) { return e.d.Keys.Get(ctx, k.Kid) },
			func() (*adapters.SigningKey, error) { return e.raw.Keys.Get(ctx, k.Kid) },
			func(x *adapters.SigningKey) {
				x.Current = false
				*x.CurrentSince = time.Time{}
			})
		got, err := e.d.Keys.Get(ctx, k.Kid)
		require.NoError(t, err)
		require.Equal(t, "enc:private", got.PrivateKeyEncrypted, "json:\"-\" fields survive the copy")
	})
	t.Run("domain", func(t *testing.T) {
		requireCopies(t, e, func() (*adapters.CustomDomain, error) { return e.d.CustomDomains.GetByDomain(ctx, cd.Domain) },
			func() (*adapters.CustomDomain, error) { return e.raw.CustomDomains.GetByDomain(ctx, cd.Domain) },
			func(x *adapters.CustomDomain) {
				x.Verification["methods"].([]any)[0].(map[string]any)["name"] = "evil"
			})
	})
}

// requireCopies reads through the cache three times (a load and two hits),
// mutating each result, and checks every read equals the stored entity.
func requireCopies[T any](t *testing.T, e *env, cached, stored func() (T, error), mutate func(T)) {
	t.Helper()
	want, err := stored()
	require.NoError(t, err)
	_, m0 := e.stats(t)
	for i := range 3 {
		got, err := cached()
		require.NoError(t, err)
		require.Equal(t, want, got, "read %d", i)
		mutate(got)
	}
	_, m1 := e.stats(t)
	require.LessOrEqual(t, m1-m0, uint64(1), "the reads after the first must be hits")
}

// TestTransaction checks that reads inside a transaction bypass the cache
// and that its writes invalidate, also against a concurrent reader that
// cached the pre-commit value.
func TestTransaction(t *testing.T) {
	e := setup(t, cache.Options{})
	ctx := t.Context()
	c := e.client(t, e.tn)
	get := name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.Get(ctx, e.tn, c.ClientID) },
		func(v *adapters.Client) string { return v.Name })
	byID := name(func(ctx context.Context) (*adapters.Client, error) { return e.d.Clients.GetByClientID(ctx, c.ClientID) },
		func(v *adapters.Client) string { return v.Name })

	t.Run("reads_bypass_the_cache", func(t *testing.T) {
		requireRead(t, "app", get) // cached
		_, err := e.raw.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = "behind"; return nil })
		require.NoError(t, err)
		h0, m0 := e.stats(t)
		err = e.d.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			got, err := tx.Clients.Get(ctx, e.tn, c.ClientID)
			require.NoError(t, err)
			require.Equal(t, "behind", got.Name, "a transaction must not read the cache")
			_, err = tx.Clients.GetByClientID(ctx, c.ClientID)
			require.NoError(t, err)
			_, err = tx.Tenants.Get(ctx, adapters.NewID("t_"))
			require.ErrorIs(t, err, adapters.ErrNotFound)
			_, _, ok := cache.Stats(tx)
			require.True(t, ok)
			return nil
		})
		require.NoError(t, err)
		h1, m1 := e.stats(t)
		require.Equal(t, h0, h1)
		require.Equal(t, m0, m1, "a transaction's reads must not load into the cache")
		requireRead(t, "app", get) // the stale entry is still there: nothing wrote through
		e.clk.Add(cache.DefaultTTL)
		requireRead(t, "behind", get)
	})
	t.Run("commit_invalidates_after_concurrent_reader", func(t *testing.T) {
		requireRead(t, "behind", get)
		requireRead(t, "behind", byID)
		err := e.d.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			_, err := tx.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = "committed"; return nil })
			require.NoError(t, err)
			got, err := tx.Clients.Get(ctx, e.tn, c.ClientID)
			require.NoError(t, err)
			require.Equal(t, "committed", got.Name, "a transaction reads its own write")
			// A concurrent reader outside the transaction sees the committed
			// (old) row and caches it before the commit.
			requireRead(t, "behind", get)
			requireRead(t, "behind", byID)
			return nil
		})
		require.NoError(t, err)
		requireRead(t, "committed", get)
		requireRead(t, "committed", byID)
	})
	t.Run("rollback", func(t *testing.T) {
		requireRead(t, "committed", get)
		_, m0 := e.stats(t)
		boom := errors.New("boom")
		err := e.d.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			_, err := tx.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = "rolled back"; return nil })
			require.NoError(t, err)
			return boom
		})
		require.ErrorIs(t, err, boom)
		requireRead(t, "committed", get)
		_, m1 := e.stats(t)
		require.Equal(t, m0+1, m1, "the write inside the transaction invalidated the entry")
	})
	t.Run("grant_write_in_tx", func(t *testing.T) {
		const aud = "https://tx.example.com"
		scopes := grantScopes(e, c.ClientID, aud)
		requireRead(t, "", scopes)
		err := e.d.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			_, err := tx.ClientGrants.Create(ctx, e.tn, adapters.ClientGrant{ClientID: c.ClientID, Audience: aud, Scope: []string{"tx"}})
			return err
		})
		require.NoError(t, err)
		requireRead(t, "tx", scopes)
	})
}

// gatedClients blocks GetByClientID on a gate and counts the loads that
// reach the database. With readFirst it reads the row before waiting, so the
// load returns what was stored when it started.
type gatedClients struct {
	adapters.ClientsAdapter
	gate      chan struct{}
	readFirst bool
	loads     atomic.Int32
}

func (g *gatedClients) GetByClientID(ctx context.Context, id string) (*adapters.Client, error) {
	var (
		c   *adapters.Client
		err error
	)
	if g.readFirst {
		c, err = g.ClientsAdapter.GetByClientID(ctx, id)
	}
	g.loads.Add(1) // after the read: a test that sees the count knows what was read
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if g.readFirst {
		return c, err
	}
	return g.ClientsAdapter.GetByClientID(ctx, id)
}

// TestConcurrentMissesLoadOnce checks that concurrent misses of one key share
// a single load, and that a caller whose context ends does not fail the
// others.
func TestConcurrentMissesLoadOnce(t *testing.T) {
	gatedEnv := func(t *testing.T) (*env, *gatedClients, *adapters.Client) {
		raw := openSQLite(t).DataAdapters
		gated := &gatedClients{ClientsAdapter: raw.Clients, gate: make(chan struct{})}
		next := *raw
		next.Clients = gated
		e := decorated(t, &next, cache.Options{})
		c, err := raw.Clients.Create(t.Context(), e.tn, adapters.Client{Name: "shared", Callbacks: []string{"x"}})
		require.NoError(t, err)
		return e, gated, c
	}
	t.Run("load_once", func(t *testing.T) {
		e, gated, c := gatedEnv(t)
		const n = 16
		results := make([]*adapters.Client, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got, err := e.d.Clients.GetByClientID(context.Background(), c.ClientID)
				if err == nil {
					results[i] = got
				}
			})
		}
		require.Eventually(t, func() bool {
			h, m, _ := cache.Stats(e.d)
			return h == n-1 && m == 1
		}, 10*time.Second, time.Millisecond, "15 callers must wait for the one load")
		close(gated.gate)
		wg.Wait()
		require.Equal(t, int32(1), gated.loads.Load())
		for i, got := range results {
			require.NotNil(t, got, "caller %d", i)
			require.Equal(t, "shared", got.Name)
			got.Callbacks[0] = "mutated by " + strconv.Itoa(i)
		}
		got, err := e.d.Clients.GetByClientID(t.Context(), c.ClientID)
		require.NoError(t, err)
		require.Equal(t, []string{"x"}, got.Callbacks, "callers of a shared load get their own copies")
	})
	t.Run("load_racing_a_write", func(t *testing.T) {
		e, gated, c := gatedEnv(t)
		gated.readFirst = true
		load := func() chan *adapters.Client {
			ch := make(chan *adapters.Client, 1)
			go func() {
				got, _ := e.d.Clients.GetByClientID(context.Background(), c.ClientID)
				ch <- got
			}()
			return ch
		}
		rename := func(to string) {
			_, err := e.d.Clients.Update(t.Context(), e.tn, c.ClientID, func(x *adapters.Client) error { x.Name = to; return nil })
			require.NoError(t, err)
		}

		// A load that read the row before a write must not cache it.
		stale := load()
		require.Eventually(t, func() bool { return gated.loads.Load() == 1 }, 10*time.Second, time.Millisecond)
		rename("v2")
		close(gated.gate)
		require.Equal(t, "shared", (<-stale).Name, "the racing load returns what it read")
		got, err := e.d.Clients.GetByClientID(t.Context(), c.ClientID)
		require.NoError(t, err)
		require.Equal(t, "v2", got.Name, "the racing load's old value must not be cached")

		// A reader that starts after a write does not join a load that
		// started before it.
		gated.gate = make(chan struct{})
		rename("v3")
		stale = load()
		require.Eventually(t, func() bool { return gated.loads.Load() == 3 }, 10*time.Second, time.Millisecond)
		rename("v4")
		fresh := load()
		require.Eventually(t, func() bool { return gated.loads.Load() == 4 }, 10*time.Second, time.Millisecond)
		close(gated.gate)
		require.Equal(t, "v3", (<-stale).Name)
		require.Equal(t, "v4", (<-fresh).Name, "a read after a write must see it")
	})
	t.Run("canceled_loader", func(t *testing.T) {
		e, gated, c := gatedEnv(t)
		loaderCtx, cancel := context.WithCancel(context.Background())
		loaderErr := make(chan error, 1)
		go func() {
			_, err := e.d.Clients.GetByClientID(loaderCtx, c.ClientID)
			loaderErr <- err
		}()
		require.Eventually(t, func() bool { _, m, _ := cache.Stats(e.d); return m == 1 }, 10*time.Second, time.Millisecond)
		joined := make(chan *adapters.Client, 1)
		go func() {
			got, _ := e.d.Clients.GetByClientID(context.Background(), c.ClientID)
			joined <- got
		}()
		require.Eventually(t, func() bool { h, _, _ := cache.Stats(e.d); return h == 1 }, 10*time.Second, time.Millisecond)
		cancel()
		require.ErrorIs(t, <-loaderErr, context.Canceled)
		close(gated.gate)
		got := <-joined
		require.NotNil(t, got, "a waiter with a live context loads again instead of failing")
		require.Equal(t, "shared", got.Name)
		require.Equal(t, int32(2), gated.loads.Load())
	})
}

// TestLRUEviction checks that MaxEntries evicts the least recently used
// entry.
func TestLRUEviction(t *testing.T) {
	e := setup(t, cache.Options{MaxEntries: 2})
	ctx := t.Context()
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = adapters.NewID("t_")
		_, err := e.raw.Tenants.Create(ctx, adapters.Tenant{ID: ids[i], FriendlyName: "lru"})
		require.NoError(t, err)
	}
	read := func(i int) {
		_, err := e.d.Tenants.Get(ctx, ids[i])
		require.NoError(t, err)
	}
	expect := func(hits, misses uint64) {
		t.Helper()
		h, m := e.stats(t)
		require.Equal(t, hits, h, "hits")
		require.Equal(t, misses, m, "misses")
	}
	read(0)
	read(1)
	expect(0, 2)
	read(0) // 0 is now the most recently used
	expect(1, 2)
	read(2) // evicts 1
	expect(1, 3)
	read(0)
	expect(2, 3)
	read(1)
	expect(2, 4)
}

// TestConcurrentReadWrite has 16 goroutines read and write one client for
// 200 iterations each (run it with -race). Every goroutine must read its own
// writes through the cache, and the cache must end equal to the database.
func TestConcurrentReadWrite(t *testing.T) {
	e := setup(t, cache.Options{})
	ctx := t.Context()
	c, err := e.d.Clients.Create(ctx, e.tn, adapters.Client{Name: "race", Description: "0", Callbacks: []string{"a"}})
	require.NoError(t, err)
	version := func(x *adapters.Client) int {
		n, err := strconv.Atoi(x.Description)
		if err != nil {
			panic(err)
		}
		return n
	}
	const goroutines, iterations = 16, 200
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			seen := 0
			check := func(x *adapters.Client, err error, what string) bool {
				if err != nil {
					errs <- err
					return false
				}
				if v := version(x); v < seen {
					errs <- errors.New(what + ": read version " + strconv.Itoa(v) + " after writing " + strconv.Itoa(seen))
					return false
				}
				x.Callbacks[0] = "mutated" // must not reach the cache
				x.Callbacks = append(x.Callbacks, "more")
				return true
			}
			for i := range iterations {
				if i%8 == g%8 {
					up, err := e.d.Clients.Update(ctx, e.tn, c.ClientID, func(x *adapters.Client) error {
						x.Description = strconv.Itoa(version(x) + 1)
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
					seen = version(up)
				}
				if x, err := e.d.Clients.Get(ctx, e.tn, c.ClientID); !check(x, err, "Get") {
					return
				}
				if x, err := e.d.Clients.GetByClientID(ctx, c.ClientID); !check(x, err, "GetByClientID") {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	want, err := e.raw.Clients.Get(ctx, e.tn, c.ClientID)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(goroutines*iterations/8), want.Description, "every write happened")
	got, err := e.d.Clients.Get(ctx, e.tn, c.ClientID)
	require.NoError(t, err)
	require.Equal(t, want, got, "the cache ends equal to the database")
	got, err = e.d.Clients.GetByClientID(ctx, c.ClientID)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, []string{"a"}, got.Callbacks)
	hits, misses := e.stats(t)
	require.Positive(t, hits)
	require.Positive(t, misses)
	t.Logf("hits %d, misses %d", hits, misses)
}
