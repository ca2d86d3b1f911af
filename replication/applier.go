package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// Outcomes of Applier.Apply.
const (
	// OutcomeApplied: the event's state was written.
	OutcomeApplied = bunadapter.Applied
	// OutcomeDuplicate: the event id was applied before; nothing changed.
	OutcomeDuplicate = bunadapter.Duplicate
	// OutcomeStale: the target's version of the row wins; nothing changed.
	OutcomeStale = bunadapter.Stale
	// OutcomeSkipped: the event came from the applier's own origin.
	OutcomeSkipped = "skipped"
	// OutcomeDeadLetter: the event failed every attempt and was stored as a
	// dead letter.
	OutcomeDeadLetter = "dead_letter"
)

// DeadLetter is an event that could not be applied, with the last error.
type DeadLetter = bunadapter.DeadLetter

// Applier applies replicated events to Target idempotently. Use one Applier
// per target; its methods are safe for concurrent use.
type Applier struct {
	// Target is the database events are applied to.
	Target *bunadapter.Adapter
	// Origin is the target's own origin id; events from it are skipped. It
	// must be set in two-way setups where one stream carries every origin.
	Origin string
	// Resolver decides conflicts; nil means LastWriterWins.
	Resolver Resolver
	// Attempts is how many times an event is tried before it becomes a dead
	// letter (default 3). Invalid events and conflicts are not retried.
	Attempts int
	// Logger receives dead letters and consumer errors; nil discards them.
	Logger *slog.Logger

	mu    sync.Mutex
	stats ApplierStats
	lags  []time.Duration // ring of the last lagWindow lags
	next  int
}

// lagWindow is how many recent lags the percentiles cover.
const lagWindow = 4096

// ApplierStats are an applier's counters and replication lag.
type ApplierStats struct {
	// Applied, Duplicates, Stale, Skipped and DeadLettered count events by
	// outcome (OutcomeApplied, ...).
	Applied, Duplicates, Stale, Skipped, DeadLettered uint64
	// Failed counts events that could be neither applied nor stored as dead
	// letters (the target was unreachable); they are redelivered.
	Failed uint64
	// LastLag is now minus the event's RecordedAt at the last apply; LagP50,
	// LagP99 and LagMax cover the last 4096 applied or stale events.
	LastLag, LagP50, LagP99, LagMax time.Duration
	// LastApplied is when an event was last applied.
	LastApplied time.Time
}

// Stats returns the applier's counters and lag percentiles.
func (ap *Applier) Stats() ApplierStats {
	ap.mu.Lock()
	s := ap.stats
	lags := slices.Clone(ap.lags)
	ap.mu.Unlock()
	if len(lags) > 0 {
		slices.Sort(lags)
		s.LagP50 = lags[(len(lags)-1)*50/100]
		s.LagP99 = lags[(len(lags)-1)*99/100]
		s.LagMax = lags[len(lags)-1]
	}
	return s
}

func (ap *Applier) resolver() func(incoming, current Version) bool {
	if ap.Resolver != nil {
		return ap.Resolver
	}
	return bunadapter.LastWriterWins
}

func (ap *Applier) count(outcome string, ev *Event) {
	ap.mu.Lock()
	defer ap.mu.Unlock()
	switch outcome {
	case OutcomeApplied:
		ap.stats.Applied++
		ap.stats.LastApplied = time.Now()
	case OutcomeDuplicate:
		ap.stats.Duplicates++
		return
	case OutcomeStale:
		ap.stats.Stale++
	case OutcomeSkipped:
		ap.stats.Skipped++
		return
	case OutcomeDeadLetter:
		ap.stats.DeadLettered++
		return
	}
	lag := time.Since(ev.RecordedAt)
	ap.stats.LastLag = lag
	if len(ap.lags) < lagWindow {
		ap.lags = append(ap.lags, lag)
	} else {
		ap.lags[ap.next] = lag
		ap.next = (ap.next + 1) % lagWindow
	}
}

