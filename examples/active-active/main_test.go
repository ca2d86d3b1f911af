package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authhero-go/authhero/examples/internal/flow"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/routing"
)

const callback = "https://app.test/callback"

// fastHealth is the proxy's health check in the tests.
var fastHealth = routing.HealthCheck{Interval: routing.Duration(200 * time.Millisecond), Timeout: routing.Duration(200 * time.Millisecond),
	UnhealthyThreshold: 2, HealthyThreshold: 2}

// start runs the example (run) on the primary of pg with its streaming
// replica for the europe-west region, on free ports, and returns the
// deployment once it serves. It stops with the test, and run must then
// return nil.
func start(t *testing.T, pg *testdb.PGPair) *deployment {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *deployment, 1)
	done := make(chan error, 1)
	cfg := config{DatabaseURL: pg.Primary, ReplicaURL: pg.Standby,
		Listen: "127.0.0.1:0", USListen: "127.0.0.1:0", EUListen: "127.0.0.1:0",
		Callbacks: []string{callback}, Health: fastHealth,
		Replica:  bunadapter.ReplicaOptions{Timeout: 2 * time.Second, RetryInterval: 100 * time.Millisecond},
		CacheTTL: -1, // every configuration read reaches the database (or replica)
		ready:    func(d *deployment) { ready <- d }}
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

// country sets the CF-IPCountry header a CDN would add.
type country struct {
	next http.RoundTripper
	code string
}

func (c *country) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if c.code != "" {
		r.Header.Set("CF-IPCountry", c.code)
	}
	return c.next.RoundTrip(r)
}

// newBrowser is an HTTP client with a cookie jar that stops at the
// application's callback, coming from the country whose code it returns
// (change it to move the browser).
func newBrowser(code string) (*http.Client, *providers, *country) {
	jar, _ := cookiejar.New(nil)
	cc := &country{next: &http.Transport{}, code: code}
	rec := &providers{next: cc}
	return &http.Client{Jar: jar, Transport: rec, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() == "app.test" {
				return http.ErrUseLastResponse
			}
			return nil
		}}, rec, cc
}

// answeredBy is the provider that answered a GET through the proxy from a
// country.
func answeredBy(t *testing.T, u, code string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if code != "" {
		req.Header.Set("CF-IPCountry", code)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	return res.Header.Get("X-Authhero-Provider")
}

// loginPage is the first login page a browser from a country gets.
func loginPage(t *testing.T, base, code string) string {
	t.Helper()
	b, seen, _ := newBrowser(code)
	_, challenge := flow.PKCE()
	res, err := b.Get(demo.AuthorizeURL(base, challenge, nil))
	require.NoError(t, err)
	body := flow.ReadBody(t, res)
	require.Equal(t, 200, res.StatusCode, body)
	want := map[string]string{"DE": "gcp", "US": "aws"}[code]
	require.Equal(t, []string{want}, seen.take())
	return body
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

// TestActiveActive runs both regions on a real PostgreSQL primary with a
// streaming replica for europe-west. The proxy steers by CF-IPCountry; with
// the replica's replay paused, europe-west serves its configuration from
// the lagging replica and a full login there (authorize, password, code
// exchange, refresh) still completes, because codes, login transactions,
// sessions and refresh tokens live on the primary; the session then works
// in us-east too.
func TestActiveActive(t *testing.T) {
	pg := testdb.StartPGPair(t)
	d := start(t, pg)
	base := d.URL
	pg.CatchUp(t) // the seeded tenant, keys, client and user are on the replica

	for code, want := range map[string]string{"US": "aws", "CA": "aws", "BR": "aws", "DE": "gcp", "FR": "gcp", "IT": "gcp", "JP": "aws", "": "aws"} {
		require.Equal(t, want, answeredBy(t, base+".well-known/openid-configuration", code), "CF-IPCountry %q", code)
	}
	require.False(t, d.US.DB().ReplicaStats().Configured, "us-east reads the primary")
	require.True(t, d.EU.DB().ReplicaStats().Configured, "europe-west reads the replica")

	pg.Pause(t)
	ctx := context.Background()
	// A configuration change on the primary is not seen by europe-west's
	// configuration reads while the replica lags.
	_, err := d.US.DB().Tenants.Update(ctx, tenantID, func(x *adapters.Tenant) error { x.FriendlyName = "Main v2"; return nil })
	require.NoError(t, err)
	tn, err := d.EU.DB().Tenants.Get(ctx, tenantID)
	require.NoError(t, err)
	require.Equal(t, "Main", tn.FriendlyName, "europe-west reads the lagging replica")
	tn, err = d.US.DB().Tenants.Get(ctx, tenantID)
	require.NoError(t, err)
	require.Equal(t, "Main v2", tn.FriendlyName)

	// Through the proxy too: the login page shows the tenant's name, from
	// the replica in Europe and from the primary in America.
	require.Contains(t, loginPage(t, base, "DE"), "<title>Log in · Main</title>")
	require.Contains(t, loginPage(t, base, "US"), "<title>Log in · Main v2</title>")

	// A full login in europe-west while its replica lags.
	before := d.EU.DB().ReplicaStats()
	b, seen, from := newBrowser("DE")
	code, verifier := demo.Login(t, b, base)
	tok := demo.Exchange(t, b, base, code, verifier)
	tok = demo.Refresh(t, b, base, tok["refresh_token"].(string))
	require.Equal(t, []string{"gcp"}, seen.take(), "the whole login ran in europe-west")
	after := d.EU.DB().ReplicaStats()
	t.Logf("europe-west during the login: %d configuration reads served by the lagging replica, %d re-read on the primary as missing, %d fallbacks",
		after.Reads-before.Reads, after.Misses-before.Misses, after.Fallbacks-before.Fallbacks)
	require.Positive(t, after.Reads-before.Reads, "configuration came from the replica")
	require.Zero(t, after.Fallbacks-before.Fallbacks)
	// What the login wrote is on the primary only.
	for _, table := range []string{"sessions", "refresh_tokens", "codes"} {
		require.Positive(t, count(t, pg.PrimaryDB, table), table)
		require.Zero(t, count(t, pg.StandbyDB, table), "%s: the replica has not replayed the login", table)
	}

	// The same browser in the US: SSO and the refresh token work in us-east.
	from.code = "US"
	code, verifier = demo.Silent(t, b, base)
	demo.Exchange(t, b, base, code, verifier)
	demo.Refresh(t, b, base, tok["refresh_token"].(string))
	require.Equal(t, []string{"aws"}, seen.take())

	pg.Resume(t)
	pg.CatchUp(t)
	tn, err = d.EU.DB().Tenants.Get(ctx, tenantID)
	require.NoError(t, err)
	require.Equal(t, "Main v2", tn.FriendlyName, "the replica caught up")
	require.Positive(t, count(t, pg.StandbyDB, "refresh_tokens"))

	// europe-west goes dark: Europe is served by us-east.
	require.NoError(t, d.EU.Stop())
	require.Equal(t, "aws", answeredBy(t, base+".well-known/openid-configuration", "DE"))
	from.code = "DE"
	demo.Silent(t, b, base)
	require.Equal(t, []string{"aws"}, seen.take())
	require.NoError(t, d.EU.Start())
}

// TestRunNeedsADatabase checks that run explains what is missing.
func TestRunNeedsADatabase(t *testing.T) {
	require.ErrorContains(t, run(context.Background(), config{}, io.Discard), "DATABASE_URL")
}

// demo is the example's client and user, driven over HTTP.
var demo = flow.App{ClientID: demoClientID, Callback: callback, Email: demoEmail, Password: demoPassword}
