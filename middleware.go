package authhero

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/authhero-go/authhero/internal/keys"
	"github.com/authhero-go/authhero/monitoring"
)

// statusWriter records the status code for the access log and the metrics,
// and turns a 500 or 503 caused by a storage outage into the 503 of the
// endpoint's kind (see unavailable).
type statusWriter struct {
	http.ResponseWriter
	status int
	kind   endpointKind
	// outage reports whether the storage is failing for this request.
	outage func() bool
	// replaced: our 503 was written; the handler's body is dropped.
	replaced bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		if (code == http.StatusInternalServerError || code == http.StatusServiceUnavailable) && w.replace(code) {
			return
		}
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// replace writes the 503 of the endpoint's kind instead of the handler's
// 500 or 503 when the storage is failing. A login page's own 503 page is
// kept (it is translated and branded).
func (w *statusWriter) replace(code int) bool {
	if w.kind == kindHost || w.outage == nil ||
		(code == http.StatusServiceUnavailable && w.kind == kindPage && strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")) ||
		!w.outage() {
		return false
	}
	w.status, w.replaced = http.StatusServiceUnavailable, true
	unavailable(w.ResponseWriter, w.kind)
	return true
}

// endpointKind is the error shape an endpoint answers in.
type endpointKind int

const (
	kindHost       endpointKind = iota // a host route: left alone
	kindOAuth                          // RFC 6749 JSON: /oauth/*, /userinfo, /dbconnections/*, discovery
	kindManagement                     // Auth0 Management API JSON: /api/v2/*
	kindPage                           // a browser page: /authorize, /u/*, logout
)

// kindOf classifies a request path among the built-in endpoints.
func kindOf(path string) endpointKind {
	switch {
	case strings.HasPrefix(path, "/api/v2/"):
		return kindManagement
	case path == "/authorize", strings.HasPrefix(path, "/u/"), path == "/v2/logout", path == "/oidc/logout":
		return kindPage
	case strings.HasPrefix(path, "/oauth/"), path == "/userinfo", strings.HasPrefix(path, "/dbconnections/"),
		strings.HasPrefix(path, "/.well-known/"):
		return kindOAuth
	}
	return kindHost
}

const unavailableText = "The service is temporarily unavailable. Try again in a few seconds."

// unavailablePage is the 503 page of the login endpoints when even the
// tenant could not be read (so nothing tenant-specific can be shown).
const unavailablePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Service unavailable</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1>Service unavailable</h1><p>` + unavailableText + `</p></body></html>
`

// unavailable writes a 503 in the shape of the endpoint's kind, with
// Retry-After, never cached, never a redirect.
func unavailable(w http.ResponseWriter, kind endpointKind) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Location", "WWW-Authenticate", "Set-Cookie"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "5")
	body := `{"error":"temporarily_unavailable","error_description":"` + unavailableText + `"}`
	switch kind {
	case kindManagement:
		body = `{"statusCode":503,"error":"Service Unavailable","message":"` + unavailableText + `"}`
	case kindPage:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(unavailablePage))
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(body + "\n"))
}

// base is the outermost middleware: panic recovery (500 JSON, never a crash),
// a request id, the provider tag, monitoring (metrics, analytics, tracing:
// package monitoring), the storage deadline (Options.StorageTimeout), 503s
// in the endpoint's shape when the storage is down, and the access log.
func (a *App) base(next http.Handler) http.Handler {
	log := a.log
	provider := a.opts.Provider
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		if provider != "" {
			w.Header().Set("X-Authhero-Provider", provider)
		}
		r, rq := a.mon.Begin(r, id, a.opts.StorageTimeout)
		sw := &statusWriter{ResponseWriter: w, kind: kindOf(r.URL.Path), outage: func() bool {
			return rq.StorageFailed() || a.mon.StorageFailedSince(rq.Start)
		}}
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					sw.kind = kindHost // a panic is a 500, whatever the storage does
					sw.Header().Set("Content-Type", "application/json")
					sw.WriteHeader(http.StatusInternalServerError)
					sw.Write([]byte(`{"error":"server_error","error_description":"Internal Server Error"}` + "\n"))
				}
			}
			status := sw.status
			if p == http.ErrAbortHandler && status == 0 {
				status = http.StatusInternalServerError
			}
			a.mon.End(r.Context(), rq, status)
			log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", rq.Route,
				"tenant", rq.Tenant, "status", status, "duration_ms", time.Since(rq.Start).Milliseconds())
			if p == http.ErrAbortHandler {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// keyVerifier adapts keys.Manager to what the OAuth endpoints need, and
// counts the access tokens it signs (monitoring.AccessTokenSigned).
type keyVerifier struct {
	*keys.Manager
	mon *monitoring.Monitor
}

// Sign signs claims with the tenant's current key.
func (k keyVerifier) Sign(ctx context.Context, tenantID string, claims map[string]any, typ string) (string, error) {
	tok, err := k.Manager.Sign(ctx, tenantID, claims, typ)
	if err == nil && typ == "at+jwt" {
		k.mon.AccessTokenSigned(tenantID, claims)
	}
	return tok, err
}

// Verify returns the claims of a verified token of the given JOSE typ.
func (k keyVerifier) Verify(ctx context.Context, tenantID, token, typ string) (map[string]any, error) {
	t, err := k.Manager.VerifyType(ctx, tenantID, token, typ)
	if err != nil {
		return nil, err
	}
	return t.AsMap(ctx)
}
