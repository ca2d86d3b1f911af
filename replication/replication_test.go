package replication_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/replication"
)

// TestOneWayOverNATS: a user created, updated and deleted on an SQLite
// primary appears, changes and disappears on a Postgres replica, through a
// relay, JetStream and an applier. The replica records no events of its own.
func TestOneWayOverNATS(t *testing.T) {
	ctx := context.Background()
	cfg := natsStream(t)
	primary := openDB(t, "sqlite", "primary")
	replica := openDB(t, "postgres", "replica")

	relay := &replication.Relay{Source: primary, Publisher: replication.NewNATSPublisher(cfg), Interval: 50 * time.Millisecond}
	t.Cleanup(func() { relay.Publisher.Close() })
	ap := &replication.Applier{Target: replica, Origin: "replica"}
	start(t, relay.Run)
	start(t, func(ctx context.Context) error { return ap.RunNATS(ctx, cfg, "replica") })

	conn := seedTenant(t, primary.DataAdapters, "acme")
	u, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "ada@example.com", Connection: conn, Name: "Ada"})
	require.NoError(t, err)
	_, err = primary.Passwords.Create(ctx, "acme", adapters.Password{UserID: u.UserID, Hash: "$2a$10$hash", Algorithm: "bcrypt"})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool {
		got, err := replica.Users.Get(ctx, "acme", u.UserID)
		return err == nil && got.Name == "Ada"
	}, "the user reaches the replica")
	eventually(t, 5*time.Second, func() bool {
		p, err := replica.Passwords.GetCurrent(ctx, "acme", u.UserID)
		return err == nil && p.Hash == "$2a$10$hash"
	}, "the password reaches the replica")

	_, err = primary.Users.Update(ctx, "acme", u.UserID, func(x *adapters.User) error { x.Name = "Ada Lovelace"; return nil })
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool {
		got, err := replica.Users.Get(ctx, "acme", u.UserID)
		return err == nil && got.Name == "Ada Lovelace"
	}, "the update reaches the replica")

	require.NoError(t, primary.Users.Delete(ctx, "acme", u.UserID))
	eventually(t, 10*time.Second, func() bool {
		_, err := replica.Users.Get(ctx, "acme", u.UserID)
		_, perr := replica.Passwords.GetCurrent(ctx, "acme", u.UserID)
		return errors.Is(err, adapters.ErrNotFound) && errors.Is(perr, adapters.ErrNotFound)
	}, "the delete (and its cascade) reaches the replica")

	require.Equal(t, rows(t, primary), rows(t, replica))
	require.Empty(t, allEvents(t, replica), "applying records no events: no ping-pong")
	require.Equal(t, uint64(len(allEvents(t, primary))), ap.Stats().Applied)
	require.Zero(t, relay.Stats().Backlog)
}

