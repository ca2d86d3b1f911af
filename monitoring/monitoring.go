// Package monitoring measures an authhero-go App the way AuthHero's
// multi-cloud guide asks ("Monitoring": tag every log line and metric with
// the provider that served it, track every request;
// https://github.com/markusahlstrand/authhero/blob/main/apps/docs/deployment/multi-cloud.md#monitoring):
//
//   - a provider tag ("aws", "cloudflare", "gcp-europe-west1": Options.Provider,
//     or the PROVIDER environment variable) on every log line and metric;
//   - an slog handler that adds the provider, the request id and the trace id
//     to every log line written with the request's context;
//   - Prometheus metrics in a registry private to each App (never the global
//     default registry): requests by tenant, route pattern and status,
//     latency, tokens issued per grant type, logins, audit events, storage
//     latency and faults, cleanup runs;
//   - an Analytics hook called once per request (the guide's analytics.track);
//   - OpenTelemetry server spans per request when a TracerProvider is given;
//   - thin decorators of the storage ports (adapters.DataAdapters and
//     session.Store) that time every call, bound it with the request's
//     storage deadline and count audit events by Auth0 log type.
//
// The App wires all of it; hosts use Monitor directly only to build their
// own server around these pieces.
package monitoring

//go:generate go run ./internal/gen

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ProviderEnv is the environment variable read when no provider is
// configured.
const ProviderEnv = "PROVIDER"

// Provider returns p, or the PROVIDER environment variable when p is empty.
func Provider(p string) string {
	if p != "" {
		return p
	}
	return os.Getenv(ProviderEnv)
}

// Event is what Analytics receives once per request.
type Event struct {
	// Time is when the request started.
	Time time.Time
	// Provider is the provider tag of the instance that served the request.
	Provider string
	// Tenant is the id of the request's tenant; empty when none was resolved
	// (host routes, health probes, unknown hosts).
	Tenant string
	// Method is the HTTP method.
	Method string
	// Path is the route pattern that served the request, such as
	// "POST /oauth/token" or "GET /u/login/identifier" (never the raw path,
	// which may hold ids or secrets); empty when no route matched.
	Path string
	// Status is the HTTP status of the response.
	Status int
	// Duration is how long the request took.
	Duration time.Duration
	// RequestID is the request's X-Request-Id.
	RequestID string
}

// Analytics receives one Event per request: the guide's analytics.track.
// Track runs on the request's goroutine after the response is written, so it
// must return quickly (buffer and send in the background); it must be safe
// for concurrent use. A panic in Track is recovered and logged.
type Analytics interface {
	Track(ctx context.Context, e Event)
}

// AnalyticsFunc adapts a function to Analytics.
type AnalyticsFunc func(ctx context.Context, e Event)

// Track calls f.
func (f AnalyticsFunc) Track(ctx context.Context, e Event) { f(ctx, e) }

// Config configures a Monitor.
type Config struct {
	// Provider is the provider tag; empty means the PROVIDER environment
	// variable (and no tag if that is empty too).
	Provider string
	// Analytics receives one Event per request; nil means none.
	Analytics Analytics
	// TracerProvider, when set, gets a server span per request (and the
	// request joins the caller's trace from a W3C traceparent header).
	TracerProvider trace.TracerProvider
	// StorageTimeout bounds each storage call made without a deadline and
	// outside a request (background jobs, bootstrap); zero or negative means
	// no bound. Calls made for a request are bounded by the request's
	// deadline instead (see Begin).
	StorageTimeout time.Duration
	// Logger receives problems of the monitoring itself (a panicking
	// Analytics); nil means slog.Default().
	Logger *slog.Logger
}

// Monitor holds an App's metrics, analytics hook and tracer. It is safe for
// concurrent use.
type Monitor struct {
	provider  string
	analytics Analytics
	tracer    trace.Tracer
	timeout   time.Duration
	log       *slog.Logger
	m         *metrics
	lastFault atomic.Int64 // unix nanoseconds of the last storage fault
}

// New returns a Monitor with its own Prometheus registry.
func New(cfg Config) *Monitor {
	m := &Monitor{provider: Provider(cfg.Provider), analytics: cfg.Analytics, timeout: cfg.StorageTimeout, log: cfg.Logger}
	if m.log == nil {
		m.log = slog.Default()
	}
	if cfg.TracerProvider != nil {
		m.tracer = cfg.TracerProvider.Tracer("github.com/authhero-go/authhero")
	}
	m.m = newMetrics(m.provider)
	return m
}

// ProviderTag returns the provider tag in use ("" when none).
func (m *Monitor) ProviderTag() string { return m.provider }

// Registry returns the Monitor's private Prometheus registry, to which a host
// may add its own collectors. Every metric registered through Registerer
// carries the provider label.
func (m *Monitor) Registry() *prometheus.Registry { return m.m.reg }

// Registerer returns a Registerer of the Monitor's registry that adds the
// provider label to what it registers.
func (m *Monitor) Registerer() prometheus.Registerer { return m.m.wrapped }

// Handler serves the registry in the Prometheus exposition format (/metrics).
func (m *Monitor) Handler() http.Handler { return m.m.handler() }

