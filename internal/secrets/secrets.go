// Package secrets encrypts secrets at rest (client secrets, connection
// secrets, signing private keys) with AES-256-GCM.
//
// A sealed value is the printable string
//
//	v1.<keyid>.<base64url(nonce || ciphertext || tag)>
//
// where keyid is the first 8 hex characters of SHA-256(key), so that Open can
// pick the right key after a key rotation, and base64url is RFC 4648 §5
// without padding. The nonce is 12 random bytes per Seal. The additional data
// given to GCM is "v1.<keyid>." followed by the caller's aad, which binds a
// ciphertext to the row it belongs to (for example "signing_key:<kid>"): a
// ciphertext copied into another row does not open there.
//
// With random 96-bit nonces one key should seal fewer than 2^32 values (NIST
// SP 800-38D §8.3); rotate the key long before that.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size in bytes of an encryption key (AES-256).
const KeySize = 32

const (
	version   = "v1"
	keyIDLen  = 8 // hex characters
	nonceSize = 12
	tagSize   = 16
)

// ErrInvalidKey is returned by NewBox and ParseKey for a key that is not
// exactly KeySize bytes, or is all zero bytes.
var ErrInvalidKey = errors.New("secrets: invalid encryption key")

// ErrMalformed is returned by Open for a value that is not a sealed value of
// a known version.
var ErrMalformed = errors.New("secrets: malformed sealed value")

// ErrUnknownKey is returned by Open when the value was sealed with a key the
// Box does not hold (neither the current one nor a previous one).
var ErrUnknownKey = errors.New("secrets: sealed with an unknown key")

// errNoBox is returned by a zero or nil Box.
var errNoBox = errors.New("secrets: Box has no key (use NewBox)")

// ErrDecrypt is returned by Open when authentication fails: the ciphertext
// was tampered with, or the aad is not the one it was sealed with.
var ErrDecrypt = errors.New("secrets: decryption failed (tampered value or wrong aad)")

// Box seals and opens secrets with AES-256-GCM. It seals with its current key
// and opens with the current key or any previous key, so that a deployment
// can rotate its encryption key without re-encrypting everything at once. A
// Box is safe for concurrent use. Make one with NewBox; the zero Box (or a
// nil *Box) refuses to seal and open.
type Box struct {
	current aeadKey
	// byID maps a key id to the keys that have it (normally one).
	byID map[string][]aeadKey
}

type aeadKey struct {
	id   string
	aead cipher.AEAD
}

// NewBox returns a Box that seals with key and opens with key or any of the
// previous keys. Every key must be exactly 32 bytes (see ParseKey); the keys
// are copied.
func NewBox(key []byte, previous ...[]byte) (*Box, error) {
	cur, err := newAEADKey(key, "key")
	if err != nil {
		return nil, err
	}
	b := &Box{current: cur, byID: map[string][]aeadKey{cur.id: {cur}}}
	seen := [][]byte{key}
	for i, p := range previous {
		dup := false
		for _, s := range seen {
			if subtle.ConstantTimeCompare(s, p) == 1 {
				dup = true
			}
		}
		if dup {
			continue
		}
		k, err := newAEADKey(p, fmt.Sprintf("previous key %d", i+1))
		if err != nil {
			return nil, err
		}
		seen = append(seen, p)
		b.byID[k.id] = append(b.byID[k.id], k)
	}
	return b, nil
}

func newAEADKey(key []byte, name string) (aeadKey, error) {
	if len(key) != KeySize {
		return aeadKey{}, fmt.Errorf("%w: %s is %d bytes, must be exactly %d", ErrInvalidKey, name, len(key), KeySize)
	}
	zero := true
	for _, c := range key {
		if c != 0 {
			zero = false
			break
		}
	}
	if zero {
		return aeadKey{}, fmt.Errorf("%w: %s is all zero bytes", ErrInvalidKey, name)
	}
	k := make([]byte, KeySize)
	copy(k, key)
	block, err := aes.NewCipher(k)
	if err != nil {
		return aeadKey{}, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return aeadKey{}, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return aeadKey{id: KeyID(k), aead: aead}, nil
}

// KeyID returns the key id a sealed value names for key: the first 8 hex
// characters of SHA-256(key). It reveals nothing useful about the key.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])[:keyIDLen]
}

// KeyID returns the id of the key the Box seals with ("" for a zero Box).
func (b *Box) KeyID() string {
	if b == nil {
		return ""
	}
	return b.current.id
}

// Seal encrypts plaintext with the current key, bound to aad, and returns the
// printable sealed value "v1.<keyid>.<base64url(nonce||ciphertext)>".
func (b *Box) Seal(plaintext []byte, aad string) (string, error) {
	if b == nil || b.current.aead == nil {
		return "", errNoBox
	}
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	out := b.current.aead.Seal(nonce, nonce, plaintext, fullAAD(b.current.id, aad))
	return version + "." + b.current.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same aad. It fails with
// ErrMalformed, ErrUnknownKey or ErrDecrypt (wrong key, tampered value, wrong
// aad); it never panics on any input.
func (b *Box) Open(sealed, aad string) ([]byte, error) {
	if b == nil || b.current.aead == nil {
		return nil, errNoBox
	}
	id, raw, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	keys := b.byID[id]
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	ad := fullAAD(id, aad)
	for _, k := range keys {
		if pt, err := k.aead.Open(nil, raw[:nonceSize], raw[nonceSize:], ad); err == nil {
			if pt == nil {
				pt = []byte{}
			}
			return pt, nil
		}
	}
	return nil, ErrDecrypt
}

// NeedsReseal reports whether sealed was not sealed with the Box's current
// key, so that a caller rotating keys can re-encrypt it (Open, then Seal).
func (b *Box) NeedsReseal(sealed string) bool {
	if b == nil {
		return true
	}
	id, _, err := parse(sealed)
	return err != nil || id != b.current.id
}

// parse splits a sealed value into its key id and nonce||ciphertext.
func parse(sealed string) (id string, raw []byte, err error) {
	v, rest, ok := strings.Cut(sealed, ".")
	if !ok || v != version {
		return "", nil, fmt.Errorf("%w: expected %s.<keyid>.<data>", ErrMalformed, version)
	}
	id, data, ok := strings.Cut(rest, ".")
	if !ok || len(id) != keyIDLen || !isLowerHex(id) {
		return "", nil, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	if strings.ContainsAny(data, "\r\n") {
		return "", nil, fmt.Errorf("%w: bad base64url data", ErrMalformed)
	}
	raw, err = base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: bad base64url data", ErrMalformed)
	}
	if len(raw) < nonceSize+tagSize {
		return "", nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	return id, raw, nil
}

func fullAAD(id, aad string) []byte {
	return []byte(version + "." + id + "." + aad)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ParseKey decodes an encryption key given as base64 (standard or URL
// alphabet, padded or not; surrounding white space is ignored), as read from
// the ENCRYPTION_KEY setting. The key must decode to exactly 32 bytes; make
// one with `openssl rand -base64 32`. The error never contains the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: ENCRYPTION_KEY must be base64 of 32 bytes (it is empty; make one with `openssl rand -base64 32`)", ErrInvalidKey)
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.Strict().DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: ENCRYPTION_KEY must be base64 of 32 bytes (it is not valid base64; make one with `openssl rand -base64 32`)", ErrInvalidKey)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: ENCRYPTION_KEY must be base64 of 32 bytes (it decodes to %d bytes; make one with `openssl rand -base64 32`)", ErrInvalidKey, len(key))
	}
	return key, nil
}
