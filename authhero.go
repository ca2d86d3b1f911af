// Package authhero is an embeddable, multi-tenant, Auth0-compatible identity
// provider. InitMultiTenant returns an *App, an http.Handler serving the
// Authentication API and OpenID Connect endpoints of every tenant in the data
// adapter; host applications add their own routes and middleware to it.
//
//	db, _ := bunadapter.Open(ctx, "sqlite://./authhero.db")
//	db.Migrate(ctx)
//	app, err := authhero.InitMultiTenant(authhero.Options{
//		DataAdapter:   db.DataAdapters,
//		EncryptionKey: key, // 32 bytes
//		Issuer:        "https://auth.example.com/",
//	})
//	http.ListenAndServe(":3000", app)
//
// It mirrors AuthHero's TypeScript initMultiTenant
// (https://github.com/markusahlstrand/authhero).
//
// For running on several providers at once (AuthHero's multi-cloud guide,
// https://github.com/markusahlstrand/authhero/blob/main/apps/docs/deployment/multi-cloud.md)
// the App serves /health, /health/live and /health/ready (package health),
// tags logs and metrics with Options.Provider and exposes Prometheus metrics
// through App.Metrics (package monitoring), answers 503 within
// Options.StorageTimeout when its database or session store is down, and
// deletes expired rows in the background until App.Close.
package authhero

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/cache"
	"github.com/authhero-go/authhero/health"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/internal/keys"
	"github.com/authhero-go/authhero/internal/login"
	"github.com/authhero-go/authhero/internal/management"
	"github.com/authhero-go/authhero/internal/oauth"
	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/internal/secrets"
	"github.com/authhero-go/authhero/monitoring"
	"github.com/authhero-go/authhero/session"
	"github.com/authhero-go/authhero/tenant"
)

// App is the identity provider: an http.Handler with the tenants' endpoints,
// to which host applications add routes (Handle, HandleFunc) and middleware
// (Use), like AuthHero's app.get and app.use.
type App struct {
	opts     Options
	data     *adapters.DataAdapters
	keys     *keys.Manager
	resolver *tenant.Resolver
	prov     *provision.Provisioner
	accounts *accounts.Service
	ul       *login.Server
	audit    *oauth.AuditQueue
	limiter  bruteforce.Limiter
	sessions session.Store
	log      *slog.Logger
	mon      *monitoring.Monitor
	health   *health.Checker
	// keysTenant is the tenant whose keys the signing_keys check uses when
	// there is no DefaultTenant.
	keysTenant atomic.Pointer[string]

	mux     *http.ServeMux
	mu      sync.Mutex
	mws     []func(http.Handler) http.Handler
	handler atomic.Pointer[http.Handler]

	stopJobs  context.CancelFunc
	jobs      sync.WaitGroup
	closeOnce sync.Once
}

