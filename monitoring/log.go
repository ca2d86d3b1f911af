package monitoring

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps next so that every record carries provider (when not
// empty) and, when logged with a request's context, its request_id and, when
// traced, its trace_id and span_id. Attributes added with WithGroup nest
// these too.
func LogHandler(next slog.Handler, provider string) slog.Handler {
	if provider != "" {
		next = next.WithAttrs([]slog.Attr{slog.String("provider", provider)})
	}
	return logHandler{next}
}

// Logger returns l with LogHandler's attributes for this Monitor's provider.
func (m *Monitor) Logger(l *slog.Logger) *slog.Logger {
	return slog.New(LogHandler(l.Handler(), m.provider))
}

type logHandler struct{ next slog.Handler }

func (h logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if rq := FromContext(ctx); rq != nil && rq.ID != "" {
		r.AddAttrs(slog.String("request_id", rq.ID))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler { return logHandler{h.next.WithAttrs(as)} }

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.next.WithGroup(name)} }
