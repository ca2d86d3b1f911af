package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"github.com/authhero-go/authhero/session"
	"github.com/redis/go-redis/v9"
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

// shutdownTimeout bounds the graceful shutdown after SIGTERM: draining the
// in-flight requests, then stopping the App's jobs.
const shutdownTimeout = 25 * time.Second

// envDuration reads a Go duration ("5s", "1h") from the environment; unset
// means zero (the Options default).
func envDuration(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a duration such as 5s or 1h", name, v)
	}
	return d, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// serve runs the identity provider on --listen, with /health,
// /health/live and /health/ready on the same port and, when METRICS_ADDR is
// set (e.g. 127.0.0.1:9464), Prometheus /metrics on a separate listener so
// that metrics never share the public port. On SIGTERM or an interrupt (ctx
// done) it stops accepting connections, drains the in-flight requests (at
// most shutdownTimeout), stops the App's jobs and closes the database.
//
// Environment: PORT, DATABASE_URL, DATABASE_REPLICA_URL, ENCRYPTION_KEY,
// ISSUER, PROVIDER, METRICS_ADDR, STORAGE_TIMEOUT and CLEANUP_INTERVAL (Go
// durations, see authhero.Options), AUTHHERO_SIGNING_ALG,
// AUTHHERO_ADMIN_CLIENT_ID/_SECRET.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := databaseFlag(fs)
	addr := fs.String("listen", ":"+env("PORT", "3000"), "listen address (env PORT sets the port)")
	metricsAddr := fs.String("metrics-listen", os.Getenv("METRICS_ADDR"), "listen address of /metrics, e.g. 127.0.0.1:9464 (env METRICS_ADDR); empty: no metrics listener")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	storageTimeout, err := envDuration("STORAGE_TIMEOUT")
	if err != nil {
		return err
	}
	cleanupInterval, err := envDuration("CLEANUP_INTERVAL")
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// DATABASE_REPLICA_URL: a read replica for the configuration reads that
	// tolerate lag (see bunadapter.WithReplica); empty means none.
	db, err := bunadapter.Open(ctx, *dsn, bunadapter.WithReplica(os.Getenv("DATABASE_REPLICA_URL")),
		bunadapter.WithReplicaOptions(bunadapter.ReplicaOptions{Logger: logger}))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	// AUTHHERO_ORIGIN names this database for replication: every write then
	// leaves a change event for `authhero sync` to relay.
	if origin := os.Getenv("AUTHHERO_ORIGIN"); origin != "" {
		if err := db.EnableChangeFeed(origin); err != nil {
			return err
		}
	}
	key, err := encryptionKey(*dsn, stdout)
	if err != nil {
		return err
	}
	opts := authhero.Options{
		DataAdapter:     db.DataAdapters,
		EncryptionKey:   key,
		Issuer:          os.Getenv("ISSUER"),
		DefaultTenant:   bootstrapTenant,
		Provider:        os.Getenv("PROVIDER"),
		Logger:          logger,
		StorageTimeout:  storageTimeout,
		CleanupInterval: cleanupInterval,
	}
	// Session store: Redis when REDIS_URL is set, stateless encrypted
	// cookies when JWT_SECRET is set, otherwise the database.
	if u := os.Getenv("REDIS_URL"); u != "" {
		ropts, err := redis.ParseURL(u)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		rc := redis.NewClient(ropts)
		defer rc.Close()
		opts.SessionStore = session.NewRedis(rc, session.RedisOptions{})
	} else if v := os.Getenv("JWT_SECRET"); v != "" {
		for _, s := range strings.Split(v, ",") {
			opts.JWTSecrets = append(opts.JWTSecrets, []byte(strings.TrimSpace(s)))
		}
	}
	app, err := authhero.InitMultiTenant(opts)
	if err != nil {
		return err
	}
	// Runs after the drain below and before the deferred db.Close.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := app.Close(cctx); err != nil {
			logger.Warn("stopping the background jobs", "err", err)
		}
	}()
	if err := bootstrap(ctx, app, stdout); err != nil {
		return err
	}

	errLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", app.Metrics())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics listener stopped", "err", err)
			}
		}()
		defer msrv.Close() // after the drain, so the drain itself can be watched
		fmt.Fprintf(stdout, "authhero metrics on http://%s/metrics\n", mln.Addr())
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: errLog}
	fmt.Fprintf(stdout, "authhero listening on http://%s (database: %s, tenant: %s)\n", displayAddr(ln.Addr()), db.Dialect(), bootstrapTenant)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: Shutdown closes the listener at once (probes then
	// fail, so load balancers stop sending) and waits for the in-flight
	// requests; the deferred calls then stop the jobs and close the database.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("draining in-flight requests: %w", err)
	}
	return nil
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
