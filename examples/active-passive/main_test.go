package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authhero-go/authhero/examples/internal/flow"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/routing"
	"github.com/authhero-go/authhero/session/storetest"
)

const callback = "https://app.test/callback"

// fastHealth is the proxy's health check in the tests.
var fastHealth = routing.HealthCheck{Interval: routing.Duration(200 * time.Millisecond), Timeout: routing.Duration(200 * time.Millisecond),
	UnhealthyThreshold: 2, HealthyThreshold: 2}

// start runs the example (run) on a fresh Postgres database and the test
// Redis, on free ports, and returns the deployment once it serves. It stops
// with the test, and run must then return nil.
func start(t testing.TB) *deployment {
	t.Helper()
	dsn := testdb.Fresh(t, "postgres")
	addr := storetest.RedisAddr(t)
	prefix := "authhero-example-ap:" + rand.Text()[:10] + ":"
	t.Cleanup(func() { dropKeys(t, addr, prefix) })

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *deployment, 1)
	done := make(chan error, 1)
	cfg := config{DatabaseURL: dsn, RedisURL: "redis://" + addr + "/0", RedisPrefix: prefix,
		Listen: "127.0.0.1:0", PrimaryListen: "127.0.0.1:0", StandbyListen: "127.0.0.1:0",
		Callbacks: []string{callback}, Health: fastHealth, ready: func(d *deployment) { ready <- d }}
	go func() { done <- run(ctx, cfg, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("run did not return within 20s of its context ending")
		}
	})
	select {
	case d := <-ready:
		return d
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not start within 30s")
	}
	return nil
}

func dropKeys(t testing.TB, addr, prefix string) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = c.Del(ctx, keys...).Err()
	}
	if err != nil {
		t.Errorf("dropping the test's Redis keys: %v", err)
	}
}

// providers records the X-Authhero-Provider of every response.
type providers struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (p *providers) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := p.next.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.seen = append(p.seen, res.Header.Get("X-Authhero-Provider"))
		p.mu.Unlock()
	}
	return res, err
}

// take returns the distinct providers seen since the last take.
func (p *providers) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := slices.Compact(slices.Sorted(slices.Values(p.seen)))
	p.seen = nil
	return s
}

// newBrowser is an HTTP client with a cookie jar that stops at the
// application's callback.
func newBrowser() (*http.Client, *providers) {
	jar, _ := cookiejar.New(nil)
	rec := &providers{next: &http.Transport{}}
	return &http.Client{Jar: jar, Transport: rec, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() == "app.test" {
				return http.ErrUseLastResponse
			}
			return nil
		}}, rec
}

// originHealthy reports the proxy's view of an origin.
func originHealthy(p *routing.Proxy, u string) bool {
	for _, o := range p.Stats().Origins {
		if o.URL == u {
			return o.Healthy
		}
	}
	return false
}

// waitFor polls cond until it holds or d passes and returns how long it took.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, d)
	return 0
}

// answeredBy is the provider that answered a GET through the proxy.
func answeredBy(t *testing.T, u string) string {
	t.Helper()
	res, err := probeClient.Get(u)
	require.NoError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.Header.Get("X-Authhero-Provider")
}

var probeClient = &http.Client{Timeout: 5 * time.Second}

// traffic is a stream of requests through the proxy during the switch,
// counted by outcome.
type traffic struct {
	ok, unavailable, other, hung, failed atomic.Int64
	byProvider                           sync.Map // provider -> *atomic.Int64
	stop                                 chan struct{}
	wg                                   sync.WaitGroup
	mu                                   sync.Mutex
	others                               []string
}

// startTraffic runs workers that send GETs (discovery, JWKS, userinfo with
// accessToken) through the proxy, each bounded by a 3s client timeout,
// until stopped or max requests are sent.
func startTraffic(base, accessToken string, workers, max int) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	var sent atomic.Int64
	paths := []string{".well-known/openid-configuration", ".well-known/jwks.json", "userinfo"}
	for w := range workers {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			for i := w; ; i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				if sent.Add(1) > int64(max) {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, base+paths[i%len(paths)], nil)
				if paths[i%len(paths)] == "userinfo" {
					req.Header.Set("Authorization", "Bearer "+accessToken)
				}
				tr.one(c, req)
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return tr
}

