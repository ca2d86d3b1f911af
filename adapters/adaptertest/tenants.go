package adaptertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func fullTenant(id string) adapters.Tenant {
	return adapters.Tenant{
		ID:                    id,
		FriendlyName:          "Acme ✓ " + id,
		Audience:              "https://" + id + ".example.com/api/v2/",
		DefaultAudience:       "https://api.example.com",
		DefaultOrganization:   "org_default",
		DefaultDirectory:      "Username-Password-Authentication",
		PictureURL:            "https://example.com/logo.png",
		SupportEmail:          "support@example.com",
		SupportURL:            "https://example.com/support",
		SenderEmail:           "no-reply@example.com",
		SenderName:            "Acme",
		SessionLifetime:       168.5,
		IdleSessionLifetime:   72,
		AllowedLogoutURLs:     []string{"https://example.com/bye", "https://example.org/"},
		DefaultRedirectionURI: "https://example.com/login",
		EnabledLocales:        []string{"en", "sv", "ja"},
		Flags:                 map[string]any{"enable_client_connections": false, "nested": map[string]any{"n": float64(2), "list": []any{"a", true}}},
		SigningAlg:            "ES256",
		LogoURL:               "https://example.com/logo.svg",
		PrimaryColor:          "#0059d6",
	}
}

func testTenants(t *testing.T, s *suite) {
	d := s.d
	create := func(t *testing.T, tn adapters.Tenant) *adapters.Tenant {
		t.Helper()
		got, err := d.Tenants.Create(t.Context(), tn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.Tenants.Delete(context.Background(), got.ID) })
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullTenant(adapters.NewID("t_"))
		before := time.Now()
		got, err := d.Tenants.Create(t.Context(), in)
		after := time.Now()
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.Tenants.Delete(context.Background(), in.ID) })
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Tenant, error) { return d.Tenants.Get(t.Context(), in.ID) })
	})
	t.Run("create_generates_id", func(t *testing.T) {
		got := create(t, adapters.Tenant{FriendlyName: "no id"})
		require.NotEmpty(t, got.ID)
		fetched, err := d.Tenants.Get(t.Context(), got.ID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
		other := create(t, adapters.Tenant{FriendlyName: "no id"})
		require.NotEqual(t, got.ID, other.ID, "generated ids collide")
	})
	t.Run("create_keeps_times", func(t *testing.T) {
		in := adapters.Tenant{ID: adapters.NewID("t_"), FriendlyName: "times", CreatedAt: ms(time.Hour), UpdatedAt: ms(2 * time.Hour)}
		got := create(t, in)
		require.Equal(t, in.CreatedAt, got.CreatedAt)
		fetched, err := d.Tenants.Get(t.Context(), in.ID)
		require.NoError(t, err)
		require.Equal(t, in.CreatedAt, fetched.CreatedAt, "a caller-provided created_at must be kept")
	})
	t.Run("duplicate_id", func(t *testing.T) {
		first := create(t, adapters.Tenant{ID: adapters.NewID("t_"), FriendlyName: "first"})
		_, err := d.Tenants.Create(t.Context(), adapters.Tenant{ID: first.ID, FriendlyName: "second"})
		require.ErrorIs(t, err, adapters.ErrConflict)
		got, err := d.Tenants.Get(t.Context(), first.ID)
		require.NoError(t, err)
		require.Equal(t, *first, *got, "a refused duplicate changed the first tenant")
	})
	t.Run("list_contains_created", func(t *testing.T) {
		ids := map[string]bool{}
		for range 3 {
			ids[create(t, adapters.Tenant{ID: adapters.NewID("t_"), FriendlyName: "listed"}).ID] = true
		}
		all := listAll(t, d.Tenants.List, adapters.ListParams{})
		seen := map[string]int{}
		for _, tn := range all {
			seen[tn.ID]++
		}
		for id := range ids {
			require.Equal(t, 1, seen[id], "tenant %s listed %d times", id, seen[id])
		}
		res, err := d.Tenants.List(t.Context(), adapters.ListParams{PerPage: 1, IncludeTotals: true})
		require.NoError(t, err)
		require.GreaterOrEqual(t, res.Total, len(ids), "Total counts fewer tenants than the test created")
		require.Len(t, res.Items, 1)
	})
	t.Run("list_checkpoint_contains_created", func(t *testing.T) {
		ids := map[string]bool{}
		for range 3 {
			ids[create(t, adapters.Tenant{ID: adapters.NewID("t_"), FriendlyName: "listed"}).ID] = true
		}
		seen := map[string]int{}
		p := adapters.ListParams{Take: adapters.MaxPerPage}
		for i := 0; ; i++ {
			require.Less(t, i, 100000, "checkpoint pagination does not terminate")
			res, err := d.Tenants.List(t.Context(), p)
			require.NoError(t, err)
			for _, tn := range res.Items {
				seen[tn.ID]++
			}
			if res.Next == "" {
				break
			}
			p.From = res.Next
		}
		for id := range ids {
			require.Equal(t, 1, seen[id], "tenant %s visited %d times", id, seen[id])
		}
	})

	runEntity(t, entity[adapters.Tenant]{
		create:    func(t *testing.T) *adapters.Tenant { return create(t, fullTenant(adapters.NewID("t_"))) },
		get:       d.Tenants.Get,
		update:    d.Tenants.Update,
		del:       d.Tenants.Delete,
		key:       func(x *adapters.Tenant) string { return x.ID },
		setKey:    func(x *adapters.Tenant, k string) { x.ID = k },
		createdAt: func(x *adapters.Tenant) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Tenant) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.Tenant) { x.FriendlyName = "Renamed 名前" },
		newKey:    func() string { return adapters.NewID("t_") },
	})
}
