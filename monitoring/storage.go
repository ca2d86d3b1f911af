package monitoring

import (
	"context"
	"errors"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// Data returns d with every per-entity adapter, Transaction and Ping wrapped
// by a thin decorator (storage_gen.go) that, for each call:
//
//   - bounds it: a call made without a context deadline gets the deadline of
//     its request (Request.Deadline, which also covers contexts detached
//     with context.WithoutCancel) or, outside a request, Config.StorageTimeout;
//   - times it into authhero_storage_duration_seconds{store="adapter"};
//   - counts a fault (StorageFailed, authhero_storage_errors_total);
//   - for Logs.Create, counts the audit event by its Auth0 log type, from
//     which logins and code/refresh token exchanges are counted.
//
// Fields d does not have stay nil; Close and fields the decorator does not
// know are copied as they are. Transactions hand the function decorated
// adapters too.
func (m *Monitor) Data(d *adapters.DataAdapters) *adapters.DataAdapters {
	return (&storage{m: m, store: "adapter"}).wrap(d)
}

// Sessions returns s with every call decorated as Data does, under
// store="session". The result implements Unwrapper.
func (m *Monitor) Sessions(s session.Store) session.Store {
	if s == nil {
		return nil
	}
	return timedStore{&storage{m: m, store: "session"}, s}
}

// Unwrapper is implemented by the decorated session store, so that code
// looking for an optional interface of a store can reach the original.
type Unwrapper interface {
	Unwrap() session.Store
}

// Unwrap returns the decorated store.
func (w timedStore) Unwrap() session.Store { return w.next }

// storage is one decorated store.
type storage struct {
	m     *Monitor
	store string
}

func (s *storage) wrap(d *adapters.DataAdapters) *adapters.DataAdapters {
	if d == nil {
		return nil
	}
	out := *d
	s.wrapFields(&out)
	if tx := d.Transaction; tx != nil {
		out.Transaction = func(ctx context.Context, fn func(ctx context.Context, tx *adapters.DataAdapters) error) error {
			ctx, c := s.begin(ctx, "transaction")
			var own error
			err := tx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
				own = fn(ctx, s.wrap(tx))
				return own
			})
			c.endOwn(err, own)
			return err
		}
	}
	if ping := d.Ping; ping != nil {
		out.Ping = func(ctx context.Context) error {
			ctx, c := s.begin(ctx, "ping")
			err := ping(ctx)
			c.end(err)
			return err
		}
	}
	return &out
}

// call is one decorated storage call in progress.
type call struct {
	s      *storage
	op     string
	start  time.Time
	ctx    context.Context
	cancel context.CancelFunc
}

func (s *storage) begin(ctx context.Context, op string) (context.Context, call) {
	c := call{s: s, op: op, start: time.Now()}
	ctx, c.cancel = s.m.bound(ctx)
	c.ctx = ctx
	return ctx, c
}

func (c call) end(err error) { c.endOwn(err, nil) }

// endOwn ends the call; own is the error of the caller's own function
// (mutate, a transaction's fn), which is not the store's fault.
func (c call) endOwn(err, own error) {
	if c.cancel != nil {
		c.cancel()
	}
	m := c.s.m
	m.m.storage.WithLabelValues(c.s.store, c.op).Observe(time.Since(c.start).Seconds())
	if fault(err, own) {
		m.m.storageErrors.WithLabelValues(c.s.store, c.op).Inc()
		if rq := FromContext(c.ctx); rq != nil {
			rq.fault.Store(true)
		}
		m.lastFault.Store(time.Now().UnixNano())
	}
}

// logged counts an audit event written through the decorator.
func (s *storage) logged(tenantID, typ string) { s.m.m.logged(tenantID, typ) }

// bound gives ctx the storage deadline when it has no deadline of its own.
func (m *Monitor) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, nil
	}
	var d time.Time
	if rq := FromContext(ctx); rq != nil && !rq.Deadline.IsZero() {
		d = rq.Deadline
	} else if m.timeout > 0 {
		d = time.Now().Add(m.timeout)
	} else {
		return ctx, nil
	}
	return context.WithDeadline(ctx, d)
}

// fault reports whether err is the store's failure: not nil, not a domain
// error of the port, not the caller's own error and not the caller giving
// up (context.Canceled). A deadline is a fault: the store was too slow.
func fault(err, own error) bool {
	switch {
	case err == nil,
		own != nil && errors.Is(err, own),
		errors.Is(err, adapters.ErrNotFound),
		errors.Is(err, adapters.ErrConflict),
		errors.Is(err, adapters.ErrInvalid),
		errors.Is(err, adapters.ErrConsumed),
		errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// ownErr wraps a caller's mutate function to remember the error it returns.
func ownErr[T any](f func(*T) error, own *error) func(*T) error {
	if f == nil {
		return nil
	}
	return func(x *T) error {
		*own = f(x)
		return *own
	}
}
