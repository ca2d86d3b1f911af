package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Stateless keeps each browser session inside its own cookie value: the
// session as compact JSON, encrypted and authenticated with AES-256-GCM
// under a key derived (HKDF-SHA256) from a shared secret, bound to its
// tenant. Nothing about a session is stored on the server, so every
// instance that has the secret accepts the cookie, with no shared session
// store at all.
//
// The session's ID is the sealed value (what the login flow puts in the
// cookie). UpdateSession seals the changed session again and returns it
// under a NEW ID: the caller must set the cookie again, or the browser keeps
// presenting the old value (which stays valid, with its old content and
// expiry, until it expires or the session is revoked).
//
// Logout and "log out everywhere" cannot delete a cookie from the browsers
// that hold copies, so they go through a RevocationList: DeleteSession (or
// an UpdateSession that sets revoked_at) refuses the random id (jti) sealed
// in the session, and RevokeUserSessions records a per-user "revoked
// before" time that refuses every session issued until then. Entries are
// kept until the refused cookies would have expired. A revoked or expired
// session reads as ErrNotFound.
//
// Limits, by construction: ListUserSessions is always empty and
// RevokeUserSessions reports 0 (the server does not know the sessions);
// concurrent updates of one session are not merged (each caller gets its own
// new value, and the browser keeps the last cookie it was sent); a session
// cannot outlive the absolute expiry it was created with (or MaxLifetime,
// when it has none); and the sealed value must fit a cookie (about 4 KB:
// UpdateSession fails with ErrInvalid when it would not).
//
// Login transactions are short-lived server-side state by nature (they
// carry the /authorize request across the login pages and back to the token
// endpoint), so Stateless delegates them to another Store (see
// StatelessLogins): the SQL store for several instances on one database,
// Memory for a single instance.
type Stateless struct {
	seal     cipher.AEAD
	sealKID  [4]byte
	open     map[[4]byte]cipher.AEAD
	revs     RevocationList
	logins   Store
	maxLife  time.Duration
	maxBytes int
	now      func() time.Time
}

// StatelessOption configures NewStateless.
type StatelessOption func(*Stateless)

// StatelessLogins sets the store that keeps login transactions. Zero: a
// Memory store, which is right for one instance only; several instances must
// share one (NewSQL on their common database, or a Redis store).
func StatelessLogins(s Store) StatelessOption { return func(x *Stateless) { x.logins = s } }

// StatelessMaxLifetime bounds how long any sealed session is accepted after
// it was first issued, whatever its expires_at says, and so how long
// revocation entries must be kept. Zero: 30 days.
func StatelessMaxLifetime(d time.Duration) StatelessOption {
	return func(x *Stateless) { x.maxLife = d }
}

// StatelessMaxTokenBytes bounds the length of a sealed session (the cookie
// value). Zero: 3800, which leaves room for the cookie's name within the
// 4096 bytes browsers keep per cookie.
func StatelessMaxTokenBytes(n int) StatelessOption { return func(x *Stateless) { x.maxBytes = n } }

// statelessClock replaces the clock (tests).
func statelessClock(now func() time.Time) StatelessOption { return func(x *Stateless) { x.now = now } }

// Defaults of the stateless store.
const (
	defaultMaxLifetime   = 30 * 24 * time.Hour
	defaultMaxTokenBytes = 3800
	tokenVersion         = 1
)

