package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authhero-go/authhero/adapters"
)

// RedisOptions configures NewRedis. Every field has a usable zero value.
type RedisOptions struct {
	// Prefix starts every key, so several applications (or tests) can share
	// one Redis. Zero: "authhero:".
	Prefix string
	// Timeout bounds every call of the store, retries included: a slow or
	// dead Redis fails the call with an error after at most this long,
	// whatever the client's own timeouts and retries are. Zero: 1s.
	Timeout time.Duration
	// MaxAttempts bounds the optimistic transactions of updates, which are
	// retried when another writer changed the same key. Zero: 100.
	MaxAttempts int
	// DefaultTTL is how long a session with neither expires_at nor
	// idle_expires_at is kept. Zero: 30 days.
	DefaultTTL time.Duration
}

// Redis is a Store in Redis, shared by every instance that uses the same
// server (standalone, Sentinel or Cluster: any redis.UniversalClient).
//
// Sessions and login transactions are JSON strings under
// {prefix}{{tenant}}:s:{id} and {prefix}{{tenant}}:l:{id}; the {tenant} hash
// tag keeps all of a tenant's keys in one Cluster slot, so a transaction
// over several of them works on Cluster too. A session key expires at the
// session's expiry (the earlier of expires_at and idle_expires_at) and
// every update moves its TTL; a login key expires at the transaction's
// expires_at. Each user has a sorted set {prefix}{{tenant}}:u:{user} of
// session ids (scored by created_at) for ListUserSessions and
// RevokeUserSessions; it lives as long as the user's longest session, and
// ids of sessions that expired are pruned when it is read.
//
// Updates are optimistic transactions (WATCH/MULTI/EXEC), retried up to
// MaxAttempts times, so concurrent updates lose nothing; mutate may
// therefore run more than once. Every call is bounded by Timeout: the
// Redis I/O runs on its own goroutine and the call returns when the time is
// up even if the client would still wait (mutate always runs on the
// caller's goroutine). A call that timed out may still have been applied.
// The client's own policy still decides how soon an error is known: with
// go-redis defaults a refused connection is retried for well over a second
// (and so ends at Timeout), while for example
//
//	redis.Options{ContextTimeoutEnabled: true, DialTimeout: 500 * time.Millisecond,
//		ReadTimeout: 500 * time.Millisecond, DialerRetries: 1, MaxRetries: 1}
//
// reports it at once and frees the connection when Timeout ends the call.
//
// Redis 6.0 or later is needed (SET KEEPTTL).
type Redis struct {
	c           redis.UniversalClient
	prefix      string
	timeout     time.Duration
	maxAttempts int
	defaultTTL  time.Duration
	now         func() time.Time
}

// NewRedis returns a Store on client.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{c: client, prefix: opts.Prefix, timeout: opts.Timeout, maxAttempts: opts.MaxAttempts,
		defaultTTL: opts.DefaultTTL, now: time.Now}
	if r.prefix == "" {
		r.prefix = "authhero:"
	}
	if r.timeout <= 0 {
		r.timeout = time.Second
	}
	if r.maxAttempts <= 0 {
		r.maxAttempts = 100
	}
	if r.defaultTTL <= 0 {
		r.defaultTTL = 30 * 24 * time.Hour
	}
	return r
}

// keyEscaper keeps tenant ids and ids from forging key structure: the hash
// tag braces and the ':' separators never appear inside a component.
var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

func (r *Redis) key(kind, tenantID, id string) string {
	return r.prefix + "{" + keyEscaper.Replace(tenantID) + "}:" + kind + ":" + keyEscaper.Replace(id)
}

func (r *Redis) sessionKey(t, id string) string { return r.key("s", t, id) }
func (r *Redis) loginKey(t, id string) string   { return r.key("l", t, id) }
func (r *Redis) userKey(t, userID string) string {
	return r.key("u", t, userID)
}

// extendTTL sets the key's TTL to at least ARGV[1] ms (a key without TTL,
// just created, gets it too).
const extendTTL = `local t = redis.call('PTTL', KEYS[1])
if t < tonumber(ARGV[1]) then return redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`

// errTimeout is wrapped by the error of a call that ran out of time.
var errTimeout = errors.New("session: redis: timed out")

// fail wraps an infrastructure error; the errors of the contract pass
// through unchanged.
func fail(err error) error {
	switch {
	case err == nil, errors.Is(err, adapters.ErrNotFound), errors.Is(err, adapters.ErrConflict), errors.Is(err, errTimeout):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", errTimeout, err)
	}
	return fmt.Errorf("session: redis: %w", err)
}

