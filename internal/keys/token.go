package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// MaxTokenSize is the longest token Verify looks at, in bytes.
const MaxTokenSize = 64 << 10

// Sign returns a compact JWT (RFC 7519, a JWS per RFC 7515) of claims signed
// with the tenant's current key. The protected header has alg and kid of that
// key and typ (e.g. "JWT" for ID tokens, "at+jwt" for access tokens per
// RFC 9068; "" means "JWT"). claims are encoded with encoding/json as they
// are; time claims (exp, iat, nbf) must be NumericDate numbers (Unix seconds).
//
// Sign reads only the instance's cached view of the tenant's keys (re-read
// after Options.CacheTTL, once for all concurrent callers); it never
// generates keys. A tenant without a usable current key gives an error
// wrapping ErrNoKey.
func (m *Manager) Sign(ctx context.Context, tenantID string, claims map[string]any, typ string) (string, error) {
	v, err := m.view(ctx, tenantID, false)
	if err != nil {
		return "", fmt.Errorf("keys: sign for %q: %w", tenantID, err)
	}
	if v.current == nil {
		// Keys may have been created since (by another instance).
		if v, err = m.view(ctx, tenantID, true); err != nil {
			return "", fmt.Errorf("keys: sign for %q: %w", tenantID, err)
		}
		if v.current == nil {
			if v.signErr != nil {
				return "", fmt.Errorf("keys: sign for %q: %w: %w", tenantID, ErrNoKey, v.signErr)
			}
			return "", fmt.Errorf("keys: sign for %q: %w", tenantID, ErrNoKey)
		}
	}
	for _, c := range timeClaims {
		if v, ok := claims[c]; ok && !isNumber(v) {
			return "", fmt.Errorf("keys: claim %q must be a NumericDate (Unix seconds as a number), not %T", c, v)
		}
	}
	payload := []byte("{}")
	if claims != nil {
		if payload, err = json.Marshal(claims); err != nil {
			return "", fmt.Errorf("keys: encode claims: %w", err)
		}
	}
	if typ == "" {
		typ = "JWT"
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, v.current.kid); err != nil {
		return "", fmt.Errorf("keys: header: %w", err)
	}
	if err := h.Set(jws.TypeKey, typ); err != nil {
		return "", fmt.Errorf("keys: header: %w", err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(v.current.alg, v.current.signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("keys: sign for %q: %w", tenantID, err)
	}
	return string(tok), nil
}

// JWKS returns the tenant's JSON Web Key Set (RFC 7517 §5),
// {"keys":[...]}: the public keys (with kid, alg, use "sig", x5c and x5t) of
// the Current key, the Next key and the Previous keys not yet past their
// RevokedAt, never a private part and never another tenant's key. A tenant
// without keys gets {"keys":[]}. It is served from the cached view.
func (m *Manager) JWKS(ctx context.Context, tenantID string) ([]byte, error) {
	v, err := m.view(ctx, tenantID, false)
	if err != nil {
		return nil, fmt.Errorf("keys: JWKS of %q: %w", tenantID, err)
	}
	return bytes.Clone(v.jwks), nil
}

// Verify parses token and checks it against the tenant's published keys
// (the keys JWKS lists): the token must be a compact JWS with one signature,
// its kid must name one of those keys, its header alg must be that key's
// algorithm (so "none", HS256 and any other algorithm are refused: RFC 8725
// §3.1-3.2), it must carry no crit header, the signature must verify, exp
// must be present, and exp, nbf and iat are checked with ClockSkew of
// leeway. Headers such as jku, jwk, x5u and x5c are ignored: keys come only
// from the store. Issuer, audience and other claims are the caller's to
// check on the returned token.
//
// A rejected token gives an error wrapping ErrInvalidToken; a failure of the
// key store is returned as is. Verify never panics on any input.
func (m *Manager) Verify(ctx context.Context, tenantID, token string) (jwt.Token, error) {
	return m.verify(ctx, tenantID, token, "")
}

// VerifyType is Verify that also requires the typ header to be typ (compared
// as RFC 8725 §3.11 says: case-insensitively, an "application/" prefix
// optional), e.g. "at+jwt" so that an ID token is not accepted as an access
// token. typ must not be empty.
func (m *Manager) VerifyType(ctx context.Context, tenantID, token, typ string) (jwt.Token, error) {
	if typ == "" {
		return nil, errors.New("keys: VerifyType needs a type")
	}
	return m.verify(ctx, tenantID, token, typ)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

func (m *Manager) verify(ctx context.Context, tenantID, token, typ string) (tok jwt.Token, err error) {
	defer func() {
		// jwx should never panic, but a token is attacker input.
		if r := recover(); r != nil {
			tok, err = nil, invalid("malformed token")
		}
	}()
	if len(token) > MaxTokenSize {
		return nil, invalid("token longer than %d bytes", MaxTokenSize)
	}
	if !isCompact(token) {
		return nil, invalid("not a compact JWS")
	}
	if err := checkClaims(token); err != nil {
		return nil, err
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil {
		return nil, invalid("malformed token")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 || sigs[0].ProtectedHeaders() == nil {
		return nil, invalid("malformed token")
	}
	h := sigs[0].ProtectedHeaders()
	if len(h.Critical()) > 0 {
		return nil, invalid("unsupported crit header")
	}
	kid := h.KeyID()
	if kid == "" {
		return nil, invalid("no kid")
	}
	if typ != "" && !sameType(h.Type(), typ) {
		return nil, invalid("typ %.40q is not %q", h.Type(), typ)
	}
	v, err := m.view(ctx, tenantID, false)
	if err != nil {
		return nil, fmt.Errorf("keys: verify for %q: %w", tenantID, err)
	}
	pk := v.keys[kid]
	if pk == nil {
		// The key may be newer than the view (created by another instance).
		if v, err = m.view(ctx, tenantID, true); err != nil {
			return nil, fmt.Errorf("keys: verify for %q: %w", tenantID, err)
		}
		if pk = v.keys[kid]; pk == nil {
			return nil, invalid("unknown kid")
		}
	}
	if alg := h.Algorithm(); alg != pk.alg {
		return nil, invalid("alg %.20q is not the key's %s", alg.String(), pk.alg)
	}
	tok, err = jwt.Parse([]byte(token),
		jwt.WithKey(pk.alg, pk.raw),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(ClockSkew),
		jwt.WithClock(jwt.ClockFunc(m.now)),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return tok, nil
}

// timeClaims are the claims that must be NumericDate values (RFC 7519 §2).
var timeClaims = [...]string{"exp", "nbf", "iat"}

// isNumber reports whether v encodes as a JSON number.
func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return true
	}
	return false
}

// checkClaims requires the payload of a compact token to be a JSON object
// whose exp, nbf and iat, when present, are numbers: jwx alone would accept
// RFC 3339 strings, and nested tokens.
func checkClaims(token string) error {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	payload, err := base64.RawURLEncoding.DecodeString(token[first+1 : last])
	if err != nil || len(payload) == 0 || payload[0] != '{' {
		return invalid("claims are not a JSON object")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return invalid("claims are not a JSON object")
	}
	for _, c := range timeClaims {
		if raw, ok := claims[c]; ok && (len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9'))) {
			return invalid("%s is not a NumericDate", c)
		}
	}
	return nil
}

// isCompact reports whether s has the shape of a compact JWS: three
// non-empty base64url parts separated by dots.
func isCompact(s string) bool {
	parts, empty := 1, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if empty {
				return false
			}
			parts++
			empty = true
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			empty = false
		default:
			return false
		}
	}
	return parts == 3 && !empty
}

// sameType compares media types as RFC 7515 §4.1.9 says.
func sameType(got, want string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		return strings.TrimPrefix(s, "application/")
	}
	return norm(got) == norm(want)
}
