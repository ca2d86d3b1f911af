package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // checks the certificate fingerprint
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/testdb"
)

var ctx = context.Background()

var algs = []string{RS256, ES256, EdDSA}

// jwksKids parses a JWKS with jwx and returns its kids in order.
func jwksKids(t *testing.T, doc []byte) []string {
	t.Helper()
	set, err := jwk.Parse(doc)
	require.NoError(t, err)
	var kids []string
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		priv, err := jwk.IsPrivateKey(k)
		require.NoError(t, err)
		require.False(t, priv, "JWKS must hold public keys only")
		kids = append(kids, k.KeyID())
	}
	return kids
}

func header(t *testing.T, token string) jws.Headers {
	t.Helper()
	msg, err := jws.Parse([]byte(token))
	require.NoError(t, err)
	return msg.Signatures()[0].ProtectedHeaders()
}

func TestSignVerifyAllAlgs(t *testing.T) {
	e := newEnv(t)
	m := e.manager(nil, Options{})
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			tenant := "t-" + strings.ToLower(alg)
			e.tenant(t, tenant, "")
			require.NoError(t, m.EnsureKeys(ctx, tenant, alg))

			tok, err := m.Sign(ctx, tenant, e.claims(time.Hour), "at+jwt")
			require.NoError(t, err)
			h := header(t, tok)
			require.Equal(t, alg, h.Algorithm().String())
			require.Equal(t, "at+jwt", h.Type())
			r := countRoles(t, e.store, tenant)
			require.Equal(t, r.currentKid, h.KeyID())

			got, err := m.Verify(ctx, tenant, tok)
			require.NoError(t, err)
			require.Equal(t, "auth0|123", got.Subject())
			require.Equal(t, []string{"client-1"}, got.Audience())

			// An independent verifier that only knows the published JWKS
			// accepts the token too.
			doc, err := m.JWKS(ctx, tenant)
			require.NoError(t, err)
			set, err := jwk.Parse(doc)
			require.NoError(t, err)
			_, err = jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithClock(jwt.ClockFunc(e.clk.Now)))
			require.NoError(t, err)

			// Default typ.
			tok2, err := m.Sign(ctx, tenant, e.claims(time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, "JWT", header(t, tok2).Type())
		})
	}
}

func TestKeyRows(t *testing.T) {
	e := newEnv(t)
	m := e.manager(nil, Options{})
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			tenant := "rows-" + strings.ToLower(alg)
			e.tenant(t, tenant, "")
			require.NoError(t, m.EnsureKeys(ctx, tenant, alg))
			rows, err := e.store.Keys.List(ctx, tenant)
			require.NoError(t, err)
			require.Len(t, rows, 2)
			for _, k := range rows {
				require.Equal(t, tenant, k.TenantID)
				require.Equal(t, alg, k.Alg)
				require.Equal(t, KeyType, k.Type)

				// kid is the RFC 7638 thumbprint, computed independently from
				// the published JWK and from the decrypted private key.
				pub, err := jwk.ParseKey([]byte(k.PublicJWK))
				require.NoError(t, err)
				priv, err := jwk.IsPrivateKey(pub)
				require.NoError(t, err)
				require.False(t, priv)
				require.NotContains(t, k.PublicJWK, `"d"`)
				tp, err := pub.Thumbprint(crypto.SHA256)
				require.NoError(t, err)
				require.Equal(t, base64.RawURLEncoding.EncodeToString(tp), k.Kid)
				require.Equal(t, k.Kid, pub.KeyID())
				require.Equal(t, alg, pub.Algorithm().String())
				require.Equal(t, "sig", pub.KeyUsage())

				// The private key is encrypted, bound to its kid.
				require.NotContains(t, k.PrivateKeyEncrypted, "PRIVATE KEY")
				require.True(t, strings.HasPrefix(k.PrivateKeyEncrypted, "v1."+e.box.KeyID()+"."))
				der, err := e.box.Open(k.PrivateKeyEncrypted, "signing_key:"+k.Kid)
				require.NoError(t, err)
				_, err = e.box.Open(k.PrivateKeyEncrypted, "signing_key:other")
				require.Error(t, err)
				raw, err := x509.ParsePKCS8PrivateKey(der)
				require.NoError(t, err)
				fromPriv, err := jwk.FromRaw(raw.(crypto.Signer).Public())
				require.NoError(t, err)
				tp2, err := fromPriv.Thumbprint(crypto.SHA256)
				require.NoError(t, err)
				require.Equal(t, tp, tp2)

				// Self-signed certificate, CN = tenant, one year, same key.
				block, rest := pem.Decode([]byte(k.Cert))
				require.NotNil(t, block)
				require.Empty(t, strings.TrimSpace(string(rest)))
				require.Equal(t, "CERTIFICATE", block.Type)
				cert, err := x509.ParseCertificate(block.Bytes)
				require.NoError(t, err)
				require.Equal(t, tenant, cert.Subject.CommonName)
				require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature))
				require.Equal(t, 365*24*time.Hour, cert.NotAfter.Sub(cert.NotBefore))
				require.WithinDuration(t, e.clk.Now(), cert.NotBefore, time.Second)
				certPub, err := jwk.FromRaw(cert.PublicKey)
				require.NoError(t, err)
				tp3, err := certPub.Thumbprint(crypto.SHA256)
				require.NoError(t, err)
				require.Equal(t, tp, tp3)

				sum := sha1.Sum(block.Bytes) //nolint:gosec // fingerprint
				hexSum := strings.ToUpper(hex.EncodeToString(sum[:]))
				require.Equal(t, hexSum, k.Thumbprint)
				require.Regexp(t, `^([0-9A-F]{2}:){19}[0-9A-F]{2}$`, k.Fingerprint)
				require.Equal(t, hexSum, strings.ReplaceAll(k.Fingerprint, ":", ""))
				require.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), pub.X509CertThumbprint())
				require.Equal(t, 1, pub.X509CertChain().Len())
			}
		})
	}
}

