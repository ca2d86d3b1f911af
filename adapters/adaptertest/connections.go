package adaptertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullConnection returns a connection with every field and option set.
func fullConnection() adapters.Connection {
	return adapters.Connection{
		Name:        "conn-" + adapters.NewID(""),
		DisplayName: "Corporate SSO ✓",
		Strategy:    "oidc",
		Options: adapters.ConnectionOptions{
			ClientID: "upstream-client", ClientSecret: "enc:v1:c2VjcmV0", Scope: "openid profile email",
			AuthorizationEndpoint: "https://idp.example.com/authorize", TokenEndpoint: "https://idp.example.com/token",
			UserinfoEndpoint: "https://idp.example.com/userinfo", JWKSURI: "https://idp.example.com/jwks",
			Issuer: "https://idp.example.com/", PasswordPolicy: "good",
			PasswordComplexity:     &adapters.PasswordComplexity{MinLength: 12},
			PasswordHistory:        &adapters.PasswordHistory{Enable: true, Size: 5},
			PasswordNoPersonalInfo: true, DisableSignup: true,
			BruteForceProtection: ptr(false), RequiresUsername: true, ImportMode: true,
		},
		EnabledClients: []string{"client-a", "client-b"},
		IsDomainConn:   true,
		ShowAsButton:   true,
		Realms:         []string{"corp"},
		Metadata:       map[string]string{"owner": "it", "ünï": "cödé"},
		IsSystem:       false,
	}
}

func testConnections(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, c adapters.Connection) *adapters.Connection {
		t.Helper()
		got, err := d.Connections.Create(t.Context(), tenant, c)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullConnection()
		before := time.Now()
		got, err := d.Connections.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Connection, error) { return d.Connections.Get(t.Context(), tn, got.ID) })
		byName, err := d.Connections.GetByName(t.Context(), tn, in.Name)
		require.NoError(t, err)
		require.Equal(t, *got, *byName, "GetByName")
		_, err = d.Connections.GetByName(t.Context(), tn, "no-such-"+in.Name)
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("duplicate_name", func(t *testing.T) {
		first := create(t, tn, fullConnection())
		dup := fullConnection()
		dup.Name = first.Name
		_, err := d.Connections.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same connection name in a tenant")
		other := s.tenant(t)
		create(t, other, dup)
		second := create(t, tn, fullConnection())
		_, err = d.Connections.Update(t.Context(), tn, second.ID, func(c *adapters.Connection) error {
			c.Name = first.Name
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "renaming onto another connection's name")
		got, err := d.Connections.Get(t.Context(), tn, second.ID)
		require.NoError(t, err)
		require.Equal(t, *second, *got, "a refused update changed the connection")
	})
	t.Run("list", func(t *testing.T) {
		lt := s.tenant(t)
		var want []string
		for range 4 {
			want = append(want, create(t, lt, fullConnection()).ID)
		}
		res, err := d.Connections.List(t.Context(), lt, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, func(c adapters.Connection) string { return c.ID }))
		require.Equal(t, 4, res.Total)
		res, err = d.Connections.List(t.Context(), lt, adapters.ListParams{Page: 1, PerPage: 3})
		require.NoError(t, err)
		require.Len(t, res.Items, 1)
	})

	runEntity(t, entity[adapters.Connection]{
		create: func(t *testing.T) *adapters.Connection { return create(t, tn, fullConnection()) },
		get:    func(ctx contextT, k string) (*adapters.Connection, error) { return d.Connections.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.Connection) error) (*adapters.Connection, error) {
			return d.Connections.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Connections.Delete(ctx, tn, k) },
		key:       func(x *adapters.Connection) string { return x.ID },
		setKey:    func(x *adapters.Connection, k string) { x.ID = k },
		createdAt: func(x *adapters.Connection) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Connection) *time.Time { return &x.UpdatedAt },
		change: func(x *adapters.Connection) {
			o := x.Options
			o.Scope = "openid"
			x.Options = o
		},
		newKey: func() string { return adapters.NewID("con_") },
	})
}

