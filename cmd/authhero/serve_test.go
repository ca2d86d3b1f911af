package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://[^ ]+)`)

// startServe runs `authhero serve` on a free port in dir and returns its
// base URL; the server stops with the test.
func startServe(t *testing.T, dir string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--database", "sqlite://" + filepath.Join(dir, "authhero.db"), "--listen", "127.0.0.1:0"}, out, errb)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			require.Equal(t, 0, code, errb.String())
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s %s", code, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
	return "", nil
}

// TestServeFreshCheckout starts `authhero serve` with no configuration but
// the admin client variables and checks discovery, JWKS and a
// client_credentials token for the Management API; a restart keeps the key
// and prints no new secret.
func TestServeFreshCheckout(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AUTHHERO_ADMIN_CLIENT_ID", "")
	t.Setenv("AUTHHERO_ADMIN_CLIENT_SECRET", "")
	t.Setenv("ENCRYPTION_KEY", "")
	t.Setenv("DATABASE_URL", "")
	base, out := startServe(t, dir)

	m := regexp.MustCompile(`client_id:\s+(\S+)\s+client_secret:\s+(\S+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	id, secret := m[1], m[2]
	_, err := os.Stat(filepath.Join(dir, "authhero.key"))
	require.NoError(t, err, "the generated encryption key is kept beside the database")

	var disc map[string]any
	res, err := http.Get(base + "/.well-known/openid-configuration")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&disc))
	res.Body.Close()
	require.Equal(t, base+"/", disc["issuer"])

	var jwks struct{ Keys []map[string]any }
	res, err = http.Get(disc["jwks_uri"].(string))
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&jwks))
	res.Body.Close()
	require.Len(t, jwks.Keys, 2)
	require.Equal(t, "RS256", jwks.Keys[0]["alg"])

	res, err = http.PostForm(disc["token_endpoint"].(string), url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "audience": {base + "/api/v2/"}})
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode, tok)
	require.True(t, strings.Contains(tok["scope"].(string), "read:users"))
}

// TestServeBootstrapFromEnv uses the configured admin client and algorithm.
func TestServeBootstrapFromEnv(t *testing.T) {
	t.Setenv("AUTHHERO_ADMIN_CLIENT_ID", "admin-client")
	t.Setenv("AUTHHERO_ADMIN_CLIENT_SECRET", "a-long-admin-secret-chosen-by-the-operator")
	t.Setenv("AUTHHERO_SIGNING_ALG", "ES256")
	t.Setenv("ENCRYPTION_KEY", "")
	t.Setenv("DATABASE_URL", "")
	base, out := startServe(t, t.TempDir())
	require.NotContains(t, out.String(), "client_secret:", "a secret the operator chose is never printed")

	res, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"admin-client"}, "client_secret": {"a-long-admin-secret-chosen-by-the-operator"}, "audience": {"urn:authhero:management"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)

	var jwks struct{ Keys []map[string]any }
	res, err = http.Get(base + "/.well-known/jwks.json")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&jwks))
	res.Body.Close()
	require.Equal(t, "ES256", jwks.Keys[0]["alg"])
}

// TestServeNeedsKeyForSharedDatabase refuses a Postgres/MySQL database
// without ENCRYPTION_KEY.
func TestServeNeedsKeyForSharedDatabase(t *testing.T) {
	t.Setenv("ENCRYPTION_KEY", "")
	_, err := encryptionKey("postgres://x@127.0.0.1/db", &bytes.Buffer{})
	require.ErrorContains(t, err, "ENCRYPTION_KEY is required")
	t.Setenv("ENCRYPTION_KEY", "not-base64!")
	_, err = encryptionKey("postgres://x@127.0.0.1/db", &bytes.Buffer{})
	require.ErrorContains(t, err, "ENCRYPTION_KEY must be base64 of 32 bytes")
}