func TestPrivateKeyNeverStoredInClear(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "clear", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "clear", ES256))
	// Read the raw columns, not the adapter's view of them.
	a := openStore(t, e.dsn)
	rows, err := a.DB().QueryContext(ctx, "SELECT kid, private_key, data FROM signing_keys")
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kid, priv, data string
		require.NoError(t, rows.Scan(&kid, &priv, &data))
		n++
		require.NotContains(t, priv, "PRIVATE KEY")
		require.NotContains(t, data, "PRIVATE KEY")
		require.NotContains(t, data, priv)
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(data), &doc))
		var pubJWK map[string]any
		require.NoError(t, json.Unmarshal([]byte(doc["public_jwk"].(string)), &pubJWK))
		require.NotContains(t, pubJWK, "d")
		plain, err := e.box.Open(priv, "signing_key:"+kid)
		require.NoError(t, err)
		_, err = x509.ParsePKCS8PrivateKey(plain)
		require.NoError(t, err)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 2, n)
}

func TestDefaultsAndAlgChoice(t *testing.T) {
	e := newEnv(t)
	m := NewManager(e.store, e.box, Options{Logger: quiet()})
	require.Equal(t, 24*time.Hour, m.overlap)
	require.Equal(t, 30*time.Second, m.ttl)
	require.NotNil(t, m.now)

	e.tenant(t, "plain", "")
	e.tenant(t, "ec", ES256)
	require.NoError(t, m.EnsureKeys(ctx, "plain", ""))
	require.NoError(t, m.EnsureKeys(ctx, "ec", ""))
	for tenant, want := range map[string]string{"plain": RS256, "ec": ES256} {
		rows, err := m.List(ctx, tenant)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		for _, k := range rows {
			require.Equal(t, want, k.Alg)
		}
	}

	e.tenant(t, "fresh", "")
	for _, bad := range []string{"HS256", "none", "rs256", "RS512", "PS256", "ES384"} {
		require.ErrorIs(t, m.EnsureKeys(ctx, "fresh", bad), ErrUnsupportedAlg, bad)
		require.ErrorIs(t, m.EnsureKeys(ctx, "plain", bad), ErrUnsupportedAlg, "even with keys: %s", bad)
	}
	var err error
	require.Equal(t, 0, countRoles(t, e.store, "fresh").total)

	err = m.EnsureKeys(ctx, "no-such-tenant", ES256)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestEnsureKeysIdempotent(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "idem", "")
	m := e.manager(nil, Options{})
	for range 3 {
		require.NoError(t, m.EnsureKeys(ctx, "idem", EdDSA))
	}
	r := countRoles(t, e.store, "idem")
	require.Equal(t, roles{current: 1, next: 1, total: 2, currentKid: r.currentKid, nextKid: r.nextKid}, r)

	// Revoking the next key leaves a gap that Revoke itself refills; EnsureKeys
	// refills a gap left by the store too (here: next removed by hand).
	_, err := e.store.Keys.Update(ctx, r.nextKid, func(k *adapters.SigningKey) error {
		k.Next = false
		now := e.clk.Now()
		k.RevokedAt = &now
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, m.EnsureKeys(ctx, "idem", EdDSA))
	r2 := countRoles(t, e.store, "idem")
	require.Equal(t, 1, r2.current)
	require.Equal(t, 1, r2.next)
	require.Equal(t, r.currentKid, r2.currentKid)
	require.NotEqual(t, r.nextKid, r2.nextKid)
}

func TestSignWithoutKeys(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "empty", "")
	m := e.manager(nil, Options{})
	_, err := m.Sign(ctx, "empty", e.claims(time.Hour), "JWT")
	require.ErrorIs(t, err, ErrNoKey)
	_, err = m.Sign(ctx, "no-such-tenant", e.claims(time.Hour), "JWT")
	require.ErrorIs(t, err, ErrNoKey)
	doc, err := m.JWKS(ctx, "empty")
	require.NoError(t, err)
	require.JSONEq(t, `{"keys":[]}`, string(doc))
	require.ErrorIs(t, m.Rotate(ctx, "empty"), ErrNoKey)
	_, err = m.Verify(ctx, "empty", "a.b.c")
	require.ErrorIs(t, err, ErrInvalidToken)

	// Keys created by another instance are picked up without waiting for
	// CacheTTL (a miss forces a re-read, at most once a second).
	other := e.manager(nil, Options{})
	require.NoError(t, other.EnsureKeys(ctx, "empty", ES256))
	e.clk.Add(maxForcedReload)
	_, err = m.Sign(ctx, "empty", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "A", "")
	e.tenant(t, "B", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "A", ES256))
	require.NoError(t, m.EnsureKeys(ctx, "B", ES256))

	tokA, err := m.Sign(ctx, "A", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	_, err = m.Verify(ctx, "A", tokA)
	require.NoError(t, err)
	_, err = m.Verify(ctx, "B", tokA)
	require.ErrorIs(t, err, ErrInvalidToken)

	docA, err := m.JWKS(ctx, "A")
	require.NoError(t, err)
	docB, err := m.JWKS(ctx, "B")
	require.NoError(t, err)
	kidsA, kidsB := jwksKids(t, docA), jwksKids(t, docB)
	require.Len(t, kidsA, 2)
	require.Len(t, kidsB, 2)
	for _, k := range kidsA {
		require.NotContains(t, kidsB, k)
	}
	listA, err := m.List(ctx, "A")
	require.NoError(t, err)
	for _, k := range listA {
		require.Equal(t, "A", k.TenantID)
		require.Contains(t, kidsA, k.Kid)
	}

	// B cannot revoke A's key; it is not even told that it exists.
	err = m.Revoke(ctx, "B", kidsA[0])
	require.ErrorIs(t, err, adapters.ErrNotFound)
	err = m.Revoke(ctx, "A", "no-such-kid")
	require.ErrorIs(t, err, adapters.ErrNotFound)
	_, err = m.Verify(ctx, "A", tokA)
	require.NoError(t, err)
}

