package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestHostApp runs the example and uses the host's routes, its middleware
// and the identity provider on one server.
func TestHostApp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, filepath.Join(t.TempDir(), "b.db"), out) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	creds := regexp.MustCompile(`management client: (\S+) (\S+)`)
	var m []string
	for i := 0; i < 500 && m == nil; i++ {
		m = creds.FindStringSubmatch(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	require.NotNil(t, m, "the example did not start: %s", out.String())
	base := "http://" + ln.Addr().String()

	get := func(path string) (*http.Response, string) {
		res, err := http.Get(base + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/hello")
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "hello from the host app\n", body)
	require.Equal(t, "basic", res.Header.Get("X-Host-App"), "host middleware wraps host routes")

	res, body = get("/internal/status")
	require.Equal(t, "ok\n", body)

	res, body = get("/.well-known/openid-configuration")
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "basic", res.Header.Get("X-Host-App"), "host middleware wraps the provider's routes too")
	var disc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &disc))
	require.Equal(t, base+"/", disc["issuer"])

	res, err = http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {m[1]},
		"client_secret": {m[2]}, "audience": {"urn:authhero:management"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
}
