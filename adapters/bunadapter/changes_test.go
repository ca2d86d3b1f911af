package bunadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/adaptertest"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

// TestConformanceChangeFeed runs the adapter contract with the change feed
// on (transient state included): recording events must not change what any
// adapter method does. SQLite and Postgres (MySQL's recording is covered by
// TestChangeFeedMirror; the whole suite there costs another 15 s).
func TestConformanceChangeFeed(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			a := open(t, testdb.Fresh(t, d))
			require.NoError(t, a.Configure(bunadapter.Options{OriginID: "conformance", ChangeFeed: true, Transient: true}))
			adaptertest.Run(t, func(t *testing.T) *adapters.DataAdapters { return a.DataAdapters })
			n, err := a.Changes().Backlog(context.Background())
			require.NoError(t, err)
			require.Positive(t, n, "the suite's writes recorded events")
		})
	}
}

// allEvents returns every event of a's outbox in order.
func allEvents(t *testing.T, a *bunadapter.Adapter) []bunadapter.ChangeEvent {
	t.Helper()
	var out []bunadapter.ChangeEvent
	after := ""
	for {
		evs, err := a.Changes().Events(context.Background(), after, 500)
		require.NoError(t, err)
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		after = evs[len(evs)-1].ID
	}
}

// snapshot returns every row of a (transient included) keyed by entity,
// tenant and key.
func snapshot(t *testing.T, a *bunadapter.Adapter) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, a.Changes().Snapshot(context.Background(), bunadapter.SnapshotOptions{Transient: true}, func(ev bunadapter.ChangeEvent) error {
		k, _ := json.Marshal([]any{ev.Entity, ev.TenantID, ev.Key})
		out[string(k)] = string(ev.Data)
		return nil
	}))
	return out
}