func TestList(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "L", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "L", ES256))
	require.NoError(t, m.Rotate(ctx, "L"))
	list, err := m.List(ctx, "L")
	require.NoError(t, err)
	require.Len(t, list, 3)
	var cur, next, prev int
	for _, k := range list {
		require.Empty(t, k.PrivateKeyEncrypted)
		require.NotEmpty(t, k.Cert)
		require.NotEmpty(t, k.PublicJWK)
		if k.Current {
			cur++
		}
		if k.Next {
			next++
		}
		if k.Previous {
			prev++
			require.NotNil(t, k.RevokedAt)
		}
	}
	require.Equal(t, []int{1, 1, 1}, []int{cur, next, prev})
	js, err := json.Marshal(list)
	require.NoError(t, err)
	require.NotContains(t, string(js), "v1.")
}

func TestRotationOverlap(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "rot", "")
	m := e.manager(nil, Options{Overlap: time.Hour, CacheTTL: time.Second})
	require.NoError(t, m.EnsureKeys(ctx, "rot", EdDSA))
	before := countRoles(t, e.store, "rot")

	// The next key is published before it is ever used.
	doc, err := m.JWKS(ctx, "rot")
	require.NoError(t, err)
	require.Equal(t, []string{before.currentKid, before.nextKid}, jwksKids(t, doc))

	old, err := m.Sign(ctx, "rot", e.claims(3*time.Hour), "JWT")
	require.NoError(t, err)
	require.Equal(t, before.currentKid, header(t, old).KeyID())

	e.clk.Add(time.Minute)
	rotatedAt := e.clk.Now()
	require.NoError(t, m.Rotate(ctx, "rot"))
	after := countRoles(t, e.store, "rot")
	require.Equal(t, before.nextKid, after.currentKid, "the former next key is current")
	require.NotEqual(t, before.nextKid, after.nextKid)
	require.Equal(t, roles{current: 1, next: 1, previous: 1, total: 3, currentKid: after.currentKid, nextKid: after.nextKid}, after)

	prev, err := e.store.Keys.Get(ctx, before.currentKid)
	require.NoError(t, err)
	require.True(t, prev.Previous)
	require.False(t, prev.Current)
	require.WithinDuration(t, rotatedAt.Add(time.Hour), *prev.RevokedAt, time.Millisecond)
	require.WithinDuration(t, rotatedAt, *prev.CurrentUntil, time.Millisecond)
	cur, err := e.store.Keys.Get(ctx, after.currentKid)
	require.NoError(t, err)
	require.WithinDuration(t, rotatedAt, *cur.CurrentSince, time.Millisecond)

	// New tokens use the former next key; old ones still verify (overlap).
	fresh, err := m.Sign(ctx, "rot", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	require.Equal(t, before.nextKid, header(t, fresh).KeyID())
	_, err = m.Verify(ctx, "rot", old)
	require.NoError(t, err)
	_, err = m.Verify(ctx, "rot", fresh)
	require.NoError(t, err)
	doc, err = m.JWKS(ctx, "rot")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{before.currentKid, before.nextKid, after.nextKid}, jwksKids(t, doc))

	// Just before the overlap ends the old key is still there...
	e.clk.Add(time.Hour - time.Second)
	doc, err = m.JWKS(ctx, "rot")
	require.NoError(t, err)
	require.Contains(t, jwksKids(t, doc), before.currentKid)
	// ...and once it has passed, it is gone, and its tokens with it.
	e.clk.Add(2 * time.Second)
	doc, err = m.JWKS(ctx, "rot")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{before.nextKid, after.nextKid}, jwksKids(t, doc))
	_, err = m.Verify(ctx, "rot", old)
	require.ErrorIs(t, err, ErrInvalidToken)
	_, err = m.Verify(ctx, "rot", fresh)
	require.NoError(t, err)
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "rev", "")
	m := e.manager(nil, Options{Overlap: time.Hour})
	require.NoError(t, m.EnsureKeys(ctx, "rev", ES256))
	r0 := countRoles(t, e.store, "rev")
	tok, err := m.Sign(ctx, "rev", e.claims(time.Hour), "JWT")
	require.NoError(t, err)

	// Revoking the current key: gone at once, next promoted, new next made.
	require.NoError(t, m.Revoke(ctx, "rev", r0.currentKid))
	r1 := countRoles(t, e.store, "rev")
	require.Equal(t, r0.nextKid, r1.currentKid)
	require.Equal(t, 1, r1.current)
	require.Equal(t, 1, r1.next)
	require.Equal(t, 3, r1.total)
	_, err = m.Verify(ctx, "rev", tok)
	require.ErrorIs(t, err, ErrInvalidToken)
	doc, err := m.JWKS(ctx, "rev")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{r1.currentKid, r1.nextKid}, jwksKids(t, doc))
	k, err := e.store.Keys.Get(ctx, r0.currentKid)
	require.NoError(t, err)
	require.False(t, k.Current)
	require.WithinDuration(t, e.clk.Now(), *k.RevokedAt, time.Millisecond)
	tok2, err := m.Sign(ctx, "rev", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	require.Equal(t, r1.currentKid, header(t, tok2).KeyID())

	// Revoking twice is a no-op.
	require.NoError(t, m.Revoke(ctx, "rev", r0.currentKid))
	require.Equal(t, r1, countRoles(t, e.store, "rev"))

	// Revoking the next key: a new next key.
	require.NoError(t, m.Revoke(ctx, "rev", r1.nextKid))
	r2 := countRoles(t, e.store, "rev")
	require.Equal(t, r1.currentKid, r2.currentKid)
	require.NotEqual(t, r1.nextKid, r2.nextKid)
	require.Equal(t, 1, r2.next)
	require.Equal(t, 4, r2.total)

	// Revoking a previous key ends its overlap early.
	require.NoError(t, m.Rotate(ctx, "rev"))
	r3 := countRoles(t, e.store, "rev")
	doc, err = m.JWKS(ctx, "rev")
	require.NoError(t, err)
	require.Contains(t, jwksKids(t, doc), r2.currentKid)
	_, err = m.Verify(ctx, "rev", tok2)
	require.NoError(t, err)
	require.NoError(t, m.Revoke(ctx, "rev", r2.currentKid))
	doc, err = m.JWKS(ctx, "rev")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{r3.currentKid, r3.nextKid}, jwksKids(t, doc))
	_, err = m.Verify(ctx, "rev", tok2)
	require.ErrorIs(t, err, ErrInvalidToken)
	require.Equal(t, r3.total, countRoles(t, e.store, "rev").total, "no key made for a previous one")
}

