package authhero

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/email"
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
	// X-Authhero-Provider response header and tagged on logs. Zero: not sent.
	Provider string
	// Logger receives request and error logs. Zero: slog.Default().
	Logger *slog.Logger

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
	if o.CacheTTL == 0 {
		o.CacheTTL = 30 * time.Second
	}
	if o.KeyOverlap == 0 {
		o.KeyOverlap = 24 * time.Hour
	} else if o.KeyOverlap < 0 {
		errs = append(errs, errors.New("authhero: Options.KeyOverlap must not be negative"))
	}
	if o.SessionStore == nil && o.DataAdapter != nil {
		o.SessionStore = session.NewSQL(o.DataAdapter)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.EmailSender == nil {
		o.EmailSender = email.Log{Logger: o.Logger}
	}
	return errors.Join(errs...)
}