// exercise makes every kind of replicated write on d.
func exercise(t *testing.T, d *adapters.DataAdapters) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	for _, tn := range []string{"t_one", "t_two"} {
		_, err := d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: tn})
		must(err)
		_, err = d.Tenants.Update(ctx, tn, func(x *adapters.Tenant) error { x.SupportEmail = "help@example.com"; return nil })
		must(err)
		con, err := d.Connections.Create(ctx, tn, adapters.Connection{Name: "db", Strategy: "auth0", Options: adapters.ConnectionOptions{ClientSecret: "sealed:v1:abc"}})
		must(err)
		cl, err := d.Clients.Create(ctx, tn, adapters.Client{Name: "app", ClientSecret: "sealed:v1:secret"})
		must(err)
		_, err = d.Clients.Update(ctx, tn, cl.ClientID, func(x *adapters.Client) error { x.Callbacks = []string{"https://a.example/cb"}; return nil })
		must(err)
		rs, err := d.ResourceServers.Create(ctx, tn, adapters.ResourceServer{Name: "api", Identifier: "https://api/" + tn})
		must(err)
		g, err := d.ClientGrants.Create(ctx, tn, adapters.ClientGrant{ClientID: cl.ClientID, Audience: rs.Identifier, Scope: []string{"read"}})
		must(err)
		_, err = d.ClientGrants.Update(ctx, tn, g.ID, func(x *adapters.ClientGrant) error { x.Scope = append(x.Scope, "write"); return nil })
		must(err)
		r1, err := d.Roles.Create(ctx, tn, adapters.Role{Name: "admin"})
		must(err)
		r2, err := d.Roles.Create(ctx, tn, adapters.Role{Name: "viewer"})
		must(err)
		perms := []adapters.Permission{{ResourceServerIdentifier: rs.Identifier, PermissionName: "read"}, {ResourceServerIdentifier: rs.Identifier, PermissionName: "write"}}
		must(d.RolePermissions.Assign(ctx, tn, r1.ID, perms))
		must(d.RolePermissions.Assign(ctx, tn, r2.ID, perms))
		must(d.RolePermissions.Remove(ctx, tn, r1.ID, perms[1:]))
		org, err := d.Organizations.Create(ctx, tn, adapters.Organization{Name: "acme"})
		must(err)
		var users []string
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			u, err := d.Users.Create(ctx, tn, adapters.User{Email: email, Connection: con.Name, AppMetadata: adapters.Metadata{"n": 1}})
			must(err)
			users = append(users, u.UserID)
			for _, h := range []string{"h1", "h2", "h3"} {
				_, err := d.Passwords.Create(ctx, tn, adapters.Password{UserID: u.UserID, Hash: h, Algorithm: "bcrypt"})
				must(err)
			}
			must(d.UserRoles.Assign(ctx, tn, u.UserID, "", []string{r1.ID, r2.ID}))
			must(d.UserRoles.Assign(ctx, tn, u.UserID, org.ID, []string{r1.ID}))
			must(d.UserPermissions.Assign(ctx, tn, u.UserID, "", perms))
			must(d.UserPermissions.Assign(ctx, tn, u.UserID, org.ID, perms[:1]))
		}
		must(d.Organizations.AddMembers(ctx, tn, org.ID, users))
		must(d.Organizations.RemoveMembers(ctx, tn, org.ID, users[2:]))
		must(d.UserRoles.Remove(ctx, tn, users[0], "", []string{r2.ID}))
		must(d.UserPermissions.Remove(ctx, tn, users[0], "", perms[1:]))
		_, err = d.Users.Update(ctx, tn, users[1], func(u *adapters.User) error { u.Name = "Bee"; u.Blocked = true; return nil })
		must(err)
		must(d.Users.Delete(ctx, tn, users[2]))
		must(d.Roles.Delete(ctx, tn, r2.ID))
		org2, err := d.Organizations.Create(ctx, tn, adapters.Organization{Name: "gone"})
		must(err)
		must(d.Organizations.AddMembers(ctx, tn, org2.ID, users[:1]))
		must(d.Organizations.Delete(ctx, tn, org2.ID))
		cl2, err := d.Clients.Create(ctx, tn, adapters.Client{Name: "gone"})
		must(err)
		_, err = d.ClientGrants.Create(ctx, tn, adapters.ClientGrant{ClientID: cl2.ClientID, Audience: rs.Identifier})
		must(err)
		must(d.Clients.Delete(ctx, tn, cl2.ClientID))
		dom, err := d.CustomDomains.Create(ctx, tn, adapters.CustomDomain{Domain: "login." + tn + ".example", Type: "self_managed_certs", Status: "pending"})
		must(err)
		_, err = d.CustomDomains.Update(ctx, tn, dom.CustomDomainID, func(x *adapters.CustomDomain) error { x.Status = "ready"; return nil })
		must(err)
		k, err := d.Keys.Create(ctx, adapters.SigningKey{Kid: "kid-" + tn, TenantID: tn, Alg: "RS256", PrivateKeyEncrypted: "sealed:v1:private", Current: true})
		must(err)
		_, err = d.Keys.Update(ctx, k.Kid, func(x *adapters.SigningKey) error { x.Current = false; x.Previous = true; return nil })
		must(err)
		// Transient state.
		_, err = d.Codes.Create(ctx, tn, adapters.Code{CodeID: "c1", CodeType: adapters.CodeAuthorization, ExpiresAt: time.Now().Add(time.Hour)})
		must(err)
		_, err = d.Codes.Consume(ctx, tn, adapters.CodeAuthorization, "c1", time.Now())
		must(err)
		_, err = d.Codes.Consume(ctx, tn, adapters.CodeAuthorization, "c1", time.Now())
		require.ErrorIs(t, err, adapters.ErrConsumed)
		s, err := d.Sessions.Create(ctx, tn, adapters.Session{UserID: users[0]})
		must(err)
		_, err = d.Sessions.RevokeByUser(ctx, tn, users[0], time.Now())
		must(err)
		_, err = d.Sessions.Update(ctx, tn, s.ID, func(x *adapters.Session) error { x.Clients = []string{cl.ClientID}; return nil })
		must(err)
		rt, err := d.RefreshTokens.Create(ctx, tn, adapters.RefreshToken{UserID: users[0], ClientID: cl.ClientID, FamilyID: "f1", TokenLookup: "l1-" + tn, TokenHash: "h1"})
		must(err)
		_, err = d.RefreshTokens.Rotate(ctx, tn, rt.ID, adapters.RefreshToken{UserID: users[0], ClientID: cl.ClientID, FamilyID: "f1", TokenLookup: "l2-" + tn, TokenHash: "h2"}, time.Now())
		must(err)
		_, err = d.RefreshTokens.RevokeFamily(ctx, tn, "f1", time.Now())
		must(err)
		_, err = d.Logs.Create(ctx, tn, adapters.Log{Type: "s", Description: "ok"})
		must(err)
		ls, err := d.LoginSessions.Create(ctx, tn, adapters.LoginSession{ExpiresAt: time.Now().Add(time.Hour)})
		must(err)
		must(d.LoginSessions.Delete(ctx, tn, ls.ID))
		// A transaction of several writes.
		must(d.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			if _, err := tx.Users.Update(ctx, tn, users[0], func(u *adapters.User) error { u.LoginsCount++; return nil }); err != nil {
				return err
			}
			_, err := tx.Roles.Update(ctx, tn, r1.ID, func(r *adapters.Role) error { r.Description = "all"; return nil })
			return err
		}))
		// A rolled-back transaction records nothing.
		boom := errors.New("boom")
		require.ErrorIs(t, d.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
			if _, err := tx.Roles.Create(ctx, tn, adapters.Role{Name: "never"}); err != nil {
				return err
			}
			return boom
		}), boom)
	}
	require.NoError(t, d.Tenants.Delete(ctx, "t_two"))
}

