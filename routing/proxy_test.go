package routing_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/routing"
)

// TestFailoverAndFailback: with the primary healthy all traffic goes to it;
// when its /health turns 503, traffic moves to the standby within
// interval×unhealthy_threshold+timeout; when it recovers, traffic returns
// after healthy_threshold good probes.
func TestFailoverAndFailback(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	hc := routing.HealthCheck{
		Interval: routing.Duration(200 * time.Millisecond), Timeout: routing.Duration(200 * time.Millisecond),
		UnhealthyThreshold: 2, HealthyThreshold: 2,
	}
	p, srv := startProxy(t, failoverConfig(primary, standby, hc))
	for range 20 {
		code, e := get(t, srv.URL+"/authorize")
		require.Equal(t, 200, code)
		require.Equal(t, "primary", e.Origin)
	}
	require.Zero(t, standby.hits.Load())

	bound := time.Duration(hc.Interval)*time.Duration(hc.UnhealthyThreshold) + time.Duration(hc.Timeout)
	primary.setHealthy(false) // its other routes still answer 200: only /health says no
	took := waitFor(t, 2*bound, "failover to the standby", func() bool {
		_, e := get(t, srv.URL+"/authorize")
		return e.Origin == "standby"
	})
	t.Logf("failover took %s (bound %s)", took.Round(time.Millisecond), bound)
	require.LessOrEqual(t, took, bound)
	for range 20 {
		_, e := get(t, srv.URL+"/authorize")
		require.Equal(t, "standby", e.Origin, "all traffic moved")
	}

	upBound := time.Duration(hc.Interval)*time.Duration(hc.HealthyThreshold) + time.Duration(hc.Timeout)
	okBefore := originStats(p.Stats(), primary.addr()).ProbesOK
	primary.setHealthy(true)
	took = waitFor(t, 2*upBound, "failback to the primary", func() bool {
		_, e := get(t, srv.URL+"/authorize")
		return e.Origin == "primary"
	})
	t.Logf("failback took %s (bound %s)", took.Round(time.Millisecond), upBound)
	require.LessOrEqual(t, took, upBound)
	require.GreaterOrEqual(t, originStats(p.Stats(), primary.addr()).ProbesOK-okBefore, uint64(hc.HealthyThreshold), "hysteresis: one good probe is not enough")

	s := originStats(p.Stats(), primary.addr())
	require.True(t, s.Healthy)
	require.Equal(t, uint64(1), s.Downs)
	require.Equal(t, uint64(1), s.Ups)
	require.Zero(t, s.Ejections)
	require.Equal(t, uint64(2), p.Stats().StateChanges)
	require.Contains(t, s.LastError, "503")
}

// TestRetryOnConnectionRefused: the primary's listener is gone, before any
// probe notices; an idempotent request is retried on the standby and
// succeeds.
func TestRetryOnConnectionRefused(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	p, srv := startProxy(t, failoverConfig(primary, standby, routing.HealthCheck{Interval: routing.Duration(time.Hour)}))
	_, e := get(t, srv.URL+"/")
	require.Equal(t, "primary", e.Origin)

	primary.srv.Close() // connection refused from now on
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete} {
		req, _ := http.NewRequest(method, srv.URL+"/userinfo?x=1", nil)
		code, e := do(t, req)
		require.Equal(t, 200, code, method)
		if method != http.MethodHead {
			require.Equal(t, "standby", e.Origin, method)
			require.Equal(t, "/userinfo", e.Path)
			require.Equal(t, "x=1", e.Query)
		}
	}
	s := p.Stats()
	require.Equal(t, uint64(4), s.Retries)
	require.Zero(t, s.BadGateway)
	require.Equal(t, uint64(4), originStats(s, primary.addr()).Failures)
}