// TestTwoWayConverges: two databases that both write and both replicate
// (two relays into one stream, two appliers that skip their own origin)
// converge when the same user is updated on both sides at once.
func TestTwoWayConverges(t *testing.T) {
	ctx := context.Background()
	cfg := natsStream(t)
	a := openDB(t, "sqlite", "east")
	b := openDB(t, "postgres", "west")
	for _, side := range []struct {
		db     *bunadapter.Adapter
		origin string
	}{{a, "east"}, {b, "west"}} {
		relay := &replication.Relay{Source: side.db, Publisher: replication.NewNATSPublisher(cfg), Interval: 50 * time.Millisecond}
		t.Cleanup(func() { relay.Publisher.Close() })
		ap := &replication.Applier{Target: side.db, Origin: side.origin}
		start(t, relay.Run)
		start(t, func(ctx context.Context) error { return ap.RunNATS(ctx, cfg, side.origin) })
	}

	conn := seedTenant(t, a.DataAdapters, "acme")
	u, err := a.Users.Create(ctx, "acme", adapters.User{Email: "grace@example.com", Connection: conn})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool { _, err := b.Users.Get(ctx, "acme", u.UserID); return err == nil }, "the user reaches west")

	const n = 15
	var wg sync.WaitGroup
	for _, side := range []struct {
		db   *bunadapter.Adapter
		name string
	}{{a, "east"}, {b, "west"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				_, err := side.db.Users.Update(ctx, "acme", u.UserID, func(x *adapters.User) error {
					x.Name = fmt.Sprintf("%s-%d", side.name, i)
					x.UserMetadata = adapters.Metadata{side.name: i}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()

	same := func() bool {
		ra, va, err1 := a.Changes().Current(ctx, "user", "acme", []string{u.UserID})
		rb, vb, err2 := b.Changes().Current(ctx, "user", "acme", []string{u.UserID})
		return err1 == nil && err2 == nil && ra != nil && rb != nil && bytes.Equal(ra.Data, rb.Data) && *va == *vb
	}
	eventually(t, 15*time.Second, same, "both sides converge on one state and version")
	ua, err := a.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Contains(t, []string{fmt.Sprintf("east-%d", n-1), fmt.Sprintf("west-%d", n-1)}, ua.Name, "the last write of one side wins")
	t.Logf("converged on %q", ua.Name)
	require.Equal(t, rows(t, a), rows(t, b))
	for _, side := range []struct {
		db     *bunadapter.Adapter
		origin string
	}{{a, "east"}, {b, "west"}} {
		for _, ev := range allEvents(t, side.db) {
			require.Equal(t, side.origin, ev.Origin, "an outbox holds only its own writes: applied events do not travel back")
		}
	}
}

// TestOutageLosesNothing: with NATS unreachable, writes succeed and events
// wait in the outbox; once NATS is reachable every event arrives exactly
// once.
func TestOutageLosesNothing(t *testing.T) {
	ctx := context.Background()
	cfg := natsStream(t)
	primary := openDB(t, "sqlite", "primary")
	replica := openDB(t, "postgres", "")

	p := newProxy(t, strings.TrimPrefix(cfg.URL, "nats://"))
	pubCfg := cfg
	pubCfg.URL = "nats://" + p.addr
	pubCfg.Timeout = time.Second
	relay := &replication.Relay{Source: primary, Publisher: replication.NewNATSPublisher(pubCfg), Interval: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	t.Cleanup(func() { relay.Publisher.Close() })
	ap := &replication.Applier{Target: replica, Origin: "replica"}
	start(t, relay.Run)
	start(t, func(ctx context.Context) error { return ap.RunNATS(ctx, cfg, "replica") })

	conn := seedTenant(t, primary.DataAdapters, "acme")
	for i := range 20 {
		_, err := primary.Users.Create(ctx, "acme", adapters.User{Email: fmt.Sprintf("u%d@example.com", i), Connection: conn})
		require.NoError(t, err, "writes succeed while NATS is down")
	}
	evs := allEvents(t, primary)
	eventually(t, 10*time.Second, func() bool { return relay.Stats().Failures >= 2 }, "the relay keeps failing")
	backlog, err := primary.Changes().Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, len(evs), backlog, "every event waits")
	require.Zero(t, count(t, replica, "users"))

	p.start(t)
	eventually(t, 15*time.Second, func() bool { return ap.Stats().Applied == uint64(len(evs)) }, "every event is applied after NATS is back (applied %d of %d)", ap.Stats().Applied, len(evs))
	eventually(t, 5*time.Second, func() bool { return relay.Stats().Backlog == 0 }, "the backlog drains")
	require.Equal(t, uint64(len(evs)), streamMsgs(t, cfg), "each event is in the stream once")
	require.Equal(t, len(evs), count(t, replica, "change_applied"), "each event id is applied once")
	for _, ev := range evs {
		ok, err := replica.Changes().Applied(ctx, ev.ID)
		require.NoError(t, err)
		require.True(t, ok, ev.ID)
	}
	require.Zero(t, ap.Stats().Duplicates)
	require.Equal(t, 20, count(t, replica, "users"))
	require.Equal(t, rows(t, primary), rows(t, replica))
}

// TestReplayAndDeadLetters: a replayed event changes nothing (outcome
// duplicate), an older event with a new id loses (stale), and an event that
// cannot be applied goes to the dead letters until Retry applies it.
func TestReplayAndDeadLetters(t *testing.T) {
	ctx := context.Background()
	primary := openDB(t, "sqlite", "primary")
	replica := openDB(t, "postgres", "replica")
	ap := &replication.Applier{Target: replica, Origin: "replica", Attempts: 2}

	conn := seedTenant(t, primary.DataAdapters, "acme")
	u, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "x@example.com", Connection: conn, Name: "one"})
	require.NoError(t, err)
	_, err = primary.Users.Update(ctx, "acme", u.UserID, func(x *adapters.User) error { x.Name = "two"; return nil })
	require.NoError(t, err)
	evs := applyAll(t, primary, ap)
	before := rows(t, replica)

	for _, ev := range evs {
		out, err := ap.Apply(ctx, ev)
		require.NoError(t, err)
		require.Equal(t, replication.OutcomeDuplicate, out)
	}
	older := evs[len(evs)-2] // the create
	older.ID = "01zzzzzzzzzzzzzzzzzzzzzzzz"
	out, err := ap.Apply(ctx, older)
	require.NoError(t, err)
	require.Equal(t, replication.OutcomeStale, out)
	require.Equal(t, before, rows(t, replica), "replays change nothing")
	require.Empty(t, allEvents(t, replica))
	own := evs[0]
	own.Origin, own.ID = "replica", "01yyyyyyyyyyyyyyyyyyyyyyyy"
	out, err = ap.Apply(ctx, own)
	require.NoError(t, err)
	require.Equal(t, replication.OutcomeSkipped, out, "events of the local origin are skipped")

	// A user whose email another replica user already has: a conflict.
	_, err = replica.Users.Create(bunadapter.Replaying(ctx), "acme", adapters.User{UserID: "auth0|squatter", Email: "y@example.com", Connection: conn})
	require.NoError(t, err)
	v, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "y@example.com", Connection: conn})
	require.NoError(t, err)
	w, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "z@example.com", Connection: conn})
	require.NoError(t, err)
	last := allEvents(t, primary)
	ev := last[len(last)-2]
	// In a batch, the bad event costs the group commit, not its neighbours.
	outs, err := ap.ApplyBatch(ctx, last[len(last)-2:])
	require.NoError(t, err)
	require.Equal(t, []string{replication.OutcomeDeadLetter, replication.OutcomeApplied}, outs)
	_, err = replica.Users.Get(ctx, "acme", w.UserID)
	require.NoError(t, err)
	dls, err := ap.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, ev.ID, dls[0].Event.ID)
	require.Contains(t, dls[0].Error, "already exists")

	n, err := ap.Retry(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "still conflicting")
	dls, err = ap.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 2, dls[0].Attempts)

	require.NoError(t, replica.Users.Delete(bunadapter.Replaying(ctx), "acme", "auth0|squatter"))
	n, err = ap.Retry(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	dls, err = ap.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, dls)
	_, err = replica.Users.Get(ctx, "acme", v.UserID)
	require.NoError(t, err)
	st := ap.Stats()
	require.Equal(t, uint64(1), st.DeadLettered)
	require.Equal(t, uint64(len(evs)), st.Duplicates)
	require.Equal(t, uint64(1), st.Skipped)
}

