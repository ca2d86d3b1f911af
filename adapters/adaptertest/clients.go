package adaptertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullClient returns a client with every field set.
func fullClient() adapters.Client {
	return adapters.Client{
		ClientID:                adapters.NewID(""),
		Name:                    "My App ✓",
		Description:             "An app — with unicode 日本",
		ClientSecret:            "enc:v1:c2VjcmV0",
		AppType:                 "regular_web",
		LogoURI:                 "https://example.com/logo.png",
		IsFirstParty:            true,
		OIDCConformant:          true,
		Auth0Conformant:         ptr(false),
		Callbacks:               []string{"https://app.example.com/callback", "http://localhost:3000/cb?x=1&y=2"},
		AllowedOrigins:          []string{"https://app.example.com"},
		WebOrigins:              []string{"https://app.example.com", "https://*.example.com"},
		AllowedLogoutURLs:       []string{"https://app.example.com/logout"},
		GrantTypes:              []string{"authorization_code", "refresh_token", "client_credentials"},
		TokenEndpointAuthMethod: "client_secret_post",
		JWTConfiguration: map[string]any{
			"alg": "RS256", "lifetime_in_seconds": float64(36000), "secret_encoded": false,
			"scopes": map[string]any{"users": map[string]any{"actions": []any{"read", "write"}}},
		},
		RefreshToken: &adapters.RefreshTokenSettings{
			RotationType: "rotating", ExpirationType: "expiring", Leeway: 3, TokenLifetime: 2592000,
			InfiniteTokenLifetime: false, IdleTokenLifetime: 1296000, InfiniteIdleTokenLifetime: true,
		},
		ClientMetadata:    map[string]string{"team": "core", "ключ": "значение"},
		InitiateLoginURI:  "https://app.example.com/login",
		SSO:               true,
		SSODisabled:       false,
		CrossOriginAuth:   true,
		OrganizationUsage: "allow",
	}
}

func testClients(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, c adapters.Client) *adapters.Client {
		t.Helper()
		got, err := d.Clients.Create(t.Context(), tenant, c)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullClient()
		before := time.Now()
		got, err := d.Clients.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		require.Contains(t, []string{"", tn}, got.TenantID, "TenantID must be empty or the owner")
		want := in
		want.TenantID, want.CreatedAt, want.UpdatedAt = got.TenantID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Client, error) { return d.Clients.Get(t.Context(), tn, in.ClientID) })
	})
	t.Run("get_by_client_id", func(t *testing.T) {
		c := create(t, tn, fullClient())
		got, err := d.Clients.GetByClientID(t.Context(), c.ClientID)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID, "GetByClientID must set TenantID to the owner tenant")
		want := *c
		want.TenantID = tn
		require.Equal(t, want, *got)
		_, err = d.Clients.GetByClientID(t.Context(), adapters.NewID(""))
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("create_generates_id", func(t *testing.T) {
		got := create(t, tn, adapters.Client{Name: "generated"})
		require.NotEmpty(t, got.ClientID)
		fetched, err := d.Clients.Get(t.Context(), tn, got.ClientID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
		other := create(t, tn, adapters.Client{Name: "generated"})
		require.NotEqual(t, got.ClientID, other.ClientID)
	})
	t.Run("duplicate_client_id_across_tenants", func(t *testing.T) {
		c := create(t, tn, fullClient())
		dup := fullClient()
		dup.ClientID = c.ClientID
		_, err := d.Clients.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same client_id in the same tenant")
		other := s.tenant(t)
		_, err = d.Clients.Create(t.Context(), other, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "client_id is unique across tenants")
		_, err = d.Clients.Get(t.Context(), other, c.ClientID)
		require.ErrorIs(t, err, adapters.ErrNotFound, "the refused duplicate was stored")
		got, err := d.Clients.GetByClientID(t.Context(), c.ClientID)
		require.NoError(t, err)
		require.Equal(t, tn, got.TenantID)
	})
	t.Run("oversized_writes_nothing", func(t *testing.T) {
		in := fullClient()
		in.JWTConfiguration = map[string]any{"blob": strings.Repeat("z", 1<<20+10)}
		_, err := d.Clients.Create(t.Context(), tn, in)
		require.ErrorIs(t, err, adapters.ErrInvalid, "a client over 1 MiB")
		_, err = d.Clients.Get(t.Context(), tn, in.ClientID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})

	// Pagination over 15 clients of a fresh tenant.
	lt := s.tenant(t)
	var items []item
	for i, at := range tieTimes(ms(0), 15) {
		c := create(t, lt, adapters.Client{ClientID: adapters.NewID(""), Name: fmt.Sprintf("client %02d", i), CreatedAt: at, UpdatedAt: at})
		require.Equal(t, at, c.CreatedAt, "a caller-provided created_at must be kept")
		items = append(items, item{c.ClientID, at})
	}
	runPaging(t, paging[adapters.Client]{
		list: func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Client], error) {
			return d.Clients.List(ctx, lt, p)
		},
		id:    func(c adapters.Client) string { return c.ClientID },
		items: items, checkpointDesc: ptr(false),
	})

	runEntity(t, entity[adapters.Client]{
		create: func(t *testing.T) *adapters.Client { return create(t, tn, fullClient()) },
		get:    func(ctx contextT, k string) (*adapters.Client, error) { return d.Clients.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.Client) error) (*adapters.Client, error) {
			return d.Clients.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Clients.Delete(ctx, tn, k) },
		key:       func(x *adapters.Client) string { return x.ClientID },
		setKey:    func(x *adapters.Client, k string) { x.ClientID = k },
		createdAt: func(x *adapters.Client) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Client) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.Client) { x.Callbacks = []string{"https://new.example.com/cb"} },
		newKey:    func() string { return adapters.NewID("") },
	})
}

