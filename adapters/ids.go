package adapters

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// NewID returns a new random identifier: prefix followed by 24 hex digits
// (96 random bits), e.g. NewID("con_") or, for database users,
// "auth0|"+NewID("").
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("adapters: crypto/rand failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}

// NewULID returns a new lexically sortable ULID, the id format of sessions,
// login sessions, refresh tokens and logs.
func NewULID() string {
	return strings.ToLower(ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String())
}

// Now returns the current time in UTC truncated to milliseconds, the precision
// every adapter stores.
func Now() time.Time { return Millis(time.Now()) }

// Millis returns t in UTC truncated to milliseconds.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
