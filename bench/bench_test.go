package bench_test

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/authhero-go/authhero/bench"
)

// TestLoadDriverSmoke runs the driver briefly and checks that it works: no
// failed request, a positive token rate and sign rate, a ratio. It asserts no
// speed: speed is for the benchmarks and loadcc.
func TestLoadDriverSmoke(t *testing.T) {
	r, err := bench.Run(context.Background(), bench.Config{
		Alg: "RS256", Concurrency: 2, Duration: time.Second, Warmup: 200 * time.Millisecond, SignDuration: 400 * time.Millisecond,
		Baseline: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Requests == 0 {
		t.Fatalf("requests %d, errors %d", r.Requests, r.Errors)
	}
	if !(r.TokensPerSec > 0 && r.SignPerSec > 0 && r.Ratio > 0 && r.BaselinePerSec > 0) {
		t.Fatalf("tokens/s %v, sign/s %v, ratio %v, baseline/s %v: want all positive", r.TokensPerSec, r.SignPerSec, r.Ratio, r.BaselinePerSec)
	}
	if r.LatencyP50Ms <= 0 || r.LatencyP50Ms > r.LatencyP99Ms || r.LatencyP99Ms > r.LatencyMaxMs {
		t.Fatalf("latency p50 %v p99 %v max %v: want 0 < p50 ≤ p99 ≤ max", r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs)
	}
	if r.Database != "sqlite" || r.GOMAXPROCS != runtime.GOMAXPROCS(0) || r.Concurrency != 2 {
		t.Fatalf("database %q, GOMAXPROCS %d, concurrency %d", r.Database, r.GOMAXPROCS, r.Concurrency)
	}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())

	// The benchmarks sign SampleSigningInput: it must be token-sized.
	sample := len(bench.SampleSigningInput("RS256"))
	real := r.TokenBytes - 1 - 342 // "." and the base64url of a 256-byte signature
	if d := sample - real; d < -real/20 || d > real/20 {
		t.Errorf("SampleSigningInput is %d bytes, a real signing input %d: more than 5%% apart", sample, real)
	}
}

// newServer starts a server for alg and checks that it issues tokens.
func newServer(b *testing.B, alg string) (*bench.Server, func()) {
	b.Helper()
	ctx := context.Background()
	s, err := bench.StartServer(ctx, bench.ServerOptions{Alg: alg, Logger: bench.QuietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	c := bench.NewClient(1)
	if _, err := s.FetchToken(ctx, c); err != nil {
		s.Close()
		b.Fatal(err)
	}
	c.CloseIdleConnections()
	return s, func() { s.Close() }
}

// BenchmarkClientCredentials measures POST /oauth/token (client_credentials,
// client_secret_post, the Management API audience) over loopback HTTP to an
// in-process server with SQLite, from 2 × GOMAXPROCS concurrent clients.
// ns/op is wall time per token over all clients, 1 ÷ throughput, and so
// compares directly with BenchmarkRawSign's.
func BenchmarkClientCredentials(b *testing.B) {
	for _, alg := range bench.Algorithms {
		s, done := newServer(b, alg)
		b.Run(alg, func(b *testing.B) {
			c := bench.NewClient(2 * runtime.GOMAXPROCS(0))
			defer c.CloseIdleConnections()
			b.SetParallelism(2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var buf bytes.Buffer
				for pb.Next() {
					if err := s.Post(context.Background(), c, &buf); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
		done()
	}
}

// BenchmarkRawSign measures the physical limit: SHA-256 and the bare
// signature of a token-sized input (SampleSigningInput) with the standard
// library, on GOMAXPROCS goroutines. ns/op is wall time per signature over
// all goroutines; BenchmarkRawSign ns/op ÷ BenchmarkClientCredentials ns/op
// is the ratio loadcc reports.
func BenchmarkRawSign(b *testing.B) {
	for _, alg := range bench.Algorithms {
		sign, err := bench.NewRawSigner(alg, bench.SampleSigningInput(alg))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := sign(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign/s")
		})
	}
}
