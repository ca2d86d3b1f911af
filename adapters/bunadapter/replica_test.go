package bunadapter_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// replicaFixture is one of each entity whose reads go to the replica, plus
// a user, a code and a refresh token, which stay on the primary.
type replicaFixture struct {
	tenant, clientID, connID, connName, rsID, rsIdentifier, domain, kid, userID string
	code, refresh                                                               string
}

func seedReplicaFixture(t *testing.T, d *adapters.DataAdapters, tn string) replicaFixture {
	t.Helper()
	ctx := context.Background()
	f := replicaFixture{tenant: tn}
	_, err := d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: "Acme v1"})
	require.NoError(t, err)
	c, err := d.Clients.Create(ctx, tn, adapters.Client{ClientID: adapters.NewID(""), Name: "Web v1"})
	require.NoError(t, err)
	f.clientID = c.ClientID
	cn, err := d.Connections.Create(ctx, tn, adapters.Connection{Name: "db-" + adapters.NewID(""), DisplayName: "DB v1", Strategy: "auth0"})
	require.NoError(t, err)
	f.connID, f.connName = cn.ID, cn.Name
	rs, err := d.ResourceServers.Create(ctx, tn, adapters.ResourceServer{Name: "API v1", Identifier: "https://api-" + adapters.NewID("") + ".test/"})
	require.NoError(t, err)
	f.rsID, f.rsIdentifier = rs.ID, rs.Identifier
	_, err = d.ClientGrants.Create(ctx, tn, adapters.ClientGrant{ClientID: c.ClientID, Audience: rs.Identifier, Scope: []string{"read"}})
	require.NoError(t, err)
	k, err := d.Keys.Create(ctx, testKey(tn))
	require.NoError(t, err)
	f.kid = k.Kid
	cd, err := d.CustomDomains.Create(ctx, tn, adapters.CustomDomain{CustomDomainID: adapters.NewID("cd_"), Domain: "login-" + adapters.NewID("") + ".acme.test", Type: "self_managed_certs", Status: "ready"})
	require.NoError(t, err)
	f.domain = cd.Domain
	u, err := d.Users.Create(ctx, tn, adapters.User{UserID: "auth0|" + adapters.NewID(""), Email: "ann@acme.test", Connection: "Username-Password-Authentication", Provider: "auth0"})
	require.NoError(t, err)
	f.userID = u.UserID
	f.code = newCode(t, d, tn, u.UserID)
	f.refresh = newRefresh(t, d, tn, u.UserID, c.ClientID)
	return f
}

func testKey(tn string) adapters.SigningKey {
	kid := adapters.NewID("kid")
	return adapters.SigningKey{Kid: kid, TenantID: tn, Alg: "RS256", PublicJWK: `{"kty":"RSA","kid":"` + kid + `","n":"0vx7","e":"AQAB"}`,
		PrivateKeyEncrypted: "enc:v1:x", Type: "jwt_signing"}
}

func newCode(t *testing.T, d *adapters.DataAdapters, tn, userID string) string {
	t.Helper()
	c, err := d.Codes.Create(context.Background(), tn, adapters.Code{CodeID: adapters.NewID(""), CodeType: adapters.CodeAuthorization,
		LoginID: adapters.NewULID(), UserID: userID, ExpiresAt: adapters.Now().Add(10 * time.Minute)})
	require.NoError(t, err)
	return c.CodeID
}

func newRefresh(t *testing.T, d *adapters.DataAdapters, tn, userID, clientID string) string {
	t.Helper()
	exp := adapters.Now().Add(time.Hour)
	rt, err := d.RefreshTokens.Create(context.Background(), tn, adapters.RefreshToken{ID: adapters.NewULID(), LoginID: adapters.NewULID(),
		UserID: userID, ClientID: clientID, TokenLookup: adapters.NewID("rt_"), TokenHash: "sha256:" + adapters.NewID(""),
		FamilyID: adapters.NewULID(), Rotating: true, ExpiresAt: &exp})
	require.NoError(t, err)
	return rt.ID
}

// configView is what the replica-routed reads return for the fixture.
type configView struct {
	Tenant, Client, ClientByID, Conn, ConnByName, RS, RSByIdentifier string
	Conns, RSs, Grants, Keys, Domains                                int
}

