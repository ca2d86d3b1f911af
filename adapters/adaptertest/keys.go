package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullKey returns a signing key of tenant tn with every field set.
func fullKey(tn string) adapters.SigningKey {
	kid := adapters.NewID("kid")
	since := ms(-time.Hour)
	return adapters.SigningKey{
		Kid: kid, TenantID: tn, Alg: "RS256",
		Cert:                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		PublicJWK:           `{"kty":"RSA","kid":"` + kid + `","n":"0vx7","e":"AQAB"}`,
		PrivateKeyEncrypted: "enc:v1:" + adapters.NewID("") + adapters.NewID(""),
		Fingerprint:         "AB:CD:EF", Thumbprint: kid,
		Current: true, CurrentSince: &since, Type: "jwt_signing",
	}
}

func testKeys(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, k adapters.SigningKey) *adapters.SigningKey {
		t.Helper()
		got, err := d.Keys.Create(t.Context(), k)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullKey(tn)
		before := time.Now()
		got, err := d.Keys.Create(t.Context(), in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		want := in
		want.CreatedAt = got.CreatedAt
		requireCreated(t, want, got, func() (*adapters.SigningKey, error) { return d.Keys.Get(t.Context(), in.Kid) })
		fetched, err := d.Keys.Get(t.Context(), in.Kid)
		require.NoError(t, err)
		require.Equal(t, in.PrivateKeyEncrypted, fetched.PrivateKeyEncrypted, "the encrypted private key (json:\"-\") must be stored")
		require.Equal(t, tn, fetched.TenantID)
	})
	t.Run("duplicate_kid", func(t *testing.T) {
		k := create(t, fullKey(tn))
		dup := fullKey(s.tenant(t))
		dup.Kid = k.Kid
		_, err := d.Keys.Create(t.Context(), dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "kid is unique across tenants")
		got, err := d.Keys.Get(t.Context(), k.Kid)
		require.NoError(t, err)
		require.Equal(t, *k, *got, "a refused duplicate changed the key")
	})
	t.Run("list_newest_first", func(t *testing.T) {
		lt, other := s.tenant(t), s.tenant(t)
		var want []string
		for i := range 3 {
			k := fullKey(lt)
			k.CreatedAt = ms(time.Duration(i) * time.Hour)
			if i == 0 {
				k.RevokedAt = ptr(ms(90 * time.Minute))
			}
			create(t, k)
			want = append([]string{k.Kid}, want...)
		}
		foreign := create(t, fullKey(other))
		keys, err := d.Keys.List(t.Context(), lt)
		require.NoError(t, err)
		require.Equal(t, want, keysOf(keys, func(k adapters.SigningKey) string { return k.Kid }), "List must return the tenant's keys, revoked ones included, newest first")
		for _, k := range keys {
			require.Equal(t, lt, k.TenantID)
			require.NotEqual(t, foreign.Kid, k.Kid)
			require.NotEmpty(t, k.PrivateKeyEncrypted, "List must return the encrypted private key")
		}
		empty, err := d.Keys.List(t.Context(), s.tenant(t))
		require.NoError(t, err)
		require.Empty(t, empty)
	})
	t.Run("revoke", func(t *testing.T) {
		k := create(t, fullKey(tn))
		at := adapters.Now()
		up, err := d.Keys.Update(t.Context(), k.Kid, func(x *adapters.SigningKey) error {
			x.RevokedAt = &at
			x.Current = false
			x.Previous = true
			return nil
		})
		require.NoError(t, err)
		got, err := d.Keys.Get(t.Context(), k.Kid)
		require.NoError(t, err)
		require.Equal(t, *up, *got)
		requireMillisPtr(t, got.RevokedAt, "revoked_at")
		require.Equal(t, at, *got.RevokedAt)
		want := *k
		want.RevokedAt, want.Current, want.Previous = &at, false, true
		require.Equal(t, want, *got)
	})
	t.Run("update_tenant_immutable", func(t *testing.T) {
		k := create(t, fullKey(tn))
		other := s.tenant(t)
		_, err := d.Keys.Update(t.Context(), k.Kid, func(x *adapters.SigningKey) error {
			x.TenantID = other
			return nil
		})
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrInvalid)
		}
		got, err := d.Keys.Get(t.Context(), k.Kid)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID, "Update moved a key to another tenant")
		list, err := d.Keys.List(t.Context(), other)
		require.NoError(t, err)
		require.Empty(t, list)
	})

	runEntity(t, entity[adapters.SigningKey]{
		create:    func(t *testing.T) *adapters.SigningKey { return create(t, fullKey(tn)) },
		get:       d.Keys.Get,
		update:    d.Keys.Update,
		key:       func(x *adapters.SigningKey) string { return x.Kid },
		setKey:    func(x *adapters.SigningKey, k string) { x.Kid = k },
		createdAt: func(x *adapters.SigningKey) *time.Time { return &x.CreatedAt },
		change:    func(x *adapters.SigningKey) { x.Next = true },
		newKey:    func() string { return adapters.NewID("kid") },
	})
}
