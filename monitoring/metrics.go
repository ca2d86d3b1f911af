package monitoring

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics of a Monitor. Every one carries the constant label provider
// (when a provider is set). Tenant labels hold tenant ids, route labels
// ServeMux patterns ("POST /oauth/token", "unmatched"), never raw paths.
//
//	authhero_http_requests_total{tenant,route,status}          counter
//	authhero_http_request_duration_seconds{route}              histogram
//	authhero_http_requests_in_flight                           gauge
//	authhero_tokens_issued_total{tenant,grant_type}            counter
//	authhero_logins_total{tenant,result,type}                  counter (result success|failure, type the Auth0 log type)
//	authhero_audit_events_total{tenant,type}                   counter (every audit log written, by Auth0 log type)
//	authhero_storage_duration_seconds{store,op}                histogram (store adapter|session, op e.g. users.get)
//	authhero_storage_errors_total{store,op}                    counter (faults only, not "not found" and other domain errors)
//	authhero_cleanup_runs_total{table,result}                  counter
//	authhero_cleanup_deleted_total{table}                      counter
//
// plus the Go runtime (go_*) and process (process_*) collectors.
type metrics struct {
	reg     *prometheus.Registry
	wrapped prometheus.Registerer

	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	inflight       prometheus.Gauge
	tokens         *prometheus.CounterVec
	logins         *prometheus.CounterVec
	events         *prometheus.CounterVec
	storage        *prometheus.HistogramVec
	storageErrors  *prometheus.CounterVec
	cleanupRuns    *prometheus.CounterVec
	cleanupDeleted *prometheus.CounterVec
}

func newMetrics(provider string) *metrics {
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if provider != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"provider": provider}, reg)
	}
	m := &metrics{reg: reg, wrapped: r}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_http_requests_total",
		Help: "HTTP requests served, by tenant, route pattern and status code.",
	}, []string{"tenant", "route", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authhero_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "authhero_http_requests_in_flight",
		Help: "HTTP requests being served.",
	})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_tokens_issued_total",
		Help: "Access tokens issued, by tenant and grant type (authorization_code, refresh_token, client_credentials, password).",
	}, []string{"tenant", "grant_type"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_logins_total",
		Help: "Logins with credentials (login pages and password grants), by tenant, result (success, failure) and Auth0 log type (s, f, fp, fu, limit_wc).",
	}, []string{"tenant", "result", "type"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_audit_events_total",
		Help: "Audit log events written, by tenant and Auth0 log type.",
	}, []string{"tenant", "type"})
	m.storage = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authhero_storage_duration_seconds",
		Help:    "Time of a storage call, by store (adapter, session) and operation.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"store", "op"})
	m.storageErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_storage_errors_total",
		Help: "Storage calls that failed for a reason other than a domain error (unreachable, timed out, broken), by store and operation.",
	}, []string{"store", "op"})
	m.cleanupRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_cleanup_runs_total",
		Help: "Cleanups of expired rows, by table and result (ok, error).",
	}, []string{"table", "result"})
	m.cleanupDeleted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authhero_cleanup_deleted_total",
		Help: "Expired rows deleted by the cleanup job, by table.",
	}, []string{"table"})
	r.MustRegister(m.requests, m.latency, m.inflight, m.tokens, m.logins, m.events, m.storage, m.storageErrors,
		m.cleanupRuns, m.cleanupDeleted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Auth0 log types that are logins with credentials
// (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes).
var loginTypes = map[string]string{
	"s":        "success", // success login (login pages and password grants)
	"f":        "failure", // failed login
	"fp":       "failure", // incorrect password
	"fu":       "failure", // invalid email or username
	"limit_wc": "failure", // blocked after too many failures from an IP
}

// Token-exchange log types and the grant they issue a token for.
var tokenTypes = map[string]string{
	"seacft": GrantAuthorizationCode,
	"sertft": GrantRefreshToken,
}

// logged counts an audit event of Auth0 type typ written for tenant.
func (m *metrics) logged(tenant, typ string) {
	m.events.WithLabelValues(tenant, typ).Inc()
	if res, ok := loginTypes[typ]; ok {
		m.logins.WithLabelValues(tenant, res, typ).Inc()
	}
	if g, ok := tokenTypes[typ]; ok {
		m.tokens.WithLabelValues(tenant, g).Inc()
	}
}
