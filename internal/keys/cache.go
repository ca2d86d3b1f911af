package keys

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// loadTimeout bounds one database read of a tenant's keys. The read runs
// detached from the caller's context (several callers share it), so it needs
// its own deadline.
const loadTimeout = 10 * time.Second

// maxForcedReload is the shortest interval between two reloads of a tenant's
// view forced by a cache miss (an unknown kid, no current key), so garbage
// tokens cannot turn into one database read each.
const maxForcedReload = time.Second

// view is an instance's in-memory picture of one tenant's keys. It is
// immutable once built.
type view struct {
	loadedAt time.Time
	expires  time.Time
	current  *signingKey // nil: no usable current key
	signErr  error       // why current is nil although the tenant has one
	keys     map[string]*publicKey
	jwks     []byte
}

// signingKey is the decrypted, parsed current key.
type signingKey struct {
	kid    string
	alg    jwa.SignatureAlgorithm
	signer crypto.Signer
}

// loadCall is one in-flight load of a tenant's view that concurrent callers
// share (a single flight).
type loadCall struct {
	done chan struct{}
	v    *view
	err  error
}

// view returns the tenant's view, reading the store when the cached one has
// expired. force asks for a fresh read even before expiry, but at most once
// per maxForcedReload (or CacheTTL if shorter).
func (m *Manager) view(ctx context.Context, tenantID string, force bool) (*view, error) {
	if v, ok := m.views.Load(tenantID); ok {
		vv := v.(*view)
		now := m.now()
		if now.Before(vv.expires) && (!force || now.Sub(vv.loadedAt) < min(maxForcedReload, m.ttl)) {
			return vv, nil
		}
	}
	return m.reload(ctx, tenantID)
}

// reload reads the tenant's keys once for all concurrent callers. The read
// is not cancelled when the caller that started it goes away; each caller
// stops waiting when its own context ends.
func (m *Manager) reload(ctx context.Context, tenantID string) (*view, error) {
	m.mu.Lock()
	c := m.calls[tenantID]
	if c == nil {
		c = &loadCall{done: make(chan struct{})}
		m.calls[tenantID] = c
		var old *view
		if v, ok := m.views.Load(tenantID); ok {
			old = v.(*view)
		}
		go m.runLoad(context.WithoutCancel(ctx), tenantID, c, old, m.epoch)
	}
	m.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Manager) runLoad(ctx context.Context, tenantID string, c *loadCall, old *view, epoch uint64) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	defer close(c.done)
	defer func() {
		if r := recover(); r != nil {
			c.v, c.err = nil, fmt.Errorf("keys: load keys of %q: panic: %v", tenantID, r)
		}
		m.mu.Lock()
		if m.calls[tenantID] == c {
			delete(m.calls, tenantID)
		}
		// A view read before an invalidation may predate the change: hand it
		// to the callers that waited for it, but do not cache it.
		if c.err == nil && m.epoch == epoch {
			m.views.Store(tenantID, c.v)
		}
		m.mu.Unlock()
	}()
	c.v, c.err = m.load(ctx, tenantID, old)
}

// invalidate drops the cached view of the tenant after a local change, and
// keeps any load already in flight from caching what it read.
func (m *Manager) invalidate(tenantID string) {
	m.mu.Lock()
	m.epoch++
	m.views.Delete(tenantID)
	delete(m.calls, tenantID)
	m.mu.Unlock()
}

// load reads the tenant's keys and builds its view: the published public
// keys, the JWKS document and the decrypted current key (reused from old
// when the current kid has not changed, so a refresh costs one query).
func (m *Manager) load(ctx context.Context, tenantID string, old *view) (*view, error) {
	rows, err := m.store.Keys.List(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("keys: load keys of %q: %w", tenantID, err)
	}
	now := m.now()
	st := m.classify(tenantID, rows, now)
	v := &view{loadedAt: now, expires: now.Add(m.ttl), keys: make(map[string]*publicKey, len(st.published))}
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for _, k := range st.published {
		pk, err := openPublic(k)
		if err != nil {
			m.log.Error("keys: skipping a stored key that cannot be published", "tenant", tenantID, "kid", k.Kid, "err", err)
			continue
		}
		if len(v.keys) > 0 {
			buf.WriteByte(',')
		}
		buf.Write(pk.json)
		v.keys[k.Kid] = pk
		// A previous key must leave the JWKS at its RevokedAt, not up to
		// CacheTTL later.
		if k.RevokedAt != nil && k.RevokedAt.Before(v.expires) {
			v.expires = *k.RevokedAt
		}
	}
	buf.WriteString(`]}`)
	v.jwks = buf.Bytes()

	if cur := st.current; cur != nil {
		pk := v.keys[cur.Kid]
		switch {
		case pk == nil:
			v.signErr = fmt.Errorf("keys: current key %s of %q cannot be published", cur.Kid, tenantID)
		case old != nil && old.current != nil && old.current.kid == cur.Kid:
			v.current = old.current
		default:
			signer, err := openPrivate(m.box, cur)
			if err != nil {
				m.log.Error("keys: cannot use the current signing key (wrong ENCRYPTION_KEY?)", "tenant", tenantID, "kid", cur.Kid, "err", err)
				v.signErr = err
			} else {
				v.current = &signingKey{kid: cur.Kid, alg: pk.alg, signer: signer}
			}
		}
	}
	return v, nil
}