func readConfig(t *testing.T, d *adapters.DataAdapters, f replicaFixture) configView {
	t.Helper()
	ctx := context.Background()
	var v configView
	tn, err := d.Tenants.Get(ctx, f.tenant)
	require.NoError(t, err)
	v.Tenant = tn.FriendlyName
	c, err := d.Clients.Get(ctx, f.tenant, f.clientID)
	require.NoError(t, err)
	v.Client = c.Name
	c, err = d.Clients.GetByClientID(ctx, f.clientID)
	require.NoError(t, err)
	v.ClientByID = c.Name
	cn, err := d.Connections.Get(ctx, f.tenant, f.connID)
	require.NoError(t, err)
	v.Conn = cn.DisplayName
	cn, err = d.Connections.GetByName(ctx, f.tenant, f.connName)
	require.NoError(t, err)
	v.ConnByName = cn.DisplayName
	rs, err := d.ResourceServers.Get(ctx, f.tenant, f.rsID)
	require.NoError(t, err)
	v.RS = rs.Name
	rs, err = d.ResourceServers.GetByIdentifier(ctx, f.tenant, f.rsIdentifier)
	require.NoError(t, err)
	v.RSByIdentifier = rs.Name
	conns, err := d.Connections.List(ctx, f.tenant, adapters.ListParams{})
	require.NoError(t, err)
	v.Conns = len(conns.Items)
	rss, err := d.ResourceServers.List(ctx, f.tenant, adapters.ListParams{})
	require.NoError(t, err)
	v.RSs = len(rss.Items)
	gs, err := d.ClientGrants.List(ctx, f.tenant, adapters.ClientGrantFilter{ClientID: f.clientID}, adapters.ListParams{})
	require.NoError(t, err)
	v.Grants = len(gs.Items)
	ks, err := d.Keys.List(ctx, f.tenant)
	require.NoError(t, err)
	v.Keys = len(ks)
	ds, err := d.CustomDomains.List(ctx, f.tenant)
	require.NoError(t, err)
	v.Domains = len(ds)
	return v
}

// changeConfig renames every fixture entity to v2 and adds one more
// connection, resource server, grant, key and custom domain.
func changeConfig(t *testing.T, d *adapters.DataAdapters, f replicaFixture) (newDomain string) {
	t.Helper()
	ctx := context.Background()
	_, err := d.Tenants.Update(ctx, f.tenant, func(x *adapters.Tenant) error { x.FriendlyName = "Acme v2"; return nil })
	require.NoError(t, err)
	_, err = d.Clients.Update(ctx, f.tenant, f.clientID, func(x *adapters.Client) error { x.Name = "Web v2"; return nil })
	require.NoError(t, err)
	_, err = d.Connections.Update(ctx, f.tenant, f.connID, func(x *adapters.Connection) error { x.DisplayName = "DB v2"; return nil })
	require.NoError(t, err)
	_, err = d.ResourceServers.Update(ctx, f.tenant, f.rsID, func(x *adapters.ResourceServer) error { x.Name = "API v2"; return nil })
	require.NoError(t, err)
	_, err = d.Connections.Create(ctx, f.tenant, adapters.Connection{Name: "db-" + adapters.NewID(""), Strategy: "auth0"})
	require.NoError(t, err)
	rs, err := d.ResourceServers.Create(ctx, f.tenant, adapters.ResourceServer{Name: "API 2", Identifier: "https://api2-" + adapters.NewID("") + ".test/"})
	require.NoError(t, err)
	_, err = d.ClientGrants.Create(ctx, f.tenant, adapters.ClientGrant{ClientID: f.clientID, Audience: rs.Identifier, Scope: []string{"read"}})
	require.NoError(t, err)
	_, err = d.Keys.Create(ctx, testKey(f.tenant))
	require.NoError(t, err)
	cd, err := d.CustomDomains.Create(ctx, f.tenant, adapters.CustomDomain{CustomDomainID: adapters.NewID("cd_"), Domain: "id-" + adapters.NewID("") + ".acme.test", Type: "self_managed_certs", Status: "ready"})
	require.NoError(t, err)
	return cd.Domain
}

