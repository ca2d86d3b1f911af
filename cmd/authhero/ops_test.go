package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var metricsAt = regexp.MustCompile(`metrics on (http://\S+/metrics)`)

// TestServeHealthAndMetrics: serve answers the health endpoints on its port
// and /metrics only on METRICS_ADDR, tagged with PROVIDER.
func TestServeHealthAndMetrics(t *testing.T) {
	t.Setenv("AUTHHERO_ADMIN_CLIENT_ID", "")
	t.Setenv("ENCRYPTION_KEY", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PROVIDER", "aws-eu-west-1")
	t.Setenv("METRICS_ADDR", "127.0.0.1:0")
	base, out := startServe(t, t.TempDir())

	for path, want := range map[string]string{"/health": `{"status":"ok"}`, "/health/live": `{"status":"ok"}`} {
		res, err := http.Get(base + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, path)
		require.JSONEq(t, want, string(b), path)
		require.Equal(t, "aws-eu-west-1", res.Header.Get("X-Authhero-Provider"))
	}
	res, err := http.Get(base + "/health/ready")
	require.NoError(t, err)
	var ready struct {
		Status string
		Checks map[string]struct{ Status string }
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ready))
	res.Body.Close()
	require.Equal(t, "ok", ready.Status)
	for _, c := range []string{"database", "session_store", "signing_keys"} {
		require.Equal(t, "ok", ready.Checks[c].Status, c)
	}

	res, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 404, res.StatusCode, "metrics never share the public port")

	m := metricsAt.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	res, err = http.Get(m[1])
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, string(b), `authhero_http_requests_total{provider="aws-eu-west-1",route="GET /health/ready",status="200",tenant=""} 1`)
}

// TestServeDrainsOnShutdown: a request in flight when SIGTERM arrives (ctx
// done) completes; new connections are refused; serve exits 0.
func TestServeDrainsOnShutdown(t *testing.T) {
	t.Setenv("AUTHHERO_ADMIN_CLIENT_ID", "")
	t.Setenv("ENCRYPTION_KEY", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("METRICS_ADDR", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--database", "sqlite://" + filepath.Join(t.TempDir(), "authhero.db"), "--listen", "127.0.0.1:0"}, out, errb)
	}()
	var base string
	require.Eventually(t, func() bool {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			return true
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "serve did not start: %s", errb)

	// A token request whose body arrives slowly is in flight at shutdown.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", base+"/oauth/token", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		resc <- res
	}()
	pw.Write([]byte("grant_type=client_credentials"))
	time.Sleep(200 * time.Millisecond) // the handler is reading the body
	cancel()
	time.Sleep(200 * time.Millisecond) // shutdown has begun
	_, err = http.Get(base + "/health/live")
	require.Error(t, err, "no new connections once shutting down")
	pw.Write([]byte("&client_id=nope&client_secret=nope"))
	pw.Close()
	select {
	case res := <-resc:
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 401, res.StatusCode, "the in-flight request completed: %s", b)
		require.True(t, strings.Contains(string(b), "invalid_client"), string(b))
	case err := <-errc:
		t.Fatalf("the in-flight request failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
	select {
	case code := <-done:
		require.Equal(t, 0, code, errb.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
