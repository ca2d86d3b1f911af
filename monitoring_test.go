package authhero

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authhero-go/authhero/internal/testdb"
	"github.com/authhero-go/authhero/monitoring"
)

// scrape reads the App's /metrics and returns every sample keyed by
// name{label="value",...} (labels sorted, provider left out after checking
// that every authhero_ sample carries provider=want).
func scrape(t *testing.T, app *App, provider string) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	app.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, err)
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			got := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "provider" {
					got = l.GetValue()
					continue
				}
				labels = append(labels, l.GetName()+"="+`"`+l.GetValue()+`"`)
			}
			require.Equal(t, provider, got, "%s has no provider label", name)
			sort.Strings(labels)
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			out[name+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// TestMetricsAfterLoginAndTokens logs in on the login pages (one wrong
// password, one success), redeems the code, refreshes, and gets a
// client_credentials token; /metrics then counts each with the provider
// label, by tenant, route pattern and status.
func TestMetricsAfterLoginAndTokens(t *testing.T) {
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.Provider = "aws" })
	c := e.webApp(t, "acme", nil)
	e.user(t, "acme", "ann@acme.test", "correct horse battery")
	verifier, challenge := pkce()

	res := e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "wrong")
	require.Equal(t, 400, res.StatusCode)
	res.Body.Close()
	q := callbackParams(t, e.passwordLogin(t, e.browser(t), e.authorizeURL("acme", c, challenge, nil), "ann@acme.test", "correct horse battery"))
	res, tok := e.tgExchange(t, "acme", c.ClientID, "", q.Get("code"), "https://app.test/callback", verifier)
	require.Equal(t, 200, res.StatusCode, tok)
	rt, _ := tok["refresh_token"].(string)
	require.NotEmpty(t, rt)
	res, tok = e.tgRefresh(t, "acme", c.ClientID, "", rt)
	require.Equal(t, 200, res.StatusCode, tok)

	id, secret := e.api(t, "acme", "https://api.acme.test/", []string{"read:things"}, []string{"read:things"}, nil)
	res, tok = e.post(t, e.issuer("acme")+"oauth/token", "grant_type=client_credentials&audience="+url.QueryEscape("https://api.acme.test/"), basic(id, secret))
	require.Equal(t, 200, res.StatusCode, tok)
	res, _ = e.post(t, e.issuer("acme")+"oauth/token", "grant_type=client_credentials&audience="+url.QueryEscape("https://api.acme.test/"), basic(id, "wrong"))
	require.Equal(t, 401, res.StatusCode)
	code, _, _ := e.get(t, e.issuer("acme")+"u/login/identifier?state=made-up", nil)
	require.NotEqual(t, 200, code)
	code, _, _ = e.get(t, e.base+"no/such/path/"+id, nil)
	require.Equal(t, 404, code)

	m := scrape(t, e.app, "aws")
	want := map[string]float64{
		`authhero_logins_total{result="success",tenant="acme",type="s"}`:                          1,
		`authhero_logins_total{result="failure",tenant="acme",type="f"}`:                          1,
		`authhero_tokens_issued_total{grant_type="authorization_code",tenant="acme"}`:             1,
		`authhero_tokens_issued_total{grant_type="refresh_token",tenant="acme"}`:                  1,
		`authhero_tokens_issued_total{grant_type="client_credentials",tenant="acme"}`:             1,
		`authhero_http_requests_total{route="POST /oauth/token",status="200",tenant="acme"}`:      3,
		`authhero_http_requests_total{route="POST /oauth/token",status="401",tenant="acme"}`:      1,
		`authhero_http_requests_total{route="GET /authorize",status="302",tenant="acme"}`:         2,
		`authhero_http_requests_total{route="POST /u/login/password",status="302",tenant="acme"}`: 1,
		`authhero_http_requests_total{route="POST /u/login/password",status="400",tenant="acme"}`: 1,
		`authhero_http_requests_total{route="unmatched",status="404",tenant=""}`:                  1,
		`authhero_http_request_duration_seconds{route="POST /oauth/token"}`:                       4,
		`authhero_audit_events_total{tenant="acme",type="seacft"}`:                                1,
	}
	for k, v := range want {
		require.Equal(t, v, m[k], k)
	}
	for k := range m {
		require.NotContains(t, k, "made-up", "raw paths never become labels")
		require.NotContains(t, k, id)
	}
	require.Positive(t, m[`authhero_storage_duration_seconds{op="users.get",store="adapter"}`]+
		m[`authhero_storage_duration_seconds{op="users.list",store="adapter"}`])
	require.Positive(t, m[`authhero_storage_duration_seconds{op="create_login",store="session"}`])
	require.Positive(t, m[`authhero_storage_duration_seconds{op="create_session",store="session"}`])
	require.Zero(t, len(filter(m, "authhero_storage_errors_total")), "no storage fault")
	require.Equal(t, 0.0, m[`authhero_http_requests_in_flight{}`])
}

