package replication

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// Event is one change event: the wire format between relays and appliers.
type Event = bunadapter.ChangeEvent

// Version is what a Resolver compares: the last write known for a row.
type Version = bunadapter.Version

// Resolver decides a conflict: it reports whether incoming replaces the
// row's current version. It must be deterministic and agree on every
// database, or two-way setups do not converge.
type Resolver func(incoming, current Version) bool

// LastWriterWins is the default Resolver: the later UpdatedAt wins, then
// the greater origin id; an equal version does not replace.
func LastWriterWins(incoming, current Version) bool {
	return bunadapter.LastWriterWins(incoming, current)
}

// Publisher delivers events to the other side. Publish returns nil only once
// the transport has accepted the event; it may deliver an event more than
// once (appliers de-duplicate by event id).
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
	Close() error
}

// Relay publishes the change events recorded in Source: it reads unsent
// events in order, publishes each through Publisher, and marks them sent.
// An event is marked only after Publish succeeded, so a crash in between
// publishes it again: delivery is at least once.
type Relay struct {
	// Source is the database whose change_events outbox is published.
	Source *bunadapter.Adapter
	// Publisher delivers the events.
	Publisher Publisher
	// Batch is how many events one read takes (default 100).
	Batch int
	// Interval is how often Run looks for new events (default 250ms). Writes
	// made through Source itself wake it at once.
	Interval time.Duration
	// MaxBackoff caps the wait after failed publishes (default 10s).
	MaxBackoff time.Duration
	// Retain is how long Run keeps sent events and applied-event ids in
	// Source before pruning them, hourly (default 7 days; negative keeps
	// everything). Versions are never pruned.
	Retain time.Duration
	// Logger receives publish failures; nil discards them.
	Logger *slog.Logger

	mu    sync.Mutex
	stats RelayStats
}

// RelayStats are a relay's counters.
type RelayStats struct {
	// Published counts events published and marked sent.
	Published uint64
	// Failures counts failed publish passes.
	Failures uint64
	// Backlog is the number of unsent events at the end of the last pass.
	Backlog int
	// LastError is the last publish error, "" after a successful pass.
	LastError string
	// LastPublished is when an event was last published.
	LastPublished time.Time
}

// Stats returns the relay's counters.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Relay) batch() int {
	if r.Batch > 0 {
		return r.Batch
	}
	return 100
}

// Flush publishes every event that is unsent when it starts (and those
// recorded meanwhile) and returns how many it published. It stops at the
// first publish error; the events from there on stay unsent.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	log := r.Source.Changes()
	total := 0
	defer func() {
		if n, err := log.Backlog(ctx); err == nil {
			r.mu.Lock()
			r.stats.Backlog = n
			r.mu.Unlock()
		}
	}()
	for {
		evs, err := log.Pending(ctx, r.batch())
		if err != nil {
			r.fail(err)
			return total, err
		}
		sent := make([]string, 0, len(evs))
		var perr error
		for _, ev := range evs {
			if perr = r.Publisher.Publish(ctx, ev); perr != nil {
				break
			}
			sent = append(sent, ev.ID)
		}
		if err := log.MarkSent(ctx, sent); err != nil {
			r.fail(err)
			return total, err
		}
		total += len(sent)
		r.mu.Lock()
		r.stats.Published += uint64(len(sent))
		if len(sent) > 0 {
			r.stats.LastPublished = time.Now()
		}
		r.mu.Unlock()
		if perr != nil {
			r.fail(perr)
			return total, perr
		}
		if len(evs) < r.batch() {
			r.mu.Lock()
			r.stats.LastError = ""
			r.mu.Unlock()
			return total, nil
		}
	}
}

func (r *Relay) fail(err error) {
	r.mu.Lock()
	r.stats.Failures++
	r.stats.LastError = err.Error()
	r.mu.Unlock()
}

// Run publishes events until ctx ends, polling every Interval and backing
// off (doubling up to MaxBackoff) while publishing fails. It returns nil
// when ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	maxBackoff := r.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 10 * time.Second
	}
	retain := r.Retain
	if retain == 0 {
		retain = 7 * 24 * time.Hour
	}
	notify := r.Source.Changes().Notify()
	var backoff time.Duration
	var pruned time.Time
	for {
		_, err := r.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if retain > 0 && err == nil && time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if _, err := r.Source.Changes().Prune(ctx, pruned.Add(-retain)); err != nil && r.Logger != nil {
				r.Logger.Warn("replication: pruning the outbox failed", "err", err)
			}
		}
		wait, wake := interval, notify
		if err != nil {
			backoff = min(max(2*backoff, interval), maxBackoff)
			wait, wake = backoff, nil
			if r.Logger != nil {
				r.Logger.Warn("replication: publish failed; events wait in the outbox", "err", err, "retry_in", backoff)
			}
		} else {
			backoff = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}
