package replication_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/replication"
)

// natsEnv names the NATS server (with JetStream) the tests use.
const natsEnv = "AUTHHERO_TEST_NATS_URL"

// natsURL returns the test NATS server; without one the test is skipped,
// or fails under CI=true.
func natsURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv(natsEnv)
	if url == "" {
		testdb.Unavailable(t, "%s is not set", natsEnv)
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		testdb.Unavailable(t, "NATS at %s: %v", url, err)
	}
	nc.Close()
	return url
}

func randomID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// natsStream returns a stream and subject of the test's own, deleted when
// the test ends.
func natsStream(t *testing.T) replication.NATSConfig {
	t.Helper()
	url := natsURL(t)
	id := randomID()
	cfg := replication.NATSConfig{URL: url, Stream: "AUTHHERO_TEST_" + id, Subject: "authhero.test." + id, MaxAge: time.Hour, Timeout: 2 * time.Second}
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		js.DeleteStream(ctx, cfg.Stream)
	})
	return cfg
}

// streamMsgs returns how many messages the stream holds.
func streamMsgs(t *testing.T, cfg replication.NATSConfig) uint64 {
	t.Helper()
	nc, err := nats.Connect(cfg.URL)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	return info.State.Msgs
}

// openDB opens a fresh migrated database of the dialect, with the change
// feed on when origin is set.
func openDB(t *testing.T, dialect, origin string) *bunadapter.Adapter {
	t.Helper()
	a, err := bunadapter.Open(context.Background(), testdb.Fresh(t, dialect))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(context.Background()))
	if origin != "" {
		require.NoError(t, a.EnableChangeFeed(origin))
	}
	return a
}

// start runs fn in the background until the test ends.
func start(t *testing.T, fn func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("background task: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("background task did not stop")
		}
	})
}

// eventually polls cond every 20ms for up to timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allEvents returns a's whole outbox in order.
func allEvents(t *testing.T, a *bunadapter.Adapter) []replication.Event {
	t.Helper()
	var out []replication.Event
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

// rows returns every durable row of a, keyed by entity, tenant and key.
func rows(t *testing.T, a *bunadapter.Adapter) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, a.Changes().Snapshot(context.Background(), bunadapter.SnapshotOptions{}, func(ev replication.Event) error {
		k, _ := json.Marshal([]any{ev.Entity, ev.TenantID, ev.Key})
		out[string(k)] = string(ev.Data)
		return nil
	}))
	return out
}

// count returns SELECT COUNT(*) FROM table on a.
func count(t *testing.T, a *bunadapter.Adapter, table string) int {
	t.Helper()
	var n int
	require.NoError(t, a.DB().DB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

// seedTenant creates a tenant with a database connection on d and returns
// the connection name.
func seedTenant(t *testing.T, d *adapters.DataAdapters, tn string) string {
	t.Helper()
	ctx := context.Background()
	_, err := d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: tn})
	require.NoError(t, err)
	_, err = d.Connections.Create(ctx, tn, adapters.Connection{Name: "Username-Password-Authentication", Strategy: "auth0"})
	require.NoError(t, err)
	return "Username-Password-Authentication"
}

// applyAll applies every event of src's outbox to ap's target.
func applyAll(t *testing.T, src *bunadapter.Adapter, ap *replication.Applier) []replication.Event {
	t.Helper()
	evs := allEvents(t, src)
	for _, ev := range evs {
		out, err := ap.Apply(context.Background(), ev)
		require.NoError(t, err)
		require.NotEqual(t, replication.OutcomeDeadLetter, out, "%s %v", ev.Entity, ev.Key)
	}
	return evs
}

// proxy forwards TCP connections from a fixed local address to target once
// started: before that the address refuses connections, as an unreachable
// NATS does.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{addr: ln.Addr().String(), target: target}
	ln.Close()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
	}
	for _, c := range p.conns {
		c.Close()
	}
}
