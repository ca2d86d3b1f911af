// Package password hashes and verifies user passwords with argon2id (the
// default, at OWASP's parameters) or bcrypt, and tells when a stored hash
// should be upgraded because the parameters rose
// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Algorithm names as stored in adapters.Password.Algorithm.
const (
	Argon2id = "argon2id"
	Bcrypt   = "bcrypt"
)

// Hasher hashes passwords. The zero value uses argon2id with OWASP's
// minimum parameters (19 MiB, 2 passes, 1 lane).
type Hasher struct {
	// Algorithm is Argon2id or Bcrypt. Zero: Argon2id.
	Algorithm string
	// BcryptCost is the bcrypt cost. Zero: 10 (OWASP's minimum); lower is
	// refused.
	BcryptCost int
	// ArgonMemoryKiB, ArgonTime and ArgonThreads are the argon2id
	// parameters. Zero: 19456 KiB, 2, 1.
	ArgonMemoryKiB uint32
	ArgonTime      uint32
	ArgonThreads   uint8
}

// MaxLength caps the password length: longer input is refused rather than
// hashed (bcrypt ignores bytes past 72; argon2id would hash megabytes).
const MaxLength = 1024

// ErrTooLong is returned for a password over MaxLength bytes.
var ErrTooLong = errors.New("password: longer than 1024 bytes")

func (h Hasher) alg() string {
	if h.Algorithm == "" {
		return Argon2id
	}
	return h.Algorithm
}

func (h Hasher) cost() int {
	if h.BcryptCost < 10 {
		return 10
	}
	return h.BcryptCost
}

func (h Hasher) params() (mem, time uint32, threads uint8) {
	mem, time, threads = h.ArgonMemoryKiB, h.ArgonTime, h.ArgonThreads
	if mem == 0 {
		mem = 19456
	}
	if time == 0 {
		time = 2
	}
	if threads == 0 {
		threads = 1
	}
	return
}

// Hash returns the stored form of pw and its algorithm name.
func (h Hasher) Hash(pw string) (hash, algorithm string, err error) {
	if len(pw) > MaxLength {
		return "", "", ErrTooLong
	}
	switch h.alg() {
	case Bcrypt:
		if len(pw) > 72 {
			return "", "", errors.New("password: bcrypt cannot hash more than 72 bytes; use argon2id")
		}
		b, err := bcrypt.GenerateFromPassword([]byte(pw), h.cost())
		return string(b), Bcrypt, err
	case Argon2id:
		mem, t, p := h.params()
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return "", "", err
		}
		key := argon2.IDKey([]byte(pw), salt, t, mem, p, 32)
		enc := base64.RawStdEncoding
		return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, mem, t, p, enc.EncodeToString(salt), enc.EncodeToString(key)), Argon2id, nil
	}
	return "", "", fmt.Errorf("password: unknown algorithm %q", h.Algorithm)
}

// Verify reports whether pw matches the stored hash, and whether the hash
// should be replaced by a fresh Hash (another algorithm or weaker
// parameters than h's). A malformed hash is an error, never a match.
func (h Hasher) Verify(hash, algorithm, pw string) (ok, rehash bool, err error) {
	if len(pw) > MaxLength {
		return false, false, nil
	}
	if algorithm == "" {
		algorithm = Bcrypt
		if strings.HasPrefix(hash, "$argon2id$") {
			algorithm = Argon2id
		}
	}
	switch algorithm {
	case Bcrypt:
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("password: malformed bcrypt hash: %w", err)
		}
		cost, _ := bcrypt.Cost([]byte(hash))
		return true, h.alg() != Bcrypt || cost < h.cost(), nil
	case Argon2id:
		var v int
		var mem, t uint32
		var p uint8
		parts := strings.Split(hash, "$")
		if len(parts) != 6 || parts[1] != "argon2id" {
			return false, false, errors.New("password: malformed argon2id hash")
		}
		if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
			return false, false, errors.New("password: unsupported argon2id version")
		}
		if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || t == 0 || p == 0 || mem > 4<<20 || t > 100 {
			return false, false, errors.New("password: malformed argon2id parameters")
		}
		enc := base64.RawStdEncoding
		salt, err1 := enc.DecodeString(parts[4])
		want, err2 := enc.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
			return false, false, errors.New("password: malformed argon2id hash")
		}
		got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return false, false, nil
		}
		hm, ht, hp := h.params()
		return true, h.alg() != Argon2id || mem < hm || t < ht || p < hp, nil
	}
	return false, false, fmt.Errorf("password: unknown algorithm %q", algorithm)
}