// NewStateless returns a stateless store. secrets are the shared secrets,
// each at least 32 random bytes: the first seals new values, all of them
// open values (so a secret can be rotated: add the new one first, keep the
// old one until the sessions it sealed have expired). revocations keeps
// logouts; NewRevocationList keeps them in the data adapter, shared by every
// instance.
func NewStateless(secrets [][]byte, revocations RevocationList, opts ...StatelessOption) (*Stateless, error) {
	if len(secrets) == 0 {
		return nil, errors.New("session: NewStateless needs at least one secret")
	}
	if revocations == nil {
		return nil, errors.New("session: NewStateless needs a RevocationList (NewRevocationList on the data adapter)")
	}
	s := &Stateless{open: map[[4]byte]cipher.AEAD{}, revs: revocations, now: time.Now}
	for i, secret := range secrets {
		if len(secret) < 32 {
			return nil, fmt.Errorf("session: stateless secret %d is %d bytes; at least 32 random bytes are needed", i, len(secret))
		}
		key, err := hkdf.Key(sha256.New, secret, []byte("authhero-go/session"), "stateless session AES-256-GCM v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append([]byte("authhero-go/session kid\x00"), key...))
		kid := [4]byte(sum[:4])
		if i == 0 {
			s.seal, s.sealKID = aead, kid
		}
		if _, dup := s.open[kid]; !dup {
			s.open[kid] = aead
		}
	}
	for _, o := range opts {
		o(s)
	}
	if s.logins == nil {
		s.logins = NewMemory()
	}
	if s.maxLife <= 0 {
		s.maxLife = defaultMaxLifetime
	}
	if s.maxBytes <= 0 {
		s.maxBytes = defaultMaxTokenBytes
	}
	return s, nil
}

// sealed is the compact form of a session inside its cookie. Times are Unix
// milliseconds.
type sealed struct {
	JTI    string        `json:"j"`
	Issued int64         `json:"i"`
	Hard   int64         `json:"h"`
	User   string        `json:"u"`
	Login  string        `json:"l,omitempty"`
	Cl     []string      `json:"c,omitempty"`
	Dev    *sealedDevice `json:"d,omitempty"`
	Auth   int64         `json:"a"`
	Last   int64         `json:"li"`
	Exp    *int64        `json:"e,omitempty"`
	Idle   *int64        `json:"x,omitempty"`
	Used   *int64        `json:"us,omitempty"`
	Rev    *int64        `json:"r,omitempty"`
	Create int64         `json:"cr"`
	Update int64         `json:"up"`
}

type sealedDevice struct {
	IUA  string `json:"iu,omitempty"`
	IIP  string `json:"ii,omitempty"`
	IASN string `json:"ia,omitempty"`
	LUA  string `json:"lu,omitempty"`
	LIP  string `json:"lp,omitempty"`
	LASN string `json:"la,omitempty"`
}

func msPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func timePtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := time.UnixMilli(*v).UTC()
	return &t
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// pack turns a session into its sealed form, keeping jti, issue time and
// hard expiry.
func pack(s *adapters.Session, jti string, issued, hard int64) *sealed {
	p := &sealed{JTI: jti, Issued: issued, Hard: hard, User: s.UserID, Login: s.LoginSessionID, Cl: s.Clients,
		Auth: s.AuthenticatedAt.UnixMilli(), Last: s.LastInteractionAt.UnixMilli(),
		Exp: msPtr(s.ExpiresAt), Idle: msPtr(s.IdleExpiresAt), Used: msPtr(s.UsedAt), Rev: msPtr(s.RevokedAt),
		Create: s.CreatedAt.UnixMilli(), Update: s.UpdatedAt.UnixMilli()}
	if d := s.Device; d != (adapters.Device{}) {
		p.Dev = &sealedDevice{IUA: d.InitialUserAgent, IIP: d.InitialIP, IASN: d.InitialASN, LUA: d.LastUserAgent, LIP: d.LastIP, LASN: d.LastASN}
	}
	return p
}

// unpack returns the session of a sealed form under id.
func (p *sealed) unpack(id string) *adapters.Session {
	s := &adapters.Session{ID: id, UserID: p.User, LoginSessionID: p.Login, Clients: p.Cl,
		AuthenticatedAt: fromMs(p.Auth), LastInteractionAt: fromMs(p.Last),
		ExpiresAt: timePtr(p.Exp), IdleExpiresAt: timePtr(p.Idle), UsedAt: timePtr(p.Used), RevokedAt: timePtr(p.Rev),
		CreatedAt: fromMs(p.Create), UpdatedAt: fromMs(p.Update)}
	if s.Clients == nil {
		s.Clients = []string{}
	}
	if d := p.Dev; d != nil {
		s.Device = adapters.Device{InitialUserAgent: d.IUA, InitialIP: d.IIP, InitialASN: d.IASN, LastUserAgent: d.LUA, LastIP: d.LIP, LastASN: d.LASN}
	}
	return s
}

// expiry is when the sealed session stops being accepted: the earliest of
// its hard, absolute and idle expiries.
func (p *sealed) expiry() int64 {
	e := p.Hard
	if p.Exp != nil && *p.Exp < e {
		e = *p.Exp
	}
	if p.Idle != nil && *p.Idle < e {
		e = *p.Idle
	}
	return e
}

func aad(tenantID string) []byte { return []byte("authhero-go/session v1\x00" + tenantID) }

// sealOut encrypts p for the tenant and returns the cookie value.
func (s *Stateless) sealOut(tenantID string, p *sealed) (string, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 0, 1+4+12+len(plain)+16)
	raw = append(raw, tokenVersion)
	raw = append(raw, s.sealKID[:]...)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	raw = append(raw, nonce...)
	raw = s.seal.Seal(raw, nonce, plain, aad(tenantID))
	tok := base64.RawURLEncoding.EncodeToString(raw)
	if len(tok) > s.maxBytes {
		return "", adapters.Invalid("session", "is %d bytes sealed; a session cookie holds at most %d (too many clients or too long a user agent)", len(tok), s.maxBytes)
	}
	return tok, nil
}

