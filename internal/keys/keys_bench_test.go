package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// benchClaims are typical access-token claims.
func benchClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":   "https://tenant.auth.example.com/",
		"sub":   "auth0|65f1c0a1b2c3d4e5f6a7b8c9",
		"aud":   []string{"https://api.example.com/", "https://tenant.auth.example.com/userinfo"},
		"azp":   "k5u3o2fiAA8XweXEEX604KCwCjzjtMU6",
		"scope": "openid profile email offline_access",
		"iat":   now.Unix(),
		"exp":   now.Add(24 * time.Hour).Unix(),
	}
}

// BenchmarkSign measures Manager.Sign per algorithm in steady state (warm
// cache, no store access), including claim encoding and JWS serialization.
// Compare with BenchmarkRawSign for the cost on top of the bare signature.
func BenchmarkSign(b *testing.B) {
	e := newEnv(b)
	m := e.manager(nil, Options{CacheTTL: time.Hour})
	for _, alg := range algs {
		tenant := "bench-" + strings.ToLower(alg)
		e.tenant(b, tenant, "")
		if err := m.EnsureKeys(ctx, tenant, alg); err != nil {
			b.Fatal(err)
		}
		claims := benchClaims(e.clk.Now())
		if _, err := m.Sign(ctx, tenant, claims, "at+jwt"); err != nil { // warm the cache
			b.Fatal(err)
		}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Sign(ctx, tenant, claims, "at+jwt"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawSign measures the bare signature per algorithm with the
// standard library: SHA-256 of a token-sized signing input, then
// rsa.SignPKCS1v15, ecdsa.SignASN1 or ed25519.Sign on the digest.
func BenchmarkRawSign(b *testing.B) {
	payload, err := json.Marshal(benchClaims(time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"0123456789abcdef0123456789abcdef0123456789a","typ":"at+jwt"}`)) +
		"." + base64.RawURLEncoding.EncodeToString(payload))

	rsaKey, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	signers := map[string]func(digest []byte) error{
		RS256: func(d []byte) error { _, err := rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, d); return err },
		ES256: func(d []byte) error { _, err := ecdsa.SignASN1(rand.Reader, ecKey, d); return err },
		EdDSA: func(d []byte) error { _ = ed25519.Sign(edKey, d); return nil },
	}
	for _, alg := range algs {
		sign := signers[alg]
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := sha256.Sum256(input)
				if err := sign(d[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