// TestPostWithBody: a POST whose origin may have received it is never
// replayed; one whose connection was refused is, if its body was buffered;
// one with a body over the limit is not.
func TestPostWithBody(t *testing.T) {
	// The primary reads POSTs and then drops the connection without answering.
	var dropped atomic.Int32
	dropper := newOrigin(t, "primary")
	dropper.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			io.ReadAll(r.Body)
			dropped.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		}
		dropper.serve(w, r)
	})
	standby := newOrigin(t, "standby")
	// Passive ejection off, so that every request tries the primary first.
	p, srv := startProxy(t, failoverConfig(dropper, standby, routing.HealthCheck{Interval: routing.Duration(time.Hour), PassiveThreshold: -1}))

	post := func(body io.Reader) (int, echo) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}
	code, _ := post(strings.NewReader("grant_type=client_credentials"))
	require.Equal(t, http.StatusBadGateway, code)
	require.Equal(t, int32(1), dropped.Load())
	require.Zero(t, standby.hits.Load(), "not replayed on the standby")
	require.Zero(t, p.Stats().Retries)
	require.Equal(t, uint64(1), p.Stats().BadGateway)

	// A GET after the same kind of failure is retried.
	dropper.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			dropper.serve(w, r)
			return
		}
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})
	code, e := get(t, srv.URL+"/authorize")
	require.Equal(t, 200, code)
	require.Equal(t, "standby", e.Origin)

	// Refused: nothing was sent, so a buffered POST goes to the standby,
	// body intact (known length and chunked).
	dropper.srv.Close()
	code, e = post(strings.NewReader("grant_type=client_credentials"))
	require.Equal(t, 200, code)
	require.Equal(t, "standby", e.Origin)
	require.Equal(t, "grant_type=client_credentials", e.Body)
	code, e = post(io.MultiReader(strings.NewReader("a=1&"), strings.NewReader("b=2"))) // no length: chunked
	require.Equal(t, 200, code)
	require.Equal(t, "a=1&b=2", e.Body)

	// Over the 64 KiB limit the body streams and is never sent twice.
	big := bytes.Repeat([]byte("x"), routing.DefaultRetryBodyLimit+1)
	code, _ = post(bytes.NewReader(big))
	require.Equal(t, http.StatusBadGateway, code)
	code, _ = post(io.MultiReader(bytes.NewReader(big))) // chunked, over the limit
	require.Equal(t, http.StatusBadGateway, code)
	require.Equal(t, int64(3), standby.hits.Load())
	require.True(t, originStats(p.Stats(), dropper.addr()).Healthy, "passive ejection was off")
}

// TestStreamsLargeBodies: bodies over the retry limit pass through intact
// both ways.
func TestStreamsLargeBodies(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	primary.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // an HTTP/1 handler reads before it writes
		w.Write(b)
	})
	_, srv := startProxy(t, failoverConfig(primary, standby, routing.HealthCheck{Interval: routing.Duration(time.Hour)}))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, body := range []io.Reader{bytes.NewReader(big), io.MultiReader(bytes.NewReader(big))} {
		resp, err := client.Post(srv.URL+"/upload", "application/octet-stream", body)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		require.True(t, bytes.Equal(big, got), "got %d bytes", len(got))
	}
}

// TestSlowOriginBounded: an origin that accepts and never answers costs at
// most the response-header timeout, then the GET is retried elsewhere.
func TestSlowOriginBounded(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	primary.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			primary.serve(w, r)
			return
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	cfg := failoverConfig(primary, standby, routing.HealthCheck{Interval: routing.Duration(time.Hour)})
	cfg.Proxy.ResponseHeaderTimeout = routing.Duration(300 * time.Millisecond)
	_, srv := startProxy(t, cfg)
	start := time.Now()
	code, e := get(t, srv.URL+"/")
	require.Equal(t, 200, code)
	require.Equal(t, "standby", e.Origin)
	require.Less(t, time.Since(start), 2*time.Second)
}

