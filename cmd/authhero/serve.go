package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/secrets"
)

// bootstrapTenant is the id of the tenant `serve` creates on first start and
// serves at the issuer's own host.
const bootstrapTenant = "default"

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := databaseFlag(fs)
	addr := fs.String("listen", ":"+env("PORT", "3000"), "listen address (env PORT sets the port)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	db, err := bunadapter.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	key, err := encryptionKey(*dsn, stdout)
	if err != nil {
		return err
	}
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter:   db.DataAdapters,
		EncryptionKey: key,
		Issuer:        os.Getenv("ISSUER"),
		DefaultTenant: bootstrapTenant,
		Provider:      os.Getenv("PROVIDER"),
		Logger:        logger,
	})
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, app, stdout); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "authhero listening on http://%s (database: %s, tenant: %s)\n", displayAddr(ln.Addr()), db.Dialect(), bootstrapTenant)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		_, port, _ := net.SplitHostPort(s)
		return "localhost:" + port
	}
	return s
}

// encryptionKey reads ENCRYPTION_KEY, or for an SQLite database keeps a
// generated key in a file beside it. A shared database needs the variable:
// every instance must use the same key.
func encryptionKey(dsn string, stdout io.Writer) ([]byte, error) {
	if v := os.Getenv("ENCRYPTION_KEY"); v != "" {
		return secrets.ParseKey(v)
	}
	path, ok := strings.CutPrefix(dsn, "sqlite://")
	if !ok || strings.HasPrefix(path, ":memory:") {
		if ok {
			k := make([]byte, 32)
			rand.Read(k)
			return k, nil
		}
		return nil, errors.New("ENCRYPTION_KEY is required with a shared database: base64 of 32 bytes, the same on every instance (e.g. openssl rand -base64 32)")
	}
	path, _, _ = strings.Cut(path, "?")
	file := filepath.Join(filepath.Dir(path), "authhero.key")
	if b, err := os.ReadFile(file); err == nil {
		return secrets.ParseKey(strings.TrimSpace(string(b)))
	}
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing a new encryption key to %s: %w", file, err)
	}
	fmt.Fprintf(stdout, "generated an encryption key in %s (keep it with the database)\n", file)
	return k, nil
}

// bootstrap creates the default tenant and its management client on first
// start. Two instances starting at once on one database are fine: the loser
// of the race finds the tenant made.
func bootstrap(ctx context.Context, app *authhero.App, stdout io.Writer) error {
	alg := env("AUTHHERO_SIGNING_ALG", "RS256")
	_, err := app.CreateTenant(ctx, adapters.Tenant{ID: bootstrapTenant, FriendlyName: "Default", SigningAlg: alg})
	created := err == nil
	if err != nil && !errors.Is(err, adapters.ErrConflict) {
		return fmt.Errorf("bootstrap tenant: %w", err)
	}
	id, secret := os.Getenv("AUTHHERO_ADMIN_CLIENT_ID"), os.Getenv("AUTHHERO_ADMIN_CLIENT_SECRET")
	if id != "" {
		if _, err := app.DataAdapter().Clients.Get(ctx, bootstrapTenant, id); err == nil {
			return nil
		}
	} else if !created {
		return nil
	}
	c, secret, err := app.CreateManagementClient(ctx, bootstrapTenant, "Default Management Client", id, secret)
	if errors.Is(err, adapters.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap management client: %w", err)
	}
	fmt.Fprintf(stdout, "management client (every Management API scope):\n  client_id:     %s\n", c.ClientID)
	if os.Getenv("AUTHHERO_ADMIN_CLIENT_SECRET") == "" {
		fmt.Fprintf(stdout, "  client_secret: %s\n  (shown once; set AUTHHERO_ADMIN_CLIENT_ID/_SECRET to choose them)\n", secret)
	}
	return nil
}
