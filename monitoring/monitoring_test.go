package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// fakeTenants answers Get with err and records the context it was given.
type fakeTenants struct {
	adapters.TenantsAdapter
	err error
	got context.Context
}

func (f *fakeTenants) Get(ctx context.Context, id string) (*adapters.Tenant, error) {
	f.got = ctx
	return &adapters.Tenant{ID: id}, f.err
}

func (f *fakeTenants) Update(ctx context.Context, id string, mutate func(*adapters.Tenant) error) (*adapters.Tenant, error) {
	t := &adapters.Tenant{ID: id}
	if err := mutate(t); err != nil {
		return nil, err
	}
	return t, f.err
}

type fakeLogs struct{ adapters.LogsAdapter }

func (fakeLogs) Create(ctx context.Context, tenantID string, l adapters.Log) (*adapters.Log, error) {
	return &l, nil
}

func TestProvider(t *testing.T) {
	t.Setenv(ProviderEnv, "gcp-europe-west1")
	require.Equal(t, "aws", Provider("aws"))
	require.Equal(t, "gcp-europe-west1", Provider(""))
	require.Equal(t, "gcp-europe-west1", New(Config{}).ProviderTag())
}

func TestFaultsAreNotDomainErrors(t *testing.T) {
	m := New(Config{Provider: "aws"})
	f := &fakeTenants{}
	d := m.Data(&adapters.DataAdapters{Tenants: f})
	get := func(err error) (*Request, bool) {
		f.err = err
		rq := &Request{Start: time.Now()}
		d.Tenants.Get(NewContext(context.Background(), rq), "acme")
		return rq, rq.StorageFailed()
	}
	for _, err := range []error{nil, adapters.ErrNotFound, adapters.ErrConflict, adapters.Invalid("q", "bad"),
		adapters.ErrConsumed, context.Canceled} {
		_, failed := get(err)
		require.False(t, failed, "%v", err)
	}
	require.False(t, m.StorageFailedSince(time.Time{}))
	before := time.Now()
	for _, err := range []error{errors.New("dial tcp: connection refused"), context.DeadlineExceeded} {
		_, failed := get(err)
		require.True(t, failed, "%v", err)
	}
	require.True(t, m.StorageFailedSince(before))
	require.False(t, m.StorageFailedSince(time.Now().Add(time.Second)))
	require.Equal(t, 2.0, testutil.ToFloat64(m.m.storageErrors.WithLabelValues("adapter", "tenants.get")))

	// An error of the caller's own mutate function is not a fault.
	f.err = nil
	mine := errors.New("mine")
	rq := &Request{}
	_, err := d.Tenants.Update(NewContext(context.Background(), rq), "acme", func(*adapters.Tenant) error { return mine })
	require.ErrorIs(t, err, mine)
	require.False(t, rq.StorageFailed())
	// ... and neither is a transaction function's own error.
	d = m.Data(&adapters.DataAdapters{Tenants: f, Transaction: func(ctx context.Context, fn func(context.Context, *adapters.DataAdapters) error) error {
		return fn(ctx, &adapters.DataAdapters{Tenants: f})
	}})
	rq = &Request{}
	err = d.Transaction(NewContext(context.Background(), rq), func(ctx context.Context, tx *adapters.DataAdapters) error {
		_, ok := tx.Tenants.(timedTenants)
		require.True(t, ok, "the transaction's adapters are decorated too")
		return mine
	})
	require.ErrorIs(t, err, mine)
	require.False(t, rq.StorageFailed())
}

func TestStorageDeadline(t *testing.T) {
	m := New(Config{StorageTimeout: time.Minute})
	f := &fakeTenants{}
	d := m.Data(&adapters.DataAdapters{Tenants: f})

	// Outside a request: StorageTimeout.
	d.Tenants.Get(context.Background(), "acme")
	dl, ok := f.got.Deadline()
	require.True(t, ok)
	require.WithinDuration(t, time.Now().Add(time.Minute), dl, time.Second)

	// In a request, even detached from it: the request's deadline.
	want := time.Now().Add(3 * time.Second)
	ctx := NewContext(context.Background(), &Request{Deadline: want})
	d.Tenants.Get(context.WithoutCancel(ctx), "acme")
	dl, ok = f.got.Deadline()
	require.True(t, ok)
	require.Equal(t, want, dl)

	// A deadline of the caller's own is kept.
	own, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	d.Tenants.Get(own, "acme")
	dl, _ = f.got.Deadline()
	require.WithinDuration(t, time.Now().Add(time.Hour), dl, time.Second)

	// Unbounded.
	New(Config{}).Data(&adapters.DataAdapters{Tenants: f}).Tenants.Get(context.Background(), "acme")
	_, ok = f.got.Deadline()
	require.False(t, ok)
}

func TestAuditEventsCountLoginsAndTokens(t *testing.T) {
	m := New(Config{Provider: "aws"})
	d := m.Data(&adapters.DataAdapters{Logs: fakeLogs{}})
	for _, typ := range []string{"s", "s", "fp", "fu", "f", "seacft", "sertft", "sertft", "sapi", "ssa"} {
		_, err := d.Logs.Create(context.Background(), "acme", adapters.Log{Type: typ})
		require.NoError(t, err)
	}
	m.AccessTokenSigned("acme", map[string]any{"gty": "client-credentials"})
	m.AccessTokenSigned("acme", map[string]any{"gty": "password"})
	m.AccessTokenSigned("acme", map[string]any{}) // a code or refresh exchange: counted from its event

	c := func(v *prometheus.CounterVec, labels ...string) float64 {
		return testutil.ToFloat64(v.WithLabelValues(labels...))
	}
	require.Equal(t, 2.0, c(m.m.logins, "acme", "success", "s"))
	require.Equal(t, 1.0, c(m.m.logins, "acme", "failure", "fp"))
	require.Equal(t, 1.0, c(m.m.logins, "acme", "failure", "fu"))
	require.Equal(t, 1.0, c(m.m.logins, "acme", "failure", "f"))
	require.Equal(t, 1.0, c(m.m.tokens, "acme", GrantAuthorizationCode))
	require.Equal(t, 2.0, c(m.m.tokens, "acme", GrantRefreshToken))
	require.Equal(t, 1.0, c(m.m.tokens, "acme", GrantClientCredentials))
	require.Equal(t, 1.0, c(m.m.tokens, "acme", GrantPassword))
	require.Equal(t, 1.0, c(m.m.events, "acme", "sapi"))
	require.Equal(t, 1.0, c(m.m.events, "acme", "ssa"))
	require.Equal(t, 4, testutil.CollectAndCount(m.m.logins), "ssa is not a login")
}

