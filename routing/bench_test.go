package routing_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/authhero-go/authhero/routing"
)

// BenchmarkProxyOverhead compares a GET straight to a local origin with the
// same GET through the Proxy, over keep-alive connections on 127.0.0.1. The
// difference in ns/op is the latency the proxy adds; p50-ns and p99-ns are
// the per-request latency percentiles.
//
//	go test -run '^$' -bench ProxyOverhead -benchtime 20000x ./routing/
func BenchmarkProxyOverhead(b *testing.B) {
	body := []byte(`{"keys":[]}`)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer origin.Close()
	standby := httptest.NewServer(http.NotFoundHandler())
	defer standby.Close()
	cfg := &routing.Config{
		Pools: []routing.Pool{
			{ID: "primary", Origins: []routing.OriginConfig{{Address: origin.URL}}},
			{ID: "standby", Origins: []routing.OriginConfig{{Address: standby.URL}}},
		},
		HealthCheck: routing.HealthCheck{Interval: routing.Duration(time.Hour), ExpectedStatus: "200-499"},
	}
	p, err := routing.NewProxy(cfg, routing.WithLogger(quietLogger(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	front := httptest.NewServer(p)
	defer front.Close()

	for _, bc := range []struct{ name, url string }{{"direct", origin.URL}, {"proxied", front.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer c.CloseIdleConnections()
			url := bc.url + "/.well-known/jwks.json"
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				resp, err := c.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			if n := len(lat); n > 0 {
				b.ReportMetric(float64(lat[n/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(lat[n*99/100].Nanoseconds()), "p99-ns")
			}
		})
	}
}
