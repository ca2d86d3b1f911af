// Package cache is a read-through, in-process cache decorator over any
// [adapters.DataAdapters]. It serves the hot reads of the token endpoint and
// of tenant resolution (tenant, client, client grant, resource server,
// connection, signing key and custom-domain lookups) from memory and passes
// everything else through:
//
//	data := cache.New(sqlAdapters, cache.Options{})
//
// Writes made through the decorated adapters (also inside
// DataAdapters.Transaction) invalidate the affected entries of this process
// at once. Writes made by another process, or through the undecorated
// adapters, become visible when the entries expire, after at most
// [Options.TTL]. Reads inside a transaction bypass the cache.
//
// The cached methods are Tenants.Get; Clients.Get and GetByClientID;
// ClientGrants.List with both ClientID and Audience set and zero ListParams
// (the token endpoint's lookup); ResourceServers.Get and GetByIdentifier;
// Connections.Get and GetByName; Keys.Get and List; and
// CustomDomains.GetByDomain. A write drops, in its tenant, every cached
// lookup of the written kind of entity (a client write also drops the
// tenant's grant lookups, as deleting a client deletes its grants) together
// with the kind's cached not-founds; deleting a tenant drops everything
// cached of it. Global lookups are dropped with the tenant of the entity they
// found.
//
// Every entity the cache returns is a deep copy: callers may modify it
// freely. Only a successful result is cached, except that ErrNotFound of the
// global lookups (Tenants.Get, Clients.GetByClientID,
// CustomDomains.GetByDomain) is cached for [Options.NegativeTTL] so that
// requests for unknown hosts or clients do not reach the database every time.
// Concurrent misses for the same entry share one load.
package cache

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Defaults applied to zero Options fields.
const (
	// DefaultTTL is the TTL of a zero Options.TTL.
	DefaultTTL = 30 * time.Second
	// DefaultNegativeTTL is the NegativeTTL of a zero Options.NegativeTTL.
	DefaultNegativeTTL = 5 * time.Second
	// DefaultMaxEntries is the MaxEntries of a zero Options.MaxEntries.
	DefaultMaxEntries = 10000
)

// Options configures New. The zero value is ready to use.
type Options struct {
	// TTL is how long a successful lookup is served from memory. It bounds
	// how long a write made by another instance (or past this decorator)
	// can go unseen; writes through this decorator invalidate at once.
	// Zero (or negative) means DefaultTTL, 30 seconds.
	TTL time.Duration
	// NegativeTTL is how long an ErrNotFound of Tenants.Get,
	// Clients.GetByClientID and CustomDomains.GetByDomain is remembered, so
	// that unknown hosts and client ids do not hammer the database. Zero
	// means DefaultNegativeTTL, 5 seconds; a negative value disables negative
	// caching.
	NegativeTTL time.Duration
	// MaxEntries bounds the number of cached lookups; beyond it the least
	// recently used entry is evicted. Zero (or negative) means
	// DefaultMaxEntries, 10000.
	MaxEntries int
	// Now returns the current time and drives expiry (tests set it to a fake
	// clock). Nil means time.Now.
	Now func() time.Time
}