// TestChangeFeedMirror makes every kind of write with the feed on, applies
// the recorded events in order to an empty database, and requires both
// databases to hold the same rows: every write path is covered, cascades
// replay the same way, and hidden columns (sealed private keys, password
// is_current, token hashes) travel.
func TestChangeFeedMirror(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		src := open(t, dsn)
		require.NoError(t, src.Configure(bunadapter.Options{OriginID: "src", ChangeFeed: true, Transient: true}))
		dst := open(t, testdb.Fresh(t, "sqlite"))
		exercise(t, src.DataAdapters)

		evs := allEvents(t, src)
		require.NotEmpty(t, evs)
		seen := map[string]bool{}
		for i, ev := range evs {
			require.Equal(t, "src", ev.Origin)
			if i > 0 {
				require.Less(t, evs[i-1].ID, ev.ID)
			}
			seen[ev.Entity+"/"+ev.Op] = true
			out, err := dst.Changes().Apply(ctx, ev, nil)
			require.NoError(t, err, "%s %s %v", ev.Entity, ev.Op, ev.Key)
			require.Equal(t, bunadapter.Applied, out)
		}
		for _, e := range bunadapter.Entities(true) {
			require.True(t, seen[e+"/upsert"], "no upsert event for %s", e)
		}
		for _, e := range []string{"tenant", "user", "client", "role", "organization", "role_permission", "user_role", "user_permission", "organization_member", "login_session"} {
			require.True(t, seen[e+"/delete"], "no delete event for %s", e)
		}
		require.Equal(t, snapshot(t, src), snapshot(t, dst))

		// Replaying everything changes nothing and records nothing.
		before := snapshot(t, dst)
		for _, ev := range evs {
			out, err := dst.Changes().Apply(ctx, ev, nil)
			require.NoError(t, err)
			require.Equal(t, bunadapter.Duplicate, out)
		}
		require.Equal(t, before, snapshot(t, dst))
		n, err := dst.Changes().Backlog(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// The sealed private key and the password flags came across.
		k, err := dst.Keys.Get(ctx, "kid-t_one")
		require.NoError(t, err)
		require.Equal(t, "sealed:v1:private", k.PrivateKeyEncrypted)
		require.True(t, k.Previous)
	})
}

