package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullCode returns an authorization code with every field set.
func fullCode() adapters.Code {
	return adapters.Code{
		CodeID: adapters.NewID(""), CodeType: adapters.CodeAuthorization,
		LoginID: adapters.NewULID(), UserID: "auth0|" + adapters.NewID(""), ConnectionID: adapters.NewID("con_"),
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		CodeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", RedirectURI: "https://app.example.com/cb?a=1",
		Nonce: "n-0S6_WzA2Mj", State: "af0ifjsldkj", OTP: "123456",
		ExpiresAt: adapters.Now().Add(10 * time.Minute),
	}
}

func testCodes(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, c adapters.Code) *adapters.Code {
		t.Helper()
		got, err := d.Codes.Create(t.Context(), tenant, c)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullCode()
		before := time.Now()
		got, err := d.Codes.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireMillisUTC(t, got.ExpiresAt, "expires_at")
		want := in
		want.CreatedAt = got.CreatedAt
		requireCreated(t, want, got, func() (*adapters.Code, error) { return d.Codes.Get(t.Context(), tn, in.CodeType, in.CodeID) })
	})
	t.Run("create_generates_id", func(t *testing.T) {
		in := fullCode()
		in.CodeID = ""
		got := create(t, tn, in)
		require.NotEmpty(t, got.CodeID)
		fetched, err := d.Codes.Get(t.Context(), tn, in.CodeType, got.CodeID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
	})
	t.Run("get_unknown", func(t *testing.T) {
		c := create(t, tn, fullCode())
		_, err := d.Codes.Get(t.Context(), tn, c.CodeType, adapters.NewID(""))
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.Codes.Get(t.Context(), tn, adapters.CodeOTP, c.CodeID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "a code is addressed by type and id")
	})
	t.Run("duplicate_type_id", func(t *testing.T) {
		c := create(t, tn, fullCode())
		dup := fullCode()
		dup.CodeID = c.CodeID
		_, err := d.Codes.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same (type, id) in a tenant")
		got, err := d.Codes.Get(t.Context(), tn, c.CodeType, c.CodeID)
		require.NoError(t, err)
		require.Equal(t, *c, *got, "a refused duplicate changed the code")
		other := dup
		other.CodeType = adapters.CodeOTP
		create(t, tn, other)
		create(t, s.tenant(t), dup)
	})
	t.Run("consume_once", func(t *testing.T) {
		c := create(t, tn, fullCode())
		now := adapters.Now()
		got, err := d.Codes.Consume(t.Context(), tn, c.CodeType, c.CodeID, now)
		require.NoError(t, err)
		require.NotNil(t, got)
		requireMillisPtr(t, got.UsedAt, "used_at")
		require.Equal(t, now, *got.UsedAt)
		want := *c
		want.UsedAt = &now
		require.Equal(t, want, *got, "Consume must return the code")
		stored, err := d.Codes.Get(t.Context(), tn, c.CodeType, c.CodeID)
		require.NoError(t, err)
		require.Equal(t, want, *stored)

		again, err := d.Codes.Consume(t.Context(), tn, c.CodeType, c.CodeID, now.Add(time.Second))
		require.ErrorIs(t, err, adapters.ErrConsumed, "second Consume")
		require.NotNil(t, again, "a replayed Consume must return the code")
		require.Equal(t, c.CodeID, again.CodeID)
		require.NotNil(t, again.UsedAt)
		require.Equal(t, now, *again.UsedAt, "a replay must not move used_at")
		stored, err = d.Codes.Get(t.Context(), tn, c.CodeType, c.CodeID)
		require.NoError(t, err)
		require.Equal(t, want, *stored, "a replay changed the code")
	})
	t.Run("consume_unknown", func(t *testing.T) {
		c := create(t, tn, fullCode())
		_, err := d.Codes.Consume(t.Context(), tn, c.CodeType, adapters.NewID(""), adapters.Now())
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.Codes.Consume(t.Context(), tn, adapters.CodeOTP, c.CodeID, adapters.Now())
		require.ErrorIs(t, err, adapters.ErrNotFound, "Consume of another type")
		got, err := d.Codes.Get(t.Context(), tn, c.CodeType, c.CodeID)
		require.NoError(t, err)
		require.Nil(t, got.UsedAt, "consuming another code marked this one used")
	})
	t.Run("consume_expired_is_callers_check", func(t *testing.T) {
		in := fullCode()
		in.ExpiresAt = ms(0)
		c := create(t, tn, in)
		got, err := d.Codes.Consume(t.Context(), tn, c.CodeType, c.CodeID, adapters.Now())
		require.NoError(t, err, "expiry is the caller's to check")
		require.Equal(t, in.ExpiresAt, got.ExpiresAt)
	})
	t.Run("delete", func(t *testing.T) {
		c := create(t, tn, fullCode())
		keep := create(t, tn, fullCode())
		require.NoError(t, d.Codes.Delete(t.Context(), tn, c.CodeType, c.CodeID))
		_, err := d.Codes.Get(t.Context(), tn, c.CodeType, c.CodeID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		require.ErrorIs(t, d.Codes.Delete(t.Context(), tn, c.CodeType, c.CodeID), adapters.ErrNotFound, "second Delete")
		_, err = d.Codes.Get(t.Context(), tn, keep.CodeType, keep.CodeID)
		require.NoError(t, err, "Delete removed another code")
	})
	t.Run("delete_unknown", func(t *testing.T) {
		require.ErrorIs(t, d.Codes.Delete(t.Context(), tn, adapters.CodeOTP, adapters.NewID("")), adapters.ErrNotFound)
	})
}