// New returns a copy of next whose Tenants, Clients, ClientGrants,
// ResourceServers, Connections, Keys and CustomDomains adapters read through
// one shared cache, and whose Transaction hands fn adapters decorated the same
// way (reads inside the transaction bypass the cache; its writes invalidate).
// Every other field of next is passed through unchanged; nil fields stay nil.
// next must not be nil.
func New(next *adapters.DataAdapters, opts Options) *adapters.DataAdapters {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.NegativeTTL == 0 {
		opts.NegativeTTL = DefaultNegativeTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &store{
		opts:    opts,
		lru:     list.New(),
		entries: map[key]*list.Element{},
		tags:    map[tag]map[key]struct{}{},
		flights: map[key]*flight{},
	}
	return decorate(next, s, nil)
}

// Stats reports how many lookups the cache of d answered without a load
// (hits: a fresh entry, or a share of a load another caller had already
// started) and how many loads it made from the underlying adapters (misses).
// Reads inside a transaction and uncached methods count as neither. The
// counters are shared by all adapters of one New and only grow. ok is false
// when d was not made by New (or handed out by its Transaction).
func Stats(d *adapters.DataAdapters) (hits, misses uint64, ok bool) {
	s := storeOf(d)
	if s == nil {
		return 0, 0, false
	}
	return s.hits.Load(), s.misses.Load(), true
}

// storeOf finds the cache behind any decorated field of d.
func storeOf(d *adapters.DataAdapters) *store {
	if d == nil {
		return nil
	}
	for _, f := range []any{d.Tenants, d.Clients, d.ClientGrants, d.ResourceServers, d.Connections, d.Keys, d.CustomDomains} {
		if b, ok := f.(interface{ cacheStore() *store }); ok {
			return b.cacheStore()
		}
	}
	return nil
}

// group is an invalidation group: the cached lookups of one kind of entity.
type group uint8

const (
	gTenant group = iota
	gClient
	gGrant
	gConnection
	gResourceServer
	gKey
	gDomain
	numGroups
)

// kind names the cached method; it keeps keys of different methods apart.
type kind uint8

const (
	kTenant kind = iota
	kClient
	kClientByID
	kGrantLookup
	kConnection
	kConnectionByName
	kResourceServer
	kResourceServerByIdentifier
	kKey
	kKeyList
	kDomain
)

// key identifies one cached lookup: the method and its arguments. tenant is
// empty for the global lookups.
type key struct {
	kind   kind
	tenant string
	a, b   string
}

// tag is what writes invalidate: every entry of a group that belongs to a
// tenant. Entries of global lookups are tagged with the tenant of the entity
// they found, and negative entries with the empty tenant.
type tag struct {
	g      group
	tenant string
}

// entry is one cached result: a private copy of the value, or a cached
// ErrNotFound.
type entry struct {
	k   key
	tg  tag
	val any
	err error
	exp time.Time
}

// flight is a load in progress that concurrent misses of the same key wait
// for.
type flight struct {
	done chan struct{}
	val  any // private copy; nil when err is set
	err  error
}

// store is the cache shared by the decorated adapters of one New.
type store struct {
	opts Options

	mu      sync.Mutex
	lru     *list.List // of *entry, most recently used first
	entries map[key]*list.Element
	tags    map[tag]map[key]struct{}
	flights map[key]*flight
	// epoch counts invalidations. A load stores its result only if no
	// invalidation happened while it ran, so a value read before a write
	// cannot be cached after the write's invalidation.
	epoch uint64

	hits, misses atomic.Uint64
}

// inval names what one write invalidates.
type inval struct {
	tags []tag
	keys []key
}

// tenantTags returns the tags of every group of tenant t.
func tenantTags(t string) []tag {
	out := make([]tag, 0, numGroups)
	for g := range numGroups {
		out = append(out, tag{g, t})
	}
	return out
}

// invalidate drops the entries iv names, makes loads in progress unable to
// store their results and lets later readers start fresh loads.
func (s *store) invalidate(iv inval) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	clear(s.flights)
	for _, tg := range iv.tags {
		for k := range s.tags[tg] {
			s.remove(s.entries[k])
		}
	}
	for _, k := range iv.keys {
		if el, ok := s.entries[k]; ok {
			s.remove(el)
		}
	}
}

// remove drops one entry; s.mu is held.
func (s *store) remove(el *list.Element) {
	if el == nil {
		return
	}
	e := s.lru.Remove(el).(*entry)
	delete(s.entries, e.k)
	if set := s.tags[e.tg]; set != nil {
		delete(set, e.k)
		if len(set) == 0 {
			delete(s.tags, e.tg)
		}
	}
}

// insert stores e, evicting the least recently used entries beyond
// MaxEntries; s.mu is held.
func (s *store) insert(e *entry) {
	if el, ok := s.entries[e.k]; ok {
		s.remove(el)
	}
	s.entries[e.k] = s.lru.PushFront(e)
	set := s.tags[e.tg]
	if set == nil {
		set = map[key]struct{}{}
		s.tags[e.tg] = set
	}
	set[e.k] = struct{}{}
	for s.lru.Len() > s.opts.MaxEntries {
		s.remove(s.lru.Back())
	}
}

// errLoadPanicked is what callers sharing a load see when it panicked.
var errLoadPanicked = errors.New("cache: the shared load panicked")

// lookup describes one cached read.
type lookup[T any] struct {
	key key
	g   group
	// negative caches ErrNotFound for NegativeTTL.
	negative bool
	// tenantOf returns the tenant a found value belongs to; nil means
	// key.tenant.
	tenantOf func(T) string
	clone    func(T) T
	load     func(ctx context.Context) (T, error)
}

// read serves l from the cache, or loads it once for all concurrent callers
// and caches the result.
func read[T any](ctx context.Context, s *store, l lookup[T]) (T, error) {
	var zero T
	for {
		now := s.opts.Now()
		s.mu.Lock()
		if el, ok := s.entries[l.key]; ok {
			e := el.Value.(*entry)
			if now.Before(e.exp) {
				s.lru.MoveToFront(el)
				s.mu.Unlock()
				s.hits.Add(1)
				if e.err != nil {
					return zero, e.err
				}
				return l.clone(e.val.(T)), nil
			}
			s.remove(el)
		}
		if f, ok := s.flights[l.key]; ok {
			s.mu.Unlock()
			s.hits.Add(1)
			select {
			case <-f.done:
			case <-ctx.Done():
				return zero, ctx.Err()
			}
			if f.err != nil {
				// The loader's own context ended; ours has not: load again.
				if isContextErr(f.err) && ctx.Err() == nil {
					continue
				}
				return zero, f.err
			}
			return l.clone(f.val.(T)), nil
		}
		f := &flight{done: make(chan struct{})}
		s.flights[l.key] = f
		epoch := s.epoch
		s.mu.Unlock()
		s.misses.Add(1)
		return complete(ctx, s, l, f, epoch)
	}
}

