package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authhero-go/authhero/internal/provision"
)

// rsaBits is the RSA key size of RS256 tenants (internal/keys uses 2048, as
// Auth0 does).
const rsaBits = 2048

// AlgDescription names the primitive behind a JWS algorithm, as the sign
// rate measures it.
func AlgDescription(alg string) string {
	switch alg {
	case "RS256":
		return "RSA-2048 PKCS#1 v1.5 SHA-256"
	case "ES256":
		return "ECDSA P-256 SHA-256"
	case "EdDSA":
		return "Ed25519"
	}
	return alg
}

// NewRawSigner returns a function that signs input once with a new key of
// alg's type and size, with the standard library and nothing else:
// SHA-256 then rsa.SignPKCS1v15 (RSA-2048) or ecdsa.SignASN1 (P-256), or
// ed25519.Sign. The function is safe for concurrent use.
func NewRawSigner(alg string, input []byte) (func() error, error) {
	input = append([]byte(nil), input...)
	switch alg {
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, err
		}
		return func() error {
			d := sha256.Sum256(input)
			_, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
			return err
		}, nil
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() error {
			d := sha256.Sum256(input)
			_, err := ecdsa.SignASN1(rand.Reader, k, d[:])
			return err
		}, nil
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() error {
			_ = ed25519.Sign(k, input) // Ed25519 hashes the message itself (SHA-512)
			return nil
		}, nil
	}
	return nil, fmt.Errorf("bench: unknown algorithm %q (use RS256, ES256 or EdDSA)", alg)
}

// SignRate is the outcome of MeasureSignRate.
type SignRate struct {
	// Signatures is how many signatures were made.
	Signatures int64
	// Elapsed is the wall time they took.
	Elapsed time.Duration
	// PerSecond is Signatures ÷ Elapsed.
	PerSecond float64
	// CPU is the CPU time (user + system) the whole process used meanwhile;
	// zero where unknown.
	CPU time.Duration
	// MachineIdle is the fraction of the whole machine's CPU time that was
	// idle meanwhile (/proc/stat), or -1 where unknown.
	MachineIdle float64
}

// MeasureSignRate runs sign on goroutines goroutines (each in a loop bounded
// by d and ctx) and returns the total rate.
func MeasureSignRate(ctx context.Context, sign func() error, goroutines int, d time.Duration) (SignRate, error) {
	if goroutines < 1 {
		goroutines = 1
	}
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	ticks0, ticksOK := machineTicks()
	cpu0, cpuOK := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for range goroutines {
		wg.Go(func() {
			var local int64
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err := sign(); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					break
				}
				local++
			}
			n.Add(local)
		})
	}
	wg.Wait()
	el := time.Since(start)
	if first != nil {
		return SignRate{}, first
	}
	if err := ctx.Err(); err != nil {
		return SignRate{}, err
	}
	r := SignRate{Signatures: n.Load(), Elapsed: el, MachineIdle: idleSince(ticks0, ticksOK)}
	if cpu1, ok := processCPU(); ok && cpuOK {
		r.CPU = cpu1 - cpu0
	}
	if el > 0 {
		r.PerSecond = float64(r.Signatures) / el.Seconds()
	}
	return r, nil
}

// SampleSigningInput returns a JWS signing input shaped like the access
// tokens the load driver gets: an at+jwt header of alg and the claims of a
// client_credentials token for the Management API with every management
// scope. Its length is within a few bytes of a real token's; the benchmarks
// sign it so that hashing costs what it costs in the server.
func SampleSigningInput(alg string) []byte {
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": alg, "kid": strings.Repeat("k", 43), "typ": "at+jwt"})
	id := strings.Repeat("c", 26)
	payload, _ := json.Marshal(map[string]any{
		"iss":   "http://127.0.0.1:40000/",
		"sub":   id + "@clients",
		"aud":   ManagementAudience,
		"azp":   id,
		"iat":   now,
		"exp":   now + 86400,
		"scope": strings.Join(provision.ManagementScopes(), " "),
		"gty":   "client-credentials",
		"jti":   strings.Repeat("j", 22),
	})
	return []byte(base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload))
}