var (
	v1 = configView{Tenant: "Acme v1", Client: "Web v1", ClientByID: "Web v1", Conn: "DB v1", ConnByName: "DB v1", RS: "API v1", RSByIdentifier: "API v1",
		Conns: 1, RSs: 1, Grants: 1, Keys: 1, Domains: 1}
	v2 = configView{Tenant: "Acme v2", Client: "Web v2", ClientByID: "Web v2", Conn: "DB v2", ConnByName: "DB v2", RS: "API v2", RSByIdentifier: "API v2",
		Conns: 2, RSs: 2, Grants: 2, Keys: 2, Domains: 2}
)

// TestReplicaStreaming runs the adapter on a real PostgreSQL primary with a
// streaming replica. With replay paused on the replica, every configuration
// read returns the replica's old rows while the same reads inside a
// transaction, and the reads and writes that must be current (users, code
// consumption, refresh rotation), see the primary; after resuming, the
// replica catches up; with the replica stopped, the reads fall back to the
// primary, and they return to the replica once it is back.
func TestReplicaStreaming(t *testing.T) {
	pg := testdb.StartPGPair(t)
	ctx := context.Background()
	a, err := bunadapter.Open(ctx, pg.Primary, bunadapter.WithReplica(pg.Standby),
		bunadapter.WithReplicaOptions(bunadapter.ReplicaOptions{Timeout: 2 * time.Second, RetryInterval: 100 * time.Millisecond, Logger: quiet}))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NotNil(t, a.Replica())
	require.NoError(t, a.Migrate(ctx))
	f := seedReplicaFixture(t, a.DataAdapters, "acme")
	pg.CatchUp(t)
	require.Equal(t, v1, readConfig(t, a.DataAdapters, f))

	// The replica may have been skipped while it was still starting up; wait
	// (bounded) until the probe has taken it back.
	for i := 0; i < 200 && !a.ReplicaStats().Healthy; i++ {
		time.Sleep(25 * time.Millisecond)
	}
	require.True(t, a.ReplicaStats().Healthy, "%+v", a.ReplicaStats())
	pg.Pause(t)
	newDomain := changeConfig(t, a.DataAdapters, f)
	before := a.ReplicaStats()
	require.Equal(t, v1, readConfig(t, a.DataAdapters, f), "the configuration reads are served by the lagging replica")
	after := a.ReplicaStats()
	require.Equal(t, before.Reads+12, after.Reads, "12 reads, all answered by the replica")
	require.Equal(t, before.Fallbacks, after.Fallbacks)

	err = a.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		require.Equal(t, v2, readConfig(t, tx, f), "reads in a transaction are served by the primary")
		return nil
	})
	require.NoError(t, err)

	// A lookup of something the replica does not have yet is read again on
	// the primary.
	cd, err := a.CustomDomains.GetByDomain(ctx, newDomain)
	require.NoError(t, err)
	require.Equal(t, f.tenant, cd.TenantID)
	require.Equal(t, after.Misses+1, a.ReplicaStats().Misses)

	// What must be current works on the primary while the replica lags.
	u, err := a.Users.Create(ctx, f.tenant, adapters.User{UserID: "auth0|" + adapters.NewID(""), Email: "bob@acme.test", Connection: "Username-Password-Authentication", Provider: "auth0"})
	require.NoError(t, err)
	_, err = a.Users.Get(ctx, f.tenant, u.UserID)
	require.NoError(t, err, "users are read on the primary")
	for _, code := range []string{f.code, newCode(t, a.DataAdapters, f.tenant, u.UserID)} {
		_, err = a.Codes.Consume(ctx, f.tenant, adapters.CodeAuthorization, code, time.Now())
		require.NoError(t, err)
		_, err = a.Codes.Consume(ctx, f.tenant, adapters.CodeAuthorization, code, time.Now())
		require.ErrorIs(t, err, adapters.ErrConsumed)
	}
	for _, id := range []string{f.refresh, newRefresh(t, a.DataAdapters, f.tenant, u.UserID, f.clientID)} {
		old, err := a.RefreshTokens.Get(ctx, f.tenant, id)
		require.NoError(t, err)
		next := adapters.RefreshToken{ID: adapters.NewULID(), LoginID: old.LoginID, UserID: old.UserID, ClientID: old.ClientID,
			TokenLookup: adapters.NewID("rt_"), TokenHash: "sha256:" + adapters.NewID(""), FamilyID: old.FamilyID, Rotating: true}
		got, err := a.RefreshTokens.Rotate(ctx, f.tenant, id, next, time.Now())
		require.NoError(t, err)
		_, err = a.RefreshTokens.Get(ctx, f.tenant, got.ID)
		require.NoError(t, err)
		_, err = a.RefreshTokens.Rotate(ctx, f.tenant, id, next, time.Now())
		require.ErrorIs(t, err, adapters.ErrConsumed)
	}
	require.Equal(t, v1, readConfig(t, a.DataAdapters, f), "still lagging")

	pg.Resume(t)
	pg.CatchUp(t)
	require.Equal(t, v2, readConfig(t, a.DataAdapters, f), "the replica caught up")

	// The replica goes away: reads fall back to the primary at once.
	pg.StopStandby(t)
	start := time.Now()
	require.Equal(t, v2, readConfig(t, a.DataAdapters, f))
	took := time.Since(start)
	st := a.ReplicaStats()
	require.False(t, st.Healthy)
	require.Positive(t, st.Fallbacks)
	require.NotEmpty(t, st.LastError)
	require.Less(t, took, 2*time.Second, "bounded by ReplicaOptions.Timeout")
	t.Logf("12 reads with the replica stopped: %s (%+v)", took.Round(time.Millisecond), st)

	// It comes back: the probe puts it in use again.
	pg.StartStandby(t)
	require.Eventually(t, func() bool { return a.ReplicaStats().Healthy }, 10*time.Second, 20*time.Millisecond)
	reads := a.ReplicaStats().Reads
	require.Equal(t, v2, readConfig(t, a.DataAdapters, f))
	require.Equal(t, reads+12, a.ReplicaStats().Reads)
}

