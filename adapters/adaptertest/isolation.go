package adaptertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// foreignUpdate calls an Update through the wrong tenant and checks that it
// is ErrNotFound without calling mutate.
func foreignUpdate[T any](t *testing.T, update func(mutate func(*T) error) (*T, error)) {
	t.Helper()
	called := false
	got, err := update(func(*T) error {
		called = true
		return nil
	})
	require.ErrorIs(t, err, adapters.ErrNotFound, "Update through another tenant returned %+v", got)
	require.False(t, called, "Update through another tenant called mutate")
}

// requireUnchanged checks that get still returns want.
func requireUnchanged[T any](t *testing.T, want *T, get func() (*T, error), msg string) {
	t.Helper()
	got, err := get()
	require.NoError(t, err, msg)
	require.Equal(t, *want, *got, msg)
}

// emptyOrNotFound accepts an empty list or ErrNotFound.
func emptyOrNotFound[T any](t *testing.T, res *adapters.List[T], err error, msg string) {
	t.Helper()
	if err != nil {
		require.ErrorIs(t, err, adapters.ErrNotFound, msg)
		return
	}
	require.Empty(t, res.Items, msg)
}

func testIsolation(t *testing.T, s *suite) {
	d := s.d

	t.Run("users", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		u, err := d.Users.Create(t.Context(), a, fullUser())
		require.NoError(t, err)
		getA := func() (*adapters.User, error) { return d.Users.Get(t.Context(), a, u.UserID) }
		_, err = d.Users.Get(t.Context(), b, u.UserID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		for _, p := range []adapters.ListParams{{}, {Take: 10}, {Q: "email:" + u.Email}, {Q: u.UserID}, {Q: "Full"}, {Q: `user_id:"` + u.UserID + `"`}} {
			res, err := d.Users.List(t.Context(), b, p)
			require.NoError(t, err)
			require.Empty(t, res.Items, "List through another tenant with %+v", p)
		}
		foreignUpdate(t, func(m func(*adapters.User) error) (*adapters.User, error) {
			return d.Users.Update(t.Context(), b, u.UserID, m)
		})
		require.ErrorIs(t, d.Users.Delete(t.Context(), b, u.UserID), adapters.ErrNotFound)
		requireUnchanged(t, u, getA, "A's user after B's attempts")

		// A twin with the same user_id and email in B is independent.
		twin := fullUser()
		twin.UserID, twin.Email = u.UserID, u.Email
		_, err = d.Users.Create(t.Context(), b, twin)
		require.NoError(t, err, "the same user_id and email in another tenant")
		_, err = d.Users.Update(t.Context(), b, u.UserID, func(x *adapters.User) error {
			x.Name = "B's twin"
			return nil
		})
		require.NoError(t, err)
		requireUnchanged(t, u, getA, "updating B's twin changed A's user")
		require.NoError(t, d.Users.Delete(t.Context(), b, u.UserID))
		requireUnchanged(t, u, getA, "deleting B's twin deleted A's user")
	})
	t.Run("passwords", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		uid := s.newUser(t, a)
		p, err := d.Passwords.Create(t.Context(), a, adapters.Password{UserID: uid, Hash: "hash-a", Algorithm: "bcrypt"})
		require.NoError(t, err)
		_, err = d.Passwords.GetCurrent(t.Context(), b, uid)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		list, err := d.Passwords.List(t.Context(), b, uid, 10)
		require.NoError(t, err)
		require.Empty(t, list)
		_, err = d.Passwords.Create(t.Context(), b, adapters.Password{UserID: uid, Hash: "hash-b", Algorithm: "bcrypt"})
		require.NoError(t, err)
		requireUnchanged(t, p, func() (*adapters.Password, error) { return d.Passwords.GetCurrent(t.Context(), a, uid) },
			"a password of the same user id in another tenant demoted A's")
		list, err = d.Passwords.List(t.Context(), a, uid, 10)
		require.NoError(t, err)
		require.Equal(t, []adapters.Password{*p}, list)
	})
	t.Run("clients", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		c, err := d.Clients.Create(t.Context(), a, fullClient())
		require.NoError(t, err)
		getA := func() (*adapters.Client, error) { return d.Clients.Get(t.Context(), a, c.ClientID) }
		_, err = d.Clients.Get(t.Context(), b, c.ClientID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.Clients.List(t.Context(), b, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.Client) error) (*adapters.Client, error) {
			return d.Clients.Update(t.Context(), b, c.ClientID, m)
		})
		require.ErrorIs(t, d.Clients.Delete(t.Context(), b, c.ClientID), adapters.ErrNotFound)
		requireUnchanged(t, c, getA, "A's client after B's attempts")
		byID, err := d.Clients.GetByClientID(t.Context(), c.ClientID)
		require.NoError(t, err)
		require.Equal(t, a, byID.TenantID, "GetByClientID must name the owner tenant")
	})
	t.Run("client_grants", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		c, err := d.Clients.Create(t.Context(), a, adapters.Client{Name: "grantee"})
		require.NoError(t, err)
		g, err := d.ClientGrants.Create(t.Context(), a, fullGrant(c.ClientID, "https://api.example.com"))
		require.NoError(t, err)
		getA := func() (*adapters.ClientGrant, error) { return d.ClientGrants.Get(t.Context(), a, g.ID) }
		_, err = d.ClientGrants.Get(t.Context(), b, g.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		for _, f := range []adapters.ClientGrantFilter{{}, {ClientID: c.ClientID}, {Audience: g.Audience}} {
			res, err := d.ClientGrants.List(t.Context(), b, f, adapters.ListParams{})
			require.NoError(t, err)
			require.Empty(t, res.Items, "List through another tenant with %+v", f)
		}
		foreignUpdate(t, func(m func(*adapters.ClientGrant) error) (*adapters.ClientGrant, error) {
			return d.ClientGrants.Update(t.Context(), b, g.ID, m)
		})
		require.ErrorIs(t, d.ClientGrants.Delete(t.Context(), b, g.ID), adapters.ErrNotFound)
		requireUnchanged(t, g, getA, "A's grant after B's attempts")
	})
	t.Run("connections", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		c, err := d.Connections.Create(t.Context(), a, fullConnection())
		require.NoError(t, err)
		getA := func() (*adapters.Connection, error) { return d.Connections.Get(t.Context(), a, c.ID) }
		_, err = d.Connections.Get(t.Context(), b, c.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.Connections.GetByName(t.Context(), b, c.Name)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.Connections.List(t.Context(), b, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.Connection) error) (*adapters.Connection, error) {
			return d.Connections.Update(t.Context(), b, c.ID, m)
		})
		require.ErrorIs(t, d.Connections.Delete(t.Context(), b, c.ID), adapters.ErrNotFound)
		requireUnchanged(t, c, getA, "A's connection after B's attempts")
	})
	t.Run("resource_servers", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		rs, err := d.ResourceServers.Create(t.Context(), a, fullResourceServer())
		require.NoError(t, err)
		getA := func() (*adapters.ResourceServer, error) { return d.ResourceServers.Get(t.Context(), a, rs.ID) }
		_, err = d.ResourceServers.Get(t.Context(), b, rs.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.ResourceServers.GetByIdentifier(t.Context(), b, rs.Identifier)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.ResourceServers.List(t.Context(), b, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.ResourceServer) error) (*adapters.ResourceServer, error) {
			return d.ResourceServers.Update(t.Context(), b, rs.ID, m)
		})
		require.ErrorIs(t, d.ResourceServers.Delete(t.Context(), b, rs.ID), adapters.ErrNotFound)
		requireUnchanged(t, rs, getA, "A's resource server after B's attempts")
	})
	t.Run("roles", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		r := s.newRole(t, a)
		getA := func() (*adapters.Role, error) { return d.Roles.Get(t.Context(), a, r.ID) }
		_, err := d.Roles.Get(t.Context(), b, r.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.Roles.List(t.Context(), b, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.Role) error) (*adapters.Role, error) {
			return d.Roles.Update(t.Context(), b, r.ID, m)
		})
		require.ErrorIs(t, d.Roles.Delete(t.Context(), b, r.ID), adapters.ErrNotFound)
		requireUnchanged(t, r, getA, "A's role after B's attempts")
	})
	t.Run("role_permissions", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		r := s.newRole(t, a)
		api := "https://api.example.com"
		require.NoError(t, d.RolePermissions.Assign(t.Context(), a, r.ID, perms(api, "read:a")))
		res, err := d.RolePermissions.List(t.Context(), b, r.ID, adapters.ListParams{})
		emptyOrNotFound(t, res, err, "A's role permissions listed through B")
		_ = d.RolePermissions.Assign(t.Context(), b, r.ID, perms(api, "write:b"))
		_ = d.RolePermissions.Remove(t.Context(), b, r.ID, perms(api, "read:a"))
		res, err = d.RolePermissions.List(t.Context(), a, r.ID, adapters.ListParams{})
		require.NoError(t, err)
		require.Equal(t, permKeys(perms(api, "read:a")), permKeys(res.Items), "B's Assign/Remove changed A's role permissions")
	})
	t.Run("user_roles", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		uid := s.newUser(t, a)
		r := s.newRole(t, a)
		require.NoError(t, d.UserRoles.Assign(t.Context(), a, uid, "", []string{r.ID}))
		rs, err := d.UserRoles.List(t.Context(), b, uid, "")
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrNotFound)
		}
		require.Empty(t, rs, "A's user roles listed through B")
		users, err := d.UserRoles.ListUsers(t.Context(), b, r.ID, adapters.ListParams{})
		emptyOrNotFound(t, users, err, "A's role users listed through B")
		_ = d.UserRoles.Remove(t.Context(), b, uid, "", []string{r.ID})
		_ = d.UserRoles.Assign(t.Context(), b, uid, "org_b", []string{r.ID})
		rs, err = d.UserRoles.List(t.Context(), a, uid, "")
		require.NoError(t, err)
		require.Equal(t, []string{r.ID}, roleIDs(rs), "B's Remove changed A's user roles")
		rs, err = d.UserRoles.List(t.Context(), a, uid, "org_b")
		require.NoError(t, err)
		require.Empty(t, rs, "B's Assign changed A's user roles")
		users, err = d.UserRoles.ListUsers(t.Context(), a, r.ID, adapters.ListParams{})
		require.NoError(t, err)
		require.Equal(t, []string{uid}, users.Items)
	})
	t.Run("user_permissions", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		uid := s.newUser(t, a)
		api := "https://api.example.com"
		require.NoError(t, d.UserPermissions.Assign(t.Context(), a, uid, "", perms(api, "read:a")))
		ps, err := d.UserPermissions.List(t.Context(), b, uid, "")
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrNotFound)
		}
		require.Empty(t, ps, "A's user permissions listed through B")
		_ = d.UserPermissions.Remove(t.Context(), b, uid, "", perms(api, "read:a"))
		_ = d.UserPermissions.Assign(t.Context(), b, uid, "", perms(api, "write:b"))
		ps, err = d.UserPermissions.List(t.Context(), a, uid, "")
		require.NoError(t, err)
		require.Equal(t, permKeys(perms(api, "read:a")), permKeys(ps), "B's Assign/Remove changed A's user permissions")
	})
	t.Run("codes", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		c, err := d.Codes.Create(t.Context(), a, fullCode())
		require.NoError(t, err)
		getA := func() (*adapters.Code, error) { return d.Codes.Get(t.Context(), a, c.CodeType, c.CodeID) }
		_, err = d.Codes.Get(t.Context(), b, c.CodeType, c.CodeID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.Codes.Consume(t.Context(), b, c.CodeType, c.CodeID, adapters.Now())
		require.ErrorIs(t, err, adapters.ErrNotFound, "Consume through another tenant")
		require.ErrorIs(t, d.Codes.Delete(t.Context(), b, c.CodeType, c.CodeID), adapters.ErrNotFound)
		requireUnchanged(t, c, getA, "A's code after B's attempts")
		_, err = d.Codes.Consume(t.Context(), a, c.CodeType, c.CodeID, adapters.Now())
		require.NoError(t, err, "A's code must still be consumable once")
	})
	t.Run("login_sessions", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		ls, err := d.LoginSessions.Create(t.Context(), a, fullLoginSession())
		require.NoError(t, err)
		getA := func() (*adapters.LoginSession, error) { return d.LoginSessions.Get(t.Context(), a, ls.ID) }
		_, err = d.LoginSessions.Get(t.Context(), b, ls.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		foreignUpdate(t, func(m func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
			return d.LoginSessions.Update(t.Context(), b, ls.ID, m)
		})
		require.ErrorIs(t, d.LoginSessions.Delete(t.Context(), b, ls.ID), adapters.ErrNotFound)
		requireUnchanged(t, ls, getA, "A's login session after B's attempts")
	})
	t.Run("sessions", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		uid := "auth0|" + adapters.NewID("")
		x, err := d.Sessions.Create(t.Context(), a, fullSession(uid))
		require.NoError(t, err)
		getA := func() (*adapters.Session, error) { return d.Sessions.Get(t.Context(), a, x.ID) }
		_, err = d.Sessions.Get(t.Context(), b, x.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.Sessions.ListByUser(t.Context(), b, uid, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.Session) error) (*adapters.Session, error) {
			return d.Sessions.Update(t.Context(), b, x.ID, m)
		})
		require.ErrorIs(t, d.Sessions.Delete(t.Context(), b, x.ID), adapters.ErrNotFound)
		n, err := d.Sessions.RevokeByUser(t.Context(), b, uid, adapters.Now())
		require.NoError(t, err)
		require.Equal(t, 0, n, "RevokeByUser through another tenant")
		ns, nt, err := d.RevokeUser(t.Context(), b, uid, adapters.Now())
		require.NoError(t, err)
		require.Equal(t, [2]int{0, 0}, [2]int{ns, nt}, "RevokeUser through another tenant")
		requireUnchanged(t, x, getA, "A's session after B's attempts")
	})
	t.Run("refresh_tokens", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		uid := "auth0|" + adapters.NewID("")
		rt, err := d.RefreshTokens.Create(t.Context(), a, fullRefreshToken(uid))
		require.NoError(t, err)
		getA := func() (*adapters.RefreshToken, error) { return d.RefreshTokens.Get(t.Context(), a, rt.ID) }
		_, err = d.RefreshTokens.Get(t.Context(), b, rt.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.RefreshTokens.GetByLookup(t.Context(), b, rt.TokenLookup)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.RefreshTokens.ListByUser(t.Context(), b, uid, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		foreignUpdate(t, func(m func(*adapters.RefreshToken) error) (*adapters.RefreshToken, error) {
			return d.RefreshTokens.Update(t.Context(), b, rt.ID, m)
		})
		require.ErrorIs(t, d.RefreshTokens.Delete(t.Context(), b, rt.ID), adapters.ErrNotFound)
		next := nextToken(rt)
		_, err = d.RefreshTokens.Rotate(t.Context(), b, rt.ID, next, adapters.Now())
		require.ErrorIs(t, err, adapters.ErrNotFound, "Rotate through another tenant")
		for _, tn := range []string{a, b} {
			_, err = d.RefreshTokens.Get(t.Context(), tn, next.ID)
			require.ErrorIs(t, err, adapters.ErrNotFound, "Rotate through another tenant created the next token")
		}
		for name, revoke := range map[string]func() (int, error){
			"RevokeFamily":  func() (int, error) { return d.RefreshTokens.RevokeFamily(t.Context(), b, rt.FamilyID, adapters.Now()) },
			"RevokeByUser":  func() (int, error) { return d.RefreshTokens.RevokeByUser(t.Context(), b, uid, adapters.Now()) },
			"RevokeByLogin": func() (int, error) { return d.RefreshTokens.RevokeByLogin(t.Context(), b, rt.LoginID, adapters.Now()) },
		} {
			n, err := revoke()
			require.NoError(t, err, name)
			require.Equal(t, 0, n, "%s through another tenant", name)
		}
		ns, nt, err := d.RevokeUser(t.Context(), b, uid, adapters.Now())
		require.NoError(t, err)
		require.Equal(t, [2]int{0, 0}, [2]int{ns, nt}, "RevokeUser through another tenant")
		requireUnchanged(t, rt, getA, "A's refresh token after B's attempts")
	})
	t.Run("logs", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		l, err := d.Logs.Create(t.Context(), a, fullLog())
		require.NoError(t, err)
		_, err = d.Logs.Get(t.Context(), b, l.LogID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		for _, p := range []adapters.ListParams{{}, {Take: 10}, {Q: "type:s"}, {Q: `user_id:"` + l.UserID + `"`}, {Q: l.LogID}} {
			res, err := d.Logs.List(t.Context(), b, p)
			require.NoError(t, err)
			require.Empty(t, res.Items, "logs listed through another tenant with %+v", p)
		}
		requireUnchanged(t, l, func() (*adapters.Log, error) { return d.Logs.Get(t.Context(), a, l.LogID) }, "A's log")
	})
	t.Run("custom_domains", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		cd, err := d.CustomDomains.Create(t.Context(), a, fullDomain())
		require.NoError(t, err)
		getA := func() (*adapters.CustomDomain, error) { return d.CustomDomains.Get(t.Context(), a, cd.CustomDomainID) }
		_, err = d.CustomDomains.Get(t.Context(), b, cd.CustomDomainID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		list, err := d.CustomDomains.List(t.Context(), b)
		require.NoError(t, err)
		require.Empty(t, list)
		foreignUpdate(t, func(m func(*adapters.CustomDomain) error) (*adapters.CustomDomain, error) {
			return d.CustomDomains.Update(t.Context(), b, cd.CustomDomainID, m)
		})
		require.ErrorIs(t, d.CustomDomains.Delete(t.Context(), b, cd.CustomDomainID), adapters.ErrNotFound)
		requireUnchanged(t, cd, getA, "A's custom domain after B's attempts")
		byDomain, err := d.CustomDomains.GetByDomain(t.Context(), cd.Domain)
		require.NoError(t, err)
		require.Equal(t, a, byDomain.TenantID, "GetByDomain must name the owner tenant")
	})
	t.Run("organizations", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		o, err := d.Organizations.Create(t.Context(), a, fullOrganization())
		require.NoError(t, err)
		uid := s.newUser(t, a)
		require.NoError(t, d.Organizations.AddMembers(t.Context(), a, o.ID, []string{uid}))
		getA := func() (*adapters.Organization, error) { return d.Organizations.Get(t.Context(), a, o.ID) }
		_, err = d.Organizations.Get(t.Context(), b, o.ID)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		_, err = d.Organizations.GetByName(t.Context(), b, o.Name)
		require.ErrorIs(t, err, adapters.ErrNotFound)
		res, err := d.Organizations.List(t.Context(), b, adapters.ListParams{})
		require.NoError(t, err)
		require.Empty(t, res.Items)
		members, err := d.Organizations.ListMembers(t.Context(), b, o.ID, adapters.ListParams{})
		emptyOrNotFound(t, members, err, "A's members listed through B")
		orgs, err := d.Organizations.ListUserOrganizations(t.Context(), b, uid)
		if err != nil {
			require.ErrorIs(t, err, adapters.ErrNotFound)
		}
		require.Empty(t, orgs, "A's memberships listed through B")
		foreignUpdate(t, func(m func(*adapters.Organization) error) (*adapters.Organization, error) {
			return d.Organizations.Update(t.Context(), b, o.ID, m)
		})
		require.ErrorIs(t, d.Organizations.Delete(t.Context(), b, o.ID), adapters.ErrNotFound)
		_ = d.Organizations.RemoveMembers(t.Context(), b, o.ID, []string{uid})
		_ = d.Organizations.AddMembers(t.Context(), b, o.ID, []string{"auth0|intruder"})
		requireUnchanged(t, o, getA, "A's organization after B's attempts")
		members, err = d.Organizations.ListMembers(t.Context(), a, o.ID, adapters.ListParams{})
		require.NoError(t, err)
		require.Equal(t, []string{uid}, members.Items, "B's AddMembers/RemoveMembers changed A's members")
	})
	t.Run("keys", func(t *testing.T) {
		a, b := s.tenant(t), s.tenant(t)
		k, err := d.Keys.Create(t.Context(), fullKey(a))
		require.NoError(t, err)
		list, err := d.Keys.List(t.Context(), b)
		require.NoError(t, err)
		require.Empty(t, list, "A's key listed for B")
		list, err = d.Keys.List(t.Context(), a)
		require.NoError(t, err)
		require.Equal(t, []string{k.Kid}, keysOf(list, func(x adapters.SigningKey) string { return x.Kid }))
	})
	t.Run("tenant_delete_cascade", func(t *testing.T) { testTenantDeleteCascade(t, s) })
	t.Run("user_delete_cascade", func(t *testing.T) { testUserDeleteCascade(t, s) })
}

