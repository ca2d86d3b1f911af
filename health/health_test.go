package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (int, map[string]any, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body, rec.Header()
}

func TestHealthyAndFailing(t *testing.T) {
	var fail atomic.Bool
	c := New(
		Check{Name: "database", Run: func(ctx context.Context) error { return nil }},
		Check{Name: "session_store", Run: func(ctx context.Context) error {
			if fail.Load() {
				return errors.New("connection refused")
			}
			return nil
		}},
	)
	c.CacheTTL = -1

	code, body, h := get(t, c, "/health")
	require.Equal(t, 200, code)
	require.Equal(t, map[string]any{"status": "ok"}, body)
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "application/json", h.Get("Content-Type"))

	code, body, _ = get(t, c, "/health/ready")
	require.Equal(t, 200, code)
	require.Equal(t, "ok", body["status"])
	checks := body["checks"].(map[string]any)
	require.Len(t, checks, 2)
	db := checks["database"].(map[string]any)
	require.Equal(t, "ok", db["status"])
	require.Contains(t, db, "latency_ms")
	require.NotContains(t, db, "error")

	fail.Store(true)
	code, body, h = get(t, c, "/health")
	require.Equal(t, 503, code)
	require.Equal(t, map[string]any{"status": "error"}, body, "the summary carries the status only")
	require.NotEmpty(t, h.Get("Retry-After"))
	code, body, _ = get(t, c, "/health/ready")
	require.Equal(t, 503, code)
	require.Equal(t, "error", body["status"])
	ss := body["checks"].(map[string]any)["session_store"].(map[string]any)
	require.Equal(t, "error", ss["status"])
	require.Equal(t, "connection refused", ss["error"])
	require.Equal(t, "ok", body["checks"].(map[string]any)["database"].(map[string]any)["status"])

	// Liveness ignores the checks.
	code, body, _ = get(t, c, "/health/live")
	require.Equal(t, 200, code)
	require.Equal(t, map[string]any{"status": "ok"}, body)
}

// TestTimeoutsRunConcurrently: two checks that hang are each cut at their own
// timeout, concurrently, even when they ignore their context.
func TestTimeoutsRunConcurrently(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := New(
		Check{Name: "a", Timeout: 200 * time.Millisecond, Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		Check{Name: "b", Timeout: 300 * time.Millisecond, Run: func(ctx context.Context) error { <-release; return nil }},
		Check{Name: "c", Run: func(ctx context.Context) error { panic("boom") }},
	)
	start := time.Now()
	rep := c.Run(context.Background())
	took := time.Since(start)
	require.Less(t, took, 450*time.Millisecond, "checks run concurrently")
	require.GreaterOrEqual(t, took, 300*time.Millisecond)
	require.Equal(t, StatusError, rep.Status)
	require.Equal(t, "timed out after 200ms", rep.Checks["a"].Error)
	require.Equal(t, "timed out after 300ms", rep.Checks["b"].Error)
	require.InDelta(t, 300, rep.Checks["b"].LatencyMS, 100)
	require.Contains(t, rep.Checks["c"].Error, "panicked")
}

// TestProbeStormRunsChecksOnce: concurrent probes share one run, and later
// probes within CacheTTL reuse it.
func TestProbeStormRunsChecksOnce(t *testing.T) {
	var runs atomic.Int32
	c := New(Check{Name: "database", Run: func(ctx context.Context) error {
		runs.Add(1)
		time.Sleep(50 * time.Millisecond)
		return nil
	}})
	c.CacheTTL = 300 * time.Millisecond
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			require.Equal(t, 200, rec.Code)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, runs.Load())
	c.Run(context.Background())
	require.EqualValues(t, 1, runs.Load(), "cached")
	time.Sleep(350 * time.Millisecond)
	c.Run(context.Background())
	require.EqualValues(t, 2, runs.Load(), "expired")
}

// TestProbeGivesUpWithItsContext: a probe whose client goes away returns
// at once, reporting an error, while the shared run goes on.
func TestProbeGivesUpWithItsContext(t *testing.T) {
	c := New(Check{Name: "slow", Timeout: time.Second, Run: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep := c.Run(ctx)
	require.Less(t, time.Since(start), 500*time.Millisecond)
	require.False(t, rep.OK())
}

func TestHandlerFunction(t *testing.T) {
	h := Handler(Check{Name: "x", Run: func(context.Context) error { return nil }})
	code, body, _ := get(t, h, "/status/health/ready/")
	require.Equal(t, 200, code)
	require.Contains(t, body, "checks")
}
