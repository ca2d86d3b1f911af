package routing_test

import (
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/routing"
)

func newRouter(t *testing.T, cfg *routing.Config, opts ...routing.Option) *routing.Router {
	t.Helper()
	r, err := routing.NewRouter(cfg, append([]routing.Option{routing.WithLogger(quietLogger(t))}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func pools(origins map[string]*origin, ids ...string) []routing.Pool {
	var out []routing.Pool
	for _, id := range ids {
		out = append(out, routing.Pool{ID: id, Origins: []routing.OriginConfig{{Address: origins[id].addr()}}})
	}
	return out
}

func countPicks(t *testing.T, r *routing.Router, n int, req *http.Request) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		o, err := r.Pick(req)
		require.NoError(t, err)
		got[o.Pool]++
	}
	return got
}

// TestWeightedPicks: 10,000 picks land within 2% of the weights (smooth
// weighted round robin makes them exact), and the sequence is interleaved
// rather than bursty.
func TestWeightedPicks(t *testing.T) {
	os := map[string]*origin{"cloudflare": newOrigin(t, "cf"), "aws-us": newOrigin(t, "us"), "aws-eu": newOrigin(t, "eu")}
	r := newRouter(t, &routing.Config{
		Pools:       pools(os, "cloudflare", "aws-us", "aws-eu"),
		Steering:    routing.Steering{Weights: map[string]float64{"cloudflare": 50, "aws-us": 30, "aws-eu": 20}},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour)},
	})
	const n = 10000
	got := countPicks(t, r, n, nil)
	for id, w := range map[string]float64{"cloudflare": 0.5, "aws-us": 0.3, "aws-eu": 0.2} {
		share := float64(got[id]) / n
		require.InDelta(t, w, share, 0.02, "%s got %d of %d", id, got[id], n)
		require.InDelta(t, w*n, float64(got[id]), 1, "smooth weighted round robin is exact")
	}
	// Smooth: in any window of 10 picks every pool appears in its share.
	seq := make([]string, 10)
	for i := range seq {
		o, err := r.Pick(nil)
		require.NoError(t, err)
		seq[i] = o.Pool
	}
	counts := map[string]int{}
	for _, s := range seq {
		counts[s]++
	}
	require.Equal(t, map[string]int{"cloudflare": 5, "aws-us": 3, "aws-eu": 2}, counts, "%v", seq)

	// A pool with no healthy origin is skipped; the others share its part.
	os["aws-us"].srv.Close()
	r2 := newRouter(t, &routing.Config{
		Pools:       pools(os, "cloudflare", "aws-us", "aws-eu"),
		Steering:    routing.Steering{Weights: map[string]float64{"cloudflare": 50, "aws-us": 30, "aws-eu": 20}},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour), Timeout: routing.Duration(time.Second)},
	})
	waitFor(t, 2*time.Second, "closed origin marked down", func() bool {
		return !originStats(r2.Stats(), os["aws-us"].addr()).Healthy
	})
	got = countPicks(t, r2, 700, nil)
	require.Equal(t, map[string]int{"cloudflare": 500, "aws-eu": 200}, got)
}

// TestSetWeightsLive changes weights while picks run concurrently; the new
// shares hold exactly from the next pick.
func TestSetWeightsLive(t *testing.T) {
	os := map[string]*origin{"old": newOrigin(t, "old"), "new": newOrigin(t, "new")}
	r := newRouter(t, &routing.Config{
		Pools:       pools(os, "old", "new"),
		Steering:    routing.Steering{Policy: routing.PolicyWeighted, Weights: map[string]float64{"old": 99, "new": 1}},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour)},
	})
	require.Equal(t, map[string]int{"old": 990, "new": 10}, countPicks(t, r, 1000, nil))

	require.NoError(t, r.SetWeights(map[string]float64{"old": 50, "new": 50}))
	require.Equal(t, map[string]int{"old": 500, "new": 500}, countPicks(t, r, 1000, nil))
	require.NoError(t, r.SetWeights(map[string]float64{"old": 0}))
	require.Equal(t, map[string]int{"new": 1000}, countPicks(t, r, 1000, nil))
	require.Equal(t, map[string]float64{"old": 0, "new": 50}, r.Weights())

	// Refused changes leave the weights alone.
	require.ErrorContains(t, r.SetWeights(map[string]float64{"nope": 1}), `unknown pool "nope"`)
	require.ErrorContains(t, r.SetWeights(map[string]float64{"old": -1}), "0 or more")
	require.ErrorContains(t, r.SetWeights(map[string]float64{"old": math.NaN()}), "0 or more")
	require.ErrorContains(t, r.SetWeights(map[string]float64{"new": 0}), "all be zero")
	require.Equal(t, map[string]float64{"old": 0, "new": 50}, r.Weights())

	// Concurrent use (run with -race).
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := r.Pick(nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 200 {
		require.NoError(t, r.SetWeights(map[string]float64{"old": float64(i % 7), "new": 1}))
	}
	close(stop)
	wg.Wait()
}