// owned is one of everything a tenant can own.
type owned struct {
	tenant  string
	user    string
	client  string
	grant   string
	conn    string
	rs      string
	role    string
	key     string
	code    *adapters.Code
	login   string
	session string
	token   *adapters.RefreshToken
	log     string
	domain  *adapters.CustomDomain
	org     string
}

// populate creates one of everything in tenant tn.
func (s *suite) populate(t *testing.T, tn string) owned {
	t.Helper()
	d, ctx := s.d, t.Context()
	o := owned{tenant: tn, user: s.newUser(t, tn)}
	_, err := d.Passwords.Create(ctx, tn, adapters.Password{UserID: o.user, Hash: "h", Algorithm: "bcrypt"})
	require.NoError(t, err)
	c, err := d.Clients.Create(ctx, tn, fullClient())
	require.NoError(t, err)
	o.client = c.ClientID
	g, err := d.ClientGrants.Create(ctx, tn, fullGrant(c.ClientID, "https://api.example.com"))
	require.NoError(t, err)
	o.grant = g.ID
	conn, err := d.Connections.Create(ctx, tn, fullConnection())
	require.NoError(t, err)
	o.conn = conn.ID
	rs, err := d.ResourceServers.Create(ctx, tn, fullResourceServer())
	require.NoError(t, err)
	o.rs = rs.ID
	o.role = s.newRole(t, tn).ID
	require.NoError(t, d.RolePermissions.Assign(ctx, tn, o.role, perms("https://api.example.com", "read")))
	require.NoError(t, d.UserRoles.Assign(ctx, tn, o.user, "", []string{o.role}))
	require.NoError(t, d.UserPermissions.Assign(ctx, tn, o.user, "", perms("https://api.example.com", "write")))
	k, err := d.Keys.Create(ctx, fullKey(tn))
	require.NoError(t, err)
	o.key = k.Kid
	o.code, err = d.Codes.Create(ctx, tn, fullCode())
	require.NoError(t, err)
	ls, err := d.LoginSessions.Create(ctx, tn, fullLoginSession())
	require.NoError(t, err)
	o.login = ls.ID
	ss, err := d.Sessions.Create(ctx, tn, fullSession(o.user))
	require.NoError(t, err)
	o.session = ss.ID
	o.token, err = d.RefreshTokens.Create(ctx, tn, fullRefreshToken(o.user))
	require.NoError(t, err)
	l, err := d.Logs.Create(ctx, tn, fullLog())
	require.NoError(t, err)
	o.log = l.LogID
	o.domain, err = d.CustomDomains.Create(ctx, tn, fullDomain())
	require.NoError(t, err)
	org, err := d.Organizations.Create(ctx, tn, fullOrganization())
	require.NoError(t, err)
	o.org = org.ID
	require.NoError(t, d.Organizations.AddMembers(ctx, tn, o.org, []string{o.user}))
	return o
}