// InitMultiTenant validates opts and builds the App. Bad options fail here
// with an error that says what to fix, never later at request time.
func InitMultiTenant(opts Options) (*App, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(opts.EncryptionKey, opts.PreviousEncryptionKeys...)
	if err != nil {
		return nil, fmt.Errorf("authhero: Options.EncryptionKey: %w", err)
	}
	mon := monitoring.New(monitoring.Config{Provider: opts.Provider, Analytics: opts.Analytics,
		TracerProvider: opts.TracerProvider, StorageTimeout: opts.StorageTimeout, Logger: opts.Logger})
	opts.Logger = mon.Logger(opts.Logger)
	// Storage is decorated below the cache, so that only real storage calls
	// are timed and bounded.
	data := mon.Data(opts.DataAdapter)
	if opts.CacheTTL > 0 {
		data = cache.New(data, cache.Options{TTL: opts.CacheTTL})
	}
	sessions := mon.Sessions(opts.SessionStore)
	km := keys.NewManager(data, box, keys.Options{Overlap: opts.KeyOverlap, Logger: opts.Logger})
	res, err := tenant.New(tenant.Config{
		Data: data, Issuer: opts.Issuer, DefaultTenant: opts.DefaultTenant,
		TrustTenantHeader: opts.TrustTenantHeader, TrustedProxies: opts.TrustedProxies,
	})
	if err != nil {
		return nil, fmt.Errorf("authhero: %w", err)
	}
	a := &App{
		opts: opts, data: data, keys: km, resolver: res,
		prov:     &provision.Provisioner{Data: data, Keys: km, Box: box},
		mux:      http.NewServeMux(),
		sessions: sessions, log: opts.Logger, mon: mon,
	}
	a.accounts = &accounts.Service{Data: data}
	a.limiter = &bruteforce.Memory{}
	kv := keyVerifier{km, mon}
	a.audit = oauth.NewAuditQueue(data, opts.Logger, 4096)
	srv := &oauth.Server{Data: data, Keys: kv, Box: box, Logger: opts.Logger, Audit: a.audit,
		Sessions: sessions, Accounts: a.accounts, Limiter: a.limiter}
	authRoutes := a.builtin(func(h http.Handler) http.Handler { return res.Middleware(false, h) })
	srv.Routes(a.mux, authRoutes)
	a.ul = &login.Server{Data: data, Sessions: sessions, Accounts: a.accounts, Limiter: a.limiter,
		Email: opts.EmailSender, Logger: opts.Logger}
	a.ul.Routes(a.mux, authRoutes)
	srv.Reset = a.ul
	controlPlane := opts.ControlPlaneTenant
	if controlPlane == "" {
		controlPlane = opts.DefaultTenant
	}
	mgmt := &management.Server{Data: data, Keys: kv, Provisioner: a.prov, Box: box,
		ControlPlane: controlPlane, Logger: opts.Logger, Sessions: sessions}
	mgmt.Routes(a.mux, a.builtin(func(h http.Handler) http.Handler { return res.Middleware(true, h) }))
	a.health = health.New(a.healthChecks()...)
	if !opts.DisableHealth {
		for _, p := range []string{"GET /health", "GET /health/live", "GET /health/ready"} {
			a.mux.Handle(p, a.health)
		}
	}
	a.rebuild()
	a.startJobs()
	return a, nil
}

// builtin wraps the tenant resolution of the built-in routes: the request
// learns its route pattern, its storage deadline becomes a deadline of its
// context (so that waits on shared loads, such as a tenant's signing keys,
// end with it too), and after resolution it learns its tenant.
func (a *App) builtin(resolve func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		inner := resolve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rq, ti := monitoring.FromContext(r.Context()), tenant.FromContext(r.Context()); rq != nil && ti != nil {
				rq.Tenant = ti.ID()
			}
			h.ServeHTTP(w, r)
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rq := monitoring.FromContext(r.Context()); rq != nil {
				rq.Route = r.Pattern
				if !rq.Deadline.IsZero() {
					ctx, cancel := context.WithDeadline(r.Context(), rq.Deadline)
					defer cancel()
					r = r.WithContext(ctx)
				}
			}
			inner.ServeHTTP(w, r)
		})
	}
}

// ServeHTTP serves a request through the middleware and the routes.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*a.handler.Load()).ServeHTTP(w, r)
}

// Handle registers a host route, with net/http's pattern syntax
// ("GET /health", "/static/"). It panics on a pattern that conflicts with a
// built-in route, as http.ServeMux does.
func (a *App) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// HandleFunc registers a host route handled by f.
func (a *App) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	a.mux.HandleFunc(pattern, f)
}

// Use adds middleware around every route, built-in and host. The first Use
// is the outermost.
func (a *App) Use(mw ...func(http.Handler) http.Handler) {
	a.mu.Lock()
	a.mws = append(a.mws, mw...)
	a.mu.Unlock()
	a.rebuild()
}

func (a *App) rebuild() {
	a.mu.Lock()
	defer a.mu.Unlock()
	var h http.Handler = http.HandlerFunc(a.serveMux)
	for i := len(a.mws) - 1; i >= 0; i-- {
		h = a.mws[i](h)
	}
	h = a.base(h)
	a.handler.Store(&h)
}

// serveMux routes the request and records its route pattern (which
// ServeMux sets on the request it is given) for metrics and analytics.
func (a *App) serveMux(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
	if rq := monitoring.FromContext(r.Context()); rq != nil && rq.Route == "" {
		rq.Route = r.Pattern
	}
}

// DataAdapter returns the (cached) storage the App uses; writes through it
// are seen by the App at once. Its calls are timed and bounded as the App's
// own are: a call on a context without a deadline gets
// Options.StorageTimeout, so give longer work a deadline of its own.
func (a *App) DataAdapter() *adapters.DataAdapters { return a.data }

// Metrics serves the App's Prometheus metrics (package monitoring) from a
// registry of its own, never the global default one. Mount it where only
// the monitoring system can reach it (authhero serve uses METRICS_ADDR, a
// separate listener), not on the public port.
func (a *App) Metrics() http.Handler { return a.mon.Handler() }