// TestNothingHealthy: 503 with Retry-After and a JSON body.
func TestNothingHealthy(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	primary.setHealthy(false)
	standby.setHealthy(false)
	p, srv := startProxy(t, failoverConfig(primary, standby, fastHealth()))
	waitFor(t, 2*time.Second, "both down", func() bool {
		s := p.Stats()
		return !s.Origins[0].Healthy && !s.Origins[1].Healthy
	})
	resp, err := client.Get(srv.URL + "/authorize")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "no_healthy_origin", body["error"])
	require.NotEmpty(t, body["error_description"])
	require.Zero(t, primary.hits.Load()+standby.hits.Load())
	require.Equal(t, uint64(1), p.Stats().Unavailable)

	// And back.
	standby.setHealthy(true)
	waitFor(t, 2*time.Second, "standby back", func() bool {
		code, _ := get(t, srv.URL+"/")
		return code == 200
	})
}

// TestForwardedHeaders: Host is kept (or not, by configuration), and
// X-Forwarded-* describe the client; a spoofed X-Forwarded-For is appended
// to, never taken as the first hop.
func TestForwardedHeaders(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	cfg := failoverConfig(primary, standby, routing.HealthCheck{Interval: routing.Duration(time.Hour)})
	_, srv := startProxy(t, cfg)
	code, e := get(t, srv.URL+"/authorize?client_id=abc",
		"Host", "acme.auth.example.com",
		"X-Forwarded-For", "6.6.6.6",
		"X-Forwarded-Host", "evil.example",
		"X-Forwarded-Proto", "https",
		"Forwarded", "for=6.6.6.6",
		"CF-IPCountry", "DE")
	require.Equal(t, 200, code)
	require.Equal(t, "acme.auth.example.com", e.Host, "tenant subdomains still resolve on the origin")
	require.Equal(t, "/authorize", e.Path)
	require.Equal(t, "client_id=abc", e.Query)
	require.Equal(t, "6.6.6.6, 127.0.0.1", e.Header.Get("X-Forwarded-For"), "the peer is appended; the origin reads from the right")
	require.Equal(t, "acme.auth.example.com", e.Header.Get("X-Forwarded-Host"))
	require.Equal(t, "http", e.Header.Get("X-Forwarded-Proto"), "an untrusted client cannot claim https")
	require.Empty(t, e.Header.Get("Forwarded"))
	require.Equal(t, "DE", e.Header.Get("CF-IPCountry"), "other headers pass")

	code, e = get(t, srv.URL+"/")
	require.Equal(t, 200, code)
	require.Equal(t, "127.0.0.1", e.Header.Get("X-Forwarded-For"))
	require.Equal(t, strings.TrimPrefix(srv.URL, "http://"), e.Host)

	// Host rewritten to the origin's; a trusted proxy in front keeps its
	// X-Forwarded-Proto and -Host.
	cfg.Proxy.HostHeader = "origin"
	cfg.Proxy.TrustedProxies = []string{"127.0.0.0/8"}
	_, srv2 := startProxy(t, cfg)
	_, e = get(t, srv2.URL+"/", "Host", "acme.auth.example.com", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "acme.example.com", "X-Forwarded-For", "203.0.113.9")
	require.Equal(t, strings.TrimPrefix(primary.addr(), "http://"), e.Host)
	require.Equal(t, "https", e.Header.Get("X-Forwarded-Proto"))
	require.Equal(t, "acme.example.com", e.Header.Get("X-Forwarded-Host"))
	require.Equal(t, "203.0.113.9, 127.0.0.1", e.Header.Get("X-Forwarded-For"))

	cfg.Proxy.HostHeader = "auth.internal"
	_, srv3 := startProxy(t, cfg)
	_, e = get(t, srv3.URL+"/")
	require.Equal(t, "auth.internal", e.Host)
}

