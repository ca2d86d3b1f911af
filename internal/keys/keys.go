// Package keys manages the per-tenant JWT signing keys of authhero-go: it
// generates them, stores them (private keys encrypted with
// [secrets.Box]), rotates and revokes them, signs tokens, verifies tokens and
// publishes the tenant's JSON Web Key Set.
//
// Every tenant has its own keys, as in Auth0: exactly one Current key (signs),
// one Next key (already published in the JWKS, so that when a rotation makes
// it current every relying party has had the chance to fetch it, as OIDC Core
// §10.1.1 asks) and any number of Previous keys, which stay published until
// their RevokedAt so that tokens signed before a rotation keep verifying.
//
// Supported algorithms (RFC 7518 §3.1, RFC 8037): RS256 (RSA-2048, the
// default, as Auth0), ES256 (P-256) and EdDSA (Ed25519). A key's kid is its
// RFC 7638 JWK thumbprint (SHA-256, base64url).
//
// Keys are generated only by EnsureKeys, Rotate and Revoke, never on a request
// path. Sign, Verify and JWKS read an in-memory view of the tenant's keys
// that each instance re-reads from the database after Options.CacheTTL, so a
// change made by another instance is seen within CacheTTL.
//
// References: JWK and JWKS https://www.rfc-editor.org/rfc/rfc7517, JWA
// https://www.rfc-editor.org/rfc/rfc7518, JWK thumbprint
// https://www.rfc-editor.org/rfc/rfc7638, JWT best practices
// https://www.rfc-editor.org/rfc/rfc8725.
package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/secrets"
)

// Algorithm names (RFC 7518 §3.1 and RFC 8037 §3.1), as stored in
// adapters.SigningKey.Alg and adapters.Tenant.SigningAlg.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 on an RSA-2048 key; the default.
	RS256 = "RS256"
	// ES256 is ECDSA on P-256 with SHA-256.
	ES256 = "ES256"
	// EdDSA is Ed25519 (RFC 8037).
	EdDSA = "EdDSA"
)

// DefaultAlg is the algorithm used when neither the caller nor the tenant
// names one: RS256, as Auth0.
const DefaultAlg = RS256

// KeyType is the Type of every key this package creates, as in Auth0's
// /api/v2/keys/signing.
const KeyType = "jwt_signing"

// Defaults of Options.
const (
	// DefaultOverlap is how long a retired key stays published by default.
	DefaultOverlap = 24 * time.Hour
	// DefaultCacheTTL is how long an instance trusts its view by default.
	DefaultCacheTTL = 30 * time.Second
)

// ClockSkew is the leeway Verify allows on exp, nbf and iat.
const ClockSkew = 30 * time.Second

// ErrNoKey is returned (wrapped) by Sign when the tenant has no current key,
// and by Rotate when there is no current key to rotate. EnsureKeys creates
// the keys.
var ErrNoKey = errors.New("keys: tenant has no signing key")

// ErrUnsupportedAlg is returned (wrapped) for an algorithm other than RS256,
// ES256 and EdDSA.
var ErrUnsupportedAlg = errors.New("keys: unsupported signing algorithm")

// ErrInvalidToken is returned (wrapped) by Verify for a token that is
// malformed, not signed by one of the tenant's published keys under that
// key's algorithm, expired, not yet valid, or of the wrong type. Errors of
// the key store are returned as they are, not as ErrInvalidToken.
var ErrInvalidToken = errors.New("keys: invalid token")

// Options configures a Manager. The zero value is usable.
type Options struct {
	// Overlap is how long a retired key (a Previous key after Rotate) stays
	// published in the JWKS, so that tokens it signed keep verifying; set it
	// to at least the longest token lifetime plus CacheTTL. Zero (or
	// negative) means DefaultOverlap, 24 hours.
	Overlap time.Duration
	// CacheTTL is how long an instance trusts its in-memory view of a
	// tenant's keys before re-reading the database, so that a rotation or
	// revocation made by another instance is seen within CacheTTL. Zero (or
	// negative) means DefaultCacheTTL, 30 seconds.
	CacheTTL time.Duration
	// Now returns the current time; tests move it. Nil means time.Now.
	Now func() time.Time
	// Logger receives key creation, rotation and revocation events and
	// problems with stored keys. Nil means slog.Default().
	Logger *slog.Logger
}