// fullGrant returns a client grant with every field set.
func fullGrant(clientID, audience string) adapters.ClientGrant {
	return adapters.ClientGrant{
		ClientID: clientID, Audience: audience, Scope: []string{"read:users", "write:users"},
		OrganizationUsage: "allow", AllowAnyOrg: true, SubjectType: "client", IsSystem: false,
	}
}

func testClientGrants(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	newClient := func(t *testing.T, tenant string) string {
		t.Helper()
		c, err := d.Clients.Create(t.Context(), tenant, adapters.Client{ClientID: adapters.NewID(""), Name: "grantee"})
		require.NoError(t, err)
		return c.ClientID
	}
	create := func(t *testing.T, tenant string, g adapters.ClientGrant) *adapters.ClientGrant {
		t.Helper()
		got, err := d.ClientGrants.Create(t.Context(), tenant, g)
		require.NoError(t, err)
		return got
	}
	audience := func() string { return "https://api-" + adapters.NewID("") + ".example.com" }

	t.Run("create_get", func(t *testing.T) {
		in := fullGrant(newClient(t, tn), audience())
		before := time.Now()
		got, err := d.ClientGrants.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.ClientGrant, error) { return d.ClientGrants.Get(t.Context(), tn, got.ID) })
	})
	t.Run("duplicate_client_audience", func(t *testing.T) {
		cid, aud := newClient(t, tn), audience()
		first := create(t, tn, fullGrant(cid, aud))
		dup := fullGrant(cid, aud)
		dup.Scope = []string{"other"}
		_, err := d.ClientGrants.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same (client_id, audience) in a tenant")
		got, err := d.ClientGrants.Get(t.Context(), tn, first.ID)
		require.NoError(t, err)
		require.Equal(t, *first, *got)
		create(t, tn, fullGrant(cid, audience()))
		create(t, tn, fullGrant(newClient(t, tn), aud))
		second := create(t, tn, fullGrant(cid, audience()))
		_, err = d.ClientGrants.Update(t.Context(), tn, second.ID, func(g *adapters.ClientGrant) error {
			g.Audience = aud
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "an Update making a duplicate (client_id, audience)")
		got, err = d.ClientGrants.Get(t.Context(), tn, second.ID)
		require.NoError(t, err)
		require.Equal(t, *second, *got, "a refused update changed the grant")
	})
	t.Run("same_pair_other_tenant", func(t *testing.T) {
		cid, aud := newClient(t, tn), audience()
		create(t, tn, fullGrant(cid, aud))
		other := s.tenant(t)
		create(t, other, fullGrant(cid, aud))
	})
	t.Run("list_filter", func(t *testing.T) {
		ft := s.tenant(t)
		c1, c2 := newClient(t, ft), newClient(t, ft)
		a1, a2 := audience(), audience()
		g11 := create(t, ft, fullGrant(c1, a1)).ID
		g12 := create(t, ft, fullGrant(c1, a2)).ID
		g21 := create(t, ft, fullGrant(c2, a1)).ID
		for _, c := range []struct {
			f    adapters.ClientGrantFilter
			want []string
		}{
			{adapters.ClientGrantFilter{}, []string{g11, g12, g21}},
			{adapters.ClientGrantFilter{ClientID: c1}, []string{g11, g12}},
			{adapters.ClientGrantFilter{Audience: a1}, []string{g11, g21}},
			{adapters.ClientGrantFilter{ClientID: c2, Audience: a1}, []string{g21}},
			{adapters.ClientGrantFilter{ClientID: c2, Audience: a2}, []string{}},
		} {
			res, err := d.ClientGrants.List(t.Context(), ft, c.f, adapters.ListParams{IncludeTotals: true})
			require.NoError(t, err)
			require.NotNil(t, res.Items)
			requireExactlyOnce(t, c.want, keysOf(res.Items, func(g adapters.ClientGrant) string { return g.ID }), "filter %+v", c.f)
			require.Equal(t, len(c.want), res.Total, "filter %+v", c.f)
		}
		res, err := d.ClientGrants.List(t.Context(), ft, adapters.ClientGrantFilter{}, adapters.ListParams{PerPage: 2})
		require.NoError(t, err)
		require.Len(t, res.Items, 2)
	})

	runEntity(t, entity[adapters.ClientGrant]{
		create: func(t *testing.T) *adapters.ClientGrant {
			return create(t, tn, fullGrant(newClient(t, tn), audience()))
		},
		get: func(ctx contextT, k string) (*adapters.ClientGrant, error) { return d.ClientGrants.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.ClientGrant) error) (*adapters.ClientGrant, error) {
			return d.ClientGrants.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.ClientGrants.Delete(ctx, tn, k) },
		key:       func(x *adapters.ClientGrant) string { return x.ID },
		setKey:    func(x *adapters.ClientGrant, k string) { x.ID = k },
		createdAt: func(x *adapters.ClientGrant) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.ClientGrant) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.ClientGrant) { x.Scope = []string{"read:only"} },
		newKey:    func() string { return adapters.NewID("cgr_") },
	})
}
