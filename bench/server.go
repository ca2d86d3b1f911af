package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// Algorithms are the signing algorithms a tenant can use, in the order the
// benchmarks run them.
var Algorithms = []string{"RS256", "ES256", "EdDSA"}

// ManagementAudience is the audience the load driver asks tokens for: the
// tenant's Management API.
const ManagementAudience = "urn:authhero:management"

// ServerOptions configures StartServer.
type ServerOptions struct {
	// Alg is the tenant's signing algorithm: RS256, ES256 or EdDSA.
	// Zero: RS256.
	Alg string
	// Database is a bunadapter DSN (sqlite:///path, postgres://...,
	// mysql://...). Zero: a fresh SQLite database in a new temporary
	// directory, removed by Close. With a DSN, the tenant the server creates
	// is deleted again by Close.
	Database string
	// Logger receives the App's logs. Zero: warnings and errors to stderr
	// (the per-request access log is at Info level and so not written).
	Logger *slog.Logger
}

// Server is an App serving one freshly provisioned tenant on a loopback
// listener, with a management client to ask tokens for.
type Server struct {
	// App is the running App.
	App *authhero.App
	// URL is the issuer and base URL, http://127.0.0.1:{port}/.
	URL string
	// TokenURL is URL + "oauth/token".
	TokenURL string
	// EchoURL is URL + "bench/echo", the HTTP floor: it parses the form as
	// the token endpoint does and answers with the bytes of the last token
	// response FetchToken got, and nothing else.
	EchoURL string
	// Alg is the tenant's signing algorithm.
	Alg string
	// Dialect is the database dialect: sqlite, postgres or mysql.
	Dialect string
	// TenantID is the provisioned tenant, served at URL as the default tenant.
	TenantID string
	// ClientID and ClientSecret are the tenant's management client.
	ClientID, ClientSecret string

	db   *bunadapter.Adapter
	srv  *http.Server
	tmp  string
	form []byte
	echo atomic.Pointer[[]byte]
}

// validAlg reports whether alg is one of Algorithms.
func validAlg(alg string) bool {
	for _, a := range Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// StartServer opens the database, migrates it, starts an App on
// 127.0.0.1:0 and provisions a tenant for opts.Alg with a management client.
// Close stops it and removes what it made.
func StartServer(ctx context.Context, opts ServerOptions) (s *Server, err error) {
	if opts.Alg == "" {
		opts.Alg = "RS256"
	}
	if !validAlg(opts.Alg) {
		return nil, fmt.Errorf("bench: unknown algorithm %q (use RS256, ES256 or EdDSA)", opts.Alg)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s = &Server{Alg: opts.Alg}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	dsn := opts.Database
	if dsn == "" {
		if s.tmp, err = os.MkdirTemp("", "authhero-bench-"); err != nil {
			return s, fmt.Errorf("bench: temp dir: %w", err)
		}
		dsn = "sqlite://" + filepath.Join(s.tmp, "authhero.db")
	}
	if s.db, err = bunadapter.Open(ctx, dsn); err != nil {
		return s, err
	}
	if err = s.db.Migrate(ctx); err != nil {
		return s, err
	}
	s.Dialect = s.db.Dialect()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, fmt.Errorf("bench: listen on loopback: %w", err)
	}
	s.URL = "http://" + ln.Addr().String() + "/"
	s.TokenURL = s.URL + "oauth/token"
	s.EchoURL = s.URL + "bench/echo"
	var suffix [4]byte
	rand.Read(suffix[:])
	s.TenantID = "bench-" + strings.ToLower(opts.Alg) + "-" + hex.EncodeToString(suffix[:])

	key := make([]byte, 32)
	rand.Read(key)
	if s.App, err = authhero.InitMultiTenant(authhero.Options{
		DataAdapter:   s.db.DataAdapters,
		EncryptionKey: key,
		Issuer:        s.URL,
		DefaultTenant: s.TenantID,
		Logger:        opts.Logger,
	}); err != nil {
		ln.Close()
		return s, err
	}
	s.App.HandleFunc("POST /bench/echo", s.serveEcho)
	// Timeouts as cmd/authhero serve has them.
	s.srv = &http.Server{Handler: s.App, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)}
	go s.srv.Serve(ln)

	if _, err = s.App.CreateTenant(ctx, adapters.Tenant{ID: s.TenantID, FriendlyName: "Bench " + opts.Alg, SigningAlg: opts.Alg}); err != nil {
		s.TenantID = "" // nothing to delete
		return s, fmt.Errorf("bench: create tenant: %w", err)
	}
	c, secret, err := s.App.CreateManagementClient(ctx, s.TenantID, "bench load driver", "", "")
	if err != nil {
		return s, fmt.Errorf("bench: create management client: %w", err)
	}
	s.ClientID, s.ClientSecret = c.ClientID, secret
	s.form = []byte(url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.ClientID},
		"client_secret": {s.ClientSecret},
		"audience":      {ManagementAudience},
	}.Encode())
	return s, nil
}

// serveEcho answers a token request with the last real token response, with
// the headers the token endpoint sets: the cost of HTTP and the driver alone.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	body := s.echo.Load()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" || body == nil {
		http.Error(w, "bad echo request", http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(*body)
}

// Close stops the HTTP server, deletes the tenant from a database given by
// DSN, closes the database and removes the temporary directory.
func (s *Server) Close() error {
	var errs []error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.srv.Shutdown(ctx))
		cancel()
	}
	if s.db != nil {
		if s.tmp == "" && s.TenantID != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.db.DataAdapters.Tenants.Delete(ctx, s.TenantID); err != nil && !errors.Is(err, adapters.ErrNotFound) {
				errs = append(errs, fmt.Errorf("bench: delete tenant %s: %w", s.TenantID, err))
			}
			cancel()
		}
		errs = append(errs, s.db.Close())
	}
	if s.tmp != "" {
		errs = append(errs, os.RemoveAll(s.tmp))
	}
	return errors.Join(errs...)
}

// QuietLogger discards everything; the App's per-request log is then never
// formatted.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
}