// bounded returns ctx limited by the store's Timeout.
func (r *Redis) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// guard runs fn on its own goroutine and returns its error, or a timeout
// error as soon as ctx is done. A panic in fn is returned as an error.
func guard(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("session: redis: panic: %v", p)
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return fail(err)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errTimeout, context.Cause(ctx))
	}
}

// do runs fn under the store's Timeout.
func (r *Redis) do(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	return guard(ctx, func() error { return fn(ctx) })
}

// backoff sleeps a short random time before the next optimistic attempt.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(attempt+1, 20)) * int64(time.Millisecond)))
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errTimeout, context.Cause(ctx))
	}
}

// errContention is returned when every optimistic attempt met a concurrent
// writer.
var errContention = errors.New("session: redis: too many concurrent updates of one key")

// ttlUntil returns the TTL to keep something until exp, or 0 when exp has
// passed.
func (r *Redis) ttlUntil(exp time.Time) time.Duration {
	d := exp.Sub(r.now())
	if d <= 0 {
		return 0
	}
	return d.Truncate(time.Millisecond) + time.Millisecond
}

// sessionTTL is how long a session is kept: until the earlier of its
// absolute and idle expiry, or DefaultTTL without either.
func (r *Redis) sessionTTL(s *adapters.Session) time.Duration {
	var exp *time.Time
	for _, e := range []*time.Time{s.ExpiresAt, s.IdleExpiresAt} {
		if e != nil && (exp == nil || e.Before(*exp)) {
			exp = e
		}
	}
	if exp == nil {
		return r.defaultTTL
	}
	return r.ttlUntil(*exp)
}

// writeSession queues the writes of session v (previously stored as old,
// or nil) in pipe: its value with its TTL, its entry in the user index and
// the index's TTL. A session past its expiry is deleted instead.
func (r *Redis) writeSession(ctx context.Context, pipe redis.Pipeliner, t string, old, v *adapters.Session, data []byte) {
	sk := r.sessionKey(t, v.ID)
	if old != nil && old.UserID != v.UserID {
		pipe.ZRem(ctx, r.userKey(t, old.UserID), v.ID)
	}
	ttl := r.sessionTTL(v)
	if ttl <= 0 {
		pipe.Del(ctx, sk)
		pipe.ZRem(ctx, r.userKey(t, v.UserID), v.ID)
		return
	}
	pipe.Set(ctx, sk, data, ttl)
	uk := r.userKey(t, v.UserID)
	pipe.ZAdd(ctx, uk, redis.Z{Score: float64(v.CreatedAt.UnixMilli()), Member: v.ID})
	pipe.Eval(ctx, extendTTL, []string{uk}, ttl.Milliseconds())
}

