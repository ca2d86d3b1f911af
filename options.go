package authhero

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/email"
	"github.com/authhero-go/authhero/monitoring"
	"github.com/authhero-go/authhero/session"
)

// Options configures InitMultiTenant. Only DataAdapter and EncryptionKey are
// required; every other field has a documented zero value.
type Options struct {
	// DataAdapter is the storage, e.g. the DataAdapters of a
	// bunadapter.Open. Required.
	DataAdapter *adapters.DataAdapters

	// SessionStore keeps browser sessions and login transactions. Zero: the
	// data adapter's sessions and login_sessions tables (session.NewSQL),
	// which every instance on the database shares.
	SessionStore session.Store
	// JWTSecrets, when SessionStore is nil, selects stateless sessions: each
	// session lives in an encrypted, authenticated cookie (session.Stateless);
	// logout and revocation go through a revocation list in the data
	// adapter, and login transactions stay in the database. The first secret
	// seals, all of them open (rotation). Each must be at least 32 bytes.
	// Zero: not used.
	JWTSecrets [][]byte

	// EmailSender delivers verification and password-reset emails
	// (email.SMTP in production). Zero: the links are logged to Logger, for
	// development.
	EmailSender email.Sender

	// EncryptionKey encrypts secrets at rest (signing private keys, client
	// secrets) with AES-256-GCM: exactly 32 bytes. Required. Every instance
	// that shares a database must use the same key.
	EncryptionKey []byte
	// PreviousEncryptionKeys still decrypt (never encrypt), so the key can be
	// rotated. Zero: none.
	PreviousEncryptionKeys [][]byte

	// Issuer is the base URL, e.g. "https://auth.example.com/". Tenants are
	// served at https://{tenant}.auth.example.com/ with that as their issuer;
	// DefaultTenant (or the only tenant) at the base URL itself. Zero: the
	// issuer is the origin each request was made to, and every request goes to
	// the default tenant.
	Issuer string
	// DefaultTenant is the tenant served at the Issuer's own host. Zero: the
	// only tenant when exactly one exists; otherwise the base host serves none.
	DefaultTenant string
	// ControlPlaneTenant is the tenant whose management tokens may list,
	// create and delete other tenants (/api/v2/tenants). Zero: DefaultTenant;
	// if that is empty too, no tenant may.
	ControlPlaneTenant string
	// TrustTenantHeader lets Management API requests pick their tenant with a
	// tenant-id header (their token must still belong to that tenant). The
	// header is never honoured on the login and token endpoints. Zero: ignored.
	TrustTenantHeader bool
	// TrustedProxies are the proxy addresses whose X-Forwarded-Host and
	// X-Forwarded-Proto are believed. Zero: none.
	TrustedProxies []netip.Prefix

	// Provider names the cloud or region this instance runs in ("aws",
	// "cloudflare", "gcp-europe-west1", ...). It is sent as the
	// X-Authhero-Provider response header and tagged on every log line and
	// metric (package monitoring). Zero: the PROVIDER environment variable;
	// if that is empty too, no tag.
	Provider string
	// Logger receives request and error logs; the App adds provider and
	// request_id to every line it writes with a request's context. Zero:
	// slog.Default().
	Logger *slog.Logger
	// Analytics receives one event per request (provider, tenant, route
	// pattern, status, duration), the multi-cloud guide's analytics.track.
	// Zero: none.
	Analytics monitoring.Analytics
	// TracerProvider, when set, gets an OpenTelemetry server span per
	// request, joined to the caller's trace by a W3C traceparent header.
	// Zero: no tracing.
	TracerProvider trace.TracerProvider

	// StorageTimeout bounds the storage work of one request: its data
	// adapter and session store calls must finish within StorageTimeout of
	// the request's start, audit-log writes made after the response
	// included, so a database or session store that is down or black-holed
	// costs a request at most this long before it answers 503 (a
	// temporarily_unavailable OAuth error, an Auth0 Management API error or
	// an error page, by endpoint). A storage call outside a request made on
	// a context without a deadline (CreateTenant from a setup script, say)
	// gets StorageTimeout of its own; the cleanup job has its own bound.
	// Zero: 5s. Negative: unbounded.
	StorageTimeout time.Duration
	// CleanupInterval is how often the App deletes expired codes, login
	// transactions, sessions, refresh tokens and session revocations (see
	// App.Cleanup); the schedule is jittered so that instances sharing a
	// database spread their runs. Zero: 1h. Negative: no cleanup job (run
	// App.Cleanup from a scheduler instead).
	CleanupInterval time.Duration
	// DisableHealth leaves GET /health, /health/live and /health/ready
	// unmounted, for a host that serves its own or mounts App.Health
	// elsewhere. Zero: mounted.
	DisableHealth bool

	// CacheTTL bounds how long this instance serves a tenant, client, grant,
	// resource server, key or custom domain from memory before re-reading it,
	// and so how long a write by another instance can go unseen. Writes made
	// through this instance are seen at once. Zero: 30s. Negative: no cache.
	CacheTTL time.Duration
	// KeyOverlap is how long a retired signing key stays in JWKS after a
	// rotation, so tokens it signed keep verifying. Zero: 24h.
	KeyOverlap time.Duration
}