// TestReconcileRepairsDrift: rows changed, deleted or added on the replica
// behind replication's back are repaired by Reconcile; the primary wins
// ties, a row only one side has is copied to the other.
func TestReconcileRepairsDrift(t *testing.T) {
	ctx := context.Background()
	primary := openDB(t, "sqlite", "primary")
	replica := openDB(t, "postgres", "replica")
	ap := &replication.Applier{Target: replica, Origin: "replica"}

	conn := seedTenant(t, primary.DataAdapters, "acme")
	u, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "x@example.com", Connection: conn, Name: "right"})
	require.NoError(t, err)
	role, err := primary.Roles.Create(ctx, "acme", adapters.Role{Name: "admin"})
	require.NoError(t, err)
	require.NoError(t, primary.UserRoles.Assign(ctx, "acme", u.UserID, "", []string{role.ID}))
	_, err = primary.Keys.Create(ctx, adapters.SigningKey{Kid: "k1", TenantID: "acme", Alg: "RS256", PrivateKeyEncrypted: "sealed:v1:x", Current: true})
	require.NoError(t, err)
	applyAll(t, primary, ap)
	require.Equal(t, rows(t, primary), rows(t, replica))
	mark := time.Now()

	rep, err := replication.Reconcile(ctx, primary, replica, time.Time{})
	require.NoError(t, err)
	require.Zero(t, rep.RepairedA+rep.RepairedB, "nothing to repair")
	require.Positive(t, rep.Compared)

	// Drift behind replication's back.
	_, err = replica.DB().DB.ExecContext(ctx, `UPDATE users SET data = REPLACE(data, '"right"', '"wrong"')`)
	require.NoError(t, err)
	_, err = replica.DB().DB.ExecContext(ctx, `DELETE FROM roles`)
	require.NoError(t, err)
	_, err = replica.Keys.Update(bunadapter.Replaying(ctx), "k1", func(k *adapters.SigningKey) error { k.Current = false; return nil })
	require.NoError(t, err)
	extra, err := replica.Organizations.Create(bunadapter.Replaying(ctx), "acme", adapters.Organization{Name: "only-on-replica"})
	require.NoError(t, err)
	got, err := replica.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Equal(t, "wrong", got.Name)

	rep, err = replication.Reconcile(ctx, primary, replica, mark.Add(-time.Minute))
	require.NoError(t, err)
	t.Logf("reconcile: %+v", rep)
	require.Equal(t, 3, rep.RepairedB, "user, role and key repaired on the replica")
	require.Equal(t, 1, rep.RepairedA, "the organization only the replica has is copied to the primary")
	got, err = replica.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Equal(t, "right", got.Name)
	_, err = primary.Organizations.Get(ctx, "acme", extra.ID)
	require.NoError(t, err)
	require.Equal(t, rows(t, primary), rows(t, replica))

	rep, err = replication.Reconcile(ctx, primary, replica, time.Time{})
	require.NoError(t, err)
	require.Zero(t, rep.RepairedA+rep.RepairedB, "a second pass finds nothing")
}