// TestReplicaRoutingSQLite checks the routing rules on two SQLite files
// standing in for a primary and a replica with different contents.
func TestReplicaRoutingSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	primaryDSN, replicaDSN := "sqlite://"+filepath.Join(dir, "primary.db"), "sqlite://"+filepath.Join(dir, "replica.db")
	r := open(t, replicaDSN)
	f := seedReplicaFixture(t, r.DataAdapters, "acme")
	r.Close()

	a, err := bunadapter.Open(ctx, primaryDSN, bunadapter.WithReplica(replicaDSN), bunadapter.WithReplicaOptions(bunadapter.ReplicaOptions{Logger: quiet}))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(ctx))
	// The primary has the same ids with v2 names.
	p := f
	_, err = a.Tenants.Create(ctx, adapters.Tenant{ID: "acme", FriendlyName: "Acme v2"})
	require.NoError(t, err)
	_, err = a.Clients.Create(ctx, "acme", adapters.Client{ClientID: f.clientID, Name: "Web v2"})
	require.NoError(t, err)

	tn, err := a.Tenants.Get(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme v1", tn.FriendlyName, "from the replica")
	c, err := a.Clients.GetByClientID(ctx, f.clientID)
	require.NoError(t, err)
	require.Equal(t, "Web v1", c.Name, "from the replica")
	require.NoError(t, a.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		tn, err := tx.Tenants.Get(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, "Acme v2", tn.FriendlyName, "in a transaction: from the primary")
		return nil
	}))
	_, err = a.Users.Get(ctx, "acme", p.userID)
	require.ErrorIs(t, err, adapters.ErrNotFound, "users are read on the primary, which has none")
	_, err = a.Codes.Get(ctx, "acme", adapters.CodeAuthorization, p.code)
	require.ErrorIs(t, err, adapters.ErrNotFound, "codes are read on the primary")
	// Updates read under a lock on the primary.
	got, err := a.Clients.Update(ctx, "acme", f.clientID, func(x *adapters.Client) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "Web v2", got.Name)

	// Missing on the replica: read on the primary.
	_, err = a.Tenants.Create(ctx, adapters.Tenant{ID: "globex", FriendlyName: "Globex"})
	require.NoError(t, err)
	tn, err = a.Tenants.Get(ctx, "globex")
	require.NoError(t, err)
	require.Equal(t, "Globex", tn.FriendlyName)
	_, err = a.Tenants.Get(ctx, "nobody")
	require.ErrorIs(t, err, adapters.ErrNotFound)
	k, err := a.Keys.Create(ctx, testKey("globex"))
	require.NoError(t, err)
	ks, err := a.Keys.List(ctx, "globex")
	require.NoError(t, err)
	require.Len(t, ks, 1, "no keys on the replica: read on the primary")
	require.Equal(t, k.Kid, ks[0].Kid)
	st := a.ReplicaStats()
	require.True(t, st.Configured)
	require.True(t, st.Healthy)
	require.Equal(t, uint64(0), st.Fallbacks)
	require.Equal(t, uint64(3), st.Misses)

	// A replica that fails: the read is served by the primary.
	_, err = a.Replica().DB.Exec("DROP TABLE tenants")
	require.NoError(t, err)
	tn, err = a.Tenants.Get(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme v2", tn.FriendlyName)
	st = a.ReplicaStats()
	require.False(t, st.Healthy)
	require.Equal(t, uint64(1), st.Fallbacks)
	require.Contains(t, st.LastError, "tenants")

	// No replica: no stats.
	require.Equal(t, bunadapter.ReplicaStats{}, open(t, "sqlite://"+filepath.Join(dir, "plain.db")).ReplicaStats())
}

