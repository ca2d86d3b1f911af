package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/testdb"
)

// testNATS returns AUTHHERO_TEST_NATS_URL and a stream and subject of the
// test's own (deleted afterwards); it skips without NATS, or fails under
// CI=true.
func testNATS(t *testing.T) (url, stream, subject string) {
	t.Helper()
	url = os.Getenv("AUTHHERO_TEST_NATS_URL")
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if url == "" || err != nil {
		testdb.Unavailable(t, "no NATS (AUTHHERO_TEST_NATS_URL=%q): %v", url, err)
	}
	var b [6]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, subject = "AUTHHERO_SYNC_"+id, "authhero.sync."+id
	t.Cleanup(func() {
		defer nc.Close()
		if js, err := jetstream.New(nc); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			js.DeleteStream(ctx, stream)
		}
	})
	return url, stream, subject
}

// TestSyncCommand runs `authhero sync` with a relay (SQLite source) and an
// applier (Postgres target) over NATS until its context ends: a user
// created on the source appears on the target.
func TestSyncCommand(t *testing.T) {
	url, stream, subject := testNATS(t)
	ctx := context.Background()
	srcDSN := testdb.Fresh(t, "sqlite")
	src := openMigrated(t, srcDSN)
	require.NoError(t, src.EnableChangeFeed("primary"))
	dstDSN := testdb.Fresh(t, "postgres")

	nc := map[string]string{"type": "nats", "url": url, "stream": stream, "subject": subject}
	cfg, _ := json.Marshal(map[string]any{"origin": "replica", "source": srcDSN, "publisher": nc, "target": dstDSN, "subscriber": nc, "poll_interval": "50ms"})
	path := filepath.Join(t.TempDir(), "sync.json")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))

	mln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	metricsAddr := mln.Addr().String()
	mln.Close()
	t.Setenv("METRICS_ADDR", metricsAddr)

	rctx, cancel := context.WithCancel(ctx)
	var out, errb bytes.Buffer
	var wg sync.WaitGroup
	code := -1
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = run(rctx, []string{"sync", "--config", path}, &out, &errb)
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })

	_, err = src.Tenants.Create(ctx, adapters.Tenant{ID: "acme"})
	require.NoError(t, err)
	_, err = src.Connections.Create(ctx, "acme", adapters.Connection{Name: "db", Strategy: "auth0"})
	require.NoError(t, err)
	u, err := src.Users.Create(ctx, "acme", adapters.User{Email: "s@example.com", Connection: "db"})
	require.NoError(t, err)

	dst := openMigrated(t, dstDSN)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := dst.Users.Get(ctx, "acme", u.UserID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("the user did not reach the target: %s %s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Backlog, outcomes and lag are scraped from METRICS_ADDR.
	var metrics []byte
	for i := 0; i < 100; i++ { // the counter moves right after the commit the test saw
		res, err := http.Get("http://" + metricsAddr + "/metrics")
		require.NoError(t, err)
		metrics, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(metrics), `authhero_replication_events_total{outcome="applied"} 3`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Contains(t, string(metrics), `authhero_replication_events_total{outcome="applied"} 3`)
	require.Contains(t, string(metrics), "authhero_replication_backlog 0")
	require.Contains(t, string(metrics), `authhero_replication_lag_seconds{quantile="0.99"}`)
	cancel()
	wg.Wait()
	require.Equal(t, 0, code, errb.String())
	require.Contains(t, out.String(), "applier: applied 3")
}

// TestSyncConfigErrors rejects configs that cannot run.
func TestSyncConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]string{
		"origin is required":    `{"source": "sqlite://x.db", "publisher": {"type": "nats"}}`,
		"nothing to run":        `{"origin": "a"}`,
		"source needs a":        `{"origin": "a", "source": "sqlite://x.db"}`,
		"use nats or webhook":   `{"origin": "a", "target": "sqlite://x.db", "subscriber": {"type": "kafka"}}`,
		"unknown field":         `{"origin": "a", "targat": "sqlite://x.db"}`,
		"no such file":          "",
		"at least 16 character": `{"origin": "a", "target": "sqlite://` + filepath.Join(dir, "t.db") + `", "subscriber": {"type": "webhook", "listen": "127.0.0.1:0", "secret": "short"}}`,
	} {
		path := filepath.Join(dir, "missing.json")
		if cfg != "" {
			path = filepath.Join(dir, "sync.json")
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
		}
		var out, errb bytes.Buffer
		require.Equal(t, 1, run(context.Background(), []string{"sync", "--config", path}, &out, &errb), name)
		require.Contains(t, errb.String(), name)
	}
}
