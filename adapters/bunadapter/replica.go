package bunadapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/authhero-go/authhero/adapters"
)

// Defaults of ReplicaOptions.
const (
	// DefaultReplicaTimeout bounds one read on the replica.
	DefaultReplicaTimeout = time.Second
	// DefaultReplicaRetryInterval is how often a replica that failed is
	// probed until it answers again.
	DefaultReplicaRetryInterval = 5 * time.Second
)

// OpenOption configures Open.
type OpenOption func(*openOptions)

type openOptions struct {
	replicaDSN string
	replica    ReplicaOptions
}

// WithReplica gives Open the URL of a read replica of the database (a
// PostgreSQL streaming replica, an Aurora reader or Aurora Global secondary
// region, a MySQL or PlanetScale replica), in the same URL forms and of the
// same dialect as the primary's. An empty dsn means no replica, so
// WithReplica(os.Getenv("DATABASE_REPLICA_URL")) works unconditionally.
//
// The configuration reads that tolerate replication lag run on the replica
// when they are not part of a transaction:
//
//   - Tenants.Get
//   - Clients.Get and GetByClientID
//   - ClientGrants.List
//   - Connections.Get, GetByName and List
//   - ResourceServers.Get, GetByIdentifier and List
//   - Keys.Get and List (the signing keys JWKS publishes and tokens are
//     signed and verified with; creating, rotating and revoking keys
//     re-read them on the primary under a lock)
//   - CustomDomains.GetByDomain and List
//
// Everything else runs on the primary: every write, every read inside a
// transaction (DataAdapters.Transaction and the adapter's own
// read-modify-write updates), and every other read, among them codes and
// their consumption, refresh tokens and their rotation, sessions, login
// transactions, users and passwords.
//
// A point lookup the replica answers with adapters.ErrNotFound, and a key
// list it answers empty, is read again on the primary, so that an entity
// created a moment ago is found while the replica catches up; the other
// lists may lag. When the replica fails or does not answer within
// ReplicaOptions.Timeout, the read runs on the primary and the replica is
// left out until a background probe (every ReplicaOptions.RetryInterval)
// reaches it again: an unreachable replica costs at most one Timeout, and
// only to the reads already in flight when it went away. A replica that
// cannot be reached when Open runs does not fail Open; it starts left out.
func WithReplica(dsn string) OpenOption {
	return func(o *openOptions) { o.replicaDSN = dsn }
}

// WithReplicaOptions tunes the replica given by WithReplica.
func WithReplicaOptions(ro ReplicaOptions) OpenOption {
	return func(o *openOptions) { o.replica = ro }
}

// ReplicaOptions tunes how an adapter uses its read replica.
type ReplicaOptions struct {
	// Timeout bounds one read on the replica, connecting included; a read
	// that takes longer is run on the primary instead. Zero:
	// DefaultReplicaTimeout.
	Timeout time.Duration
	// RetryInterval is how often a replica that failed is probed; its reads
	// go to the primary until a probe succeeds. Zero:
	// DefaultReplicaRetryInterval.
	RetryInterval time.Duration
	// Logger receives a warning when the replica is left out and a notice
	// when it is back. Zero: slog.Default().
	Logger *slog.Logger
}

// ReplicaStats are the counters of an adapter's read replica.
type ReplicaStats struct {
	// Configured is false when the adapter has no replica (all else is zero).
	Configured bool
	// Healthy is false while the replica is left out after a failure.
	Healthy bool
	// Reads are routed reads the replica answered.
	Reads uint64
	// Misses are routed reads the replica answered "not found" (or, for a
	// key list, empty) that were read again on the primary.
	Misses uint64
	// Fallbacks are routed reads run on the primary because the replica
	// failed, timed out or was left out.
	Fallbacks uint64
	// LastError is the replica's last failure, if any.
	LastError string
}