// permanent reports errors that another attempt cannot fix.
func permanent(err error) bool {
	return errors.Is(err, adapters.ErrInvalid) || errors.Is(err, adapters.ErrConflict)
}

// Apply applies one event and returns its outcome. An event that fails
// every attempt is stored as a dead letter (OutcomeDeadLetter, nil error);
// an error means it could not even be stored, and the caller should deliver
// it again later.
func (ap *Applier) Apply(ctx context.Context, ev Event) (string, error) {
	if ap.Origin != "" && ev.Origin == ap.Origin {
		ap.count(OutcomeSkipped, &ev)
		return OutcomeSkipped, nil
	}
	attempts := ap.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(time.Duration(50<<i) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", ctx.Err()
			case <-t.C:
			}
		}
		var out string
		if out, err = ap.Target.Changes().Apply(ctx, ev, ap.resolver()); err == nil {
			ap.count(out, &ev)
			return out, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		if permanent(err) {
			break
		}
	}
	if derr := ap.Target.Changes().AddDeadLetter(ctx, ev, err); derr != nil {
		ap.mu.Lock()
		ap.stats.Failed++
		ap.mu.Unlock()
		return "", fmt.Errorf("replication: apply %s %s: %w (and storing it as a dead letter: %v)", ev.Entity, ev.ID, err, derr)
	}
	ap.count(OutcomeDeadLetter, &ev)
	if ap.Logger != nil {
		ap.Logger.Error("replication: event stored as a dead letter", "id", ev.ID, "entity", ev.Entity, "tenant", ev.TenantID, "key", ev.Key, "err", err)
	}
	return OutcomeDeadLetter, nil
}

// ApplyBatch applies events in order in one transaction, so that a burst
// costs one commit on the target; if that fails, it applies them one by one
// with Apply, so a bad event costs its batch the group commit, not the other
// events. It returns each event's outcome, "" for those that failed (deliver
// them again), and the first such failure.
func (ap *Applier) ApplyBatch(ctx context.Context, evs []Event) ([]string, error) {
	out := make([]string, len(evs))
	var todo []int
	for i := range evs {
		if ap.Origin != "" && evs[i].Origin == ap.Origin {
			out[i] = OutcomeSkipped
			ap.count(OutcomeSkipped, &evs[i])
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) > 1 {
		batch := make([]Event, len(todo))
		for j, i := range todo {
			batch[j] = evs[i]
		}
		if res, err := ap.Target.Changes().ApplyBatch(ctx, batch, ap.resolver()); err == nil {
			for j, i := range todo {
				out[i] = res[j]
				ap.count(res[j], &evs[i])
			}
			return out, nil
		}
	}
	var first error
	for _, i := range todo {
		o, err := ap.Apply(ctx, evs[i])
		out[i] = o
		if err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

// DeadLetters returns up to limit stored dead letters, oldest first.
func (ap *Applier) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	return ap.Target.Changes().DeadLetters(ctx, limit)
}

// Retry applies the stored dead letters again (after the cause was fixed):
// those that apply now are removed, the others stay with one more attempt
// counted. It returns how many it removed.
func (ap *Applier) Retry(ctx context.Context) (int, error) {
	log := ap.Target.Changes()
	done := 0
	for {
		dls, err := log.DeadLetters(ctx, 500)
		if err != nil {
			return done, err
		}
		progress := false
		for _, d := range dls {
			out, err := log.Apply(ctx, d.Event, ap.resolver())
			if err != nil {
				if err := log.AddDeadLetter(ctx, d.Event, err); err != nil {
					return done, err
				}
				continue
			}
			if err := log.RemoveDeadLetter(ctx, d.Event.ID); err != nil {
				return done, err
			}
			ap.count(out, &d.Event)
			done++
			progress = true
		}
		if len(dls) < 500 || !progress {
			return done, nil
		}
	}
}
