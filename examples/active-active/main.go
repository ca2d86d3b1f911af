// Command active-active runs the multi-cloud guide's active-active pattern
// on one machine: two regions, each an authhero instance tagged with its
// provider ("aws" in us-east, "gcp" in europe-west), serve traffic at the
// same time behind authhero's routing proxy, which steers each request by
// the client's country (the CF-IPCountry header a CDN sets): the Americas to
// aws, Europe to gcp, everyone else to aws, and a region that fails its
// /health to the other one.
//
// Both regions write to the one primary database (DATABASE_URL). The
// second region reads its configuration (tenants, clients, connections,
// resource servers, grants, signing keys, custom domains) from a read
// replica near it (DATABASE_REPLICA_URL: a streaming replica, an Aurora
// Global secondary), and falls back to the primary when the replica is
// unreachable; everything that must be current (codes, refresh tokens,
// sessions, login transactions, users, every write) goes to the primary.
//
//	DATABASE_URL='postgres://postgres@127.0.0.1:5432/authhero?sslmode=disable' \
//	DATABASE_REPLICA_URL='postgres://postgres@127.0.0.1:5433/authhero?sslmode=disable' \
//	go run ./examples/active-active
//
// See README.md for the flags, a replica made with pg_basebackup, and a
// drill by hand.
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
	"net/url"
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

// Names of the demo tenant, application and user that run creates, and of
// the two regions' pools.
const (
	tenantID     = "main"
	demoClientID = "demo-spa"
	demoEmail    = "demo@example.com"
	demoPassword = "correct horse battery staple"

	poolUS = "aws-us-east"
	poolEU = "gcp-europe-west"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3000", "address of the routing proxy, the public entry point")
	us := flag.String("us", "127.0.0.1:3001", "address of the us-east instance (provider aws; reads the primary)")
	eu := flag.String("eu", "127.0.0.1:3002", "address of the europe-west instance (provider gcp; reads the replica)")
	callback := flag.String("callback", "http://localhost:8080/callback", "callback URL of the demo application")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		ReplicaURL:  os.Getenv("DATABASE_REPLICA_URL"),
		RedisURL:    os.Getenv("REDIS_URL"),
		Listen:      *listen, USListen: *us, EUListen: *eu,
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
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// config is what run needs; main fills it from flags and the environment.
type config struct {
	// DatabaseURL is the primary database: both regions write to it, and
	// the us-east region reads from it. Required.
	DatabaseURL string
	// ReplicaURL is a read replica of it near europe-west, which that
	// region reads its configuration from. Zero: europe-west reads the
	// primary too.
	ReplicaURL string
	// RedisURL is a Redis both regions keep sessions in, e.g.
	// redis://127.0.0.1:6379/0. Zero: sessions and login transactions live
	// in the primary database.
	RedisURL string
	// RedisPrefix starts every session key. Zero: the store's default.
	RedisPrefix string
	// EncryptionKey is the 32-byte key both regions share. Zero: a random
	// one for this run.
	EncryptionKey []byte
	// Listen, USListen and EUListen are the addresses of the proxy and of
	// the two regions' instances ("127.0.0.1:0" picks a free port).
	Listen, USListen, EUListen string
	// PublicURL is the issuer, the URL users reach the proxy at. Zero:
	// http://{the proxy's address}/.
	PublicURL string
	// Callbacks are the demo application's callback URLs.
	Callbacks []string
	// Health is the proxy's health check of the instances. Zero: /health
	// every second, 1s timeout, two failures down, two successes up.
	Health routing.HealthCheck
	// Replica tunes the europe-west region's use of the replica. Zero:
	// bunadapter's defaults.
	Replica bunadapter.ReplicaOptions
	// CacheTTL is the instances' Options.CacheTTL: how long each serves
	// configuration from memory before reading it again. Zero: 30s;
	// negative: no cache, every configuration read reaches the database.
	CacheTTL time.Duration
	// Logger receives the proxy's health changes and the replica's. Zero:
	// discarded.
	Logger *slog.Logger
	// AppLogger receives the instances' logs, each line tagged with its
	// instance. Zero: Logger.
	AppLogger *slog.Logger

	// ready, when set, is called with the running deployment (tests).
	ready func(*deployment)
}

// deployment is the running proxy and its two regions.
type deployment struct {
	// URL is the proxy's base URL and the issuer.
	URL string
	// Proxy steers between the pools aws-us-east and gcp-europe-west.
	Proxy *routing.Proxy
	// US (aws) reads and writes the primary; EU (gcp) writes to the
	// primary and reads its configuration from the replica.
	US, EU *instance
}

// instance is one authhero App on its own listener and database pool: what
// one region would run.
type instance struct {
	// Provider is the instance's Options.Provider, sent back in the
	// X-Authhero-Provider header.
	Provider string
	// Addr is the instance's host:port; Start listens on it again.
	Addr string

	app *authhero.App
	db  *bunadapter.Adapter
	rdb *redis.Client // nil: sessions in the database

	mu  sync.Mutex
	srv *http.Server
}

// URL is the instance's base URL.
func (i *instance) URL() string { return "http://" + i.Addr }

// App returns the instance's authhero App.
func (i *instance) App() *authhero.App { return i.app }

// DB returns the instance's database adapter (its ReplicaStats show what
// the replica served).
func (i *instance) DB() *bunadapter.Adapter { return i.db }

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
// region going dark; the App and its database pool stay.
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
	if i.rdb != nil {
		i.rdb.Close()
	}
}