// TestWebhook: a relay with the webhook publisher and an applier behind an
// HTTP handler replicate; a bad signature is rejected and changes nothing,
// and a publisher with the wrong secret keeps its events unsent.
func TestWebhook(t *testing.T) {
	ctx := context.Background()
	primary := openDB(t, "sqlite", "primary")
	replica := openDB(t, "postgres", "")
	secret := []byte("shared-secret")
	ap := &replication.Applier{Target: replica}
	var requests atomic.Int32
	h := ap.WebhookHandler(secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	relay := &replication.Relay{Source: primary, Publisher: &replication.WebhookPublisher{URL: srv.URL, Secret: secret, Timeout: 2 * time.Second}}
	conn := seedTenant(t, primary.DataAdapters, "acme")
	u, err := primary.Users.Create(ctx, "acme", adapters.User{Email: "w@example.com", Connection: conn})
	require.NoError(t, err)
	n, err := relay.Flush(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	_, err = replica.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Equal(t, rows(t, primary), rows(t, replica))

	// A forged request.
	_, err = primary.Users.Update(ctx, "acme", u.UserID, func(x *adapters.User) error { x.Blocked = true; return nil })
	require.NoError(t, err)
	evs, err := primary.Changes().Pending(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	body := []byte(fmt.Sprintf(`{"id":%q,"entity":"user","op":"upsert","tenant":"acme","key":[%q],"data":%s,"updated_at":"2099-01-01T00:00:00Z","origin":"evil"}`, evs[0].ID, u.UserID, evs[0].Data))
	for _, sig := range []string{"", "sha256=00", replication.Sign([]byte("wrong"), body)} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(replication.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	got, err := replica.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.False(t, got.Blocked, "a rejected request changes nothing")
	applied, err := replica.Changes().Applied(ctx, evs[0].ID)
	require.NoError(t, err)
	require.False(t, applied)

	// A publisher with the wrong secret: 401 is not retried, the event stays.
	bad := &replication.Relay{Source: primary, Publisher: &replication.WebhookPublisher{URL: srv.URL, Secret: []byte("wrong"), Retries: 3}}
	requests.Store(0)
	_, err = bad.Flush(ctx)
	require.ErrorContains(t, err, "401")
	require.Equal(t, int32(1), requests.Load())
	require.Equal(t, 1, bad.Stats().Backlog)

	_, err = relay.Flush(ctx)
	require.NoError(t, err)
	got, err = replica.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.True(t, got.Blocked)
}

// TestFallback: reads missing locally come from the remote and are copied;
// the copy records no event; a remote outage leaves the local answer.
func TestFallback(t *testing.T) {
	ctx := context.Background()
	local := openDB(t, "sqlite", "local")
	remote := openDB(t, "sqlite", "")
	conn := seedTenant(t, remote.DataAdapters, "acme")
	u, err := remote.Users.Create(ctx, "acme", adapters.User{Email: "r@example.com", Connection: conn})
	require.NoError(t, err)
	_, err = remote.Passwords.Create(ctx, "acme", adapters.Password{UserID: u.UserID, Hash: "h", Algorithm: "bcrypt"})
	require.NoError(t, err)
	cl, err := remote.Clients.Create(ctx, "acme", adapters.Client{Name: "app", ClientSecret: "sealed:v1:s"})
	require.NoError(t, err)
	_, err = remote.Keys.Create(ctx, adapters.SigningKey{Kid: "k1", TenantID: "acme", Alg: "RS256", PrivateKeyEncrypted: "sealed:v1:k", Current: true})
	require.NoError(t, err)

	d := replication.Fallback(local.DataAdapters, remote.DataAdapters)
	tn, err := d.Tenants.Get(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "acme", tn.ID)
	got, err := d.Clients.GetByClientID(ctx, cl.ClientID)
	require.NoError(t, err)
	require.Equal(t, "sealed:v1:s", got.ClientSecret)
	gu, err := d.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Equal(t, u.Email, gu.Email)
	pw, err := d.Passwords.GetCurrent(ctx, "acme", u.UserID)
	require.NoError(t, err)
	require.Equal(t, "h", pw.Hash)
	ks, err := d.Keys.List(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, ks, 1)

	// Now local without the fallback.
	_, err = local.Users.Get(ctx, "acme", u.UserID)
	require.NoError(t, err)
	lk, err := local.Keys.Get(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, "sealed:v1:k", lk.PrivateKeyEncrypted)
	_, err = local.Clients.Get(ctx, "acme", cl.ClientID)
	require.NoError(t, err)
	require.Empty(t, allEvents(t, local), "copies record no events")

	_, err = d.Users.Get(ctx, "acme", "auth0|nobody")
	require.ErrorIs(t, err, adapters.ErrNotFound)
	remote.Close()
	_, err = d.Roles.Get(ctx, "acme", "rol_missing")
	require.ErrorIs(t, err, adapters.ErrNotFound, "a remote outage leaves the local answer")
	require.NoError(t, d.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		_, err := tx.Users.Get(ctx, "acme", u.UserID)
		return err
	}))
}

// TestLag measures replication lag (recorded on the SQLite primary to
// applied on the Postgres replica, through NATS JetStream on loopback) at two
// steady write rates, and logs p50/p99. The applier applies one event per
// transaction; near its throughput, lag is queueing.
func TestLag(t *testing.T) {
	for _, rate := range []int{50, 200} {
		t.Run(fmt.Sprintf("%d_per_s", rate), func(t *testing.T) {
			ctx := context.Background()
			cfg := natsStream(t)
			primary := openDB(t, "sqlite", "primary")
			replica := openDB(t, "postgres", "")
			relay := &replication.Relay{Source: primary, Publisher: replication.NewNATSPublisher(cfg), Interval: 100 * time.Millisecond}
			t.Cleanup(func() { relay.Publisher.Close() })
			ap := &replication.Applier{Target: replica, Origin: "replica"}
			start(t, relay.Run)
			start(t, func(ctx context.Context) error { return ap.RunNATS(ctx, cfg, "replica") })

			conn := seedTenant(t, primary.DataAdapters, "acme")
			eventually(t, 10*time.Second, func() bool { return ap.Stats().Applied == 2 }, "warm up")
			total := 2 * rate // two seconds of writes
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			began := time.Now()
			for i := range total {
				<-tick.C
				_, err := primary.Users.Create(ctx, "acme", adapters.User{Email: fmt.Sprintf("lag%d@example.com", i), Connection: conn})
				require.NoError(t, err)
			}
			took := time.Since(began)
			eventually(t, 20*time.Second, func() bool { return ap.Stats().Applied == uint64(total+2) }, "all applied")
			st := ap.Stats()
			t.Logf("replication lag at %.0f writes/s (%d user creates, SQLite -> NATS JetStream -> Postgres, loopback): p50 %s, p99 %s, max %s",
				float64(total)/took.Seconds(), total, st.LagP50.Round(100*time.Microsecond), st.LagP99.Round(100*time.Microsecond), st.LagMax.Round(100*time.Microsecond))
			require.Less(t, st.LagP50, 2*time.Second)
		})
	}
}

// TestNATSPublisherDeduplicates: publishing the same event twice stores it
// once (Nats-Msg-Id), so a relay that crashed between publish and mark does
// not duplicate it in the stream.
func TestNATSPublisherDeduplicates(t *testing.T) {
	ctx := context.Background()
	cfg := natsStream(t)
	pub := replication.NewNATSPublisher(cfg)
	t.Cleanup(func() { pub.Close() })
	ev := replication.Event{ID: "01aaaaaaaaaaaaaaaaaaaaaaaa", Entity: "tenant", Op: "delete", TenantID: "t", Key: []string{"t"}}
	require.NoError(t, pub.Publish(ctx, ev))
	require.NoError(t, pub.Publish(ctx, ev))
	require.Equal(t, uint64(1), streamMsgs(t, cfg))
}
