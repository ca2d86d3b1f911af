package routing_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/routing"
)

// deployment is one real authhero App on its own SQLite database.
type deployment struct {
	db  *bunadapter.Adapter
	srv *httptest.Server
}

func newDeployment(t *testing.T, provider string) *deployment {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), provider+".db"))
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	key := make([]byte, 32)
	rand.Read(key)
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter: db.DataAdapters, EncryptionKey: key, Issuer: "https://auth.example.com/",
		Provider: provider, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	_, err = app.CreateTenant(ctx, adapters.Tenant{ID: "acme", FriendlyName: "Acme"})
	require.NoError(t, err)
	d := &deployment{db: db, srv: httptest.NewServer(app)}
	t.Cleanup(func() {
		d.srv.Close()
		app.Close(context.Background())
		db.Close()
	})
	return d
}

// TestEndToEndAuthheroFailover puts the Proxy in front of two real authhero
// deployments: a tenant's discovery document is served through it with the
// tenant's own issuer (Host kept), and when the primary's database goes away
// its /health turns 503 and the tenant is served by the standby.
func TestEndToEndAuthheroFailover(t *testing.T) {
	primary, standby := newDeployment(t, "primary"), newDeployment(t, "standby")
	cfg := &routing.Config{
		Pools: []routing.Pool{
			{ID: "primary", Origins: []routing.OriginConfig{{Address: primary.srv.URL}}},
			{ID: "standby", Origins: []routing.OriginConfig{{Address: standby.srv.URL}}},
		},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(200 * time.Millisecond), Timeout: routing.Duration(200 * time.Millisecond)},
	}
	_, front := startProxy(t, cfg)

	discovery := func() (string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/.well-known/openid-configuration", nil)
		req.Host = "acme.auth.example.com"
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var doc struct {
			Issuer string `json:"issuer"`
		}
		if resp.StatusCode == 200 {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
		}
		return resp.Header.Get("X-Authhero-Provider"), doc.Issuer
	}
	provider, issuer := discovery()
	require.Equal(t, "primary", provider)
	require.Equal(t, "https://acme.auth.example.com/", issuer, "the tenant resolves through the proxy")

	resp, err := client.Get(front.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	require.NoError(t, primary.db.Close()) // the primary loses its database
	took := waitFor(t, 5*time.Second, "failover to the standby deployment", func() bool {
		p, _ := discovery()
		return p == "standby"
	})
	t.Logf("real authhero failover took %s (its health results are cached for up to 1s)", took.Round(time.Millisecond))
	provider, issuer = discovery()
	require.Equal(t, "standby", provider)
	require.Equal(t, "https://acme.auth.example.com/", issuer)
}
