// Package auth0sdk drives the Management API with the official auth0 npm
// SDK: mgmt.mjs, run by TestAuth0NodeSDK against an in-process server.
//
//	cd e2e/auth0sdk && npm ci && cd ../.. && go test ./e2e/auth0sdk/
package auth0sdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

const (
	tenantID     = "default"
	adminID      = "auth0-sdk-e2e-admin"
	adminSecret  = "auth0-sdk-e2e-admin-secret-0123456789abcdef"
	scriptLimit  = 120 * time.Second
	installHint  = "cd e2e/auth0sdk && npm ci"
	nodeModules  = "node_modules"
	packageJSON  = "package.json"
	sdkPackage   = "auth0"
	serverLogCap = 64 << 10
)

// lockedBuffer collects the server's log for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < serverLogCap {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requireNodeAndSDK checks that node is on PATH and that node_modules holds
// the auth0 version package.json pins; it returns the node binary.
func requireNodeAndSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testdb.Unavailable(t, "node is not on PATH; install Node.js >= 20.19, then run: %s", installHint)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(packageJSON)
	if err != nil {
		t.Fatalf("reading %s: %v", packageJSON, err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("parsing %s: %v", packageJSON, err)
	}
	want := pkg.Dependencies[sdkPackage]
	var installed struct {
		Version string `json:"version"`
	}
	b, err = os.ReadFile(filepath.Join(nodeModules, sdkPackage, packageJSON))
	if err != nil {
		testdb.Unavailable(t, "the auth0 SDK is not installed in e2e/auth0sdk/node_modules; run: %s", installHint)
	}
	if err := json.Unmarshal(b, &installed); err != nil || installed.Version != want {
		testdb.Unavailable(t, "e2e/auth0sdk/node_modules has auth0 %q, package.json pins %q; run: %s", installed.Version, want, installHint)
	}
	return node
}

// startServer serves a fresh SQLite-backed App on 127.0.0.1 with tenant
// "default" at the issuer's host and a management client granted every
// Management API scope. It returns the base URL (no trailing slash).
func startServer(t *testing.T, logs *lockedBuffer) string {
	t.Helper()
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "authhero.db"))
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + port
	key := make([]byte, 32)
	rand.Read(key)
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter:   db.DataAdapters,
		EncryptionKey: key,
		Issuer:        base + "/",
		DefaultTenant: tenantID,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("InitMultiTenant: %v", err)
	}
	if _, err := app.CreateTenant(ctx, adapters.Tenant{ID: tenantID, FriendlyName: "Default"}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if _, _, err := app.CreateManagementClient(ctx, tenantID, "auth0 SDK e2e", adminID, adminSecret); err != nil {
		t.Fatalf("CreateManagementClient: %v", err)
	}
	srv.Config.Handler = app
	srv.Start()
	return base
}

// TestAuth0NodeSDK runs mgmt.mjs, which drives the Management API with the
// auth0 SDK's ManagementClient and asserts every response.
func TestAuth0NodeSDK(t *testing.T) {
	node := requireNodeAndSDK(t)
	logs := &lockedBuffer{}
	base := startServer(t, logs)

	ctx, cancel := context.WithTimeout(context.Background(), scriptLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "mgmt.mjs")
	cmd.Env = append(os.Environ(),
		"AUTHHERO_BASE_URL="+base,
		"AUTHHERO_CLIENT_ID="+adminID,
		"AUTHHERO_CLIENT_SECRET="+adminSecret,
	)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mgmt.mjs did not finish within %s:\n%s\nserver log:\n%s", scriptLimit, out, logs.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("mgmt.mjs failed (%v):\n%s\nserver log:\n%s", err, out, logs.String())
	}
	if err != nil {
		t.Fatalf("running node mgmt.mjs: %v\n%s", err, out)
	}
	text := strings.TrimSpace(string(out))
	if !strings.Contains(text, "auth0 SDK e2e:") || !strings.Contains(text, "checks passed") {
		t.Fatalf("mgmt.mjs exited 0 without its summary line:\n%s", text)
	}
	t.Log(text)
}
