package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// AuditQueue writes audit log entries in the background, so the token
// endpoint's hottest path (client_credentials, which otherwise touches no
// database row) does not wait for an insert. Entries are written in order by
// one goroutine; when the queue is full an entry is dropped and reported to
// the operational logger rather than slowing requests down.
type AuditQueue struct {
	data *adapters.DataAdapters
	log  *slog.Logger
	ch   chan auditItem

	dropped  atomic.Uint64
	lastWarn atomic.Int64 // Unix seconds of the last "dropped" warning
}

type auditItem struct {
	tenantID string
	l        adapters.Log
}

// NewAuditQueue returns a queue of size entries writing to data.
func NewAuditQueue(data *adapters.DataAdapters, logger *slog.Logger, size int) *AuditQueue {
	if logger == nil {
		logger = slog.Default()
	}
	return &AuditQueue{data: data, log: logger, ch: make(chan auditItem, size)}
}

// Run writes queued entries until ctx is done, then drains what is left
// (each write bounded by 5 s) and returns.
func (q *AuditQueue) Run(ctx context.Context) {
	write := func(it auditItem) {
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := q.data.Logs.Create(wctx, it.tenantID, it.l); err != nil {
			q.log.Warn("oauth: cannot write log", "type", it.l.Type, "err", err)
		}
	}
	for {
		select {
		case it := <-q.ch:
			write(it)
		case <-ctx.Done():
			for {
				select {
				case it := <-q.ch:
					write(it)
				default:
					return
				}
			}
		}
	}
}

// add queues an entry, dropping it when the queue is full.
func (q *AuditQueue) add(tenantID string, l adapters.Log) {
	select {
	case q.ch <- auditItem{tenantID: tenantID, l: l}:
	default:
		n := q.dropped.Add(1)
		now := time.Now().Unix()
		if last := q.lastWarn.Load(); now > last && q.lastWarn.CompareAndSwap(last, now) {
			q.log.Warn("oauth: audit queue full, log entries dropped", "dropped_total", n)
		}
	}
}

// eventAsync is event through the AuditQueue when there is one.
func (s *Server) eventAsync(r *http.Request, typ string, l adapters.Log) {
	if s.Audit == nil {
		s.event(r, typ, l)
		return
	}
	ti := tenantOf(r)
	if ti == nil {
		return
	}
	s.Audit.add(ti.ID(), s.stamp(r, ti.Host, typ, l))
}
