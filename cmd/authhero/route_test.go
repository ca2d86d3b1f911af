package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// routeConfig is the documented example, as a user would write it.
const routeConfig = `{"pools":[{"id":"primary","origins":["http://127.0.0.1:3001"],"enabled":true},
          {"id":"standby","origins":["http://127.0.0.1:3002"],"enabled":true}],
 "steering":{"policy":"failover","order":["primary","standby"]},
 "health_check":{"path":"/health","interval":"1s","timeout":"1s","unhealthy_threshold":2,"healthy_threshold":2}}`

// lockedBuffer is a bytes.Buffer shared by the command and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// healthOrigin answers /health like authhero (switchable) and its name
// everywhere else.
func healthOrigin(t *testing.T, name string) (*httptest.Server, *atomic.Bool) {
	var ok atomic.Bool
	ok.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			if !ok.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"status":"error"}`)
				return
			}
			io.WriteString(w, `{"status":"ok"}`)
			return
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv, &ok
}

var routeListening = regexp.MustCompile(`listening on (http://[^ ]+)`)

// TestRouteCommandFailover runs `authhero route` with the documented config
// (ports rewritten to two test origins), sees traffic on the primary, turns
// the primary's /health to 503 and sees traffic move to the standby within
// interval×unhealthy_threshold+timeout; SIGTERM (ctx) stops it cleanly.
func TestRouteCommandFailover(t *testing.T) {
	primary, primaryOK := healthOrigin(t, "primary")
	standby, _ := healthOrigin(t, "standby")
	cfg := strings.NewReplacer("http://127.0.0.1:3001", primary.URL, "http://127.0.0.1:3002", standby.URL).Replace(routeConfig)
	path := filepath.Join(t.TempDir(), "routing.json")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"route", "--config", path, "--listen", "127.0.0.1:0"}, out, errb) }()
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" {
		if m := routeListening.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		require.True(t, time.Now().Before(deadline), "route did not start: %s %s", out, errb)
		select {
		case code := <-done:
			t.Fatalf("route exited with %d: %s %s", code, out, errb)
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.Contains(t, out.String(), "policy failover, 2 pools")

	c := &http.Client{Timeout: 5 * time.Second}
	fetch := func() string {
		resp, err := c.Get(base + "/authorize")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for range 5 {
		require.Equal(t, "primary", fetch())
	}

	primaryOK.Store(false)
	start := time.Now()
	for fetch() != "standby" {
		require.Less(t, time.Since(start), 6*time.Second, "no failover")
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("authhero route failed over in %s", took.Round(time.Millisecond))
	require.LessOrEqual(t, took, 3*time.Second) // 1s × 2 + 1s
	require.Equal(t, "standby", fetch())
	require.Contains(t, errb.String(), "origin is down", "the change is logged")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errb.String())
	case <-time.After(15 * time.Second):
		t.Fatal("route did not stop")
	}
}

// TestRouteCommandErrors: a missing flag is a usage error, a bad config a
// clear one.
func TestRouteCommandErrors(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"route"}, &out, &errb))
	require.Contains(t, errb.String(), "--config is required")

	path := filepath.Join(t.TempDir(), "routing.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"pools":[{"id":"a","origins":[]}],"steering":{"order":["b"]}}`), 0o600))
	errb.Reset()
	require.Equal(t, 1, run(context.Background(), []string{"route", "--config", path}, &out, &errb))
	require.Contains(t, errb.String(), `pool "a" has no origins`)
	require.Contains(t, errb.String(), `unknown pool "b"`)

	errb.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"help"}, &errb, &errb))
	require.Contains(t, errb.String(), "route ")
}