// CreateSession implements Store. A session created already expired is
// not kept.
func (r *Redis) CreateSession(ctx context.Context, t string, s adapters.Session) (*adapters.Session, error) {
	if s.ID == "" {
		s.ID = NewID()
	}
	if s.UserID == "" {
		return nil, adapters.Invalid("user_id", "is required")
	}
	stampSession(&s, r.now())
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	out := clone(s)
	if r.sessionTTL(out) <= 0 {
		return out, nil
	}
	sk := r.sessionKey(t, s.ID)
	err = r.do(ctx, func(ctx context.Context) error {
		for attempt := range r.maxAttempts {
			err := r.c.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Exists(ctx, sk).Result()
				if err != nil {
					return err
				}
				if n > 0 {
					return &adapters.ConflictError{Entity: "session", Rule: "id"}
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					r.writeSession(ctx, p, t, nil, out, data)
					return nil
				})
				return err
			}, sk)
			if !errors.Is(err, redis.TxFailedErr) {
				return err
			}
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		return errContention
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetSession implements Store.
func (r *Redis) GetSession(ctx context.Context, t, id string) (*adapters.Session, error) {
	return getJSON[adapters.Session](ctx, r, r.sessionKey(t, id))
}

// getJSON reads and decodes the value at key; a missing key is ErrNotFound.
func getJSON[T any](ctx context.Context, r *Redis, key string) (*T, error) {
	var data []byte
	err := r.do(ctx, func(ctx context.Context) error {
		var err error
		data, err = r.c.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return adapters.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return decode[T](data)
}

func decode[T any](data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("session: redis: decode: %w", err)
	}
	return v, nil
}

// optimistic updates the JSON value at key: it reads it on a WATCHed
// connection, runs apply on the caller's goroutine, and has write queue the
// new value in a MULTI, retrying when another writer got there first.
func optimistic[T any](ctx context.Context, r *Redis, key string, apply func(cur *T) (*T, []byte, error),
	write func(ctx context.Context, p redis.Pipeliner, cur, next *T, data []byte)) (*T, error) {
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	type change struct {
		cur, next *T
		data      []byte
	}
	for attempt := range r.maxAttempts {
		read := make(chan []byte, 1)
		proceed := make(chan *change, 1)
		done := make(chan error, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- fmt.Errorf("session: redis: panic: %v", p)
				}
			}()
			done <- r.c.Watch(ctx, func(tx *redis.Tx) error {
				data, err := tx.Get(ctx, key).Bytes()
				if errors.Is(err, redis.Nil) {
					data, err = nil, nil
				}
				if err != nil {
					return err
				}
				read <- data
				var c *change
				select {
				case c = <-proceed:
				case <-ctx.Done():
					return ctx.Err()
				}
				if c == nil {
					return nil // the caller gave up: nothing to write
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					write(ctx, p, c.cur, c.next, c.data)
					return nil
				})
				return err
			}, key)
		}()
		var data []byte
		select {
		case data = <-read:
		case err := <-done:
			return nil, fail(err)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", errTimeout, context.Cause(ctx))
		}
		if data == nil {
			proceed <- nil
			return nil, adapters.ErrNotFound
		}
		cur, err := decode[T](data)
		if err != nil {
			proceed <- nil
			return nil, err
		}
		next, encoded, err := apply(cur)
		if err != nil {
			proceed <- nil
			return nil, err
		}
		proceed <- &change{cur: cur, next: next, data: encoded}
		select {
		case err = <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", errTimeout, context.Cause(ctx))
		}
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, redis.TxFailedErr) {
			return nil, fail(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
	return nil, errContention
}

// UpdateSession implements Store. The key's TTL follows the session's new
// expiry.
func (r *Redis) UpdateSession(ctx context.Context, t, id string, mutate func(*adapters.Session) error) (*adapters.Session, error) {
	return optimistic(ctx, r, r.sessionKey(t, id), func(cur *adapters.Session) (*adapters.Session, []byte, error) {
		v := clone(*cur)
		if err := mutate(v); err != nil {
			return nil, nil, err
		}
		v = clone(*v)
		v.ID, v.CreatedAt = cur.ID, cur.CreatedAt
		stampSession(v, r.now())
		data, err := json.Marshal(v)
		return v, data, err
	}, func(ctx context.Context, p redis.Pipeliner, cur, next *adapters.Session, data []byte) {
		r.writeSession(ctx, p, t, cur, next, data)
	})
}

// DeleteSession implements Store.
func (r *Redis) DeleteSession(ctx context.Context, t, id string) error {
	sk := r.sessionKey(t, id)
	return r.do(ctx, func(ctx context.Context) error {
		for attempt := range r.maxAttempts {
			err := r.c.Watch(ctx, func(tx *redis.Tx) error {
				data, err := tx.Get(ctx, sk).Bytes()
				if errors.Is(err, redis.Nil) {
					return adapters.ErrNotFound
				}
				if err != nil {
					return err
				}
				s, err := decode[adapters.Session](data)
				if err != nil {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Del(ctx, sk)
					p.ZRem(ctx, r.userKey(t, s.UserID), id)
					return nil
				})
				return err
			}, sk)
			if !errors.Is(err, redis.TxFailedErr) {
				return err
			}
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		return errContention
	})
}

// userSessions reads the user's index and sessions on a WATCHed
// connection: the sessions still stored and the index entries whose
// session is gone (expired) or belongs to someone else.
func (r *Redis) userSessions(ctx context.Context, tx *redis.Tx, t, userID string) ([]adapters.Session, []string, error) {
	uk := r.userKey(t, userID)
	ids, err := tx.ZRange(ctx, uk, 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return []adapters.Session{}, nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.sessionKey(t, id)
	}
	if err := tx.Watch(ctx, keys...).Err(); err != nil {
		return nil, nil, err
	}
	vals, err := tx.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, nil, err
	}
	out := make([]adapters.Session, 0, len(ids))
	var stale []string
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			stale = append(stale, ids[i])
			continue
		}
		s, err := decode[adapters.Session]([]byte(str))
		if err != nil {
			return nil, nil, err
		}
		if s.UserID != userID || s.ID != ids[i] {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, *s)
	}
	return out, stale, nil
}

