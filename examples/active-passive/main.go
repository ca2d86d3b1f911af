// Command active-passive runs the multi-cloud guide's active-passive pattern
// on one machine: two authhero instances tagged as two providers ("aws", the
// primary, and "gcp", the standby) share one PostgreSQL database and one
// Redis session store, and authhero's routing proxy in front of them sends
// every request to the primary while its /health answers, to the standby
// when it stops answering, and back to the primary when it returns
// (failover policy).
//
//	DATABASE_URL='postgres://postgres@127.0.0.1:5432/authhero?sslmode=disable' \
//	REDIS_URL=redis://127.0.0.1:6379/0 go run ./examples/active-passive
//
// See README.md for the flags and a failover drill by hand.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/routing"
	"github.com/authhero-go/authhero/session"
)

// Names of the demo tenant, application and user that run creates.
const (
	tenantID     = "main"
	demoClientID = "demo-spa"
	demoEmail    = "demo@example.com"
	demoPassword = "correct horse battery staple"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3000", "address of the routing proxy, the public entry point")
	primary := flag.String("primary", "127.0.0.1:3001", "address of the primary instance (provider aws)")
	standby := flag.String("standby", "127.0.0.1:3002", "address of the standby instance (provider gcp)")
	callback := flag.String("callback", "http://localhost:8080/callback", "callback URL of the demo application")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		RedisURL:    os.Getenv("REDIS_URL"),
		Listen:      *listen, PrimaryListen: *primary, StandbyListen: *standby,
		PublicURL: os.Getenv("PUBLIC_URL"),
		Callbacks: []string{*callback},
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
		AppLogger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if k := os.Getenv("ENCRYPTION_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			log.Fatalf("ENCRYPTION_KEY: %v", err)
		}
		cfg.EncryptionKey = key
	}
	// SIGUSR1 takes the primary down and, the next time, brings it back:
	// a failover drill by hand.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	cfg.ready = func(d *deployment) {
		fmt.Printf("drill        kill -USR1 %d  stops the primary (aws); again restarts it\n", os.Getpid())
		go func() {
			down := false
			for range usr1 {
				if down {
					if err := d.Primary.Start(); err != nil {
						log.Printf("restarting the primary: %v", err)
						continue
					}
					log.Printf("primary (aws) is listening again on %s", d.Primary.Addr)
				} else {
					d.Primary.Stop()
					log.Printf("primary (aws) stopped")
				}
				down = !down
			}
		}()
	}
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// config is what run needs; main fills it from flags and the environment.
type config struct {
	// DatabaseURL is the PostgreSQL (or MySQL) database both instances share.
	DatabaseURL string
	// RedisURL is the Redis both instances keep sessions in, e.g.
	// redis://127.0.0.1:6379/0.
	RedisURL string
	// RedisPrefix starts every session key. Zero: the store's default.
	RedisPrefix string
	// EncryptionKey is the 32-byte key both instances share. Zero: a random
	// one for this run.
	EncryptionKey []byte
	// Listen, PrimaryListen and StandbyListen are the addresses of the
	// proxy and of the two instances ("127.0.0.1:0" picks a free port).
	Listen, PrimaryListen, StandbyListen string
	// PublicURL is the issuer, the URL users reach the proxy at. Zero:
	// http://{the proxy's address}/.
	PublicURL string
	// Callbacks are the demo application's callback URLs.
	Callbacks []string
	// Health is the proxy's health check of the instances. Zero: /health
	// every second, 1s timeout, two failures down, two successes up.
	Health routing.HealthCheck
	// Logger receives the proxy's health changes. Zero: discarded.
	Logger *slog.Logger
	// AppLogger receives the instances' logs, each line tagged with its
	// instance. Zero: Logger.
	AppLogger *slog.Logger

	// ready, when set, is called with the running deployment (tests).
	ready func(*deployment)
}

// deployment is the running proxy and its two instances.
type deployment struct {
	// URL is the proxy's base URL and the issuer.
	URL string
	// Proxy routes between the pools "aws" (primary) and "gcp" (standby).
	Proxy *routing.Proxy
	// Primary and Standby are the two instances.
	Primary, Standby *instance
}

// instance is one authhero App on its own listener, database pool and Redis
// client: what one cloud would run.
type instance struct {
	// Provider is the instance's Options.Provider, sent back in the
	// X-Authhero-Provider header.
	Provider string
	// Addr is the instance's host:port; Start listens on it again.
	Addr string

	app *authhero.App
	db  *bunadapter.Adapter
	rdb *redis.Client

	mu  sync.Mutex
	srv *http.Server
}

// URL is the instance's base URL.
func (i *instance) URL() string { return "http://" + i.Addr }

// App returns the instance's authhero App.
func (i *instance) App() *authhero.App { return i.app }

// Start serves the instance on its address (again, after Stop).
func (i *instance) Start() error {
	ln, err := net.Listen("tcp", i.Addr)
	if err != nil {
		return err
	}
	i.serve(ln)
	return nil
}

func (i *instance) serve(ln net.Listener) {
	i.Addr = ln.Addr().String()
	srv := &http.Server{Handler: i.app, ReadHeaderTimeout: 10 * time.Second}
	i.mu.Lock()
	i.srv = srv
	i.mu.Unlock()
	go srv.Serve(ln)
}

