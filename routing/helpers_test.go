package routing_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/routing"
)

// origin is a tiny deployment on 127.0.0.1: /health answers like authhero's
// ({"status":"ok"} 200 or {"status":"error"} 503, switchable), every other
// path echoes what it received as JSON.
type origin struct {
	name    string
	srv     *httptest.Server
	healthy atomic.Bool
	status  atomic.Int32 // status of non-health answers
	hits    atomic.Int64 // non-health requests
	probes  atomic.Int64

	mu   sync.Mutex
	last echo
}

// echo is what an origin saw of a request, and its answer body.
type echo struct {
	Origin  string      `json:"origin"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Header  http.Header `json:"header"`
	BodyLen int         `json:"body_len"`
	Body    string      `json:"body"`
}

func newOrigin(t testing.TB, name string) *origin {
	t.Helper()
	o := &origin{name: name}
	o.healthy.Store(true)
	o.status.Store(200)
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		o.probes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if o.healthy.Load() {
			io.WriteString(w, `{"status":"ok"}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"error"}`)
		return
	}
	o.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	e := echo{Origin: o.name, Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header, BodyLen: len(body)}
	if len(body) <= 1024 {
		e.Body = string(body)
	}
	o.mu.Lock()
	o.last = e
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(o.status.Load()))
	json.NewEncoder(w).Encode(e)
}

// setHealthy flips what /health answers.
func (o *origin) setHealthy(ok bool) { o.healthy.Store(ok) }

// addr is the origin's base URL.
func (o *origin) addr() string { return o.srv.URL }

// quietLogger drops the routing logs unless the test is verbose.
func quietLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fastHealth is a health check quick enough for tests.
func fastHealth() routing.HealthCheck {
	return routing.HealthCheck{
		Interval: routing.Duration(100 * time.Millisecond), Timeout: routing.Duration(100 * time.Millisecond),
		HealthyThreshold: 2, UnhealthyThreshold: 2,
	}
}

// failoverConfig is primary then standby, one origin each.
func failoverConfig(primary, standby *origin, hc routing.HealthCheck) *routing.Config {
	return &routing.Config{
		Pools: []routing.Pool{
			{ID: "primary", Origins: []routing.OriginConfig{{Address: primary.addr()}}},
			{ID: "standby", Origins: []routing.OriginConfig{{Address: standby.addr()}}},
		},
		Steering:    routing.Steering{Policy: routing.PolicyFailover, Order: []string{"primary", "standby"}},
		HealthCheck: hc,
	}
}

// startProxy runs p behind an httptest server and returns the server.
func startProxy(t testing.TB, cfg *routing.Config, opts ...routing.Option) (*routing.Proxy, *httptest.Server) {
	t.Helper()
	opts = append([]routing.Option{routing.WithLogger(quietLogger(t))}, opts...)
	p, err := routing.NewProxy(cfg, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Close()
	})
	return p, srv
}

var client = &http.Client{Timeout: 10 * time.Second}

// get sends a GET through the proxy and returns the status and what the
// origin saw (zero when the proxy answered itself).
func get(t testing.TB, url string, header ...string) (int, echo) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1]
			continue
		}
		req.Header.Add(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, echo) {
	t.Helper()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var e echo
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	json.Unmarshal(b, &e)
	return resp.StatusCode, e
}

// waitFor polls cond every few milliseconds until it holds or d passes, and
// returns how long it took.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, d)
	return 0
}

// originStats finds the stats of the origin at url.
func originStats(s routing.Stats, url string) routing.OriginStats {
	for _, o := range s.Origins {
		if o.URL == url {
			return o
		}
	}
	return routing.OriginStats{}
}