func TestSignSteadyStateDoesNotTouchTheStore(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "hot", "")
	require.NoError(t, e.manager(nil, Options{}).EnsureKeys(ctx, "hot", EdDSA))

	counted := *e.store
	ck := &countingKeys{KeysAdapter: e.store.Keys}
	counted.Keys = ck
	m := e.manager(&counted, Options{CacheTTL: time.Minute})

	// A cold cache under concurrent load reads the store once.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := make(chan struct{})
	for range 64 {
		wg.Go(func() {
			<-start
			_, err := m.Sign(ctx, "hot", e.claims(time.Hour), "JWT")
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), ck.lists.Load())

	// Steady state: no store access at all.
	for range 200 {
		tok, err := m.Sign(ctx, "hot", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		_, err = m.Verify(ctx, "hot", tok)
		require.NoError(t, err)
		_, err = m.JWKS(ctx, "hot")
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), ck.lists.Load())

	// Garbage kids force at most one re-read per second.
	for range 50 {
		_, err := m.Verify(ctx, "hot", forge(t, map[string]any{"alg": "EdDSA", "kid": "nope"}, `{}`, "c2ln"))
		require.ErrorIs(t, err, ErrInvalidToken)
	}
	require.LessOrEqual(t, ck.lists.Load(), int64(2))

	// After CacheTTL the view is re-read once.
	e.clk.Add(time.Minute + time.Second)
	_, err := m.Sign(ctx, "hot", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	n := ck.lists.Load()
	_, err = m.Sign(ctx, "hot", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	require.Equal(t, n, ck.lists.Load())
}

func TestWrongEncryptionKey(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "wk", "")
	require.NoError(t, e.manager(nil, Options{}).EnsureKeys(ctx, "wk", ES256))
	other := newEnv(t) // another random box
	m := NewManager(e.store, other.box, Options{Logger: quiet(), Now: e.clk.Now})
	_, err := m.Sign(ctx, "wk", e.claims(time.Hour), "JWT")
	require.ErrorIs(t, err, ErrNoKey)
	require.ErrorContains(t, err, "decrypt")
	// Publishing and verifying do not need the private key.
	doc, err := m.JWKS(ctx, "wk")
	require.NoError(t, err)
	require.Len(t, jwksKids(t, doc), 2)
}

// forge builds a compact JWS from a header, a payload and a raw signature
// (already base64url).
func forge(t *testing.T, hdr map[string]any, payload, sig string) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + sig
}

