package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// randomDomain returns a host name no other test uses.
func randomDomain() string { return "login-" + adapters.NewID("") + ".example.com" }

// fullDomain returns a custom domain with every field set.
func fullDomain() adapters.CustomDomain {
	return adapters.CustomDomain{
		CustomDomainID: adapters.NewID("cd_"), Domain: randomDomain(), Type: "self_managed_certs",
		Primary: true, Status: "pending_verification",
		Verification: map[string]any{"methods": []any{map[string]any{"name": "txt", "record": "abc", "domain": "_cf-custom-hostname.x"}}},
	}
}

func testCustomDomains(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, cd adapters.CustomDomain) *adapters.CustomDomain {
		t.Helper()
		got, err := d.CustomDomains.Create(t.Context(), tenant, cd)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullDomain()
		before := time.Now()
		got, err := d.CustomDomains.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		require.Contains(t, []string{"", tn}, got.TenantID, "TenantID must be empty or the owner")
		want := in
		want.TenantID, want.CreatedAt, want.UpdatedAt = got.TenantID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.CustomDomain, error) {
			return d.CustomDomains.Get(t.Context(), tn, in.CustomDomainID)
		})
	})
	t.Run("create_generates_id", func(t *testing.T) {
		in := fullDomain()
		in.CustomDomainID = ""
		got := create(t, tn, in)
		require.NotEmpty(t, got.CustomDomainID)
		fetched, err := d.CustomDomains.Get(t.Context(), tn, got.CustomDomainID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
	})
	t.Run("get_by_domain", func(t *testing.T) {
		cd := create(t, tn, fullDomain())
		got, err := d.CustomDomains.GetByDomain(t.Context(), cd.Domain)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID, "GetByDomain must set TenantID")
		want := *cd
		want.TenantID = tn
		require.Equal(t, want, *got)
		_, err = d.CustomDomains.GetByDomain(t.Context(), randomDomain())
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("duplicate_domain_anywhere", func(t *testing.T) {
		cd := create(t, tn, fullDomain())
		dup := fullDomain()
		dup.Domain = cd.Domain
		_, err := d.CustomDomains.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same domain in the same tenant")
		other := s.tenant(t)
		dup.CustomDomainID = adapters.NewID("cd_")
		_, err = d.CustomDomains.Create(t.Context(), other, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "domain is unique across tenants")
		list, err := d.CustomDomains.List(t.Context(), other)
		require.NoError(t, err)
		require.Empty(t, list, "the refused duplicate was stored")
		got, err := d.CustomDomains.GetByDomain(t.Context(), cd.Domain)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID)
		second := create(t, tn, fullDomain())
		_, err = d.CustomDomains.Update(t.Context(), tn, second.CustomDomainID, func(x *adapters.CustomDomain) error {
			x.Domain = cd.Domain
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "changing domain onto another's")
		fetched, err := d.CustomDomains.Get(t.Context(), tn, second.CustomDomainID)
		require.NoError(t, err)
		require.Equal(t, *second, *fetched, "a refused update changed the domain")
	})
	t.Run("list", func(t *testing.T) {
		lt, other := s.tenant(t), s.tenant(t)
		var want []string
		for range 3 {
			want = append(want, create(t, lt, fullDomain()).CustomDomainID)
		}
		create(t, other, fullDomain())
		list, err := d.CustomDomains.List(t.Context(), lt)
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(list, func(x adapters.CustomDomain) string { return x.CustomDomainID }))
	})

	runEntity(t, entity[adapters.CustomDomain]{
		create: func(t *testing.T) *adapters.CustomDomain { return create(t, tn, fullDomain()) },
		get:    func(ctx contextT, k string) (*adapters.CustomDomain, error) { return d.CustomDomains.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.CustomDomain) error) (*adapters.CustomDomain, error) {
			return d.CustomDomains.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.CustomDomains.Delete(ctx, tn, k) },
		key:       func(x *adapters.CustomDomain) string { return x.CustomDomainID },
		setKey:    func(x *adapters.CustomDomain, k string) { x.CustomDomainID = k },
		createdAt: func(x *adapters.CustomDomain) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.CustomDomain) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.CustomDomain) { x.Status = "ready" },
		newKey:    func() string { return adapters.NewID("cd_") },
	})
}
