package tenant

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

func resolver(t *testing.T, cfg Config) *Resolver {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, testdb.Fresh(t, "sqlite"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	for _, id := range []string{"acme", "globex"} {
		_, err := db.Tenants.Create(ctx, adapters.Tenant{ID: id, FriendlyName: id})
		require.NoError(t, err)
	}
	_, err = db.CustomDomains.Create(ctx, "globex", adapters.CustomDomain{Domain: "login.globex.test", Status: "ready"})
	require.NoError(t, err)
	cfg.Data = db.DataAdapters
	r, err := New(cfg)
	require.NoError(t, err)
	return r
}

func TestResolveOrder(t *testing.T) {
	r := resolver(t, Config{Issuer: "https://auth.test/", DefaultTenant: "acme", TrustTenantHeader: true})
	cases := []struct {
		host, header string
		allowHeader  bool
		want, iss    string
	}{
		{"globex.auth.test", "", false, "globex", "https://globex.auth.test/"},
		{"login.globex.test", "", false, "globex", "https://login.globex.test/"},
		{"auth.test", "", false, "acme", "https://auth.test/"},
		{"auth.test", "globex", true, "globex", "https://globex.auth.test/"},
		{"auth.test", "globex", false, "acme", "https://auth.test/"},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "http://"+c.host+"/x", nil)
		if c.header != "" {
			req.Header.Set("tenant-id", c.header)
		}
		info, err := r.Resolve(req, c.allowHeader)
		require.NoError(t, err, c.host)
		require.Equal(t, c.want, info.ID(), c.host)
		require.Equal(t, c.iss, info.Issuer, c.host)
	}
	for _, host := range []string{"nope.auth.test", "a.b.auth.test", "elsewhere.test"} {
		_, err := r.Resolve(httptest.NewRequest("GET", "http://"+host+"/x", nil), true)
		require.ErrorIs(t, err, ErrNotFound, host)
	}
}

func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	r := resolver(t, Config{Issuer: "https://auth.test/", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	req := httptest.NewRequest("GET", "http://acme.auth.test/x", nil)
	req.Header.Set("X-Forwarded-Host", "globex.auth.test")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.0.0.7")

	req.RemoteAddr = "198.51.100.1:1234" // not a proxy
	info, err := r.Resolve(req, false)
	require.NoError(t, err)
	require.Equal(t, "acme", info.ID())
	require.Equal(t, "198.51.100.1", r.ClientIP(req))

	req.RemoteAddr = "10.1.2.3:1234" // a trusted proxy
	info, err = r.Resolve(req, false)
	require.NoError(t, err)
	require.Equal(t, "globex", info.ID())
	require.Equal(t, "https://globex.auth.test/", info.Issuer)
	require.Equal(t, "203.0.113.9", r.ClientIP(req), "the last untrusted hop")
}

func TestSingleTenantFallback(t *testing.T) {
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))
	r, err := New(Config{Data: db.DataAdapters})
	require.NoError(t, err)
	_, err = r.Resolve(httptest.NewRequest("GET", "http://localhost:3000/", nil), false)
	require.ErrorIs(t, err, ErrNotFound, "no tenant at all")
	_, err = db.Tenants.Create(ctx, adapters.Tenant{ID: "only", FriendlyName: "Only"})
	require.NoError(t, err)
	r, _ = New(Config{Data: db.DataAdapters})
	info, err := r.Resolve(httptest.NewRequest("GET", "http://localhost:3000/", nil), false)
	require.NoError(t, err)
	require.Equal(t, "only", info.ID())
	require.Equal(t, "http://localhost:3000/", info.Issuer)
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
	_, err = New(Config{Data: &adapters.DataAdapters{Tenants: nil}})
	require.Error(t, err)
}