// privateKey decrypts a stored key, as an attacker who stole it would.
func privateKey(t *testing.T, e *env, kid string) crypto.Signer {
	t.Helper()
	k, err := e.store.Keys.Get(ctx, kid)
	require.NoError(t, err)
	der, err := e.box.Open(k.PrivateKeyEncrypted, "signing_key:"+kid)
	require.NoError(t, err)
	p, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	return p.(crypto.Signer)
}

func signWith(t *testing.T, alg jwa.SignatureAlgorithm, key any, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	for k, v := range hdr {
		require.NoError(t, h.Set(k, v))
	}
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	require.NoError(t, err)
	return string(tok)
}

func TestVerifyRejectsAlgConfusion(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "conf", "")
	e.tenant(t, "conf-ec", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "conf", RS256))
	require.NoError(t, m.EnsureKeys(ctx, "conf-ec", ES256))
	r := countRoles(t, e.store, "conf")
	kid := r.currentKid
	claims := e.claims(time.Hour)
	payload, _ := json.Marshal(claims)

	k, err := e.store.Keys.Get(ctx, kid)
	require.NoError(t, err)
	rsaPriv := privateKey(t, e, kid).(*rsa.PrivateKey)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attackerEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	attackerRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	attackerJWK, err := jwk.FromRaw(attackerRSA.Public())
	require.NoError(t, err)
	ecKid := countRoles(t, e.store, "conf-ec").currentKid

	cases := map[string]string{
		"none, empty signature": forge(t, map[string]any{"alg": "none", "kid": kid}, string(payload), ""),
		"none, some signature":  forge(t, map[string]any{"alg": "none", "kid": kid}, string(payload), "c2ln"),
		"none, no kid":          forge(t, map[string]any{"alg": "none"}, string(payload), "c2ln"),
		"HS256 with the public key PEM as secret": signWith(t, jwa.HS256, pubPEM,
			map[string]any{"kid": kid}, claims),
		"HS256 with the public key DER as secret": signWith(t, jwa.HS256, pubDER,
			map[string]any{"kid": kid}, claims),
		"HS256 with the public JWK as secret": signWith(t, jwa.HS256, []byte(k.PublicJWK),
			map[string]any{"kid": kid}, claims),
		"RS512 with the right private key": signWith(t, jwa.RS512, rsaPriv, map[string]any{"kid": kid}, claims),
		"PS256 with the right private key": signWith(t, jwa.PS256, rsaPriv, map[string]any{"kid": kid}, claims),
		"ES256 by an attacker under an RS256 kid": signWith(t, jwa.ES256, attackerEC,
			map[string]any{"kid": kid}, claims),
		"RS256 by an attacker with an embedded jwk": signWith(t, jwa.RS256, attackerRSA,
			map[string]any{"kid": kid, "jwk": attackerJWK}, claims),
		"RS256 by an attacker with jku": signWith(t, jwa.RS256, attackerRSA,
			map[string]any{"kid": kid, "jku": "https://evil.example/jwks"}, claims),
		"right key, no kid":  signWith(t, jwa.RS256, rsaPriv, map[string]any{}, claims),
		"right key, crit":    signWith(t, jwa.RS256, rsaPriv, map[string]any{"kid": kid, "crit": []string{"exp"}}, claims),
		"other tenant's kid": signWith(t, jwa.RS256, rsaPriv, map[string]any{"kid": ecKid}, claims),
		"other tenant's key and kid": signWith(t, jwa.ES256, privateKey(t, e, ecKid),
			map[string]any{"kid": ecKid}, claims),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = m.Verify(ctx, "conf", tok) })
			require.ErrorIs(t, err, ErrInvalidToken)
		})
	}
	// Control: the right key with the right alg verifies.
	_, err = m.Verify(ctx, "conf", signWith(t, jwa.RS256, rsaPriv, map[string]any{"kid": kid}, claims))
	require.NoError(t, err)
}

