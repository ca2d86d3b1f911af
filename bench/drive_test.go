package bench

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDriveCountsRefusalsAsErrors checks that a 401 (wrong secret) and a
// 404 are counted as errors, not tokens, and that the token endpoint and the
// echo answer without errors.
func TestDriveCountsRefusalsAsErrors(t *testing.T) {
	ctx := context.Background()
	s, err := StartServer(ctx, ServerOptions{Alg: "EdDSA", Logger: QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := NewClient(1)
	defer c.CloseIdleConnections()
	if _, err := s.FetchToken(ctx, c); err != nil {
		t.Fatal(err)
	}

	wrong := Target{URL: s.TokenURL, Form: []byte(url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID},
		"client_secret": {"wrong"}, "audience": {ManagementAudience}}.Encode())}
	missing := Target{URL: s.URL + "oauth/no-such-endpoint", Form: s.form}
	for name, bad := range map[string]Target{"401": wrong, "404": missing} {
		l := Drive(ctx, c, bad, 1, 50*time.Millisecond)
		if l.Requests == 0 || l.Errors != l.Requests || l.PerSecond != 0 {
			t.Errorf("%s: requests %d, errors %d, tokens/s %v: want every request an error", name, l.Requests, l.Errors, l.PerSecond)
		}
		if !strings.Contains(l.FirstError, "HTTP "+name) {
			t.Errorf("%s: first error %q", name, l.FirstError)
		}
	}
	for name, good := range map[string]Target{"token": s.TokenTarget(), "echo": s.EchoTarget()} {
		if l := Drive(ctx, c, good, 2, 50*time.Millisecond); l.Errors != 0 || l.Requests == 0 {
			t.Errorf("%s: requests %d, errors %d (%s)", name, l.Requests, l.Errors, l.FirstError)
		}
	}
}

// TestPercentile checks the nearest-rank percentiles.
func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100} {
		if got := percentile(d, q); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 || percentile(d[:1], 0.99) != 1 {
		t.Error("percentile of empty or one sample")
	}
}