// Monitor returns the App's monitoring: its Prometheus registry (for a
// host's own collectors) and provider tag.
func (a *App) Monitor() *monitoring.Monitor { return a.mon }

// Health returns the App's health checker, which serves /health,
// /health/live and /health/ready (mounted on the App unless
// Options.DisableHealth). Its checks are:
//
//   - database: the data adapter's Ping;
//   - session_store: the session store's Ping;
//   - signing_keys: the App can sign a token with the current key of
//     Options.DefaultTenant (else of one tenant), from its cached view of the
//     keys; this also catches an ENCRYPTION_KEY that cannot open the keys.
//     With no tenant at all it passes.
//
// Each has health.DefaultTimeout (1s); results are shared for 1s.
func (a *App) Health() *health.Checker { return a.health }

func (a *App) healthChecks() []health.Check {
	return []health.Check{
		{Name: "database", Run: a.probe("database", func(ctx context.Context) error {
			if a.data.Ping == nil {
				return nil
			}
			return a.data.Ping(ctx)
		})},
		{Name: "session_store", Run: a.probe("session_store", a.sessions.Ping)},
		{Name: "signing_keys", Run: a.probe("signing_keys", a.checkKeys)},
	}
}

// probe keeps a failing check's error text (which may name hosts, users or
// databases) in the server log; the public body says only that it failed or
// timed out.
func (a *App) probe(name string, run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := run(ctx)
		if err == nil {
			return nil
		}
		a.log.WarnContext(ctx, "health: check failed", "check", name, "err", err)
		if ctx.Err() != nil {
			return ctx.Err() // shown as "timed out after ..."
		}
		return errors.New("unavailable (details in the server log)")
	}
}

// checkKeys signs a throwaway token with the current key of the default
// tenant, or of the first tenant listed.
func (a *App) checkKeys(ctx context.Context) error {
	id := a.opts.DefaultTenant
	if id == "" {
		if p := a.keysTenant.Load(); p != nil {
			id = *p
		} else {
			l, err := a.data.Tenants.List(ctx, adapters.ListParams{PerPage: 1})
			if err != nil {
				return err
			}
			if len(l.Items) == 0 {
				return nil
			}
			id = l.Items[0].ID
			a.keysTenant.Store(&id)
		}
	}
	now := time.Now().Unix()
	if _, err := a.keys.Sign(ctx, id, map[string]any{"sub": "health", "iat": now, "exp": now + 1}, "JWT"); err != nil {
		a.keysTenant.Store(nil) // the tenant may be gone: pick one again next time
		return err
	}
	return nil
}

// Retention of expired rows: AuthHero's runRetention windows
// (https://github.com/markusahlstrand/authhero/blob/main/apps/docs/deployment/data-retention.md).
// A row is deleted only once it has been expired for its grace period, so
// that a replayed code or rotated refresh token is still recognised (and its
// family revoked) for a while, and clock skew between instances is harmless.
const (
	// CodeRetention is how long expired codes are kept.
	CodeRetention = 24 * time.Hour
	// SessionRetention is how long expired sessions, login transactions and
	// refresh tokens are kept.
	SessionRetention = 7 * 24 * time.Hour
	// RevocationRetention is how long session revocations are kept past
	// their ExpiresAt (which already outlives every cookie they refuse).
	RevocationRetention = 24 * time.Hour
)

const (
	cleanupBatch   = 500
	cleanupTimeout = 5 * time.Minute
)