func TestVerifyRejectsGarbage(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "g", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "g", EdDSA))
	kid := countRoles(t, e.store, "g").currentKid
	priv := privateKey(t, e, kid)
	good, err := m.Sign(ctx, "g", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	jsonSer, err := jws.Sign([]byte(`{"exp":9999999999}`), jws.WithJSON(), jws.WithKey(jwa.EdDSA, priv,
		jws.WithProtectedHeaders(func() jws.Headers { h := jws.NewHeaders(); _ = h.Set("kid", kid); return h }())))
	require.NoError(t, err)
	nested := signWith(t, jwa.EdDSA, priv, map[string]any{"kid": kid}, e.claims(time.Hour))
	random := make([]byte, 4096)
	_, _ = rand.Read(random)

	cases := map[string]string{
		"empty":                "",
		"dot":                  ".",
		"two dots":             "..",
		"letters":              "a.b.c",
		"missing signature":    parts[0] + "." + parts[1] + ".",
		"missing payload":      parts[0] + ".." + parts[2],
		"four parts":           good + ".x",
		"five parts":           good + ".x.y",
		"many dots":            strings.Repeat("a.", 5000),
		"padding":              parts[0] + "=." + parts[1] + "." + parts[2],
		"std base64":           strings.ReplaceAll(good, "_", "/") + "+",
		"whitespace":           " " + good,
		"newline":              good + "\n",
		"NUL":                  good + "\x00",
		"JSON serialization":   string(jsonSer),
		"header not JSON":      base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + parts[1] + "." + parts[2],
		"header JSON array":    base64.RawURLEncoding.EncodeToString([]byte(`["alg"]`)) + "." + parts[1] + "." + parts[2],
		"kid is a number":      forge(t, map[string]any{"alg": "EdDSA", "kid": 123}, "{}", parts[2]),
		"kid path":             forge(t, map[string]any{"alg": "EdDSA", "kid": "../../etc/passwd"}, "{}", parts[2]),
		"kid SQL":              forge(t, map[string]any{"alg": "EdDSA", "kid": "' OR 1=1--"}, "{}", parts[2]),
		"kid 10 kB":            forge(t, map[string]any{"alg": "EdDSA", "kid": strings.Repeat("k", 10<<10)}, "{}", parts[2]),
		"unknown alg":          forge(t, map[string]any{"alg": "XX999", "kid": kid}, "{}", parts[2]),
		"alg not a string":     forge(t, map[string]any{"alg": 1, "kid": kid}, "{}", parts[2]),
		"swapped signature":    parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":9999999999}`)) + "." + parts[2],
		"payload not JSON":     signRaw(t, priv, kid, []byte("not json")),
		"payload JSON array":   signRaw(t, priv, kid, []byte(`[1,2,3]`)),
		"payload nested token": signRaw(t, priv, kid, []byte(nested)),
		"random bytes":         string(random),
		"too long":             parts[0] + "." + strings.Repeat("A", MaxTokenSize) + "." + parts[2],
		"huge":                 strings.Repeat("A", 1<<20),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			var got jwt.Token
			require.NotPanics(t, func() { got, err = m.Verify(ctx, "g", tok) })
			require.ErrorIs(t, err, ErrInvalidToken)
			require.Nil(t, got)
		})
	}
	// Every prefix of a good token is rejected.
	for i := range len(good) {
		var err error
		require.NotPanics(t, func() { _, err = m.Verify(ctx, "g", good[:i]) })
		require.ErrorIs(t, err, ErrInvalidToken, "prefix %d", i)
	}
	_, err = m.Verify(ctx, "g", good)
	require.NoError(t, err)
}

