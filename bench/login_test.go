package bench_test

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/authhero-go/authhero/bench"
)

// TestLoginDriverSmoke runs the login and refresh driver briefly and checks
// that it works: no failed login or grant, positive rates and ratios,
// ordered percentiles. It asserts no speed.
func TestLoginDriverSmoke(t *testing.T) {
	r, err := bench.RunLogin(context.Background(), bench.LoginConfig{
		Alg: "ES256", Concurrency: 2, Users: 4, Duration: 300 * time.Millisecond, RefreshDuration: 200 * time.Millisecond,
		Warmup: 100 * time.Millisecond, HashDuration: 200 * time.Millisecond, SignDuration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]bench.LoadStats{"login": r.Login, "refresh": r.Refresh} {
		if s.Errors != 0 || s.Ops == 0 || !(s.PerSec > 0 && s.PerSecCore > 0) {
			t.Errorf("%s: ops %d, errors %d, per second %v", name, s.Ops, s.Errors, s.PerSec)
		}
		if s.P50Ms <= 0 || s.P50Ms > s.P90Ms || s.P90Ms > s.P99Ms || s.P99Ms > s.MaxMs {
			t.Errorf("%s: latency p50 %v p90 %v p99 %v max %v: want 0 < p50 ≤ p90 ≤ p99 ≤ max", name, s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs)
		}
	}
	if !(r.Hash.PerSec > 0 && r.Sign.PerSec > 0 && r.LoginRatio > 0 && r.RefreshRatio > 0) {
		t.Errorf("hash/s %v, sign/s %v, login ratio %v, refresh ratio %v: want all positive", r.Hash.PerSec, r.Sign.PerSec, r.LoginRatio, r.RefreshRatio)
	}
	if r.RefreshRatioPair != 2*r.RefreshRatio {
		t.Errorf("refresh ratio pair %v, want 2 × %v", r.RefreshRatioPair, r.RefreshRatio)
	}
	for _, name := range bench.LoginStepNames {
		if r.LoginStepMs[name] <= 0 {
			t.Errorf("login step %s: mean %v ms", name, r.LoginStepMs[name])
		}
	}
	if r.Database != "sqlite" || r.GOMAXPROCS != runtime.GOMAXPROCS(0) || r.Concurrency != 2 || r.Users != 4 {
		t.Errorf("database %q, GOMAXPROCS %d, concurrency %d, users %d", r.Database, r.GOMAXPROCS, r.Concurrency, r.Users)
	}
	if r.LoginsBeforeRefresh < r.Login.Ops || r.AccessTokenBytes == 0 || r.IDTokenBytes == 0 {
		t.Errorf("logins before refresh %d (load %d), token bytes %d / %d", r.LoginsBeforeRefresh, r.Login.Ops, r.AccessTokenBytes, r.IDTokenBytes)
	}
}

// benchUsers is how many users BenchmarkLogin cycles through: enough that
// no two concurrent logins share a user, few enough that creating them (one
// argon2id hash each) stays short.
const benchUsers = 64

// newLoginServer starts a LoginServer for alg with users users.
func newLoginServer(b *testing.B, alg string, users int) *bench.LoginServer {
	b.Helper()
	s, err := bench.StartLoginServer(context.Background(), bench.LoginServerOptions{Alg: alg, Users: users, Logger: bench.QuietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLogin measures a full browser login (authorize → identifier →
// password → callback → code exchange, a fresh cookie jar each) over
// loopback HTTP to an in-process server with SQLite and an RS256 tenant,
// from 2 × GOMAXPROCS concurrent browsers. ns/op is wall time per login over
// all browsers; BenchmarkPasswordVerify ns/op ÷ this is the ratio loadlogin
// reports.
func BenchmarkLogin(b *testing.B) {
	s := newLoginServer(b, "RS256", benchUsers)
	c := bench.NewClient(2 * runtime.GOMAXPROCS(0))
	defer c.CloseIdleConnections()
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Login(context.Background(), c.Transport, s.NextUser(), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkRefreshGrant measures refresh-token grants of a public client
// with rotation, each of 2 × GOMAXPROCS clients exchanging its own refresh
// token and keeping the rotated one, per signing algorithm. ns/op is wall
// time per grant over all clients; a grant signs two JWTs, so
// 2 × BenchmarkRawSign ns/op ÷ this is the ratio to the physical limit.
func BenchmarkRefreshGrant(b *testing.B) {
	for _, alg := range bench.Algorithms {
		s := newLoginServer(b, alg, 2*runtime.GOMAXPROCS(0))
		b.Run(alg, func(b *testing.B) {
			ctx := context.Background()
			c := bench.NewClient(2 * runtime.GOMAXPROCS(0))
			defer c.CloseIdleConnections()
			// One refresh token per client, obtained before the timer runs.
			rts := make(chan string, 2*runtime.GOMAXPROCS(0))
			for range cap(rts) {
				ts, err := s.Login(ctx, c.Transport, s.NextUser(), nil)
				if err != nil {
					b.Fatal(err)
				}
				rts <- ts.RefreshToken
			}
			b.SetParallelism(2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rt := <-rts
				var buf bytes.Buffer
				for pb.Next() {
					ts, err := s.Refresh(ctx, c, rt, &buf)
					if err != nil {
						b.Error(err)
						return
					}
					rt = ts.RefreshToken
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		})
	}
}

// BenchmarkPasswordVerify measures the physical limit of a login: one
// argon2id Verify with the default password.Hasher, on GOMAXPROCS
// goroutines. ns/op is wall time per Verify over all goroutines.
func BenchmarkPasswordVerify(b *testing.B) {
	verify, _, err := bench.NewHashVerifier("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := verify(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
}
