package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullOrganization returns an organization with every field set.
func fullOrganization() adapters.Organization {
	return adapters.Organization{
		Name:        "acme-" + adapters.NewID(""),
		DisplayName: "Acme, Inc. — アクメ",
		Branding:    &adapters.OrganizationBranding{LogoURL: "https://acme.example.com/logo.png", Colors: map[string]string{"primary": "#ff0000", "page_background": "#ffffff"}},
		Metadata:    map[string]string{"tier": "gold", "ключ": "значение"},
	}
}

func testOrganizations(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, o adapters.Organization) *adapters.Organization {
		t.Helper()
		got, err := d.Organizations.Create(t.Context(), tenant, o)
		require.NoError(t, err)
		return got
	}
	members := func(t *testing.T, orgID string) []string {
		t.Helper()
		res, err := d.Organizations.ListMembers(t.Context(), tn, orgID, adapters.ListParams{PerPage: adapters.MaxPerPage})
		require.NoError(t, err)
		require.NotNil(t, res.Items)
		return res.Items
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullOrganization()
		before := time.Now()
		got, err := d.Organizations.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Organization, error) { return d.Organizations.Get(t.Context(), tn, got.ID) })
		byName, err := d.Organizations.GetByName(t.Context(), tn, in.Name)
		require.NoError(t, err)
		require.Equal(t, *got, *byName, "GetByName")
		_, err = d.Organizations.GetByName(t.Context(), tn, in.Name+"-x")
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("duplicate_name", func(t *testing.T) {
		first := create(t, tn, fullOrganization())
		dup := fullOrganization()
		dup.Name = first.Name
		_, err := d.Organizations.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same organization name in a tenant")
		create(t, s.tenant(t), dup)
		second := create(t, tn, fullOrganization())
		_, err = d.Organizations.Update(t.Context(), tn, second.ID, func(o *adapters.Organization) error {
			o.Name = first.Name
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "renaming onto another organization's name")
		got, err := d.Organizations.Get(t.Context(), tn, second.ID)
		require.NoError(t, err)
		require.Equal(t, *second, *got, "a refused update changed the organization")
	})
	t.Run("list", func(t *testing.T) {
		lt := s.tenant(t)
		var want []string
		for range 4 {
			want = append(want, create(t, lt, fullOrganization()).ID)
		}
		res, err := d.Organizations.List(t.Context(), lt, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, func(o adapters.Organization) string { return o.ID }))
		require.Equal(t, 4, res.Total)
		got := walkCheckpoint(t, func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Organization], error) {
			return d.Organizations.List(ctx, lt, p)
		}, adapters.ListParams{}, 3, 4)
		requireExactlyOnce(t, want, keysOf(got, func(o adapters.Organization) string { return o.ID }), "checkpoint pages")
	})
	t.Run("members", func(t *testing.T) {
		org := create(t, tn, fullOrganization())
		other := create(t, tn, fullOrganization())
		u := []string{s.newUser(t, tn), s.newUser(t, tn), s.newUser(t, tn), s.newUser(t, tn)}
		require.Empty(t, members(t, org.ID))
		order := []string{u[2], u[0], u[3], u[1]}
		for _, id := range order {
			require.NoError(t, d.Organizations.AddMembers(t.Context(), tn, org.ID, []string{id}))
			sleepTick()
		}
		require.NoError(t, d.Organizations.AddMembers(t.Context(), tn, org.ID, []string{u[0], u[2]}), "adding twice must not fail")
		require.NoError(t, d.Organizations.AddMembers(t.Context(), tn, other.ID, []string{u[0]}))
		require.Equal(t, order, members(t, org.ID), "ListMembers must return members in the order they joined, once each")
		l := func(ctx contextT, p adapters.ListParams) (*adapters.List[string], error) {
			return d.Organizations.ListMembers(ctx, tn, org.ID, p)
		}
		require.Equal(t, order, walkOffset(t, l, adapters.ListParams{}, 3, 4), "ListMembers pages of 3")
		res, err := l(t.Context(), adapters.ListParams{IncludeTotals: true, PerPage: 1})
		require.NoError(t, err)
		require.Equal(t, 4, res.Total)

		orgs, err := d.Organizations.ListUserOrganizations(t.Context(), tn, u[0])
		require.NoError(t, err)
		requireExactlyOnce(t, []string{org.ID, other.ID}, keysOf(orgs, func(o adapters.Organization) string { return o.ID }))
		for _, o := range orgs {
			if o.ID == org.ID {
				require.Equal(t, *org, o, "ListUserOrganizations must return the organizations themselves")
			}
		}

		require.NoError(t, d.Organizations.RemoveMembers(t.Context(), tn, org.ID, []string{u[0], u[3]}))
		require.Equal(t, []string{u[2], u[1]}, members(t, org.ID))
		require.Equal(t, []string{u[0]}, members(t, other.ID), "removing from one organization removed from another")
		orgs, err = d.Organizations.ListUserOrganizations(t.Context(), tn, u[0])
		require.NoError(t, err)
		require.Equal(t, []string{other.ID}, keysOf(orgs, func(o adapters.Organization) string { return o.ID }))
	})
	t.Run("delete_removes_members", func(t *testing.T) {
		org := create(t, tn, fullOrganization())
		uid := s.newUser(t, tn)
		require.NoError(t, d.Organizations.AddMembers(t.Context(), tn, org.ID, []string{uid}))
		require.NoError(t, d.Organizations.Delete(t.Context(), tn, org.ID))
		orgs, err := d.Organizations.ListUserOrganizations(t.Context(), tn, uid)
		require.NoError(t, err)
		require.Empty(t, orgs, "a deleted organization is still listed for its member")
	})

	runEntity(t, entity[adapters.Organization]{
		create: func(t *testing.T) *adapters.Organization { return create(t, tn, fullOrganization()) },
		get:    func(ctx contextT, k string) (*adapters.Organization, error) { return d.Organizations.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.Organization) error) (*adapters.Organization, error) {
			return d.Organizations.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Organizations.Delete(ctx, tn, k) },
		key:       func(x *adapters.Organization) string { return x.ID },
		setKey:    func(x *adapters.Organization, k string) { x.ID = k },
		createdAt: func(x *adapters.Organization) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Organization) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.Organization) { x.DisplayName = "Renamed" },
		newKey:    func() string { return adapters.NewID("org_") },
	})
}
