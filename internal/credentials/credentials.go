// Package credentials makes, seals and checks client secrets.
//
// Secrets are 384 random bits, stored encrypted (AES-256-GCM, bound to the
// client id) so the Management API can show them as Auth0 does, and compared
// in constant time. They are never run through a slow password hash: at 384
// bits that buys nothing and would cap the token endpoint at a few dozen
// requests per second (see RFC 9700 §2.5 and OWASP ASVS 5.0 6.5.2).
package credentials

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/secrets"
)

// NewSecret returns a new client secret: 48 random bytes, base64url (64
// characters).
func NewSecret() string {
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("credentials: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func aad(clientID string) string { return "client_secret:" + clientID }

// Seal encrypts secret for storage in the client's row.
func Seal(box *secrets.Box, clientID, secret string) (string, error) {
	return box.Seal([]byte(secret), aad(clientID))
}

// Reveal decrypts a client's stored secret. A client without a secret
// returns "" and no error.
func Reveal(box *secrets.Box, c *adapters.Client) (string, error) {
	if c.ClientSecret == "" {
		return "", nil
	}
	b, err := box.Open(c.ClientSecret, aad(c.ClientID))
	if err != nil {
		return "", errors.New("credentials: stored client secret cannot be decrypted with this EncryptionKey")
	}
	return string(b), nil
}

// Check reports whether presented is the client's secret, in time that does
// not depend on where the two differ. A client without a secret never
// matches.
func Check(box *secrets.Box, c *adapters.Client, presented string) bool {
	want, err := Reveal(box, c)
	if err != nil || want == "" {
		// Compare anyway so a missing secret costs the same as a wrong one.
		subtle.ConstantTimeCompare([]byte(presented), []byte(presented))
		return false
	}
	return subtle.ConstantTimeCompare([]byte(presented), []byte(want)) == 1
}
