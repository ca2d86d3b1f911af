package authhero

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/authhero-go/authhero/internal/keys"
)

// statusWriter records the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// base is the outermost middleware: panic recovery (500 JSON, never a crash),
// a request id, the provider tag and the access log.
func (a *App) base(next http.Handler) http.Handler {
	log := a.opts.Logger
	provider := a.opts.Provider
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
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
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic serving request", "request_id", id, "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					sw.Header().Set("Content-Type", "application/json")
					sw.WriteHeader(http.StatusInternalServerError)
					sw.Write([]byte(`{"error":"server_error","error_description":"Internal Server Error"}` + "\n"))
				}
			}
			log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "duration_ms", time.Since(start).Milliseconds(), "provider", provider)
		}()
		next.ServeHTTP(sw, r)
	})
}

// keyVerifier adapts keys.Manager to what the OAuth endpoints need.
type keyVerifier struct{ *keys.Manager }

// Verify returns the claims of a verified token of the given JOSE typ.
func (k keyVerifier) Verify(ctx context.Context, tenantID, token, typ string) (map[string]any, error) {
	t, err := k.Manager.VerifyType(ctx, tenantID, token, typ)
	if err != nil {
		return nil, err
	}
	return t.AsMap(ctx)
}