// complete runs the load of flight f, publishes its result to the callers
// waiting on f and caches it unless an invalidation happened meanwhile.
func complete[T any](ctx context.Context, s *store, l lookup[T], f *flight, epoch uint64) (v T, err error) {
	finished := false
	defer func() {
		if finished {
			return
		}
		// load (or clone) panicked: release the waiters, then let the
		// panic go on.
		s.mu.Lock()
		if s.flights[l.key] == f {
			delete(s.flights, l.key)
		}
		f.err = errLoadPanicked
		close(f.done)
		s.mu.Unlock()
	}()
	v, err = l.load(ctx)

	var (
		priv any
		ttl  time.Duration
	)
	switch {
	case err == nil:
		priv, ttl = l.clone(v), s.opts.TTL
	case l.negative && s.opts.NegativeTTL > 0 && errors.Is(err, adapters.ErrNotFound):
		ttl = s.opts.NegativeTTL
	}
	now := s.opts.Now()

	finished = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flights[l.key] == f {
		delete(s.flights, l.key)
	}
	f.val, f.err = priv, err
	close(f.done)
	if ttl > 0 && s.epoch == epoch {
		e := &entry{k: l.key, tg: tag{l.g, ""}, val: priv, exp: now.Add(ttl)}
		if err != nil {
			e.err = err
		} else if l.tenantOf != nil {
			e.tg.tenant = l.tenantOf(v)
		} else {
			e.tg.tenant = l.key.tenant
		}
		s.insert(e)
	}
	return v, err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// txState collects the invalidations of the writes made inside one
// transaction, to repeat them when the transaction has returned.
type txState struct {
	parent *txState
	mu     sync.Mutex
	done   []inval
}

// record remembers iv in t and every enclosing transaction.
func (t *txState) record(iv inval) {
	for ; t != nil; t = t.parent {
		t.mu.Lock()
		t.done = append(t.done, iv)
		t.mu.Unlock()
	}
}

// replay invalidates again everything the transaction's writes touched.
func (t *txState) replay(s *store) {
	t.mu.Lock()
	var all inval
	for _, iv := range t.done {
		all.tags = append(all.tags, iv.tags...)
		all.keys = append(all.keys, iv.keys...)
	}
	t.done = nil
	t.mu.Unlock()
	if len(all.tags)+len(all.keys) > 0 {
		s.invalidate(all)
	}
}

// decorate returns a copy of d with the cached adapters wrapped. tx is nil
// outside a transaction.
func decorate(d *adapters.DataAdapters, s *store, tx *txState) *adapters.DataAdapters {
	out := *d
	b := base{s: s, tx: tx}
	if d.Tenants != nil {
		out.Tenants = &tenants{base: b, next: d.Tenants}
	}
	if d.Clients != nil {
		out.Clients = &clients{base: b, next: d.Clients}
	}
	if d.ClientGrants != nil {
		out.ClientGrants = &clientGrants{base: b, next: d.ClientGrants}
	}
	if d.ResourceServers != nil {
		out.ResourceServers = &resourceServers{base: b, next: d.ResourceServers}
	}
	if d.Connections != nil {
		out.Connections = &connections{base: b, next: d.Connections}
	}
	if d.Keys != nil {
		out.Keys = &keys{base: b, next: d.Keys}
	}
	if d.CustomDomains != nil {
		out.CustomDomains = &customDomains{base: b, next: d.CustomDomains}
	}
	if next := d.Transaction; next != nil {
		out.Transaction = func(ctx context.Context, fn func(ctx context.Context, tx *adapters.DataAdapters) error) error {
			ts := &txState{parent: tx}
			defer ts.replay(s)
			return next(ctx, func(ctx context.Context, inner *adapters.DataAdapters) error {
				return fn(ctx, decorate(inner, s, ts))
			})
		}
	}
	return &out
}

// base is what every decorated adapter shares.
type base struct {
	s  *store
	tx *txState // non-nil inside a transaction
}

func (b base) cacheStore() *store { return b.s }

// inTx reports whether reads must bypass the cache.
func (b base) inTx() bool { return b.tx != nil }

// written invalidates after a write, and records the invalidation to repeat
// it when the enclosing transaction returns.
func (b base) written(iv inval) {
	b.s.invalidate(iv)
	b.tx.record(iv)
}
