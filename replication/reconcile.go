package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// ReconcileReport says what a reconcile pass found and fixed.
type ReconcileReport struct {
	// Compared counts the rows compared.
	Compared int
	// RepairedA and RepairedB count the rows rewritten (or deleted) on each
	// side.
	RepairedA, RepairedB int
	// ByEntity counts repairs per entity.
	ByEntity map[string]int
}

// Reconcile compares two databases row by row for every replicated entity
// (tenants, connections, clients, grants, resource servers, roles and their
// permissions, users with passwords, roles, permissions and memberships,
// organizations, custom domains, signing keys) and repairs drift with
// LastWriterWins; see ReconcileWith.
func Reconcile(ctx context.Context, a, b *bunadapter.Adapter, since time.Time) (ReconcileReport, error) {
	return ReconcileWith(ctx, a, b, since, nil)
}

// ReconcileWith compares the rows that either database changed at or after
// since (by their updated_at or created_at, and by the versions replication
// recorded, deletes included; every row when since is zero; signing keys
// always) and, where the two differ, writes the winner's state over the
// loser's: the winner is the side whose version resolve prefers (nil means
// LastWriterWins); with equal versions (a row changed behind replication's
// back) a wins. A side that lacks a row without a tombstone loses to the
// side that has it. Repairs record no change events. Overlap since with the
// previous pass by more than the clock skew between the databases.
func ReconcileWith(ctx context.Context, a, b *bunadapter.Adapter, since time.Time, resolve Resolver) (ReconcileReport, error) {
	if resolve == nil {
		resolve = LastWriterWins
	}
	rep := ReconcileReport{ByEntity: map[string]int{}}
	type rowKey struct{ tenant, key string }
	changed := map[string]map[rowKey][]string{}
	add := func(entity, tenant string, key []string) {
		kj, _ := json.Marshal(key)
		if changed[entity] == nil {
			changed[entity] = map[rowKey][]string{}
		}
		changed[entity][rowKey{tenant, string(kj)}] = key
	}
	entities := bunadapter.Entities(false)
	for _, side := range []*bunadapter.Adapter{a, b} {
		err := side.Changes().Snapshot(ctx, bunadapter.SnapshotOptions{Entities: entities, Since: since}, func(ev Event) error {
			add(ev.Entity, ev.TenantID, ev.Key)
			return nil
		})
		if err != nil {
			return rep, err
		}
		if !since.IsZero() {
			err = side.Changes().Changed(ctx, since, func(entity, tenant string, key []string) error {
				if !bunadapter.IsTransient(entity) {
					add(entity, tenant, key)
				}
				return nil
			})
			if err != nil {
				return rep, err
			}
		}
	}
	for _, entity := range entities {
		keys := make([]rowKey, 0, len(changed[entity]))
		for k := range changed[entity] {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y rowKey) int {
			if c := bytes.Compare([]byte(x.tenant), []byte(y.tenant)); c != 0 {
				return c
			}
			return bytes.Compare([]byte(x.key), []byte(y.key))
		})
		for _, k := range keys {
			key := changed[entity][k]
			ra, va, err := a.Changes().Current(ctx, entity, k.tenant, key)
			if err != nil {
				return rep, err
			}
			rb, vb, err := b.Changes().Current(ctx, entity, k.tenant, key)
			if err != nil {
				return rep, err
			}
			rep.Compared++
			if (ra == nil && rb == nil) || (ra != nil && rb != nil && bytes.Equal(ra.Data, rb.Data)) {
				continue
			}
			bWins := va == nil || (vb != nil && resolve(*vb, *va))
			row, ver, dst := ra, va, b
			if bWins {
				row, ver, dst = rb, vb, a
			}
			ev := Event{Entity: entity, TenantID: k.tenant, Key: key, Op: bunadapter.OpDelete, UpdatedAt: ver.UpdatedAt, Origin: ver.Origin}
			if row != nil {
				ev.Op, ev.Data = bunadapter.OpUpsert, row.Data
			}
			if err := dst.Changes().Repair(ctx, ev); err != nil {
				return rep, fmt.Errorf("replication: repair %s %s/%v: %w", entity, k.tenant, key, err)
			}
			if bWins {
				rep.RepairedA++
			} else {
				rep.RepairedB++
			}
			rep.ByEntity[entity]++
		}
	}
	return rep, nil
}

// Reconciler runs ReconcileWith periodically, each pass from the previous
// pass's start minus Overlap (the first pass compares everything).
type Reconciler struct {
	// A and B are the databases; A wins ties.
	A, B *bunadapter.Adapter
	// Every is the time between passes (default 5 minutes).
	Every time.Duration
	// Overlap widens each watermark to cover clock skew and long
	// transactions (default 1 minute).
	Overlap time.Duration
	// Resolver decides conflicts; nil means LastWriterWins.
	Resolver Resolver
	// Logger receives pass results and errors; nil discards them.
	Logger *slog.Logger
}

// Run reconciles until ctx ends and returns nil then.
func (r *Reconciler) Run(ctx context.Context) error {
	every, overlap := r.Every, r.Overlap
	if every <= 0 {
		every = 5 * time.Minute
	}
	if overlap <= 0 {
		overlap = time.Minute
	}
	var since time.Time
	for {
		start := time.Now()
		rep, err := ReconcileWith(ctx, r.A, r.B, since, r.Resolver)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if r.Logger != nil {
				r.Logger.Error("replication: reconcile failed", "err", err)
			}
		default:
			since = start.Add(-overlap)
			if r.Logger != nil && rep.RepairedA+rep.RepairedB > 0 {
				r.Logger.Warn("replication: reconcile repaired drift", "compared", rep.Compared, "repaired_a", rep.RepairedA, "repaired_b", rep.RepairedB, "by_entity", rep.ByEntity)
			}
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