// lookups returns, per entity, the error of looking up o's entity.
func (s *suite) lookups(t *testing.T, o owned) map[string]error {
	d, ctx, tn := s.d, t.Context(), o.tenant
	errOf := func(_ any, err error) error { return err }
	return map[string]error{
		"tenant":          errOf(d.Tenants.Get(ctx, tn)),
		"user":            errOf(d.Users.Get(ctx, tn, o.user)),
		"password":        errOf(d.Passwords.GetCurrent(ctx, tn, o.user)),
		"client":          errOf(d.Clients.Get(ctx, tn, o.client)),
		"client by id":    errOf(d.Clients.GetByClientID(ctx, o.client)),
		"client grant":    errOf(d.ClientGrants.Get(ctx, tn, o.grant)),
		"connection":      errOf(d.Connections.Get(ctx, tn, o.conn)),
		"resource server": errOf(d.ResourceServers.Get(ctx, tn, o.rs)),
		"role":            errOf(d.Roles.Get(ctx, tn, o.role)),
		"key":             errOf(d.Keys.Get(ctx, o.key)),
		"code":            errOf(d.Codes.Get(ctx, tn, o.code.CodeType, o.code.CodeID)),
		"login session":   errOf(d.LoginSessions.Get(ctx, tn, o.login)),
		"session":         errOf(d.Sessions.Get(ctx, tn, o.session)),
		"refresh token":   errOf(d.RefreshTokens.Get(ctx, tn, o.token.ID)),
		"token by lookup": errOf(d.RefreshTokens.GetByLookup(ctx, tn, o.token.TokenLookup)),
		"log":             errOf(d.Logs.Get(ctx, tn, o.log)),
		"custom domain":   errOf(d.CustomDomains.Get(ctx, tn, o.domain.CustomDomainID)),
		"domain by name":  errOf(d.CustomDomains.GetByDomain(ctx, o.domain.Domain)),
		"organization":    errOf(d.Organizations.Get(ctx, tn, o.org)),
	}
}