// signRaw signs an arbitrary payload with EdDSA.
func signRaw(t *testing.T, priv crypto.Signer, kid string, payload []byte) string {
	t.Helper()
	h := jws.NewHeaders()
	require.NoError(t, h.Set("kid", kid))
	tok, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, priv.(ed25519.PrivateKey), jws.WithProtectedHeaders(h)))
	require.NoError(t, err)
	return string(tok)
}

func TestVerifyTimeClaims(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "time", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "time", ES256))
	now := e.clk.Now().Unix()
	sec := int64(1)
	cases := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"valid", map[string]any{"iat": now, "exp": now + 60}, true},
		{"expired within skew", map[string]any{"iat": now - 600, "exp": now - 10*sec}, true},
		{"expired beyond skew", map[string]any{"iat": now - 600, "exp": now - 60*sec}, false},
		{"nbf within skew", map[string]any{"nbf": now + 10, "exp": now + 600}, true},
		{"nbf beyond skew", map[string]any{"nbf": now + 60, "exp": now + 600}, false},
		{"iat within skew", map[string]any{"iat": now + 10, "exp": now + 600}, true},
		{"iat beyond skew", map[string]any{"iat": now + 120, "exp": now + 600}, false},
		{"no exp", map[string]any{"iat": now}, false},
		{"exp is a string", map[string]any{"exp": "tomorrow"}, false},
		{"exp is RFC 3339", map[string]any{"exp": e.clk.Now().Add(time.Hour).Format(time.RFC3339)}, false},
		{"exp is a float", map[string]any{"exp": float64(now) + 60.5}, true},
		{"exp is a json.Number", map[string]any{"exp": json.Number("9999999999")}, true},
	}
	kid := countRoles(t, e.store, "time").currentKid
	priv := privateKey(t, e, kid)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Signed directly: Sign itself refuses non-numeric time claims.
			tok := signWith(t, jwa.ES256, priv, map[string]any{"kid": kid}, c.claims)
			_, err := m.Verify(ctx, "time", tok)
			if c.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalidToken)
			}
		})
	}
}

func TestSignRefusesNonNumericTimes(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "st", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "st", ES256))
	for _, c := range []string{"exp", "nbf", "iat"} {
		for _, v := range []any{"1700000000", time.Now(), nil, true} {
			_, err := m.Sign(ctx, "st", map[string]any{c: v}, "JWT")
			require.Error(t, err, "%s=%v", c, v)
		}
	}
	tok, err := m.Sign(ctx, "st", nil, "JWT")
	require.NoError(t, err)
	_, err = m.Verify(ctx, "st", tok)
	require.ErrorIs(t, err, ErrInvalidToken, "no exp")
}

func TestVerifyType(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "typ", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "typ", ES256))
	at, err := m.Sign(ctx, "typ", e.claims(time.Hour), "at+jwt")
	require.NoError(t, err)
	id, err := m.Sign(ctx, "typ", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
	_, err = m.VerifyType(ctx, "typ", at, "at+jwt")
	require.NoError(t, err)
	_, err = m.VerifyType(ctx, "typ", at, "application/AT+JWT")
	require.NoError(t, err)
	_, err = m.VerifyType(ctx, "typ", id, "at+jwt")
	require.ErrorIs(t, err, ErrInvalidToken, "an ID token is not an access token")
	_, err = m.VerifyType(ctx, "typ", at, "")
	require.Error(t, err)
	_, err = m.Verify(ctx, "typ", id)
	require.NoError(t, err)
}

// The tests below model several instances: Managers on separate connection
// pools over one database. They run on SQLite, and on PostgreSQL and MySQL
// when testdb's DSNs are set.

func TestEnsureKeysConcurrentInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnvDSN(t, dsn)
		e.tenant(t, "race", "")
		managers := []*Manager{
			e.manager(openStore(t, dsn).DataAdapters, Options{}),
			e.manager(openStore(t, dsn).DataAdapters, Options{}),
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 10)
		for _, m := range managers {
			for range 5 {
				wg.Go(func() {
					<-start
					errs <- m.EnsureKeys(ctx, "race", ES256)
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		r := countRoles(t, e.store, "race")
		require.Equal(t, 1, r.current)
		require.Equal(t, 1, r.next)
		require.Equal(t, 2, r.total)

		// Both instances sign with the one current key and verify each other.
		tok0, err := managers[0].Sign(ctx, "race", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		tok1, err := managers[1].Sign(ctx, "race", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		require.Equal(t, r.currentKid, header(t, tok0).KeyID())
		require.Equal(t, r.currentKid, header(t, tok1).KeyID())
		_, err = managers[1].Verify(ctx, "race", tok0)
		require.NoError(t, err)
	})
}

func TestRotateConcurrentInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnvDSN(t, dsn)
		e.tenant(t, "rr", "")
		managers := []*Manager{
			e.manager(openStore(t, dsn).DataAdapters, Options{Overlap: time.Hour}),
			e.manager(openStore(t, dsn).DataAdapters, Options{Overlap: time.Hour}),
		}
		require.NoError(t, managers[0].EnsureKeys(ctx, "rr", ES256))
		total := 2
		for round := range 3 {
			before := countRoles(t, e.store, "rr")
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, len(managers))
			for _, m := range managers {
				wg.Go(func() {
					<-start
					errs <- m.Rotate(ctx, "rr")
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			after := countRoles(t, e.store, "rr")
			rotations := after.previous - before.previous
			t.Logf("round %d: %d concurrent Rotate calls made %d rotation(s)", round, len(managers), rotations)
			require.GreaterOrEqual(t, rotations, 1, "round %d", round)
			require.LessOrEqual(t, rotations, len(managers), "round %d", round)
			require.Equal(t, 1, after.current, "round %d", round)
			require.Equal(t, 1, after.next, "round %d", round)
			// Each rotation retires exactly one key and adds exactly one.
			require.Equal(t, before.total+rotations, after.total, "round %d", round)
			total += rotations
			require.Equal(t, total, after.total)
			if rotations == 1 {
				require.Equal(t, before.nextKid, after.currentKid, "round %d: the published next key became current", round)
			}
			// Every key that was ever current is either current or previous.
			rows, err := e.store.Keys.List(ctx, "rr")
			require.NoError(t, err)
			for _, k := range rows {
				if k.CurrentSince != nil {
					require.True(t, k.Current != k.Previous, "kid %s", k.Kid)
				}
				if k.Previous {
					require.NotNil(t, k.RevokedAt)
					require.NotNil(t, k.CurrentUntil)
				}
			}
		}
	})
}

func TestSecondInstanceSeesRotationAfterTTL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnvDSN(t, dsn)
		e.tenant(t, "ttl", "")
		ttl := 5 * time.Second
		m1 := e.manager(openStore(t, dsn).DataAdapters, Options{CacheTTL: ttl, Overlap: time.Hour})
		m2 := e.manager(openStore(t, dsn).DataAdapters, Options{CacheTTL: ttl, Overlap: time.Hour})
		require.NoError(t, m1.EnsureKeys(ctx, "ttl", EdDSA))
		r0 := countRoles(t, e.store, "ttl")

		tok, err := m2.Sign(ctx, "ttl", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		require.Equal(t, r0.currentKid, header(t, tok).KeyID())

		require.NoError(t, m1.Rotate(ctx, "ttl"))
		r1 := countRoles(t, e.store, "ttl")
		fromM1, err := m1.Sign(ctx, "ttl", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		require.Equal(t, r0.nextKid, header(t, fromM1).KeyID())

		// Within CacheTTL m2 still signs with its cached key, which m1 still
		// publishes (overlap), and m2 verifies m1's new tokens because the
		// new current key was published (as next) before the rotation.
		tok, err = m2.Sign(ctx, "ttl", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		require.Equal(t, r0.currentKid, header(t, tok).KeyID())
		_, err = m1.Verify(ctx, "ttl", tok)
		require.NoError(t, err)
		_, err = m2.Verify(ctx, "ttl", fromM1)
		require.NoError(t, err)

		// After CacheTTL m2 has caught up.
		e.clk.Add(ttl + time.Second)
		tok, err = m2.Sign(ctx, "ttl", e.claims(time.Hour), "JWT")
		require.NoError(t, err)
		require.Equal(t, r1.currentKid, header(t, tok).KeyID())
		doc, err := m2.JWKS(ctx, "ttl")
		require.NoError(t, err)
		require.ElementsMatch(t, []string{r0.currentKid, r1.currentKid, r1.nextKid}, jwksKids(t, doc))

		// A revocation by m1 reaches m2 within CacheTTL too.
		require.NoError(t, m1.Revoke(ctx, "ttl", r0.currentKid))
		e.clk.Add(ttl + time.Second)
		doc, err = m2.JWKS(ctx, "ttl")
		require.NoError(t, err)
		require.NotContains(t, jwksKids(t, doc), r0.currentKid)
	})
}

func TestContextCancelWhileLoading(t *testing.T) {
	e := newEnv(t)
	e.tenant(t, "cc", "")
	m := e.manager(nil, Options{})
	require.NoError(t, m.EnsureKeys(ctx, "cc", ES256))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := m.Sign(cctx, "cc", e.claims(time.Hour), "JWT")
	if err != nil {
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
	}
	// The shared load is not poisoned by the cancelled caller.
	_, err = m.Sign(ctx, "cc", e.claims(time.Hour), "JWT")
	require.NoError(t, err)
}