// Manager manages the signing keys of all tenants of one store. It is safe
// for concurrent use; several Managers (one per instance) may share one
// database.
type Manager struct {
	store   *adapters.DataAdapters
	box     *secrets.Box
	overlap time.Duration
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger

	views sync.Map // tenant id → *view
	mu    sync.Mutex
	epoch uint64               // bumped by invalidate; guarded by mu
	calls map[string]*loadCall // in-flight loads by tenant; guarded by mu
}

// NewManager returns a Manager that keeps keys in store and encrypts private
// keys with box. Both are required; it panics without them (a wiring error).
func NewManager(store *adapters.DataAdapters, box *secrets.Box, opts Options) *Manager {
	if store == nil || store.Keys == nil || store.Tenants == nil || box == nil {
		panic("keys: NewManager needs a store with Keys and Tenants, and a secrets.Box")
	}
	m := &Manager{
		store:   store,
		box:     box,
		overlap: opts.Overlap,
		ttl:     opts.CacheTTL,
		now:     opts.Now,
		log:     opts.Logger,
		calls:   map[string]*loadCall{},
	}
	if m.overlap <= 0 {
		m.overlap = DefaultOverlap
	}
	if m.ttl <= 0 {
		m.ttl = DefaultCacheTTL
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.overlap < m.ttl {
		m.log.Warn("keys: Overlap is shorter than CacheTTL; instances may sign with a key other instances no longer publish",
			"overlap", m.overlap, "cache_ttl", m.ttl)
	}
	return m
}

// published reports whether k is in the JWKS at now.
func published(k *adapters.SigningKey, now time.Time) bool {
	return k.RevokedAt == nil || k.RevokedAt.After(now)
}

// state is a tenant's keys sorted by role.
type state struct {
	current *adapters.SigningKey
	next    *adapters.SigningKey
	// published holds current, next and unexpired previous keys, current
	// first, then next, then the others newest first.
	published []*adapters.SigningKey
}

// classify sorts rows (newest first, as KeysAdapter.List returns them) by
// role. A row of another tenant or a revoked row is never current or next.
func (m *Manager) classify(tenantID string, rows []adapters.SigningKey, now time.Time) state {
	var st state
	var others []*adapters.SigningKey
	for i := range rows {
		k := &rows[i]
		if k.TenantID != tenantID || !published(k, now) {
			continue
		}
		switch {
		case k.Current:
			if st.current != nil {
				m.log.Error("keys: tenant has more than one current key; using the most recent", "tenant", tenantID, "kid", k.Kid, "other", st.current.Kid)
				if k.CurrentSince != nil && (st.current.CurrentSince == nil || k.CurrentSince.After(*st.current.CurrentSince)) {
					others = append(others, st.current)
					st.current = k
				} else {
					others = append(others, k)
				}
				continue
			}
			st.current = k
		case k.Next:
			if st.next != nil {
				m.log.Error("keys: tenant has more than one next key", "tenant", tenantID, "kid", k.Kid, "other", st.next.Kid)
				others = append(others, k)
				continue
			}
			st.next = k
		default:
			others = append(others, k)
		}
	}
	if st.current != nil {
		st.published = append(st.published, st.current)
	}
	if st.next != nil {
		st.published = append(st.published, st.next)
	}
	st.published = append(st.published, others...)
	return st
}

// pool holds keys generated ahead of a transaction; take returns one of alg,
// generating it (inside the transaction) only when none was made ahead.
type pool struct {
	m        *Manager
	tenantID string
	now      time.Time
	keys     []*generated
}

func (m *Manager) newPool(tenantID, alg string, n int, now time.Time) (*pool, error) {
	p := &pool{m: m, tenantID: tenantID, now: now}
	for range n {
		g, err := generate(alg, tenantID, now, m.box)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, g)
	}
	return p, nil
}

func (p *pool) take(alg string) (*generated, error) {
	for i, g := range p.keys {
		if g.row.Alg == alg {
			p.keys = append(p.keys[:i], p.keys[i+1:]...)
			return g, nil
		}
	}
	p.m.log.Info("keys: generating a key inside the transaction", "tenant", p.tenantID, "alg", alg)
	return generate(alg, p.tenantID, p.now, p.m.box)
}