// ListUserSessions implements Store. Index entries of expired sessions are
// pruned on the way.
func (r *Redis) ListUserSessions(ctx context.Context, t, userID string) ([]adapters.Session, error) {
	var out []adapters.Session
	uk := r.userKey(t, userID)
	err := r.do(ctx, func(ctx context.Context) error {
		err := r.c.Watch(ctx, func(tx *redis.Tx) error {
			var stale []string
			var err error
			if out, stale, err = r.userSessions(ctx, tx, t, userID); err != nil || len(stale) == 0 {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZRem(ctx, uk, anys(stale)...)
				return nil
			})
			return err
		}, uk)
		if errors.Is(err, redis.TxFailedErr) {
			return nil // the list was read; pruning waits for the next reader
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b adapters.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// RevokeUserSessions implements Store: one transaction sets revoked_at on
// every unrevoked session of the user, keeping their TTLs.
func (r *Redis) RevokeUserSessions(ctx context.Context, t, userID string, at time.Time) (int, error) {
	at = adapters.Millis(at)
	uk := r.userKey(t, userID)
	n := 0
	err := r.do(ctx, func(ctx context.Context) error {
		for attempt := range r.maxAttempts {
			err := r.c.Watch(ctx, func(tx *redis.Tx) error {
				n = 0
				list, stale, err := r.userSessions(ctx, tx, t, userID)
				if err != nil {
					return err
				}
				type write struct {
					key  string
					data []byte
				}
				var writes []write
				for i := range list {
					s := &list[i]
					if s.RevokedAt != nil {
						continue
					}
					s.RevokedAt = &at
					data, err := json.Marshal(s)
					if err != nil {
						return err
					}
					writes = append(writes, write{r.sessionKey(t, s.ID), data})
				}
				if len(writes) == 0 && len(stale) == 0 {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					for _, w := range writes {
						p.SetArgs(ctx, w.key, w.data, redis.SetArgs{KeepTTL: true, Mode: "XX"})
					}
					if len(stale) > 0 {
						p.ZRem(ctx, uk, anys(stale)...)
					}
					return nil
				})
				n = len(writes)
				return err
			}, uk)
			if !errors.Is(err, redis.TxFailedErr) {
				return err
			}
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		return errContention
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// CreateLogin implements Store. A login transaction created already
// expired is not kept.
func (r *Redis) CreateLogin(ctx context.Context, t string, l adapters.LoginSession) (*adapters.LoginSession, error) {
	if l.ID == "" {
		l.ID = NewID()
	}
	if l.ExpiresAt.IsZero() {
		return nil, adapters.Invalid("expires_at", "is required")
	}
	now := adapters.Millis(r.now())
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now
	}
	l.CreatedAt, l.UpdatedAt = adapters.Millis(l.CreatedAt), now
	data, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	out := clone(l)
	ttl := r.ttlUntil(l.ExpiresAt)
	if ttl <= 0 {
		return out, nil
	}
	err = r.do(ctx, func(ctx context.Context) error {
		ok, err := r.c.SetNX(ctx, r.loginKey(t, l.ID), data, ttl).Result()
		if err == nil && !ok {
			return &adapters.ConflictError{Entity: "login session", Rule: "id"}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetLogin implements Store.
func (r *Redis) GetLogin(ctx context.Context, t, id string) (*adapters.LoginSession, error) {
	return getJSON[adapters.LoginSession](ctx, r, r.loginKey(t, id))
}

// UpdateLogin implements Store. The key's TTL follows the new expires_at.
func (r *Redis) UpdateLogin(ctx context.Context, t, id string, mutate func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	lk := r.loginKey(t, id)
	return optimistic(ctx, r, lk, func(cur *adapters.LoginSession) (*adapters.LoginSession, []byte, error) {
		v := clone(*cur)
		if err := mutate(v); err != nil {
			return nil, nil, err
		}
		v = clone(*v)
		v.ID, v.CreatedAt, v.UpdatedAt = cur.ID, cur.CreatedAt, adapters.Millis(r.now())
		data, err := json.Marshal(v)
		return v, data, err
	}, func(ctx context.Context, p redis.Pipeliner, _, next *adapters.LoginSession, data []byte) {
		if ttl := r.ttlUntil(next.ExpiresAt); ttl > 0 {
			p.Set(ctx, lk, data, ttl)
		} else {
			p.Del(ctx, lk)
		}
	})
}

// DeleteLogin implements Store.
func (r *Redis) DeleteLogin(ctx context.Context, t, id string) error {
	return r.do(ctx, func(ctx context.Context) error {
		n, err := r.c.Del(ctx, r.loginKey(t, id)).Result()
		if err == nil && n == 0 {
			return adapters.ErrNotFound
		}
		return err
	})
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	return r.do(ctx, func(ctx context.Context) error { return r.c.Ping(ctx).Err() })
}