// replica is an adapter's read replica and its health.
type replica struct {
	db      *bun.DB
	owned   bool // opened by Open: closed with the adapter
	timeout time.Duration
	retry   time.Duration
	log     *slog.Logger

	down                     atomic.Bool
	reads, misses, fallbacks atomic.Uint64

	mu      sync.Mutex
	lastErr string
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// UseReplica makes db, a handle on a read replica of the adapter's database
// that the caller owns (Close leaves it open), serve the reads that
// tolerate lag; see WithReplica. Call it before the adapter is used. The
// replica is assumed reachable; the first failure starts the probes.
func (a *Adapter) UseReplica(db *bun.DB, o ReplicaOptions) error {
	if db == nil {
		return errors.New("bunadapter: UseReplica needs a database handle")
	}
	return a.attachReplica(db, false, o)
}

func (a *Adapter) attachReplica(db *bun.DB, owned bool, o ReplicaOptions) error {
	got := map[string]string{"pg": Postgres, "mysql": MySQL}[db.Dialect().Name().String()]
	if got == "" {
		got = SQLite
	}
	if got != a.d.name {
		return fmt.Errorf("bunadapter: the replica is %s but the primary is %s", got, a.d.name)
	}
	if a.rep != nil {
		return errors.New("bunadapter: the adapter already has a replica")
	}
	r := &replica{db: db, owned: owned, timeout: o.Timeout, retry: o.RetryInterval, log: o.Logger, stop: make(chan struct{})}
	if r.timeout <= 0 {
		r.timeout = DefaultReplicaTimeout
	}
	if r.retry <= 0 {
		r.retry = DefaultReplicaRetryInterval
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	a.rep = r
	return nil
}

// openReplica opens the replica of Open. Only a bad URL or a dialect other
// than the primary's is an error; an unreachable replica starts left out.
func (a *Adapter) openReplica(ctx context.Context, dsn string, o ReplicaOptions) error {
	sqldb, d, err := openSQL(dsn)
	if err != nil {
		return fmt.Errorf("bunadapter: replica: %w", err)
	}
	db := bun.NewDB(sqldb, d)
	if err := a.attachReplica(db, true, o); err != nil {
		db.Close()
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, a.rep.timeout)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		a.rep.fail(fmt.Errorf("connect %s: %w", redact(dsn), err))
	}
	return nil
}

// Replica returns the read replica's handle, or nil without one.
func (a *Adapter) Replica() *bun.DB {
	if a.rep == nil {
		return nil
	}
	return a.rep.db
}

// ReplicaStats returns the counters of the adapter's read replica.
func (a *Adapter) ReplicaStats() ReplicaStats {
	r := a.rep
	if r == nil {
		return ReplicaStats{}
	}
	r.mu.Lock()
	last := r.lastErr
	r.mu.Unlock()
	return ReplicaStats{Configured: true, Healthy: !r.down.Load(), Reads: r.reads.Load(), Misses: r.misses.Load(),
		Fallbacks: r.fallbacks.Load(), LastError: last}
}

// fail leaves the replica out and starts probing it.
func (r *replica) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err.Error()
	if r.closed || r.down.Load() {
		return
	}
	r.down.Store(true)
	r.log.Warn("bunadapter: read replica unavailable; its reads go to the primary", "err", err, "retry_every", r.retry)
	r.wg.Add(1)
	go r.probe()
}

// probe pings the replica every retry interval until it answers.
func (r *replica) probe() {
	defer r.wg.Done()
	t := time.NewTicker(r.retry)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		var one int
		err := r.db.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		cancel()
		r.mu.Lock()
		if err == nil {
			r.down.Store(false)
			r.mu.Unlock()
			r.log.Info("bunadapter: read replica is back")
			return
		}
		r.lastErr = err.Error()
		r.mu.Unlock()
	}
}

// close stops the probes and closes the replica if Open opened it.
func (r *replica) close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.stop)
	r.mu.Unlock()
	r.wg.Wait()
	if r.owned {
		return r.db.Close()
	}
	return nil
}

// notFound is the miss rule of point lookups.
func notFound[T any](_ T, err error) bool { return errors.Is(err, adapters.ErrNotFound) }

// never is the miss rule of lists: an empty list is an answer.
func never[T any](T, error) bool { return false }

// lagged runs read, a read that tolerates replication lag, on the replica
// when the adapter has a healthy one and c is not a transaction; otherwise,
// when the replica fails or times out, or when miss says its answer may be
// too old to be missing something, on c.
func lagged[T any](ctx context.Context, c *conn, miss func(T, error) bool, read func(context.Context, *conn) (T, error)) (T, error) {
	r := c.a.rep
	if r == nil || c.tx {
		return read(ctx, c)
	}
	if r.down.Load() {
		r.fallbacks.Add(1)
		return read(ctx, c)
	}
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	v, err := read(rctx, &conn{a: c.a, x: r.db.DB})
	cancel()
	switch {
	case miss(v, err):
		r.reads.Add(1)
		r.misses.Add(1)
		return read(ctx, c)
	case err == nil:
		r.reads.Add(1)
		return v, nil
	case ctx.Err() != nil:
		return v, err // the caller gave up: not the replica's fault
	}
	r.fail(err)
	r.fallbacks.Add(1)
	return read(ctx, c)
}