// lockTenant takes the tenant's row lock for the rest of tx (an update that
// changes nothing: SQL adapters select the row FOR UPDATE, SQLite holds its
// write lock) and returns the tenant as stored.
func lockTenant(ctx context.Context, tx *adapters.DataAdapters, tenantID string) (*adapters.Tenant, error) {
	t, err := tx.Tenants.Update(ctx, tenantID, func(*adapters.Tenant) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("keys: lock tenant %q: %w", tenantID, err)
	}
	return t, nil
}

// pickAlg returns the algorithm for new keys: want if set, else the tenant's
// SigningAlg, else fallback, else DefaultAlg.
func pickAlg(want string, t *adapters.Tenant, fallback string) (string, error) {
	alg := want
	if alg == "" && t != nil {
		alg = t.SigningAlg
	}
	if alg == "" {
		alg = fallback
	}
	if alg == "" {
		alg = DefaultAlg
	}
	if _, err := signingAlg(alg); err != nil {
		return "", err
	}
	return alg, nil
}

// EnsureKeys creates the tenant's Current and Next keys when they are
// missing; when both exist it does nothing (it does not change the algorithm
// of existing keys). alg is RS256, ES256 or EdDSA; "" means the tenant's
// SigningAlg, else DefaultAlg. The tenant must exist (adapters.ErrNotFound
// otherwise).
//
// It is safe to call from several instances at once: keys are generated
// outside any transaction, then one transaction locks the tenant row,
// re-reads the keys and creates only what is still missing, so the tenant
// ends with exactly one Current and one Next key. If a Next key exists but no
// Current, the Next key is promoted (it is already published).
func (m *Manager) EnsureKeys(ctx context.Context, tenantID, alg string) error {
	t, err := m.store.Tenants.Get(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: tenant %q: %w", tenantID, err)
	}
	if alg, err = pickAlg(alg, t, ""); err != nil {
		return err
	}
	now := m.now()
	rows, err := m.store.Keys.List(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: list keys of %q: %w", tenantID, err)
	}
	st := m.classify(tenantID, rows, now)
	missing := 0
	if st.next == nil {
		missing++
	}
	if st.current == nil && st.next == nil {
		missing++
	}
	if missing == 0 {
		return nil
	}
	p, err := m.newPool(tenantID, alg, missing, now)
	if err != nil {
		return err
	}
	var created []string
	err = m.store.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		created = created[:0]
		if _, err := lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		rows, err := tx.Keys.List(ctx, tenantID)
		if err != nil {
			return err
		}
		st := m.classify(tenantID, rows, now)
		if st.current == nil && st.next != nil {
			if err := promote(ctx, tx, st.next.Kid, now); err != nil {
				return err
			}
			created = append(created, "promoted:"+st.next.Kid)
			st.current, st.next = st.next, nil
		}
		if st.current == nil {
			kid, err := m.create(ctx, tx, p, alg, roleCurrent, now)
			if err != nil {
				return err
			}
			created = append(created, "current:"+kid)
		}
		if st.next == nil {
			kid, err := m.create(ctx, tx, p, alg, roleNext, now)
			if err != nil {
				return err
			}
			created = append(created, "next:"+kid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: ensure keys of %q: %w", tenantID, err)
	}
	if len(created) > 0 {
		m.invalidate(tenantID)
		m.log.Info("keys: created signing keys", "tenant", tenantID, "alg", alg, "keys", created)
	}
	return nil
}

type role int

const (
	roleCurrent role = iota
	roleNext
)

// create stores a key from the pool with the given role and returns its kid.
func (m *Manager) create(ctx context.Context, tx *adapters.DataAdapters, p *pool, alg string, r role, now time.Time) (string, error) {
	g, err := p.take(alg)
	if err != nil {
		return "", err
	}
	row := g.row
	switch r {
	case roleCurrent:
		row.Current = true
		since := now
		row.CurrentSince = &since
	case roleNext:
		row.Next = true
	}
	if _, err := tx.Keys.Create(ctx, row); err != nil {
		return "", fmt.Errorf("keys: store key %s: %w", row.Kid, err)
	}
	return row.Kid, nil
}

// promote makes the key current from now.
func promote(ctx context.Context, tx *adapters.DataAdapters, kid string, now time.Time) error {
	_, err := tx.Keys.Update(ctx, kid, func(k *adapters.SigningKey) error {
		since := now
		k.Current, k.Next, k.Previous = true, false, false
		k.CurrentSince, k.CurrentUntil = &since, nil
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: promote key %s: %w", kid, err)
	}
	return nil
}

// retire makes the current key a Previous key, published until revokeAt.
func retire(ctx context.Context, tx *adapters.DataAdapters, kid string, now, revokeAt time.Time) error {
	_, err := tx.Keys.Update(ctx, kid, func(k *adapters.SigningKey) error {
		until, rev := now, revokeAt
		k.Current, k.Next, k.Previous = false, false, true
		k.CurrentUntil, k.RevokedAt = &until, &rev
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: retire key %s: %w", kid, err)
	}
	return nil
}

// Rotate rotates the tenant's keys: the Next key becomes Current
// (CurrentSince = now), the Current key becomes Previous and stays published
// until now + Options.Overlap (its RevokedAt), and a new Next key is created
// with the tenant's SigningAlg (else the current key's algorithm). It returns
// an error wrapping ErrNoKey when the tenant has no current key.
//
// Rotate is safe when several instances share the database: the new key is
// generated outside the transaction; one transaction locks the tenant row,
// re-reads the keys and rotates. Calls that race (each saw the same Current
// key before the other committed) are coalesced into one rotation: a call
// that finds, under the lock, that the Current key is no longer the one it
// saw returns nil without rotating again, so a freshly created Next key is
// never promoted by accident. Rotate drops this instance's cached view.
func (m *Manager) Rotate(ctx context.Context, tenantID string) error {
	t, err := m.store.Tenants.Get(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: tenant %q: %w", tenantID, err)
	}
	now := m.now()
	rows, err := m.store.Keys.List(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: list keys of %q: %w", tenantID, err)
	}
	st := m.classify(tenantID, rows, now)
	if st.current == nil {
		return fmt.Errorf("keys: rotate %q: %w (call EnsureKeys first)", tenantID, ErrNoKey)
	}
	seen := st.current.Kid
	alg, err := pickAlg("", t, st.current.Alg)
	if err != nil {
		return err
	}
	n := 1
	if st.next == nil {
		n = 2
	}
	p, err := m.newPool(tenantID, alg, n, now)
	if err != nil {
		return err
	}
	var rotated bool
	var from, to, next string
	err = m.store.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		rotated = false
		t, err := lockTenant(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.Keys.List(ctx, tenantID)
		if err != nil {
			return err
		}
		st := m.classify(tenantID, rows, now)
		if st.current == nil {
			return fmt.Errorf("keys: rotate %q: %w", tenantID, ErrNoKey)
		}
		if st.current.Kid != seen {
			return nil // another call rotated since we looked: coalesce
		}
		alg, err := pickAlg("", t, st.current.Alg)
		if err != nil {
			return err
		}
		if err := retire(ctx, tx, st.current.Kid, now, now.Add(m.overlap)); err != nil {
			return err
		}
		from = st.current.Kid
		if st.next != nil {
			if err := promote(ctx, tx, st.next.Kid, now); err != nil {
				return err
			}
			to = st.next.Kid
		} else {
			m.log.Warn("keys: rotating without a published next key; the new current key is unknown to cached JWKS", "tenant", tenantID)
			if to, err = m.create(ctx, tx, p, alg, roleCurrent, now); err != nil {
				return err
			}
		}
		if next, err = m.create(ctx, tx, p, alg, roleNext, now); err != nil {
			return err
		}
		rotated = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: rotate %q: %w", tenantID, err)
	}
	m.invalidate(tenantID)
	if rotated {
		m.log.Info("keys: rotated signing keys", "tenant", tenantID, "previous", from, "current", to, "next", next,
			"previous_published_until", now.Add(m.overlap))
	} else {
		m.log.Info("keys: rotation coalesced with a concurrent one", "tenant", tenantID)
	}
	return nil
}

// Revoke revokes the tenant's key kid at once (RevokedAt = now): it leaves
// the JWKS and tokens it signed stop verifying (on other instances within
// Options.CacheTTL). If it was the Current key, the Next key is promoted; if
// it was the Current or the Next key, a new Next key is created; all in one
// transaction that locks the tenant row. Revoking a revoked key does nothing.
// An unknown kid, or the kid of another tenant's key, gives
// adapters.ErrNotFound.
func (m *Manager) Revoke(ctx context.Context, tenantID, kid string) error {
	now := m.now()
	k, err := m.store.Keys.Get(ctx, kid)
	if err != nil {
		return fmt.Errorf("keys: revoke: %w", err)
	}
	if k.TenantID != tenantID {
		return fmt.Errorf("keys: revoke: %w", adapters.ErrNotFound)
	}
	if !published(k, now) {
		return nil
	}
	t, err := m.store.Tenants.Get(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: tenant %q: %w", tenantID, err)
	}
	alg, err := pickAlg("", t, k.Alg)
	if err != nil {
		return err
	}
	n := 0
	if k.Current || k.Next {
		n = 1
	}
	p, err := m.newPool(tenantID, alg, n, now)
	if err != nil {
		return err
	}
	var changed []string
	err = m.store.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		changed = changed[:0]
		t, err := lockTenant(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		k, err := tx.Keys.Get(ctx, kid)
		if err != nil {
			return err
		}
		if k.TenantID != tenantID {
			return adapters.ErrNotFound
		}
		if !published(k, now) {
			return nil
		}
		rows, err := tx.Keys.List(ctx, tenantID)
		if err != nil {
			return err
		}
		st := m.classify(tenantID, rows, now)
		wasCurrent := st.current != nil && st.current.Kid == kid
		wasNext := st.next != nil && st.next.Kid == kid
		if _, err := tx.Keys.Update(ctx, kid, func(k *adapters.SigningKey) error {
			rev := now
			k.RevokedAt = &rev
			if k.Current {
				until := now
				k.CurrentUntil = &until
				k.Previous = true
			}
			k.Current, k.Next = false, false
			return nil
		}); err != nil {
			return fmt.Errorf("keys: revoke key %s: %w", kid, err)
		}
		changed = append(changed, "revoked:"+kid)
		if !wasCurrent && !wasNext {
			return nil
		}
		alg, err := pickAlg("", t, k.Alg)
		if err != nil {
			return err
		}
		if wasCurrent {
			if st.next != nil {
				if err := promote(ctx, tx, st.next.Kid, now); err != nil {
					return err
				}
				changed = append(changed, "current:"+st.next.Kid)
			} else {
				nk, err := m.create(ctx, tx, p, alg, roleCurrent, now)
				if err != nil {
					return err
				}
				changed = append(changed, "current:"+nk)
			}
		}
		nk, err := m.create(ctx, tx, p, alg, roleNext, now)
		if err != nil {
			return err
		}
		changed = append(changed, "next:"+nk)
		return nil
	})
	if err != nil {
		if errors.Is(err, adapters.ErrNotFound) {
			return fmt.Errorf("keys: revoke: %w", err)
		}
		return fmt.Errorf("keys: revoke %s of %q: %w", kid, tenantID, err)
	}
	m.invalidate(tenantID)
	if len(changed) > 0 {
		m.log.Info("keys: revoked signing key", "tenant", tenantID, "kid", kid, "changes", changed)
	}
	return nil
}

// List returns the tenant's keys, revoked ones included, newest first, with
// PrivateKeyEncrypted cleared: what the Management API's
// /api/v2/keys/signing shows.
func (m *Manager) List(ctx context.Context, tenantID string) ([]adapters.SigningKey, error) {
	rows, err := m.store.Keys.List(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("keys: list keys of %q: %w", tenantID, err)
	}
	out := make([]adapters.SigningKey, 0, len(rows))
	for _, k := range rows {
		if k.TenantID != tenantID {
			continue
		}
		k.PrivateKeyEncrypted = ""
		out = append(out, k)
	}
	return out, nil
}