// TestGeoSteering routes by CF-IPCountry, other CDNs' headers, region,
// continent and a custom GeoResolver, with default pools for the rest and
// failover to them when the geo pool is down.
func TestGeoSteering(t *testing.T) {
	os := map[string]*origin{"us": newOrigin(t, "us"), "eu": newOrigin(t, "eu"), "de": newOrigin(t, "de"), "west": newOrigin(t, "west")}
	cfg := &routing.Config{
		Pools: pools(os, "us", "eu", "de", "west"),
		Steering: routing.Steering{
			Policy:     routing.PolicyGeo,
			Countries:  map[string][]string{"DE": {"de", "eu"}},
			Regions:    map[string][]string{"US-CA": {"west", "us"}},
			Continents: map[string][]string{"EU": {"eu", "us"}, "NA": {"us"}},
			Default:    []string{"us"},
		},
		HealthCheck: fastHealth(),
	}
	r := newRouter(t, cfg)
	pick := func(header ...string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		o, err := r.Pick(req)
		require.NoError(t, err)
		return o.Pool
	}
	require.Equal(t, "de", pick("CF-IPCountry", "DE"), "country")
	require.Equal(t, "eu", pick("CF-IPCountry", "fr"), "continent from the country")
	require.Equal(t, "us", pick("CF-IPCountry", "US"), "continent NA")
	require.Equal(t, "us", pick("CF-IPCountry", "JP"), "no rule: default pool")
	require.Equal(t, "us", pick("CF-IPCountry", "XX"), "unknown country: default pool")
	require.Equal(t, "us", pick(), "no location: default pool")
	require.Equal(t, "de", pick("CloudFront-Viewer-Country", "DE"), "CloudFront header")
	require.Equal(t, "de", pick("X-Vercel-IP-Country", "DE"), "Vercel header")
	require.Equal(t, "eu", pick("CF-IPContinent", "EU"), "continent header alone")
	require.Equal(t, "west", pick("CloudFront-Viewer-Country", "US", "CloudFront-Viewer-Country-Region", "CA"), "subdivision")
	require.Equal(t, "us", pick("CloudFront-Viewer-Country", "US", "CloudFront-Viewer-Country-Region", "NY"), "other subdivision")
	o, err := r.Pick(nil)
	require.NoError(t, err)
	require.Equal(t, "us", o.Pool)
	require.Equal(t, os["us"].addr(), o.URL.String())

	// The German pool goes down: Germans fail over along their list.
	os["de"].setHealthy(false)
	waitFor(t, 2*time.Second, "de marked down", func() bool { return pick("CF-IPCountry", "DE") == "eu" })
	// So does the rest of Europe's list: then the default pools.
	os["eu"].setHealthy(false)
	waitFor(t, 2*time.Second, "eu marked down", func() bool { return pick("CF-IPCountry", "FR") == "us" })
	require.Equal(t, "us", pick("CF-IPCountry", "DE"))

	// A configurable header list and a custom resolver.
	cfg.Geo = routing.GeoConfig{CountryHeaders: []string{"X-Geo"}}
	os["de"].setHealthy(true)
	os["eu"].setHealthy(true)
	r2 := newRouter(t, cfg)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("CF-IPCountry", "DE")
	o, err = r2.Pick(req)
	require.NoError(t, err)
	require.Equal(t, "us", o.Pool, "CF-IPCountry is not in the configured list")
	req.Header.Set("X-Geo", "DE")
	o, err = r2.Pick(req)
	require.NoError(t, err)
	require.Equal(t, "de", o.Pool)

	byIP := routing.GeoResolverFunc(func(r *http.Request) (string, string, string) {
		if r.RemoteAddr == "192.0.2.7:1234" {
			return "AT", "", ""
		}
		return "", "", ""
	})
	r3 := newRouter(t, cfg, routing.WithGeoResolver(byIP))
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.7:1234"
	o, err = r3.Pick(req)
	require.NoError(t, err)
	require.Equal(t, "eu", o.Pool, "Austria is in Europe")
}

// TestFailoverDrill disables the primary pool like a cloud load balancer
// would ("disable primary in load balancer"), then puts it back.
func TestFailoverDrill(t *testing.T) {
	os := map[string]*origin{"primary": newOrigin(t, "p"), "standby": newOrigin(t, "s")}
	r := newRouter(t, &routing.Config{Pools: pools(os, "primary", "standby"), HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour)}})
	require.Equal(t, map[string]int{"primary": 10}, countPicks(t, r, 10, nil))
	require.NoError(t, r.SetPoolEnabled("primary", false))
	require.Equal(t, map[string]int{"standby": 10}, countPicks(t, r, 10, nil))
	require.NoError(t, r.SetPoolEnabled("primary", true))
	require.Equal(t, map[string]int{"primary": 10}, countPicks(t, r, 10, nil))
	require.Error(t, r.SetPoolEnabled("nope", true))

	require.NoError(t, r.SetPoolEnabled("primary", false))
	require.NoError(t, r.SetPoolEnabled("standby", false))
	_, err := r.Pick(nil)
	require.True(t, errors.Is(err, routing.ErrNoHealthyOrigin))
}

// TestOriginsInAPool spread over a pool's healthy origins by their weights.
func TestOriginsInAPool(t *testing.T) {
	a, b := newOrigin(t, "a"), newOrigin(t, "b")
	r := newRouter(t, &routing.Config{
		Pools:       []routing.Pool{{ID: "p", Origins: []routing.OriginConfig{{Address: a.addr(), Weight: 3}, {Address: b.addr()}}}},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour)},
	})
	got := map[string]int{}
	for range 400 {
		o, err := r.Pick(nil)
		require.NoError(t, err)
		got[o.URL.String()]++
	}
	require.Equal(t, map[string]int{a.addr(): 300, b.addr(): 100}, got)
}
