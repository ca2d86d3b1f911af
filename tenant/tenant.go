// Package tenant decides which tenant a request is for and what that tenant's
// issuer is, and carries the answer in the request context.
//
// A tenant is found, in order, from:
//
//  1. a {tenant}.{issuer host} subdomain (issuer https://{tenant}.{issuer host}/);
//  2. a custom domain stored in the data adapter (issuer https://{domain}/);
//  3. the tenant-id header, only on routes that allow it (the Management API)
//     and only when the deployment trusts it;
//  4. the default tenant at the issuer's own host: Config.DefaultTenant, or
//     the only tenant when exactly one exists.
//
// X-Forwarded-Host and X-Forwarded-Proto are honoured only from trusted
// proxies (RFC 9700 §4.13 warns about trusting them from anyone).
package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Info is the resolved tenant of a request.
type Info struct {
	// Tenant is the tenant entity.
	Tenant *adapters.Tenant
	// Issuer is the tenant's issuer URL as seen by this request, with a
	// trailing slash (Auth0's form, e.g. "https://acme.auth.example.com/").
	Issuer string
	// Host is the request host the tenant was resolved from.
	Host string
	// ClientIP is the address of the end user: the connection's peer, or the
	// last address in X-Forwarded-For that is not a trusted proxy.
	ClientIP string
}

// ID returns the tenant id.
func (i *Info) ID() string { return i.Tenant.ID }

type ctxKey struct{}