func filter(m map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// analyticsRecorder keeps the events it receives.
type analyticsRecorder struct {
	mu     sync.Mutex
	events []monitoring.Event
}

func (a *analyticsRecorder) Track(_ context.Context, e monitoring.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

func (a *analyticsRecorder) get() []monitoring.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]monitoring.Event(nil), a.events...)
}

// TestAnalyticsOncePerRequest: Options.Analytics gets exactly one event per
// request with the provider, tenant, route pattern, status and duration.
func TestAnalyticsOncePerRequest(t *testing.T) {
	rec := &analyticsRecorder{}
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) { o.Provider = "cloudflare"; o.Analytics = rec })
	id, secret := e.api(t, "acme", "https://api.acme.test/", []string{"read:things"}, []string{"read:things"}, nil)

	res, _ := e.post(t, e.issuer("acme")+"oauth/token", "grant_type=client_credentials&audience="+url.QueryEscape("https://api.acme.test/"), basic(id, secret))
	require.Equal(t, 200, res.StatusCode)
	code, _, _ := e.get(t, e.issuer("globex")+".well-known/jwks.json", http.Header{"X-Request-Id": {"req-7"}})
	require.Equal(t, 200, code)
	code, _, _ = e.get(t, e.base+"health/live", nil)
	require.Equal(t, 200, code)
	code, _, _ = e.get(t, e.base+"nowhere/"+secret, nil)
	require.Equal(t, 404, code)

	var got []monitoring.Event
	waitFor(t, 2*time.Second, "four events", func() bool { got = rec.get(); return len(got) >= 4 })
	time.Sleep(50 * time.Millisecond)
	got = rec.get()
	require.Len(t, got, 4, "one event per request")
	type row struct {
		Tenant, Path string
		Status       int
	}
	var rows []row
	for _, ev := range got {
		require.Equal(t, "cloudflare", ev.Provider)
		require.Positive(t, ev.Duration)
		require.NotEmpty(t, ev.RequestID)
		require.WithinDuration(t, time.Now(), ev.Time, 10*time.Second)
		rows = append(rows, row{ev.Tenant, ev.Path, ev.Status})
	}
	require.Equal(t, []row{
		{"acme", "POST /oauth/token", 200},
		{"globex", "GET /.well-known/jwks.json", 200},
		{"", "GET /health/live", 200},
		{"", "", 404},
	}, rows)
	require.Equal(t, "req-7", got[1].RequestID)
	require.Equal(t, "GET", got[1].Method)
}

// TestTracingSpans: with a TracerProvider every request is a server span
// named by its route, joined to the caller's trace, and log lines written
// during it carry its trace id.
func TestTracingSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	var logs syncBuf
	e := newEnv(t, testdb.Fresh(t, "sqlite"), func(o *Options) {
		o.TracerProvider = tp
		o.Provider = "gcp"
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, _, _ := e.get(t, e.issuer("acme")+".well-known/openid-configuration",
		http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}})
	require.Equal(t, 200, code)

	var s sdktrace.ReadOnlySpan
	waitFor(t, 2*time.Second, "the span", func() bool {
		for _, x := range spans.Ended() {
			if x.Name() == "GET /.well-known/openid-configuration" {
				s = x
				return true
			}
		}
		return false
	})
	require.Equal(t, traceID, s.SpanContext().TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", s.Parent().SpanID().String())
	attrs := map[string]string{}
	for _, kv := range s.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	require.Equal(t, "acme", attrs["authhero.tenant"])
	require.Equal(t, "gcp", attrs["authhero.provider"])
	require.Equal(t, "200", attrs["http.response.status_code"])
	require.Equal(t, "/.well-known/openid-configuration", attrs["http.route"])

	// The access log line of that request carries provider, request id and
	// trace id; every line carries the provider.
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		require.Equal(t, "gcp", m["provider"], line)
		if m["msg"] == "request" && m["route"] == "GET /.well-known/openid-configuration" {
			found = true
			require.Equal(t, traceID, m["trace_id"])
			require.NotEmpty(t, m["request_id"])
			require.Equal(t, "acme", m["tenant"])
		}
	}
	require.True(t, found, logs.String())
}

// syncBuf is a bytes.Buffer safe for the server's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