// newInstance opens the primary database (with replicaURL as its read
// replica, if set) and the shared Redis (if set) and builds the App.
func newInstance(ctx context.Context, cfg config, provider, replicaURL, issuer string, key []byte) (*instance, error) {
	ro := cfg.Replica
	if ro.Logger == nil {
		ro.Logger = cfg.Logger.With("instance", provider, "component", "replica")
	}
	db, err := bunadapter.Open(ctx, cfg.DatabaseURL, bunadapter.WithReplica(replicaURL), bunadapter.WithReplicaOptions(ro))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil { // on the primary; safe from both regions at once
		db.Close()
		return nil, err
	}
	in := &instance{Provider: provider, db: db}
	opts := authhero.Options{
		DataAdapter:    db.DataAdapters,
		EncryptionKey:  key,
		Issuer:         issuer,
		DefaultTenant:  tenantID,
		Provider:       provider,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Logger:         cfg.AppLogger.With("instance", provider),
		CacheTTL:       cfg.CacheTTL,
	}
	if cfg.RedisURL != "" {
		ropts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		in.rdb = redis.NewClient(ropts)
		opts.SessionStore = session.NewRedis(in.rdb, session.RedisOptions{Prefix: cfg.RedisPrefix})
	}
	if in.app, err = authhero.InitMultiTenant(opts); err != nil {
		db.Close()
		if in.rdb != nil {
			in.rdb.Close()
		}
		return nil, err
	}
	return in, nil
}

// seed creates the demo tenant, application and user once, on the primary.
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

// routingConfig steers by country: the Americas to us-east, Europe to
// europe-west, everyone else (and anyone whose region is down) to the
// other healthy region.
func routingConfig(d *deployment, hc routing.HealthCheck) *routing.Config {
	return &routing.Config{
		Pools: []routing.Pool{
			{ID: poolUS, Origins: []routing.OriginConfig{{Address: d.US.URL(), Name: "aws"}}},
			{ID: poolEU, Origins: []routing.OriginConfig{{Address: d.EU.URL(), Name: "gcp"}}},
		},
		Steering: routing.Steering{
			Policy:     routing.PolicyGeo,
			Countries:  map[string][]string{"US": {poolUS}, "CA": {poolUS}, "DE": {poolEU}, "FR": {poolEU}, "GB": {poolEU}},
			Continents: map[string][]string{"NA": {poolUS}, "SA": {poolUS}, "EU": {poolEU}, "AF": {poolEU}},
			Default:    []string{poolUS, poolEU},
		},
		HealthCheck: hc,
	}
}

// run starts the two regions and the proxy, and serves until ctx ends.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is required: the primary database both regions write to")
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
		provider, addr, replica string
		dst                     **instance
	}{{"aws", cfg.USListen, "", &d.US}, {"gcp", cfg.EUListen, cfg.ReplicaURL, &d.EU}} {
		in, err := newInstance(ctx, cfg, x.provider, x.replica, issuer, key)
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
	if err := seed(ctx, d.US.app, cfg.Callbacks); err != nil {
		return err
	}

	d.Proxy, err = routing.NewProxy(routingConfig(d, cfg.Health), routing.WithLogger(cfg.Logger.With("component", "routing")))
	if err != nil {
		return err
	}
	defer d.Proxy.Close()
	srv := &http.Server{Handler: d.Proxy, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(front) }()

	replica := cfg.ReplicaURL
	if replica == "" {
		replica = "none: reads the primary"
	} else if u, err := url.Parse(replica); err == nil {
		replica = u.Redacted()
	}
	fmt.Fprintf(out, "proxy          %s  (geo: CF-IPCountry US/Americas -> aws, DE/Europe -> gcp, others -> aws)\n", d.URL)
	fmt.Fprintf(out, "us-east aws    %s  (reads and writes the primary)\n", d.US.URL())
	fmt.Fprintf(out, "eu-west gcp    %s  (writes the primary; replica: %s)\n", d.EU.URL(), replica)
	fmt.Fprintf(out, "demo login     %sauthorize?client_id=%s&response_type=code&scope=openid%%20offline_access&redirect_uri=%s\n",
		d.URL, demoClientID, cfg.Callbacks[0])
	fmt.Fprintf(out, "               user %s, password %q\n", demoEmail, demoPassword)
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