// Stop closes the instance's listener and connections at once, like a
// region going dark; the App, its database pool and Redis client stay.
func (i *instance) Stop() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.srv == nil {
		return nil
	}
	err := i.srv.Close()
	i.srv = nil
	return err
}

// shutdown drains the server and releases everything.
func (i *instance) shutdown(ctx context.Context) {
	i.mu.Lock()
	if i.srv != nil {
		i.srv.Shutdown(ctx)
		i.srv = nil
	}
	i.mu.Unlock()
	i.app.Close(ctx)
	i.db.Close()
	i.rdb.Close()
}

// newInstance opens the shared database and Redis and builds the App.
func newInstance(ctx context.Context, cfg config, provider, issuer string, key []byte) (*instance, error) {
	db, err := bunadapter.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil { // safe from both instances at once
		db.Close()
		return nil, err
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropts)
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter:    db.DataAdapters,
		SessionStore:   session.NewRedis(rdb, session.RedisOptions{Prefix: cfg.RedisPrefix}),
		EncryptionKey:  key,
		Issuer:         issuer,
		DefaultTenant:  tenantID,
		Provider:       provider,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Logger:         cfg.AppLogger.With("instance", provider),
	})
	if err != nil {
		db.Close()
		rdb.Close()
		return nil, err
	}
	return &instance{Provider: provider, app: app, db: db, rdb: rdb}, nil
}

// seed creates the demo tenant, application and user once; instances that
// start later find them.
func seed(ctx context.Context, app *authhero.App, callbacks []string) error {
	if _, err := app.CreateTenant(ctx, adapters.Tenant{ID: tenantID, FriendlyName: "Main"}); err != nil && !errors.Is(err, adapters.ErrConflict) {
		return fmt.Errorf("seed tenant: %w", err)
	}
	_, err := app.DataAdapter().Clients.Create(ctx, tenantID, adapters.Client{ClientID: demoClientID, Name: "Demo SPA",
		AppType: "spa", TokenEndpointAuthMethod: "none", Callbacks: callbacks, AllowedLogoutURLs: callbacks})
	if err != nil && !errors.Is(err, adapters.ErrConflict) {
		return fmt.Errorf("seed client: %w", err)
	}
	_, err = app.CreateUser(ctx, tenantID, "Username-Password-Authentication", demoEmail, demoPassword)
	if err != nil && !errors.Is(err, adapters.ErrConflict) {
		return fmt.Errorf("seed user: %w", err)
	}
	return nil
}

// run starts the two instances and the proxy, and serves until ctx ends.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is required: the database both instances share")
	}
	if cfg.RedisURL == "" {
		return errors.New("REDIS_URL is required: the session store both instances share")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AppLogger == nil {
		cfg.AppLogger = cfg.Logger
	}
	if cfg.Health == (routing.HealthCheck{}) {
		cfg.Health = routing.HealthCheck{Interval: routing.Duration(time.Second), Timeout: routing.Duration(time.Second)}
	}
	key := cfg.EncryptionKey
	if key == nil {
		key = make([]byte, 32)
		rand.Read(key)
	}

	front, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	defer front.Close()
	issuer := cfg.PublicURL
	if issuer == "" {
		issuer = "http://" + front.Addr().String() + "/"
	}

	d := &deployment{URL: issuer}
	for _, x := range []struct {
		provider, addr string
		dst            **instance
	}{{"aws", cfg.PrimaryListen, &d.Primary}, {"gcp", cfg.StandbyListen, &d.Standby}} {
		in, err := newInstance(ctx, cfg, x.provider, issuer, key)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			in.shutdown(sctx)
		}()
		ln, err := net.Listen("tcp", x.addr)
		if err != nil {
			return err
		}
		in.serve(ln)
		*x.dst = in
	}
	if err := seed(ctx, d.Primary.app, cfg.Callbacks); err != nil {
		return err
	}

	d.Proxy, err = routing.NewProxy(&routing.Config{
		Pools: []routing.Pool{
			{ID: "aws", Origins: []routing.OriginConfig{{Address: d.Primary.URL(), Name: "aws"}}},
			{ID: "gcp", Origins: []routing.OriginConfig{{Address: d.Standby.URL(), Name: "gcp"}}},
		},
		Steering:    routing.Steering{Policy: routing.PolicyFailover, Order: []string{"aws", "gcp"}},
		HealthCheck: cfg.Health,
	}, routing.WithLogger(cfg.Logger.With("component", "routing")))
	if err != nil {
		return err
	}
	defer d.Proxy.Close()
	srv := &http.Server{Handler: d.Proxy, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(front) }()

	probe := cfg.Health.Path
	if probe == "" {
		probe = routing.DefaultHealthPath
	}
	fmt.Fprintf(out, "proxy        %s  (failover: aws, then gcp; probes %s every %s)\n", d.URL, probe, time.Duration(cfg.Health.Interval))
	fmt.Fprintf(out, "primary aws  %s\nstandby gcp  %s\n", d.Primary.URL(), d.Standby.URL())
	fmt.Fprintf(out, "demo login   %sauthorize?client_id=%s&response_type=code&scope=openid%%20offline_access&redirect_uri=%s\n",
		d.URL, demoClientID, cfg.Callbacks[0])
	fmt.Fprintf(out, "             user %s, password %q\n", demoEmail, demoPassword)
	if cfg.ready != nil {
		cfg.ready(d)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
