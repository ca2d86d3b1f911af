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
package authhero

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/cache"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/internal/keys"
	"github.com/authhero-go/authhero/internal/login"
	"github.com/authhero-go/authhero/internal/management"
	"github.com/authhero-go/authhero/internal/oauth"
	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/internal/secrets"
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
	limiter  bruteforce.Limiter

	mux     *http.ServeMux
	mu      sync.Mutex
	mws     []func(http.Handler) http.Handler
	handler atomic.Pointer[http.Handler]
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
	data := opts.DataAdapter
	if opts.CacheTTL > 0 {
		data = cache.New(data, cache.Options{TTL: opts.CacheTTL})
	}
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
		prov: &provision.Provisioner{Data: data, Keys: km, Box: box},
		mux:  http.NewServeMux(),
	}
	a.accounts = &accounts.Service{Data: data}
	a.limiter = &bruteforce.Memory{}
	srv := &oauth.Server{Data: data, Keys: keyVerifier{km}, Box: box, Logger: opts.Logger,
		Sessions: opts.SessionStore, Accounts: a.accounts, Limiter: a.limiter}
	authRoutes := func(h http.Handler) http.Handler { return res.Middleware(false, h) }
	srv.Routes(a.mux, authRoutes)
	a.ul = &login.Server{Data: data, Sessions: opts.SessionStore, Accounts: a.accounts, Limiter: a.limiter,
		Email: opts.EmailSender, Logger: opts.Logger}
	a.ul.Routes(a.mux, authRoutes)
	srv.Reset = a.ul
	controlPlane := opts.ControlPlaneTenant
	if controlPlane == "" {
		controlPlane = opts.DefaultTenant
	}
	mgmt := &management.Server{Data: data, Keys: keyVerifier{km}, Provisioner: a.prov, Box: box,
		ControlPlane: controlPlane, Logger: opts.Logger}
	mgmt.Routes(a.mux, func(h http.Handler) http.Handler { return res.Middleware(true, h) })
	a.rebuild()
	return a, nil
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
	var h http.Handler = a.mux
	for i := len(a.mws) - 1; i >= 0; i-- {
		h = a.mws[i](h)
	}
	h = a.base(h)
	a.handler.Store(&h)
}

// DataAdapter returns the (cached) storage the App uses; writes through it
// are seen by the App at once.
func (a *App) DataAdapter() *adapters.DataAdapters { return a.data }

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