func TestMetricsHandlerUsesPrivateRegistryWithProvider(t *testing.T) {
	a, b := New(Config{Provider: "aws"}), New(Config{Provider: "cloudflare"})
	for _, m := range []*Monitor{a, b} {
		r, rq := m.Begin(httptest.NewRequest("GET", "/x", nil), "id", 0)
		rq.Route, rq.Tenant = "GET /x", "acme"
		m.End(r.Context(), rq, 200)
	}
	scrape := func(m *Monitor) string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		require.Equal(t, 200, rec.Code)
		return rec.Body.String()
	}
	body := scrape(a)
	require.Contains(t, body, `authhero_http_requests_total{provider="aws",route="GET /x",status="200",tenant="acme"} 1`)
	require.Contains(t, body, `go_goroutines{provider="aws"}`)
	require.NotContains(t, body, "cloudflare")
	require.Contains(t, scrape(b), `provider="cloudflare"`)
	mfs, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		require.False(t, strings.HasPrefix(mf.GetName(), "authhero_"), "%s is in the global registry", mf.GetName())
	}
}

func TestBeginEndAnalyticsAndSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	var events []Event
	m := New(Config{Provider: "aws", TracerProvider: tp, Analytics: AnalyticsFunc(func(ctx context.Context, e Event) {
		events = append(events, e)
	})})

	req := httptest.NewRequest("POST", "/oauth/token", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	r, rq := m.Begin(req, "req-1", 5*time.Second)
	require.WithinDuration(t, time.Now().Add(5*time.Second), rq.Deadline, time.Second)
	require.Same(t, rq, FromContext(r.Context()))
	sc := trace.SpanContextFromContext(r.Context())
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID().String(), "joins the caller's trace")
	rq.Route, rq.Tenant = "POST /oauth/token", "acme"
	m.End(r.Context(), rq, 503)

	require.Len(t, events, 1)
	e := events[0]
	require.Equal(t, "aws", e.Provider)
	require.Equal(t, "acme", e.Tenant)
	require.Equal(t, "POST /oauth/token", e.Path)
	require.Equal(t, "POST", e.Method)
	require.Equal(t, 503, e.Status)
	require.Equal(t, "req-1", e.RequestID)
	require.Positive(t, e.Duration)

	spans := rec.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	require.Equal(t, "POST /oauth/token", s.Name())
	require.Equal(t, trace.SpanKindServer, s.SpanKind())
	attrs := map[string]string{}
	for _, kv := range s.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	require.Equal(t, "/oauth/token", attrs["http.route"])
	require.Equal(t, "503", attrs["http.response.status_code"])
	require.Equal(t, "acme", attrs["authhero.tenant"])
	require.Equal(t, "aws", attrs["authhero.provider"])
	require.Equal(t, "Error", s.Status().Code.String())

	// A panicking Analytics does not break the request.
	m = New(Config{Analytics: AnalyticsFunc(func(context.Context, Event) { panic("boom") }),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r, rq = m.Begin(httptest.NewRequest("GET", "/", nil), "x", 0)
	m.End(r.Context(), rq, 0)
}

func TestLogHandlerAddsProviderAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	m := New(Config{Provider: "aws"})
	log := m.Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
	r, rq := m.Begin(httptest.NewRequest("GET", "/", nil), "req-42", 0)
	log.With("component", "test").InfoContext(r.Context(), "hello")
	log.Info("outside a request")
	m.End(r.Context(), rq, 200)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	require.Equal(t, "aws", first["provider"])
	require.Equal(t, "req-42", first["request_id"])
	require.Equal(t, "test", first["component"])
	require.Equal(t, "aws", second["provider"])
	require.NotContains(t, second, "request_id")
}

func TestSessionsDecorator(t *testing.T) {
	m := New(Config{})
	mem := session.NewMemory()
	s := m.Sessions(mem)
	require.Same(t, mem, s.(Unwrapper).Unwrap())
	_, err := s.GetSession(context.Background(), "acme", "nope")
	require.ErrorIs(t, err, adapters.ErrNotFound)
	require.NoError(t, s.Ping(context.Background()))
	require.Equal(t, 2, testutil.CollectAndCount(m.m.storage, "authhero_storage_duration_seconds"))
	require.Equal(t, 0, testutil.CollectAndCount(m.m.storageErrors))
	require.Nil(t, m.Sessions(nil))
}

func TestInFlightGauge(t *testing.T) {
	m := New(Config{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, 1.0, testutil.ToFloat64(m.m.inflight))
	})
	r, rq := m.Begin(httptest.NewRequest("GET", "/", nil), "x", 0)
	h.ServeHTTP(httptest.NewRecorder(), r)
	m.End(r.Context(), rq, 200)
	require.Equal(t, 0.0, testutil.ToFloat64(m.m.inflight))
}