// TestPassiveEjection: consecutive 5xx from real traffic take an origin out
// at once, before any probe; the probes bring it back once it is well.
func TestPassiveEjection(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	hc := fastHealth()
	hc.PassiveThreshold = 3
	hc.Interval = routing.Duration(150 * time.Millisecond)
	p, srv := startProxy(t, failoverConfig(primary, standby, hc))

	primary.status.Store(500) // /health still says ok
	for range 2 {
		code, e := get(t, srv.URL+"/")
		require.Equal(t, 500, code, "a 5xx answer is passed on, not retried")
		require.Equal(t, "primary", e.Origin)
	}
	code, _ := get(t, srv.URL+"/") // third in a row
	require.Equal(t, 500, code)
	_, e := get(t, srv.URL+"/")
	require.Equal(t, "standby", e.Origin, "ejected")
	s := originStats(p.Stats(), primary.addr())
	require.False(t, s.Healthy)
	require.Equal(t, uint64(1), s.Ejections)
	require.Equal(t, uint64(3), s.Failures)
	require.Contains(t, s.LastError, "500")

	// A success in between resets the count.
	primary.status.Store(200)
	waitFor(t, 2*time.Second, "primary back by probes", func() bool {
		_, e := get(t, srv.URL+"/")
		return e.Origin == "primary"
	})
	primary.status.Store(500)
	get(t, srv.URL+"/")
	get(t, srv.URL+"/")
	primary.status.Store(200)
	get(t, srv.URL+"/")
	primary.status.Store(500)
	get(t, srv.URL+"/")
	get(t, srv.URL+"/")
	primary.status.Store(200)
	_, e = get(t, srv.URL+"/")
	require.Equal(t, "primary", e.Origin, "never three in a row")
	require.Equal(t, uint64(1), originStats(p.Stats(), primary.addr()).Ejections)
}

// TestCloseStopsGoroutines: after Close the probe goroutines and pooled
// connections are gone.
func TestCloseStopsGoroutines(t *testing.T) {
	var os []*origin
	for _, n := range []string{"a", "b", "c", "d"} {
		os = append(os, newOrigin(t, n))
	}
	client.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()

	cfg := &routing.Config{HealthCheck: fastHealth(), Steering: routing.Steering{Policy: routing.PolicyWeighted}}
	for _, o := range os {
		cfg.Pools = append(cfg.Pools, routing.Pool{ID: o.name, Origins: []routing.OriginConfig{{Address: o.addr()}}})
	}
	p, err := routing.NewProxy(cfg, routing.WithLogger(quietLogger(t)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: p}
	go hs.Serve(ln)
	for range 20 {
		code, _ := get(t, "http://"+ln.Addr().String()+"/")
		require.Equal(t, 200, code)
	}
	time.Sleep(250 * time.Millisecond) // a few probe rounds
	require.Greater(t, runtime.NumGoroutine(), base+len(os)-1, "probes run")

	hs.Close()
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close twice is fine")
	client.CloseIdleConnections()
	var n int
	waitFor(t, 3*time.Second, "goroutines back to the baseline", func() bool {
		n = runtime.NumGoroutine()
		return n <= base
	})
	probes := os[0].probes.Load()
	time.Sleep(250 * time.Millisecond)
	require.Equal(t, probes, os[0].probes.Load(), "no probe after Close")
}

// TestEjectionBeforeFirstProbe: an origin ejected by traffic before its first
// probe has answered is not brought straight back by that probe; it needs
// healthy_threshold good probes like any other.
func TestEjectionBeforeFirstProbe(t *testing.T) {
	primary, standby := newOrigin(t, "primary"), newOrigin(t, "standby")
	release := make(chan struct{})
	primary.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			<-release
		}
		primary.serve(w, r)
	})
	hc := routing.HealthCheck{Interval: routing.Duration(time.Hour), Timeout: routing.Duration(5 * time.Second), HealthyThreshold: 2, PassiveThreshold: 2}
	p, srv := startProxy(t, failoverConfig(primary, standby, hc))
	primary.status.Store(502)
	get(t, srv.URL+"/")
	get(t, srv.URL+"/")
	require.False(t, originStats(p.Stats(), primary.addr()).Healthy, "ejected")
	close(release) // the first probe now answers 200
	waitFor(t, 2*time.Second, "first probe done", func() bool { return primary.probes.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	s := originStats(p.Stats(), primary.addr())
	require.False(t, s.Healthy, "one good probe is not enough")
	require.Equal(t, uint64(1), s.ProbesOK)
	_, e := get(t, srv.URL+"/")
	require.Equal(t, "standby", e.Origin)
}