// Cleanup deletes expired codes, login transactions, sessions, refresh
// tokens and session revocations once, each past its retention
// (CodeRetention, SessionRetention, RevocationRetention), in batches. The
// App runs it every Options.CleanupInterval; hosts that disable the job run
// it from a scheduler. It is idempotent, so instances sharing a database may
// run it at the same time; a failed table is reported and the others still
// run.
func (a *App) Cleanup(ctx context.Context) error {
	now := time.Now()
	d := a.data
	type sweep struct {
		table string
		grace time.Duration
		del   func(context.Context, time.Time, int) (int, error)
	}
	var sweeps []sweep
	add := func(table string, grace time.Duration, ok bool, del func(context.Context, time.Time, int) (int, error)) {
		if ok {
			sweeps = append(sweeps, sweep{table, grace, del})
		}
	}
	// Method values of a nil interface would panic: check first.
	add("codes", CodeRetention, d.Codes != nil, func(ctx context.Context, t time.Time, n int) (int, error) { return d.Codes.DeleteExpired(ctx, t, n) })
	add("login_sessions", SessionRetention, d.LoginSessions != nil, func(ctx context.Context, t time.Time, n int) (int, error) {
		return d.LoginSessions.DeleteExpired(ctx, t, n)
	})
	add("sessions", SessionRetention, d.Sessions != nil, func(ctx context.Context, t time.Time, n int) (int, error) { return d.Sessions.DeleteExpired(ctx, t, n) })
	add("refresh_tokens", SessionRetention, d.RefreshTokens != nil, func(ctx context.Context, t time.Time, n int) (int, error) {
		return d.RefreshTokens.DeleteExpired(ctx, t, n)
	})
	add("session_revocations", RevocationRetention, d.SessionRevocations != nil, func(ctx context.Context, t time.Time, n int) (int, error) {
		return d.SessionRevocations.DeleteExpired(ctx, t, n)
	})
	var errs []error
	for _, s := range sweeps {
		sctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		n, err := s.del(sctx, now.Add(-s.grace), cleanupBatch)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err() // stopping: not a failure of the table
		}
		a.mon.RecordCleanup(s.table, n, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", s.table, err))
		} else if n > 0 {
			a.log.InfoContext(ctx, "cleanup: deleted expired rows", "table", s.table, "rows", n)
		}
	}
	return errors.Join(errs...)
}

// startJobs starts the background jobs; Close stops them.
//
// Signing keys need no job: keys.Manager creates a tenant's Next key when it
// provisions the tenant and again in every Rotate and Revoke, in the same
// transaction, so a published Next key always exists before it is needed,
// and keys are never generated on a request path.
func (a *App) startJobs() {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopJobs = cancel
	a.jobs.Add(1)
	go func() {
		defer a.jobs.Done()
		a.audit.Run(ctx) // client_credentials log entries, written off the hot path
	}()
	if every := a.opts.CleanupInterval; every > 0 {
		a.jobs.Add(1)
		go func() {
			defer a.jobs.Done()
			a.cleanupLoop(ctx, every)
		}()
	}
}

// cleanupLoop runs Cleanup every interval, ±10 %, the first time at a random
// point of the first interval, so that instances started together (a
// deployment) do not sweep in step.
func (a *App) cleanupLoop(ctx context.Context, every time.Duration) {
	wait := rand.N(every)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := a.Cleanup(ctx); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "cleanup failed; retrying at the next interval", "err", err)
		}
		wait = every - every/10 + rand.N(every/5+1)
	}
}

// Close stops the App's background jobs and waits for them to end, or for
// ctx to be done. It does not close the data adapter or the session store,
// which belong to the host: close them after Close. Requests can still be
// served (drain the server first: http.Server.Shutdown, then Close).
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(a.stopJobs)
	done := make(chan struct{})
	go func() {
		a.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CreateTenant provisions a tenant as Auth0 has them: signing keys
// (t.SigningAlg: RS256 by default, ES256 or EdDSA), the Management API
// resource server and the Username-Password-Authentication connection.
func (a *App) CreateTenant(ctx context.Context, t adapters.Tenant) (*adapters.Tenant, error) {
	return a.prov.CreateTenant(ctx, t)
}

// CreateManagementClient creates a machine-to-machine client of the tenant
// granted every Management API scope. Empty clientID and secret are
// generated; the secret is returned in clear this once.
func (a *App) CreateManagementClient(ctx context.Context, tenantID, name, clientID, secret string) (*adapters.Client, string, error) {
	return a.prov.ManagementClient(ctx, tenantID, name, clientID, secret)
}

// RotateSigningKeys makes the tenant's next key current and retires the
// current one, which stays in JWKS for Options.KeyOverlap.
func (a *App) RotateSigningKeys(ctx context.Context, tenantID string) error {
	return a.keys.Rotate(ctx, tenantID)
}

// CreateUser creates a user with a password on a database connection of the
// tenant (e.g. Username-Password-Authentication), checking the
// connection's password policy; the password is stored as an argon2id hash.
func (a *App) CreateUser(ctx context.Context, tenantID, connection, email, password string) (*adapters.User, error) {
	return a.accounts.CreateUser(ctx, tenantID, accounts.NewUser{Connection: connection, Email: email, Password: password})
}
