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

// Run writes queued entries until ctx is done, then drains what is left and
// returns. Entries waiting together are written in one transaction (at most
// 256 at a time), which keeps the cost per entry low under load.
func (q *AuditQueue) Run(ctx context.Context) {
	batch := make([]auditItem, 0, 256)
	for {
		select {
		case it := <-q.ch:
			batch = q.fill(append(batch[:0], it))
			q.write(batch)
		case <-ctx.Done():
			for {
				batch = q.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				q.write(batch)
			}
		}
	}
}

// fill adds the entries already waiting, up to the batch's capacity.
func (q *AuditQueue) fill(batch []auditItem) []auditItem {
	for len(batch) < cap(batch) {
		select {
		case it := <-q.ch:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// write stores a batch in one transaction (bounded by 5 s); if that fails,
// entry by entry, so one bad entry does not lose the others.
func (q *AuditQueue) write(batch []auditItem) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := q.data.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		for _, it := range batch {
			if _, err := tx.Logs.Create(ctx, it.tenantID, it.l); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	for _, it := range batch {
		if _, err := q.data.Logs.Create(ctx, it.tenantID, it.l); err != nil {
			q.log.Warn("oauth: cannot write log", "type", it.l.Type, "err", err)
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