// TestReplicaOptionsErrors checks what Open refuses.
func TestReplicaOptionsErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(dir, "a.db"), bunadapter.WithReplica("oracle://x"))
	require.ErrorContains(t, err, "replica")
	pg := testdb.Fresh(t, "postgres")
	_, err = bunadapter.Open(ctx, pg, bunadapter.WithReplica("sqlite://"+filepath.Join(dir, "b.db")))
	require.ErrorContains(t, err, "the replica is sqlite but the primary is postgres")
	a, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(dir, "c.db"), bunadapter.WithReplica(""))
	require.NoError(t, err)
	defer a.Close()
	require.Nil(t, a.Replica(), "an empty replica URL means none")
}

// blackHole accepts TCP connections and never answers: a replica that is
// unreachable in the worst way.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "postgres://postgres@" + ln.Addr().String() + "/x?sslmode=disable"
}

// TestReplicaBlackHole bounds what a replica that never answers costs: Open
// returns after one Timeout with the replica left out, and a replica that
// stops answering while in use costs the read in flight one Timeout before
// it is served by the primary; later reads go straight to the primary.
func TestReplicaBlackHole(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.Fresh(t, "postgres")
	hole := blackHole(t)
	const timeout = 300 * time.Millisecond
	ro := bunadapter.ReplicaOptions{Timeout: timeout, RetryInterval: time.Hour, Logger: quiet}

	start := time.Now()
	a, err := bunadapter.Open(ctx, dsn, bunadapter.WithReplica(hole), bunadapter.WithReplicaOptions(ro))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.Less(t, time.Since(start), timeout+2*time.Second)
	require.NoError(t, a.Migrate(ctx))
	require.False(t, a.ReplicaStats().Healthy, "left out from the start")
	_, err = a.Tenants.Create(ctx, adapters.Tenant{ID: "acme", FriendlyName: "Acme"})
	require.NoError(t, err)
	start = time.Now()
	_, err = a.Tenants.Get(ctx, "acme")
	require.NoError(t, err)
	require.Less(t, time.Since(start), timeout, "straight to the primary")

	// An adapter whose replica was fine and then black-holes.
	sqldb, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	b := bunadapter.New(bun.NewDB(sqldb, pgdialect.New()))
	t.Cleanup(func() { b.Close() })
	repl, err := sql.Open("pgx", hole)
	require.NoError(t, err)
	t.Cleanup(func() { repl.Close() })
	require.NoError(t, b.UseReplica(bun.NewDB(repl, pgdialect.New()), ro))
	require.True(t, b.ReplicaStats().Healthy)
	start = time.Now()
	tn, err := b.Tenants.Get(ctx, "acme")
	first := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, "Acme", tn.FriendlyName)
	require.GreaterOrEqual(t, first, timeout)
	require.Less(t, first, timeout+2*time.Second)
	start = time.Now()
	_, err = b.Tenants.Get(ctx, "acme")
	require.NoError(t, err)
	require.Less(t, time.Since(start), timeout, "the replica is left out")
	st := b.ReplicaStats()
	require.False(t, st.Healthy)
	require.Equal(t, uint64(2), st.Fallbacks)
	t.Logf("first read with a black-holed replica: %s (timeout %s); then %+v", first.Round(time.Millisecond), timeout, st)
}