func (tr *traffic) one(c *http.Client, req *http.Request) {
	res, err := c.Do(req)
	var ne net.Error
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		tr.hung.Add(1)
		return
	case err != nil:
		tr.failed.Add(1)
		tr.note(err.Error())
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK:
		tr.ok.Add(1)
		n, _ := tr.byProvider.LoadOrStore(res.Header.Get("X-Authhero-Provider"), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		tr.unavailable.Add(1)
	default:
		tr.other.Add(1)
		tr.note(req.URL.Path + " " + res.Status)
	}
}

func (tr *traffic) note(s string) {
	tr.mu.Lock()
	tr.others = append(tr.others, s)
	tr.mu.Unlock()
}

func (tr *traffic) finish() {
	close(tr.stop)
	tr.wg.Wait()
}

func (tr *traffic) count(provider string) int64 {
	if n, ok := tr.byProvider.Load(provider); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// TestActivePassiveFailover is the done-when drill, through the proxy: a
// user logs in on the primary (aws); the primary goes dark; the proxy
// routes to the standby (gcp) within Interval×UnhealthyThreshold+Timeout,
// where the user's session (prompt=none) and refresh token keep working
// (shared database and Redis); a stream of requests across the switch gets
// only answers or clean 503s, never a hang; the primary comes back on the
// same port and traffic fails back.
func TestActivePassiveFailover(t *testing.T) {
	d := start(t)
	base := d.URL
	b, seen := newBrowser()

	code, verifier := demo.Login(t, b, base)
	tok := demo.Exchange(t, b, base, code, verifier)
	require.Equal(t, []string{"aws"}, seen.take(), "the login ran on the primary")

	tr := startTraffic(base, tok["access_token"].(string), 2, 600)
	time.Sleep(50 * time.Millisecond)

	bound := time.Duration(fastHealth.Interval)*time.Duration(fastHealth.UnhealthyThreshold) + time.Duration(fastHealth.Timeout)
	stopped := time.Now()
	require.NoError(t, d.Primary.Stop())
	// Poll two things until both happened: the first request answered by
	// the standby, and the proxy's own routing decision moving to it.
	var firstAt, routedAt time.Time
	waitFor(t, 2*bound, "failover to the standby", func() bool {
		if firstAt.IsZero() && answeredBy(t, base+".well-known/openid-configuration") == "gcp" {
			firstAt = time.Now()
		}
		if o, err := d.Proxy.Router().Pick(httptestRequest(base)); routedAt.IsZero() && err == nil && o.Pool == "gcp" {
			routedAt = time.Now()
		}
		return !firstAt.IsZero() && !routedAt.IsZero()
	})
	firstStandby, routed := firstAt.Sub(stopped), routedAt.Sub(stopped)
	t.Logf("failover: first answer from the standby %s after the stop (the proxy retries a refused connection on the next pool); "+
		"the proxy routes to the standby %s after the stop (bound Interval×UnhealthyThreshold+Timeout = %s)",
		firstStandby.Round(time.Millisecond), routed.Round(time.Millisecond), bound)
	require.LessOrEqual(t, routed, bound)
	require.False(t, originHealthy(d.Proxy, d.Primary.URL()))

	// The session and the refresh token work on the standby.
	code, verifier = demo.Silent(t, b, base)
	tok2 := demo.Exchange(t, b, base, code, verifier)
	rt := demo.Refresh(t, b, base, tok["refresh_token"].(string))
	require.Equal(t, []string{"gcp"}, seen.take(), "SSO, code exchange and refresh on the standby")
	require.NotEmpty(t, tok2["access_token"])

	// The primary returns on the same port: traffic fails back.
	upBound := time.Duration(fastHealth.Interval)*time.Duration(fastHealth.HealthyThreshold) + time.Duration(fastHealth.Timeout)
	require.NoError(t, d.Primary.Start())
	back := waitFor(t, 3*upBound, "failback to the primary", func() bool {
		return answeredBy(t, base+".well-known/openid-configuration") == "aws"
	})
	t.Logf("failback: the primary answers again %s after it restarted (bound Interval×HealthyThreshold+Timeout = %s)", back.Round(time.Millisecond), upBound)
	require.LessOrEqual(t, back, upBound+time.Duration(fastHealth.Interval), "one probe interval of slack: the restart lands anywhere in a probe cycle")
	time.Sleep(100 * time.Millisecond)
	tr.finish()

	demo.Refresh(t, b, base, rt["refresh_token"].(string))
	demo.Silent(t, b, base)
	require.Equal(t, []string{"aws"}, seen.take(), "back on the primary, same session")

	// Once more without traffic, so that only the /health probes can notice
	// (no passive ejection from failed requests).
	stopped = time.Now()
	require.NoError(t, d.Primary.Stop())
	probesOnly := waitFor(t, 2*bound, "failover by the probes alone", func() bool {
		o, err := d.Proxy.Router().Pick(httptestRequest(base))
		return err == nil && o.Pool == "gcp"
	})
	t.Logf("failover by the /health probes alone: %s after the stop (bound %s)", probesOnly.Round(time.Millisecond), bound)
	require.LessOrEqual(t, probesOnly, bound)
	require.Equal(t, "gcp", answeredBy(t, base+".well-known/openid-configuration"))
	require.NoError(t, d.Primary.Start())

	total := tr.ok.Load() + tr.unavailable.Load() + tr.other.Load() + tr.hung.Load() + tr.failed.Load()
	t.Logf("requests during the switch: %d sent, %d succeeded (aws %d, gcp %d), %d clean 503, %d hung, %d other %v",
		total, tr.ok.Load(), tr.count("aws"), tr.count("gcp"), tr.unavailable.Load(), tr.hung.Load(), tr.other.Load()+tr.failed.Load(), tr.others)
	require.Zero(t, tr.hung.Load(), "no request hung")
	require.Zero(t, tr.other.Load()+tr.failed.Load(), "every request succeeded or got a clean 503: %v", tr.others)
	require.Positive(t, tr.count("aws"))
	require.Positive(t, tr.count("gcp"))
}

func httptestRequest(base string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, base, nil)
	return r
}