// openIn decrypts a cookie value of the tenant; any failure is ErrNotFound.
func (s *Stateless) openIn(tenantID, tok string) (*sealed, error) {
	if len(tok) < 10 || len(tok) > 4096 {
		return nil, adapters.ErrNotFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 1+4+12+16 || raw[0] != tokenVersion {
		return nil, adapters.ErrNotFound
	}
	aead, ok := s.open[[4]byte(raw[1:5])]
	if !ok {
		return nil, adapters.ErrNotFound
	}
	plain, err := aead.Open(nil, raw[5:17], raw[17:], aad(tenantID))
	if err != nil {
		return nil, adapters.ErrNotFound
	}
	p := new(sealed)
	if err := json.Unmarshal(plain, p); err != nil || p.JTI == "" || p.User == "" {
		return nil, adapters.ErrNotFound
	}
	return p, nil
}

// load opens tok and checks that it is live: not expired, not revoked in
// the token, by jti or by user. Only infrastructure errors are not
// ErrNotFound.
func (s *Stateless) load(ctx context.Context, tenantID, tok string) (*sealed, error) {
	p, err := s.openIn(tenantID, tok)
	if err != nil {
		return nil, err
	}
	if s.now().UnixMilli() >= p.expiry() || p.Rev != nil {
		return nil, adapters.ErrNotFound
	}
	revoked, err := s.revs.IsRevoked(ctx, tenantID, p.JTI)
	if err != nil {
		return nil, fmt.Errorf("session: revocation list: %w", err)
	}
	if revoked {
		return nil, adapters.ErrNotFound
	}
	before, err := s.revs.UserRevokedBefore(ctx, tenantID, p.User)
	if err != nil {
		return nil, fmt.Errorf("session: revocation list: %w", err)
	}
	if !before.IsZero() && p.Issued <= before.UnixMilli() {
		return nil, adapters.ErrNotFound
	}
	return p, nil
}

// newJTI returns the random id of a new session: 128 bits, base64url.
func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateSession implements Store. The session's ID is always the sealed
// value; a given ID is ignored.
func (s *Stateless) CreateSession(_ context.Context, t string, v adapters.Session) (*adapters.Session, error) {
	if v.UserID == "" {
		return nil, adapters.Invalid("user_id", "is required")
	}
	now := s.now()
	stampSession(&v, now)
	v = *clone(v)
	issued := now.UnixMilli()
	hard := now.Add(s.maxLife).UnixMilli()
	if v.ExpiresAt != nil && v.ExpiresAt.UnixMilli() < hard {
		hard = v.ExpiresAt.UnixMilli()
	}
	p := pack(&v, newJTI(), issued, hard)
	tok, err := s.sealOut(t, p)
	if err != nil {
		return nil, err
	}
	return p.unpack(tok), nil
}

// GetSession implements Store. An unknown, tampered, other tenant's,
// expired or revoked value is ErrNotFound.
func (s *Stateless) GetSession(ctx context.Context, t, id string) (*adapters.Session, error) {
	p, err := s.load(ctx, t, id)
	if err != nil {
		return nil, err
	}
	return p.unpack(id), nil
}

// UpdateSession implements Store: it returns the changed session under a
// new ID (a new sealed value), which the caller must send as the cookie
// again. When mutate sets revoked_at (logout), the session's jti is revoked
// instead and the session is returned under its old ID.
func (s *Stateless) UpdateSession(ctx context.Context, t, id string, mutate func(*adapters.Session) error) (*adapters.Session, error) {
	p, err := s.load(ctx, t, id)
	if err != nil {
		return nil, err
	}
	old := p.unpack(id)
	v := clone(*old)
	if err := mutate(v); err != nil {
		return nil, err
	}
	v = clone(*v)
	v.ID, v.CreatedAt = old.ID, old.CreatedAt
	stampSession(v, s.now())
	if v.RevokedAt != nil {
		if err := s.revs.Revoke(ctx, t, p.JTI, fromMs(p.Hard)); err != nil {
			return nil, fmt.Errorf("session: revocation list: %w", err)
		}
		at := adapters.Millis(*v.RevokedAt)
		v.RevokedAt = &at
		return v, nil
	}
	np := pack(v, p.JTI, p.Issued, p.Hard)
	tok, err := s.sealOut(t, np)
	if err != nil {
		return nil, err
	}
	return np.unpack(tok), nil
}

// DeleteSession implements Store: it revokes the session's jti, so every
// copy of its cookie is refused.
func (s *Stateless) DeleteSession(ctx context.Context, t, id string) error {
	p, err := s.load(ctx, t, id)
	if err != nil {
		return err
	}
	if err := s.revs.Revoke(ctx, t, p.JTI, fromMs(p.Hard)); err != nil {
		return fmt.Errorf("session: revocation list: %w", err)
	}
	return nil
}

// ListUserSessions implements Store. The server does not know a stateless
// store's sessions: the list is always empty.
func (s *Stateless) ListUserSessions(context.Context, string, string) ([]adapters.Session, error) {
	return []adapters.Session{}, nil
}

// RevokeUserSessions implements Store: every session of the user issued at
// or before at is refused from now on. The number of sessions is unknown;
// it returns 0.
func (s *Stateless) RevokeUserSessions(ctx context.Context, t, userID string, at time.Time) (int, error) {
	at = adapters.Millis(at)
	if err := s.revs.RevokeUser(ctx, t, userID, at, at.Add(s.maxLife)); err != nil {
		return 0, fmt.Errorf("session: revocation list: %w", err)
	}
	return 0, nil
}

// StableID returns the session's jti: an id that, unlike the sealed value,
// stays the same across UpdateSession, for naming the session elsewhere
// (the OIDC sid). It returns id itself when it does not open in the tenant.
func (s *Stateless) StableID(tenantID, id string) string {
	p, err := s.openIn(tenantID, id)
	if err != nil {
		return id
	}
	return p.JTI
}

// StableID returns an id for the session that stays the same for its whole
// life: the id itself, or for a store whose session ids change on update
// (Stateless) what its StableID method returns. Decorators that have an
// Unwrap() Store method (as the monitoring one does) are looked through.
func StableID(store Store, tenantID, id string) string {
	for store != nil && id != "" {
		if s, ok := store.(stableIDer); ok {
			return s.StableID(tenantID, id)
		}
		u, ok := store.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		store = u.Unwrap()
	}
	return id
}

// stableIDer is implemented by stores whose session ids change on update.
type stableIDer interface {
	StableID(tenantID, id string) string
}

// CreateLogin implements Store through the login store.
func (s *Stateless) CreateLogin(ctx context.Context, t string, l adapters.LoginSession) (*adapters.LoginSession, error) {
	return s.logins.CreateLogin(ctx, t, l)
}

// GetLogin implements Store through the login store.
func (s *Stateless) GetLogin(ctx context.Context, t, id string) (*adapters.LoginSession, error) {
	return s.logins.GetLogin(ctx, t, id)
}

// UpdateLogin implements Store through the login store.
func (s *Stateless) UpdateLogin(ctx context.Context, t, id string, m func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	return s.logins.UpdateLogin(ctx, t, id, m)
}

// DeleteLogin implements Store through the login store.
func (s *Stateless) DeleteLogin(ctx context.Context, t, id string) error {
	return s.logins.DeleteLogin(ctx, t, id)
}

// Ping implements Store: it pings the login store.
func (s *Stateless) Ping(ctx context.Context) error { return s.logins.Ping(ctx) }
