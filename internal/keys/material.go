package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 only names certificates (x5t, Auth0 fingerprint), as RFC 7517 §4.8 defines.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/secrets"
)

// rsaBits is the RSA modulus size for RS256 keys (Auth0 uses 2048).
const rsaBits = 2048

// certValidity is how long the self-signed certificate of a key is valid.
const certValidity = 365 * 24 * time.Hour

// signingAlg maps a supported algorithm name to its jwa value.
func signingAlg(alg string) (jwa.SignatureAlgorithm, error) {
	switch alg {
	case RS256:
		return jwa.RS256, nil
	case ES256:
		return jwa.ES256, nil
	case EdDSA:
		return jwa.EdDSA, nil
	}
	return "", fmt.Errorf("%w: %q (use %s, %s or %s)", ErrUnsupportedAlg, alg, RS256, ES256, EdDSA)
}

// aad is the additional data that binds a sealed private key to its row.
func aad(kid string) string { return "signing_key:" + kid }

// generated is a new key: its row (no state flags yet) and its private key.
type generated struct {
	row    adapters.SigningKey
	signer crypto.Signer
}

// generate makes a new key pair for alg, its public JWK, its self-signed
// certificate and the sealed private key. It is the slow part of EnsureKeys,
// Rotate and Revoke (RSA-2048 takes tens to hundreds of milliseconds), so they
// call it outside their transactions.
func generate(alg, tenantID string, now time.Time, box *secrets.Box) (*generated, error) {
	jalg, err := signingAlg(alg)
	if err != nil {
		return nil, err
	}
	var signer crypto.Signer
	switch alg {
	case RS256:
		signer, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	pub, err := jwk.FromRaw(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("keys: public JWK: %w", err)
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}

	der, err := selfSignedCert(signer, tenantID, now)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) //nolint:gosec // see import
	var chain cert.Chain
	if err := chain.AddString(base64.StdEncoding.EncodeToString(der)); err != nil {
		return nil, fmt.Errorf("keys: x5c: %w", err)
	}
	for k, v := range map[string]any{
		jwk.KeyIDKey:              kid,
		jwk.AlgorithmKey:          jalg,
		jwk.KeyUsageKey:           jwk.ForSignature,
		jwk.X509CertChainKey:      &chain,
		jwk.X509CertThumbprintKey: base64.RawURLEncoding.EncodeToString(sum[:]),
	} {
		if err := pub.Set(k, v); err != nil {
			return nil, fmt.Errorf("keys: set JWK %s: %w", k, err)
		}
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal JWK: %w", err)
	}

	pkcs8, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	sealed, err := box.Seal(pkcs8, aad(kid))
	clear(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("keys: seal private key: %w", err)
	}

	hexSum := strings.ToUpper(hex.EncodeToString(sum[:]))
	return &generated{
		signer: signer,
		row: adapters.SigningKey{
			Kid:                 kid,
			TenantID:            tenantID,
			Alg:                 alg,
			Cert:                string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			PublicJWK:           string(pubJSON),
			PrivateKeyEncrypted: sealed,
			Fingerprint:         colonHex(hexSum),
			Thumbprint:          hexSum,
			Type:                KeyType,
			CreatedAt:           now,
		},
	}, nil
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of key, base64url
// encoded without padding: the kid.
func thumbprint(key jwk.Key) (string, error) {
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("keys: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// selfSignedCert returns the DER of a certificate for the key, CN = tenant
// id, valid for a year from now, signed by the key itself.
func selfSignedCert(signer crypto.Signer, tenantID string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("keys: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: tenantID},
		NotBefore:             now.UTC().Truncate(time.Second),
		NotAfter:              now.UTC().Truncate(time.Second).Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("keys: create certificate: %w", err)
	}
	return der, nil
}

// colonHex turns "ABCD12" into "AB:CD:12" (Auth0's fingerprint format).
func colonHex(s string) string {
	var b strings.Builder
	for i := 0; i+1 < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(s[i : i+2])
	}
	return b.String()
}

// openPrivate decrypts and parses the private key of a row and checks that
// it is of the row's algorithm and that its public half has the row's kid.
func openPrivate(box *secrets.Box, k *adapters.SigningKey) (crypto.Signer, error) {
	der, err := box.Open(k.PrivateKeyEncrypted, aad(k.Kid))
	if err != nil {
		return nil, fmt.Errorf("keys: decrypt private key %s: %w", k.Kid, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse private key %s: %w", k.Kid, err)
	}
	var signer crypto.Signer
	switch p := parsed.(type) {
	case *rsa.PrivateKey:
		if k.Alg == RS256 && p.N.BitLen() >= rsaBits {
			signer = p
		}
	case *ecdsa.PrivateKey:
		if k.Alg == ES256 && p.Curve == elliptic.P256() {
			signer = p
		}
	case ed25519.PrivateKey:
		if k.Alg == EdDSA {
			signer = p
		}
	}
	if signer == nil {
		return nil, fmt.Errorf("keys: private key %s is a %T, not a %s key", k.Kid, parsed, k.Alg)
	}
	pub, err := jwk.FromRaw(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("keys: public JWK of %s: %w", k.Kid, err)
	}
	if kid, err := thumbprint(pub); err != nil || kid != k.Kid {
		return nil, fmt.Errorf("keys: private key does not match kid %s", k.Kid)
	}
	return signer, nil
}

// publicKey is one published key, ready to verify with.
type publicKey struct {
	alg  jwa.SignatureAlgorithm
	raw  any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	json []byte // the public JWK as published
}

// openPublic parses and checks the public JWK of a row: public only, of the
// row's algorithm, with the row's kid as its thumbprint.
func openPublic(k *adapters.SigningKey) (*publicKey, error) {
	jalg, err := signingAlg(k.Alg)
	if err != nil {
		return nil, err
	}
	key, err := jwk.ParseKey([]byte(k.PublicJWK))
	if err != nil {
		return nil, fmt.Errorf("keys: parse public JWK %s: %w", k.Kid, err)
	}
	// Whatever the row holds, only the public half is ever published.
	if key, err = key.PublicKey(); err != nil {
		return nil, fmt.Errorf("keys: public JWK %s: %w", k.Kid, err)
	}
	if kid, err := thumbprint(key); err != nil || kid != k.Kid || key.KeyID() != k.Kid {
		return nil, fmt.Errorf("keys: public JWK does not match kid %s", k.Kid)
	}
	if key.Algorithm().String() != k.Alg {
		return nil, fmt.Errorf("keys: public JWK %s has alg %q, row has %q", k.Kid, key.Algorithm(), k.Alg)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, fmt.Errorf("keys: public JWK %s: %w", k.Kid, err)
	}
	ok := false
	switch p := raw.(type) {
	case *rsa.PublicKey:
		ok = k.Alg == RS256 && p.N.BitLen() >= rsaBits
	case *ecdsa.PublicKey:
		ok = k.Alg == ES256 && p.Curve == elliptic.P256()
	case ed25519.PublicKey:
		ok = k.Alg == EdDSA
	}
	if !ok {
		return nil, fmt.Errorf("keys: public JWK %s is a %T, not a %s key", k.Kid, raw, k.Alg)
	}
	js, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal JWK %s: %w", k.Kid, err)
	}
	return &publicKey{alg: jalg, raw: raw, json: js}, nil
}