// validate checks the options and says what to fix.
func (o *Options) validate() error {
	var errs []error
	if o.DataAdapter == nil {
		errs = append(errs, errors.New("authhero: Options.DataAdapter is required (for example the DataAdapters of bunadapter.Open)"))
	} else if o.DataAdapter.Tenants == nil || o.DataAdapter.Clients == nil || o.DataAdapter.Keys == nil ||
		o.DataAdapter.ResourceServers == nil || o.DataAdapter.ClientGrants == nil || o.DataAdapter.Connections == nil ||
		o.DataAdapter.Users == nil || o.DataAdapter.RefreshTokens == nil {
		errs = append(errs, errors.New("authhero: Options.DataAdapter lacks an adapter (Tenants, Clients, ClientGrants, ResourceServers, Connections, Keys, Users and RefreshTokens are all needed)"))
	}
	if len(o.EncryptionKey) != 32 {
		errs = append(errs, fmt.Errorf("authhero: Options.EncryptionKey must be 32 bytes, got %d (authhero serve reads it base64-encoded from ENCRYPTION_KEY)", len(o.EncryptionKey)))
	}
	for i, k := range o.PreviousEncryptionKeys {
		if len(k) != 32 {
			errs = append(errs, fmt.Errorf("authhero: Options.PreviousEncryptionKeys[%d] must be 32 bytes, got %d", i, len(k)))
		}
	}
	if o.Issuer != "" {
		u, err := url.Parse(o.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("authhero: Options.Issuer %q must be an http(s) origin ending in /, such as https://auth.example.com/", o.Issuer))
		}
	}
	o.Provider = monitoring.Provider(o.Provider)
	if o.StorageTimeout == 0 {
		o.StorageTimeout = 5 * time.Second
	}
	if o.CleanupInterval == 0 {
		o.CleanupInterval = time.Hour
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 30 * time.Second
	}
	if o.KeyOverlap == 0 {
		o.KeyOverlap = 24 * time.Hour
	} else if o.KeyOverlap < 0 {
		errs = append(errs, errors.New("authhero: Options.KeyOverlap must not be negative"))
	}
	for i, k := range o.JWTSecrets {
		if len(k) < 32 {
			errs = append(errs, fmt.Errorf("authhero: Options.JWTSecrets[%d] must be at least 32 bytes, got %d", i, len(k)))
		}
	}
	if o.SessionStore == nil && o.DataAdapter != nil && len(errs) == 0 {
		if len(o.JWTSecrets) > 0 {
			revs, err := session.NewRevocationList(o.DataAdapter)
			var st *session.Stateless
			if err == nil {
				st, err = session.NewStateless(o.JWTSecrets, revs, session.StatelessLogins(session.NewSQL(o.DataAdapter)))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("authhero: Options.JWTSecrets: %w", err))
			} else {
				o.SessionStore = st
			}
		} else {
			o.SessionStore = session.NewSQL(o.DataAdapter)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.EmailSender == nil {
		o.EmailSender = email.Log{Logger: o.Logger}
	}
	return errors.Join(errs...)
}