// TestChangeFeedOffByDefault records nothing without the feed, and nothing
// for writes made through Replaying.
func TestChangeFeedOffByDefault(t *testing.T) {
	ctx := context.Background()
	a := open(t, testdb.Fresh(t, "sqlite"))
	_, err := a.Tenants.Create(ctx, adapters.Tenant{ID: "t1"})
	require.NoError(t, err)
	require.Empty(t, allEvents(t, a))
	require.Nil(t, a.Changes().Notify())

	require.NoError(t, a.EnableChangeFeed("here"))
	require.Equal(t, "here", a.Changes().Origin())
	_, err = a.Tenants.Create(bunadapter.Replaying(ctx), adapters.Tenant{ID: "t2"})
	require.NoError(t, err)
	require.Empty(t, allEvents(t, a))
	_, err = a.Tenants.Create(ctx, adapters.Tenant{ID: "t3"})
	require.NoError(t, err)
	select {
	case <-a.Changes().Notify():
	default:
		t.Fatal("no notification after a recorded write")
	}
	evs := allEvents(t, a)
	require.Len(t, evs, 1)
	require.Equal(t, "t3", evs[0].TenantID)
	// Transient state is not recorded unless configured.
	_, err = a.Logs.Create(ctx, "t3", adapters.Log{Type: "s"})
	require.NoError(t, err)
	require.Len(t, allEvents(t, a), 1)
}

// TestApplyLastWriterWins: an older event loses to the row's version, a
// newer one wins, and a delete leaves a tombstone that an older upsert does
// not bring back.
func TestApplyLastWriterWins(t *testing.T) {
	ctx := context.Background()
	src := open(t, testdb.Fresh(t, "sqlite"))
	require.NoError(t, src.EnableChangeFeed("a"))
	dst := open(t, testdb.Fresh(t, "sqlite"))
	_, err := src.Tenants.Create(ctx, adapters.Tenant{ID: "t1", FriendlyName: "one"})
	require.NoError(t, err)
	_, err = src.Tenants.Update(ctx, "t1", func(x *adapters.Tenant) error { x.FriendlyName = "two"; return nil })
	require.NoError(t, err)
	require.NoError(t, src.Tenants.Delete(ctx, "t1"))
	evs := allEvents(t, src)
	require.Len(t, evs, 3)
	require.Less(t, evs[0].UpdatedAt, evs[1].UpdatedAt, "versions of one row strictly increase")

	apply := func(ev bunadapter.ChangeEvent) string {
		out, err := dst.Changes().Apply(ctx, ev, nil)
		require.NoError(t, err)
		return out
	}
	require.Equal(t, bunadapter.Applied, apply(evs[1]))
	require.Equal(t, bunadapter.Stale, apply(evs[0]), "the create is older than the update")
	got, err := dst.Tenants.Get(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, "two", got.FriendlyName)
	require.Equal(t, bunadapter.Applied, apply(evs[2]))
	_, err = dst.Tenants.Get(ctx, "t1")
	require.ErrorIs(t, err, adapters.ErrNotFound)
	old := evs[1]
	old.ID = "01replayedwithanotherid0000"
	require.Equal(t, bunadapter.Stale, apply(old), "the tombstone is newer")
	_, v, err := dst.Changes().Current(ctx, "tenant", "t1", []string{"t1"})
	require.NoError(t, err)
	require.Equal(t, bunadapter.OpDelete, v.Op)
}

// TestPrune deletes sent events and old applied ids, never unsent events.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	a := open(t, testdb.Fresh(t, "sqlite"))
	require.NoError(t, a.EnableChangeFeed("here"))
	for _, id := range []string{"t1", "t2"} {
		_, err := a.Tenants.Create(ctx, adapters.Tenant{ID: id})
		require.NoError(t, err)
	}
	evs := allEvents(t, a)
	require.Len(t, evs, 2)
	require.NoError(t, a.Changes().MarkSent(ctx, []string{evs[0].ID}))
	n, err := a.Changes().Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	pruned, err := a.Changes().Prune(ctx, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, pruned)
	left := allEvents(t, a)
	require.Len(t, left, 1)
	require.Equal(t, evs[1].ID, left[0].ID, "the unsent event stays")
}