// NewContext returns ctx carrying info.
func NewContext(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// FromContext returns the tenant stored by Resolver.Middleware, or nil.
func FromContext(ctx context.Context) *Info {
	i, _ := ctx.Value(ctxKey{}).(*Info)
	return i
}

// Config configures a Resolver.
type Config struct {
	// Data is the storage the tenants and custom domains come from. Required.
	Data *adapters.DataAdapters
	// Issuer is the deployment's base issuer, e.g. "https://auth.example.com/".
	// Tenants live at {id}.{its host}. Empty: the request's own origin is the
	// base, so only custom domains and the default tenant resolve.
	Issuer string
	// DefaultTenant is the tenant served at the issuer's own host. Empty: the
	// only tenant, when exactly one exists.
	DefaultTenant string
	// TrustTenantHeader lets routes that allow it (the Management API) pick the
	// tenant with a tenant-id header. Zero: the header is ignored.
	TrustTenantHeader bool
	// TrustedProxies are the peer addresses whose X-Forwarded-Host and
	// X-Forwarded-Proto are believed. Zero: none are.
	TrustedProxies []netip.Prefix
}

// Resolver resolves tenants for requests.
type Resolver struct {
	cfg      Config
	base     *url.URL
	mu       sync.Mutex
	onlyID   string
	onlyTill time.Time
}

// ErrNotFound is returned when no tenant is served at the request's host.
var ErrNotFound = errors.New("tenant not found")

// New returns a Resolver, or an error naming the bad setting.
func New(cfg Config) (*Resolver, error) {
	if cfg.Data == nil || cfg.Data.Tenants == nil {
		return nil, errors.New("tenant: Config.Data with Tenants is required")
	}
	r := &Resolver{cfg: cfg}
	if cfg.Issuer != "" {
		u, err := url.Parse(cfg.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("tenant: Issuer must be an absolute http(s) URL such as https://auth.example.com/")
		}
		r.base = u
	}
	return r, nil
}

// Origin returns the scheme and host a request was made to, believing the
// X-Forwarded-* headers only from trusted proxies.
func (r *Resolver) Origin(req *http.Request) (scheme, host string) {
	scheme, host = "http", req.Host
	if req.TLS != nil {
		scheme = "https"
	}
	if r.trusted(req) {
		if h := firstValue(req.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
		if p := firstValue(req.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
			scheme = p
		}
	}
	return scheme, strings.ToLower(host)
}

// ClientIP returns the end user's address of req: the peer address, or,
// when the peer is a trusted proxy, the rightmost X-Forwarded-For entry that
// is not itself a trusted proxy.
func (r *Resolver) ClientIP(req *http.Request) string {
	peer := hostOf(req.RemoteAddr)
	if !r.trusted(req) {
		return peer
	}
	hops := strings.Split(req.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		ip, err := netip.ParseAddr(h)
		if err != nil {
			break
		}
		if !r.trustedAddr(ip) {
			return ip.Unmap().String()
		}
	}
	return peer
}

// ClientIP returns the end user's address stored by the tenant middleware,
// or the request's peer address when there is none.
func ClientIP(req *http.Request) string {
	if i := FromContext(req.Context()); i != nil && i.ClientIP != "" {
		return i.ClientIP
	}
	return hostOf(req.RemoteAddr)
}

func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return strings.Trim(addr, "[]")
	}
	return host
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

func (r *Resolver) trusted(req *http.Request) bool {
	if len(r.cfg.TrustedProxies) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(hostOf(req.RemoteAddr))
	if err != nil {
		return false
	}
	return r.trustedAddr(ip)
}

func (r *Resolver) trustedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range r.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Resolve finds the tenant of req. allowHeader permits the tenant-id header
// (when the deployment trusts it).
func (r *Resolver) Resolve(req *http.Request, allowHeader bool) (*Info, error) {
	ctx := req.Context()
	scheme, host := r.Origin(req)
	baseHost, baseIssuer := host, scheme+"://"+host+"/"
	if r.base != nil {
		// Tenants share the deployment's scheme: behind a TLS-terminating
		// proxy the request itself may arrive over plain http.
		scheme = r.base.Scheme
		baseHost, baseIssuer = strings.ToLower(r.base.Host), r.cfg.Issuer
		if !strings.HasSuffix(baseIssuer, "/") {
			baseIssuer += "/"
		}
	}

	// 1. {tenant}.{base host}
	if label, ok := strings.CutSuffix(host, "."+baseHost); ok && label != "" && !strings.Contains(label, ".") {
		t, err := r.cfg.Data.Tenants.Get(ctx, label)
		if err != nil {
			return nil, notFound(err)
		}
		return &Info{Tenant: t, Issuer: scheme + "://" + host + "/", Host: host}, nil
	}
	// 2. custom domain
	if host != baseHost && r.cfg.Data.CustomDomains != nil {
		hostOnly := host
		if h, _, err := net.SplitHostPort(host); err == nil {
			hostOnly = h
		}
		d, err := r.cfg.Data.CustomDomains.GetByDomain(ctx, hostOnly)
		if err == nil {
			t, err := r.cfg.Data.Tenants.Get(ctx, d.TenantID)
			if err != nil {
				return nil, notFound(err)
			}
			return &Info{Tenant: t, Issuer: scheme + "://" + host + "/", Host: host}, nil
		}
		if !errors.Is(err, adapters.ErrNotFound) {
			return nil, err
		}
		if r.base != nil {
			return nil, ErrNotFound
		}
	}
	// 3. tenant-id header
	if allowHeader && r.cfg.TrustTenantHeader {
		if id := req.Header.Get("tenant-id"); id != "" {
			t, err := r.cfg.Data.Tenants.Get(ctx, id)
			if err != nil {
				return nil, notFound(err)
			}
			// The tenant keeps its own issuer: its subdomain's, unless it is
			// the default tenant served at the base host.
			iss := baseIssuer
			if r.base != nil && id != r.cfg.DefaultTenant {
				iss = r.base.Scheme + "://" + id + "." + baseHost + "/"
			}
			return &Info{Tenant: t, Issuer: iss, Host: host}, nil
		}
	}
	// 4. default tenant at the base host
	id := r.cfg.DefaultTenant
	if id == "" {
		var err error
		if id, err = r.onlyTenant(ctx); err != nil {
			return nil, err
		}
	}
	t, err := r.cfg.Data.Tenants.Get(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	return &Info{Tenant: t, Issuer: baseIssuer, Host: host}, nil
}

func notFound(err error) error {
	if errors.Is(err, adapters.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// onlyTenant returns the id of the single tenant, remembering the answer for
// a few seconds so that requests do not list tenants each time.
func (r *Resolver) onlyTenant(ctx context.Context) (string, error) {
	r.mu.Lock()
	if time.Now().Before(r.onlyTill) {
		id := r.onlyID
		r.mu.Unlock()
		if id == "" {
			return "", ErrNotFound
		}
		return id, nil
	}
	r.mu.Unlock()
	l, err := r.cfg.Data.Tenants.List(ctx, adapters.ListParams{PerPage: 2})
	if err != nil {
		return "", err
	}
	id := ""
	if len(l.Items) == 1 {
		id = l.Items[0].ID
	}
	r.mu.Lock()
	r.onlyID, r.onlyTill = id, time.Now().Add(5*time.Second)
	r.mu.Unlock()
	if id == "" {
		return "", ErrNotFound
	}
	return id, nil
}

// Middleware resolves the tenant of every request, stores it in the context
// and calls next; an unknown tenant gets 404 JSON, a storage failure 503.
// allowHeader permits the tenant-id header on these routes.
func (r *Resolver) Middleware(allowHeader bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		info, err := r.Resolve(req, allowHeader)
		if err != nil {
			status, msg, code := http.StatusNotFound, "Tenant not found", "Not Found"
			if !errors.Is(err, ErrNotFound) {
				status, msg, code = http.StatusServiceUnavailable, "The tenant store is unavailable", "Service Unavailable"
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "error": code, "message": msg})
			return
		}
		info.ClientIP = r.ClientIP(req)
		next.ServeHTTP(w, req.WithContext(NewContext(req.Context(), info)))
	})
}