// fullResourceServer returns a resource server with every field set.
func fullResourceServer() adapters.ResourceServer {
	id := adapters.NewID("")
	return adapters.ResourceServer{
		Name:       "API " + id,
		Identifier: "https://api-" + id + ".example.com/",
		Scopes: []adapters.ResourceServerScope{
			{Value: "read:users", Description: "Read users"},
			{Value: "write:users", Description: "Écrire — 書く"},
			{Value: "admin"},
		},
		SigningAlg: "RS256", SigningSecret: "enc:v1:secret", TokenLifetime: 86400, TokenLifetimeForWeb: 7200,
		AllowOfflineAccess: true, SkipConsentForFirstParty: true,
		Options:  adapters.ResourceServerOptions{TokenDialect: "access_token_authz", EnforcePolicies: true},
		Metadata: map[string]string{"k": "v"},
	}
}

func testResourceServers(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, rs adapters.ResourceServer) *adapters.ResourceServer {
		t.Helper()
		got, err := d.ResourceServers.Create(t.Context(), tenant, rs)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullResourceServer()
		before := time.Now()
		got, err := d.ResourceServers.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.ResourceServer, error) { return d.ResourceServers.Get(t.Context(), tn, got.ID) })
		byIdent, err := d.ResourceServers.GetByIdentifier(t.Context(), tn, in.Identifier)
		require.NoError(t, err)
		require.Equal(t, *got, *byIdent, "GetByIdentifier")
		_, err = d.ResourceServers.GetByIdentifier(t.Context(), tn, in.Identifier+"x")
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("duplicate_identifier", func(t *testing.T) {
		first := create(t, tn, fullResourceServer())
		dup := fullResourceServer()
		dup.Identifier = first.Identifier
		_, err := d.ResourceServers.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict, "same identifier in a tenant")
		other := s.tenant(t)
		create(t, other, dup)
		second := create(t, tn, fullResourceServer())
		_, err = d.ResourceServers.Update(t.Context(), tn, second.ID, func(rs *adapters.ResourceServer) error {
			rs.Identifier = first.Identifier
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "changing identifier onto another API's")
		got, err := d.ResourceServers.Get(t.Context(), tn, second.ID)
		require.NoError(t, err)
		require.Equal(t, *second, *got, "a refused update changed the API")
	})
	t.Run("list", func(t *testing.T) {
		lt := s.tenant(t)
		var want []string
		for range 3 {
			want = append(want, create(t, lt, fullResourceServer()).ID)
		}
		res, err := d.ResourceServers.List(t.Context(), lt, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, func(rs adapters.ResourceServer) string { return rs.ID }))
		require.Equal(t, 3, res.Total)
	})

	runEntity(t, entity[adapters.ResourceServer]{
		create: func(t *testing.T) *adapters.ResourceServer { return create(t, tn, fullResourceServer()) },
		get: func(ctx contextT, k string) (*adapters.ResourceServer, error) {
			return d.ResourceServers.Get(ctx, tn, k)
		},
		update: func(ctx contextT, k string, m func(*adapters.ResourceServer) error) (*adapters.ResourceServer, error) {
			return d.ResourceServers.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.ResourceServers.Delete(ctx, tn, k) },
		key:       func(x *adapters.ResourceServer) string { return x.ID },
		setKey:    func(x *adapters.ResourceServer, k string) { x.ID = k },
		createdAt: func(x *adapters.ResourceServer) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.ResourceServer) *time.Time { return &x.UpdatedAt },
		change: func(x *adapters.ResourceServer) {
			x.Scopes = []adapters.ResourceServerScope{{Value: "only:one", Description: "new"}}
		},
		newKey: func() string { return adapters.NewID("api_") },
	})
}