func testTenantDeleteCascade(t *testing.T, s *suite) {
	d := s.d
	a, b := s.tenant(t), s.tenant(t)
	oa, ob := s.populate(t, a), s.populate(t, b)
	for what, err := range s.lookups(t, oa) {
		require.NoError(t, err, "%s of A before the delete", what)
	}
	require.NoError(t, d.Tenants.Delete(t.Context(), a))
	for what, err := range s.lookups(t, oa) {
		require.ErrorIs(t, err, adapters.ErrNotFound, "%s of a deleted tenant", what)
	}
	for what, err := range s.lookups(t, ob) {
		require.NoError(t, err, "%s of B after deleting A", what)
	}
	require.ErrorIs(t, d.Tenants.Delete(t.Context(), a), adapters.ErrNotFound, "second Delete")

	// A tenant re-created under the same id starts empty.
	_, err := d.Tenants.Create(t.Context(), adapters.Tenant{ID: a, FriendlyName: "reborn"})
	require.NoError(t, err)
	ctx := t.Context()
	users, err := d.Users.List(ctx, a, adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	require.Empty(t, users.Items, "users survived the tenant")
	clients, err := d.Clients.List(ctx, a, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, clients.Items, "clients survived the tenant")
	logs, err := d.Logs.List(ctx, a, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, logs.Items, "logs survived the tenant")
	keys, err := d.Keys.List(ctx, a)
	require.NoError(t, err)
	require.Empty(t, keys, "keys survived the tenant")
	domains, err := d.CustomDomains.List(ctx, a)
	require.NoError(t, err)
	require.Empty(t, domains, "custom domains survived the tenant")
	pw, err := d.Passwords.List(ctx, a, oa.user, 10)
	require.NoError(t, err)
	require.Empty(t, pw, "passwords survived the tenant")
	roles, err := d.UserRoles.List(ctx, a, oa.user, "")
	require.NoError(t, err)
	require.Empty(t, roles, "user roles survived the tenant")
	ps, err := d.UserPermissions.List(ctx, a, oa.user, "")
	require.NoError(t, err)
	require.Empty(t, ps, "user permissions survived the tenant")
	rp, err := d.RolePermissions.List(ctx, a, oa.role, adapters.ListParams{})
	emptyOrNotFound(t, rp, err, "role permissions survived the tenant")
	mem, err := d.Organizations.ListMembers(ctx, a, oa.org, adapters.ListParams{})
	emptyOrNotFound(t, mem, err, "organization members survived the tenant")
	orgs, err := d.Organizations.ListUserOrganizations(ctx, a, oa.user)
	require.NoError(t, err)
	require.Empty(t, orgs, "memberships survived the tenant")
	ss, err := d.Sessions.ListByUser(ctx, a, oa.user, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, ss.Items, "sessions survived the tenant")
	rts, err := d.RefreshTokens.ListByUser(ctx, a, oa.user, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, rts.Items, "refresh tokens survived the tenant")
}

func testUserDeleteCascade(t *testing.T, s *suite) {
	d, ctx := s.d, t.Context()
	tn := s.tenant(t)
	o := s.populate(t, tn)
	keep := s.newUser(t, tn)
	_, err := d.Passwords.Create(ctx, tn, adapters.Password{UserID: keep, Hash: "k", Algorithm: "bcrypt"})
	require.NoError(t, err)
	keepSession, err := d.Sessions.Create(ctx, tn, fullSession(keep))
	require.NoError(t, err)
	keepToken, err := d.RefreshTokens.Create(ctx, tn, fullRefreshToken(keep))
	require.NoError(t, err)
	require.NoError(t, d.UserRoles.Assign(ctx, tn, keep, "", []string{o.role}))
	require.NoError(t, d.UserPermissions.Assign(ctx, tn, keep, "", perms("https://api.example.com", "write")))
	require.NoError(t, d.Organizations.AddMembers(ctx, tn, o.org, []string{keep}))
	// An organization-scoped role, too.
	require.NoError(t, d.UserRoles.Assign(ctx, tn, o.user, o.org, []string{o.role}))

	require.NoError(t, d.Users.Delete(ctx, tn, o.user))

	_, err = d.Passwords.GetCurrent(ctx, tn, o.user)
	require.ErrorIs(t, err, adapters.ErrNotFound, "password of a deleted user")
	pw, err := d.Passwords.List(ctx, tn, o.user, 10)
	require.NoError(t, err)
	require.Empty(t, pw, "password history of a deleted user")
	_, err = d.Sessions.Get(ctx, tn, o.session)
	require.ErrorIs(t, err, adapters.ErrNotFound, "session of a deleted user")
	ss, err := d.Sessions.ListByUser(ctx, tn, o.user, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, ss.Items)
	_, err = d.RefreshTokens.Get(ctx, tn, o.token.ID)
	require.ErrorIs(t, err, adapters.ErrNotFound, "refresh token of a deleted user")
	_, err = d.RefreshTokens.GetByLookup(ctx, tn, o.token.TokenLookup)
	require.ErrorIs(t, err, adapters.ErrNotFound, "refresh token of a deleted user")
	for _, org := range []string{"", o.org} {
		roles, err := d.UserRoles.List(ctx, tn, o.user, org)
		require.NoError(t, err)
		require.Empty(t, roles, "roles of a deleted user (organization %q)", org)
	}
	users, err := d.UserRoles.ListUsers(ctx, tn, o.role, adapters.ListParams{})
	require.NoError(t, err)
	require.Equal(t, []string{keep}, users.Items, "role users after deleting one")
	ps, err := d.UserPermissions.List(ctx, tn, o.user, "")
	require.NoError(t, err)
	require.Empty(t, ps, "permissions of a deleted user")
	orgs, err := d.Organizations.ListUserOrganizations(ctx, tn, o.user)
	require.NoError(t, err)
	require.Empty(t, orgs, "memberships of a deleted user")
	members, err := d.Organizations.ListMembers(ctx, tn, o.org, adapters.ListParams{})
	require.NoError(t, err)
	require.Equal(t, []string{keep}, members.Items, "members after deleting one")

	// The other user keeps everything.
	_, err = d.Passwords.GetCurrent(ctx, tn, keep)
	require.NoError(t, err)
	_, err = d.Sessions.Get(ctx, tn, keepSession.ID)
	require.NoError(t, err)
	_, err = d.RefreshTokens.Get(ctx, tn, keepToken.ID)
	require.NoError(t, err)
	roles, err := d.UserRoles.List(ctx, tn, keep, "")
	require.NoError(t, err)
	require.Equal(t, []string{o.role}, roleIDs(roles))
	ps, err = d.UserPermissions.List(ctx, tn, keep, "")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	// Nothing but the user's own rows went.
	for what, err := range s.lookups(t, o) {
		switch what {
		case "user", "password", "session", "refresh token", "token by lookup":
			require.ErrorIs(t, err, adapters.ErrNotFound, "%s of a deleted user", what)
		default:
			require.NoError(t, err, "deleting a user removed the tenant's %s", what)
		}
	}
}