// Request is the per-request record that Begin puts in the request context
// and End reads: the App's middleware and the storage decorators share it.
type Request struct {
	// ID is the request id (X-Request-Id).
	ID string
	// Method is the HTTP method.
	Method string
	// Start is when the request began.
	Start time.Time
	// Deadline bounds every storage call the request makes, including ones
	// made on a context detached from it (context.WithoutCancel, as audit
	// log writes are); zero means unbounded.
	Deadline time.Time
	// Tenant is the resolved tenant id; the App sets it after tenant
	// resolution.
	Tenant string
	// Route is the ServeMux pattern that served the request; the App sets it.
	Route string

	fault atomic.Bool
	span  trace.Span
}

// StorageFailed reports whether a storage call of this request failed for a
// reason other than a domain error (not found, conflict, invalid input,
// already used, an error of the caller's own mutate function) or the
// caller's cancellation: the database or session store is unreachable, slow
// past the deadline, or broken.
func (r *Request) StorageFailed() bool { return r.fault.Load() }

type requestKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// FromContext returns the Request of ctx, or nil.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Begin starts measuring r: it returns r with a context carrying a new
// Request (and a server span when tracing). storageTimeout, when positive,
// sets Request.Deadline that far from now. Call End exactly once.
func (m *Monitor) Begin(r *http.Request, id string, storageTimeout time.Duration) (*http.Request, *Request) {
	rq := &Request{ID: id, Method: r.Method, Start: time.Now()}
	if storageTimeout > 0 {
		rq.Deadline = rq.Start.Add(storageTimeout)
	}
	ctx := NewContext(r.Context(), rq)
	if m.tracer != nil {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, rq.span = m.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithTimestamp(rq.Start), trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
				attribute.String("authhero.request_id", id),
			))
		if m.provider != "" {
			rq.span.SetAttributes(attribute.String("authhero.provider", m.provider))
		}
	}
	m.m.inflight.Inc()
	return r.WithContext(ctx), rq
}

// End records the request: metrics, the Analytics event and the end of its
// span. status 0 counts as 200 (nothing was written).
func (m *Monitor) End(ctx context.Context, rq *Request, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	d := time.Since(rq.Start)
	route := rq.Route
	if route == "" {
		route = "unmatched"
	}
	m.m.inflight.Dec()
	m.m.requests.WithLabelValues(rq.Tenant, route, strconv.Itoa(status)).Inc()
	m.m.latency.WithLabelValues(route).Observe(d.Seconds())
	if rq.span != nil {
		name := rq.Route
		if name == "" {
			name = rq.Method
		} else if !strings.Contains(name, " ") {
			name = rq.Method + " " + name
		}
		rq.span.SetName(name)
		rq.span.SetAttributes(attribute.Int("http.response.status_code", status))
		if rq.Route != "" {
			_, path, _ := strings.Cut(rq.Route, " ")
			if path == "" {
				path = rq.Route
			}
			rq.span.SetAttributes(attribute.String("http.route", path))
		}
		if rq.Tenant != "" {
			rq.span.SetAttributes(attribute.String("authhero.tenant", rq.Tenant))
		}
		if status >= 500 {
			rq.span.SetStatus(codes.Error, http.StatusText(status))
		}
		rq.span.End()
	}
	if m.analytics != nil {
		m.track(ctx, Event{Time: rq.Start, Provider: m.provider, Tenant: rq.Tenant, Method: rq.Method,
			Path: rq.Route, Status: status, Duration: d, RequestID: rq.ID})
	}
}

func (m *Monitor) track(ctx context.Context, e Event) {
	defer func() {
		if p := recover(); p != nil {
			m.log.ErrorContext(ctx, "monitoring: Analytics.Track panicked", "panic", p)
		}
	}()
	m.analytics.Track(ctx, e)
}

// StorageFailedSince reports whether any storage call failed (as
// Request.StorageFailed counts failures) at or after t, in any request or
// job: a sign that the storage is down right now.
func (m *Monitor) StorageFailedSince(t time.Time) bool {
	last := m.lastFault.Load()
	return last != 0 && last >= t.UnixNano()
}

// Grant types of authhero_tokens_issued_total.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// AccessTokenSigned counts an access token signed for tenantID whose claims
// carry a gty (grant type) claim: client credentials and password grants,
// which write no token-exchange audit event of their own. Code and refresh
// exchanges are counted from their audit events (seacft, sertft) by the
// storage decorator, so each token is counted once.
func (m *Monitor) AccessTokenSigned(tenantID string, claims map[string]any) {
	switch claims["gty"] {
	case "client-credentials":
		m.m.tokens.WithLabelValues(tenantID, GrantClientCredentials).Inc()
	case "password":
		m.m.tokens.WithLabelValues(tenantID, GrantPassword).Inc()
	}
}

// RecordCleanup counts one cleanup of table (codes, sessions, ...) that
// deleted n rows, or failed with err.
func (m *Monitor) RecordCleanup(table string, n int, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.m.cleanupRuns.WithLabelValues(table, result).Inc()
	if n > 0 {
		m.m.cleanupDeleted.WithLabelValues(table).Add(float64(n))
	}
}