// TestProxyLatency measures what the proxy adds to a request to a real
// instance: the same GET (the JWKS, served from memory) straight to the
// primary and through the proxy, sequentially on keep-alive connections.
func TestProxyLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	d := start(t)
	const n = 400
	host := strings.TrimSuffix(strings.TrimPrefix(d.URL, "http://"), "/")
	direct := latencies(t, d.Primary.URL()+"/.well-known/jwks.json", host, n)
	proxied := latencies(t, d.URL+".well-known/jwks.json", host, n)
	dp50, dp99 := pct(direct, 50), pct(direct, 99)
	pp50, pp99 := pct(proxied, 50), pct(proxied, 99)
	t.Logf("GET /.well-known/jwks.json ×%d: direct p50 %s p99 %s; through the proxy p50 %s p99 %s; added p50 %s p99 %s",
		n, dp50, dp99, pp50, pp99, pp50-dp50, pp99-dp99)
}

// BenchmarkProxyLatency is TestProxyLatency as a benchmark: ns/op, p50-ns and
// p99-ns of the direct and the proxied GET.
//
//	go test -run '^$' -bench ProxyLatency -benchtime 2000x ./examples/active-passive/
func BenchmarkProxyLatency(b *testing.B) {
	d := start(b)
	host := strings.TrimSuffix(strings.TrimPrefix(d.URL, "http://"), "/")
	for _, bc := range []struct{ name, url string }{{"direct", d.Primary.URL() + "/.well-known/jwks.json"}, {"proxied", d.URL + ".well-known/jwks.json"}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer c.CloseIdleConnections()
			get(b, c, bc.url, host) // warm: keys loaded, connection open
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				s := time.Now()
				get(b, c, bc.url, host)
				lat = append(lat, time.Since(s))
			}
			b.StopTimer()
			b.ReportMetric(float64(pct(lat, 50).Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(pct(lat, 99).Nanoseconds()), "p99-ns")
		})
	}
}

// get sends a GET to u with the Host of the public URL, as the proxy does,
// so that an instance called directly resolves the same tenant.
func get(t testing.TB, c *http.Client, u, host string) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, res.Status)
	}
}

func latencies(t testing.TB, u, host string, n int) []time.Duration {
	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	get(t, c, u, host)
	out := make([]time.Duration, n)
	for i := range out {
		s := time.Now()
		get(t, c, u, host)
		out[i] = time.Since(s)
	}
	return out
}

// pct returns the p-th percentile of d (sorted in place).
func pct(d []time.Duration, p int) time.Duration {
	slices.Sort(d)
	i := len(d) * p / 100
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i].Round(time.Microsecond)
}

// TestRunNeedsItsServices checks that run explains what is missing.
func TestRunNeedsItsServices(t *testing.T) {
	err := run(context.Background(), config{}, io.Discard)
	require.ErrorContains(t, err, "DATABASE_URL")
	err = run(context.Background(), config{DatabaseURL: "postgres://x"}, io.Discard)
	require.ErrorContains(t, err, "REDIS_URL")
}

// demo is the example's client and user, driven over HTTP.
var demo = flow.App{ClientID: demoClientID, Callback: callback, Email: demoEmail, Password: demoPassword}
