package bunadapter

import (
	"context"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// bind returns the DataAdapters that run on c (the pool or a transaction).
func (a *Adapter) bind(c *conn) *adapters.DataAdapters {
	d := &adapters.DataAdapters{
		Tenants:         tenants{c},
		Users:           users{c},
		Passwords:       passwords{c},
		Clients:         clients{c},
		ClientGrants:    clientGrants{c},
		Connections:     connections{c},
		ResourceServers: resourceServers{c},
		Roles:           roles{c},
		RolePermissions: rolePermissions{c},
		UserRoles:       userRoles{c},
		UserPermissions: userPermissions{c},
		Keys:            keys{c},
		Codes:           codes{c},
		LoginSessions:   loginSessions{c},
		Sessions:        sessions{c},
		RefreshTokens:   refreshTokens{c},
		Logs:            logs{c},
		CustomDomains:   customDomains{c},
		Organizations:   organizations{c},
		Ping:            func(ctx context.Context) error { return a.db.PingContext(ctx) },

		SessionRevocations: sessionRevocations{c},
	}
	d.Transaction = func(ctx context.Context, fn func(ctx context.Context, tx *adapters.DataAdapters) error) error {
		return c.within(ctx, func(tc *conn) error { return fn(ctx, a.bind(tc)) })
	}
	if !c.tx {
		d.Close = a.Close
	}
	if c.feed != nil {
		c.feed.wrap(c, d) // record the writes that bypass spec (changes.go)
	}
	return d
}

func created(def adapters.SortSpec, idCol string, extra ...string) listing {
	l := listing{sorts: map[string]string{"created_at": "created_at", idCol: idCol}, def: def,
		timeCol: "created_at", timeField: "created_at", idCol: idCol}
	for _, f := range extra {
		l.sorts[f] = f
	}
	return l
}

var asc = adapters.SortSpec{Field: "created_at"}
var desc = adapters.SortSpec{Field: "created_at", Desc: true}

// ---- tenants ----

type tenants struct{ c *conn }

func (r tenants) Create(ctx context.Context, t adapters.Tenant) (*adapters.Tenant, error) {
	return tenantSpec.create(ctx, r.c, "", t, "id")
}
func (r tenants) Get(ctx context.Context, id string) (*adapters.Tenant, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.Tenant, error) {
		return tenantSpec.get(ctx, c, "", id)
	})
}
func (r tenants) List(ctx context.Context, p adapters.ListParams) (*adapters.List[adapters.Tenant], error) {
	return tenantSpec.list(ctx, r.c, where{}, p, created(asc, "id"))
}
func (r tenants) Update(ctx context.Context, id string, m func(*adapters.Tenant) error) (*adapters.Tenant, error) {
	return tenantSpec.update(ctx, r.c, "", m, "id", id)
}

// tenantTables are the tables a tenant owns, children first.
var tenantTables = []string{"organization_members", "organizations", "custom_domains", "logs", "refresh_tokens",
	"sessions", "login_sessions", "codes", "signing_keys", "user_permissions", "user_roles", "role_permissions",
	"roles", "resource_servers", "connections", "client_grants", "clients", "passwords", "users",
	"session_revocations"}

func (r tenants) Delete(ctx context.Context, id string) error {
	return r.c.within(ctx, func(c *conn) error {
		if _, err := tenantSpec.one(ctx, c, "id = ?", []any{id}, true); err != nil {
			return err
		}
		for _, t := range tenantTables {
			if _, err := c.exec(ctx, "DELETE FROM "+t+" WHERE tenant_id = ?", id); err != nil {
				return err
			}
		}
		return tenantSpec.remove(ctx, c, "", id)
	})
}

// ---- users ----

type users struct{ c *conn }

const userRule = "user_id, or email or username in the connection"

func (r users) Create(ctx context.Context, t string, u adapters.User) (*adapters.User, error) {
	return userSpec.create(ctx, r.c, t, u, userRule)
}
func (r users) Get(ctx context.Context, t, id string) (*adapters.User, error) {
	return userSpec.get(ctx, r.c, t, id)
}
func (r users) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.User], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	if err := r.c.a.d.search(&w, p.Q, adapters.UserSearch, nil); err != nil {
		return nil, err
	}
	return userSpec.list(ctx, r.c, w, p, created(asc, "user_id", "updated_at", "email", "name", "username", "last_login", "logins_count"))
}
func (r users) Update(ctx context.Context, t, id string, m func(*adapters.User) error) (*adapters.User, error) {
	return userSpec.update(ctx, r.c, t, m, userRule, id)
}

// userTables hold rows owned by a user, deleted with it.
var userTables = []string{"passwords", "sessions", "refresh_tokens", "user_roles", "user_permissions", "organization_members"}

func (r users) Delete(ctx context.Context, t, id string) error {
	return r.c.within(ctx, func(c *conn) error {
		if err := userSpec.remove(ctx, c, t, id); err != nil {
			return err
		}
		for _, tbl := range userTables {
			if _, err := c.exec(ctx, "DELETE FROM "+tbl+" WHERE tenant_id = ? AND user_id = ?", t, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- passwords ----

type passwords struct{ c *conn }

func (r passwords) Create(ctx context.Context, t string, p adapters.Password) (*adapters.Password, error) {
	var out *adapters.Password
	err := r.c.within(ctx, func(c *conn) error {
		if _, err := c.exec(ctx, "UPDATE passwords SET is_current = ? WHERE tenant_id = ? AND user_id = ? AND is_current = ?", false, t, p.UserID, true); err != nil {
			return err
		}
		var err error
		out, err = passwordSpec.create(ctx, c, t, p, "id")
		return err
	})
	return out, err
}
func (r passwords) GetCurrent(ctx context.Context, t, userID string) (*adapters.Password, error) {
	return passwordSpec.one(ctx, r.c, "tenant_id = ? AND user_id = ? AND is_current = ?", []any{t, userID, true}, false)
}
func (r passwords) List(ctx context.Context, t, userID string, limit int) ([]adapters.Password, error) {
	if limit <= 0 || limit > adapters.MaxPerPage {
		limit = adapters.MaxPerPage
	}
	return passwordSpec.all(ctx, r.c, "WHERE tenant_id = ? AND user_id = ? ORDER BY seq DESC LIMIT "+itoa(limit), []any{t, userID})
}

// ---- clients ----

type clients struct{ c *conn }

func (r clients) Create(ctx context.Context, t string, cl adapters.Client) (*adapters.Client, error) {
	cl.TenantID = t
	return clientSpec.create(ctx, r.c, t, cl, "client_id")
}
func (r clients) Get(ctx context.Context, t, id string) (*adapters.Client, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.Client, error) {
		return clientSpec.get(ctx, c, t, id)
	})
}
func (r clients) GetByClientID(ctx context.Context, id string) (*adapters.Client, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.Client, error) {
		return clientSpec.one(ctx, c, "client_id = ?", []any{id}, false)
	})
}
func (r clients) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.Client], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	if p.Q != "" {
		return nil, adapters.Invalid("q", "clients cannot be searched")
	}
	return clientSpec.list(ctx, r.c, w, p, created(asc, "client_id"))
}
func (r clients) Update(ctx context.Context, t, id string, m func(*adapters.Client) error) (*adapters.Client, error) {
	return clientSpec.update(ctx, r.c, t, m, "client_id", id)
}
func (r clients) Delete(ctx context.Context, t, id string) error {
	return r.c.within(ctx, func(c *conn) error {
		if err := clientSpec.remove(ctx, c, t, id); err != nil {
			return err
		}
		_, err := c.exec(ctx, "DELETE FROM client_grants WHERE tenant_id = ? AND client_id = ?", t, id)
		return err
	})
}

// ---- client grants ----

type clientGrants struct{ c *conn }

const grantRule = "client_id and audience"

func (r clientGrants) Create(ctx context.Context, t string, g adapters.ClientGrant) (*adapters.ClientGrant, error) {
	return clientGrantSpec.create(ctx, r.c, t, g, grantRule)
}
func (r clientGrants) Get(ctx context.Context, t, id string) (*adapters.ClientGrant, error) {
	return clientGrantSpec.get(ctx, r.c, t, id)
}
func (r clientGrants) List(ctx context.Context, t string, f adapters.ClientGrantFilter, p adapters.ListParams) (*adapters.List[adapters.ClientGrant], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	if f.ClientID != "" {
		w.add("client_id = ?", f.ClientID)
	}
	if f.Audience != "" {
		w.add("audience = ?", f.Audience)
	}
	return lagged(ctx, r.c, never, func(ctx context.Context, c *conn) (*adapters.List[adapters.ClientGrant], error) {
		return clientGrantSpec.list(ctx, c, w, p, created(asc, "id"))
	})
}
func (r clientGrants) Update(ctx context.Context, t, id string, m func(*adapters.ClientGrant) error) (*adapters.ClientGrant, error) {
	return clientGrantSpec.update(ctx, r.c, t, m, grantRule, id)
}
func (r clientGrants) Delete(ctx context.Context, t, id string) error {
	return clientGrantSpec.remove(ctx, r.c, t, id)
}

// ---- connections ----

type connections struct{ c *conn }

func (r connections) Create(ctx context.Context, t string, cn adapters.Connection) (*adapters.Connection, error) {
	return connectionSpec.create(ctx, r.c, t, cn, "name")
}
func (r connections) Get(ctx context.Context, t, id string) (*adapters.Connection, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.Connection, error) {
		return connectionSpec.get(ctx, c, t, id)
	})
}
func (r connections) GetByName(ctx context.Context, t, name string) (*adapters.Connection, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.Connection, error) {
		return connectionSpec.one(ctx, c, "tenant_id = ? AND name = ?", []any{t, name}, false)
	})
}
func (r connections) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.Connection], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	return lagged(ctx, r.c, never, func(ctx context.Context, c *conn) (*adapters.List[adapters.Connection], error) {
		return connectionSpec.list(ctx, c, w, p, created(asc, "id", "name"))
	})
}
func (r connections) Update(ctx context.Context, t, id string, m func(*adapters.Connection) error) (*adapters.Connection, error) {
	return connectionSpec.update(ctx, r.c, t, m, "name", id)
}
func (r connections) Delete(ctx context.Context, t, id string) error {
	return connectionSpec.remove(ctx, r.c, t, id)
}

// ---- resource servers ----

type resourceServers struct{ c *conn }

func (r resourceServers) Create(ctx context.Context, t string, rs adapters.ResourceServer) (*adapters.ResourceServer, error) {
	return resourceServerSpec.create(ctx, r.c, t, rs, "identifier")
}
func (r resourceServers) Get(ctx context.Context, t, id string) (*adapters.ResourceServer, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.ResourceServer, error) {
		return resourceServerSpec.get(ctx, c, t, id)
	})
}
func (r resourceServers) GetByIdentifier(ctx context.Context, t, identifier string) (*adapters.ResourceServer, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.ResourceServer, error) {
		return resourceServerSpec.one(ctx, c, "tenant_id = ? AND identifier = ?", []any{t, identifier}, false)
	})
}
func (r resourceServers) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.ResourceServer], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	return lagged(ctx, r.c, never, func(ctx context.Context, c *conn) (*adapters.List[adapters.ResourceServer], error) {
		return resourceServerSpec.list(ctx, c, w, p, created(asc, "id", "identifier"))
	})
}
func (r resourceServers) Update(ctx context.Context, t, id string, m func(*adapters.ResourceServer) error) (*adapters.ResourceServer, error) {
	return resourceServerSpec.update(ctx, r.c, t, m, "identifier", id)
}
func (r resourceServers) Delete(ctx context.Context, t, id string) error {
	return resourceServerSpec.remove(ctx, r.c, t, id)
}

// ---- roles ----

type roles struct{ c *conn }

func (r roles) Create(ctx context.Context, t string, ro adapters.Role) (*adapters.Role, error) {
	return roleSpec.create(ctx, r.c, t, ro, "name")
}
func (r roles) Get(ctx context.Context, t, id string) (*adapters.Role, error) {
	return roleSpec.get(ctx, r.c, t, id)
}
func (r roles) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.Role], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	return roleSpec.list(ctx, r.c, w, p, created(asc, "id", "name"))
}
func (r roles) Update(ctx context.Context, t, id string, m func(*adapters.Role) error) (*adapters.Role, error) {
	return roleSpec.update(ctx, r.c, t, m, "name", id)
}
func (r roles) Delete(ctx context.Context, t, id string) error {
	return r.c.within(ctx, func(c *conn) error {
		if err := roleSpec.remove(ctx, c, t, id); err != nil {
			return err
		}
		for _, tbl := range []string{"role_permissions", "user_roles"} {
			if _, err := c.exec(ctx, "DELETE FROM "+tbl+" WHERE tenant_id = ? AND role_id = ?", t, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- keys ----

type keys struct{ c *conn }

func (r keys) Create(ctx context.Context, k adapters.SigningKey) (*adapters.SigningKey, error) {
	return keySpec.create(ctx, r.c, "", k, "kid")
}
func (r keys) Get(ctx context.Context, kid string) (*adapters.SigningKey, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.SigningKey, error) {
		return keySpec.get(ctx, c, "", kid)
	})
}
func (r keys) List(ctx context.Context, t string) ([]adapters.SigningKey, error) {
	// No keys on the replica means a tenant it has not caught up with yet.
	noKeys := func(ks []adapters.SigningKey, err error) bool { return err == nil && len(ks) == 0 }
	return lagged(ctx, r.c, noKeys, func(ctx context.Context, c *conn) ([]adapters.SigningKey, error) {
		return keySpec.all(ctx, c, "WHERE tenant_id = ? ORDER BY created_at DESC, kid DESC", []any{t})
	})
}
func (r keys) Update(ctx context.Context, kid string, m func(*adapters.SigningKey) error) (*adapters.SigningKey, error) {
	return keySpec.update(ctx, r.c, "", m, "kid", kid)
}

// ---- codes ----

type codes struct{ c *conn }

func (r codes) Create(ctx context.Context, t string, cd adapters.Code) (*adapters.Code, error) {
	return codeSpec.create(ctx, r.c, t, cd, "code_type and code_id")
}
func (r codes) Get(ctx context.Context, t, typ, id string) (*adapters.Code, error) {
	return codeSpec.get(ctx, r.c, t, typ, id)
}
func (r codes) Consume(ctx context.Context, t, typ, id string, now time.Time) (*adapters.Code, error) {
	n, err := rowsAffected(r.c.exec(ctx, "UPDATE codes SET used_at = ? WHERE tenant_id = ? AND code_type = ? AND code_id = ? AND used_at IS NULL",
		adapters.Millis(now).UnixMilli(), t, typ, id))
	if err != nil {
		return nil, err
	}
	cd, err := codeSpec.get(ctx, r.c, t, typ, id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return cd, adapters.ErrConsumed
	}
	return cd, nil
}
func (r codes) Delete(ctx context.Context, t, typ, id string) error {
	return codeSpec.remove(ctx, r.c, t, typ, id)
}
func (r codes) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	return r.c.deleteExpired(ctx, "codes", []string{"tenant_id", "code_type", "code_id"}, "expires_at < ?", before, batch)
}

// ---- login sessions ----

type loginSessions struct{ c *conn }

func (r loginSessions) Create(ctx context.Context, t string, ls adapters.LoginSession) (*adapters.LoginSession, error) {
	return loginSessionSpec.create(ctx, r.c, t, ls, "id")
}
func (r loginSessions) Get(ctx context.Context, t, id string) (*adapters.LoginSession, error) {
	return loginSessionSpec.get(ctx, r.c, t, id)
}
func (r loginSessions) Update(ctx context.Context, t, id string, m func(*adapters.LoginSession) error) (*adapters.LoginSession, error) {
	return loginSessionSpec.update(ctx, r.c, t, m, "id", id)
}
func (r loginSessions) Delete(ctx context.Context, t, id string) error {
	return loginSessionSpec.remove(ctx, r.c, t, id)
}
func (r loginSessions) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	return r.c.deleteExpired(ctx, "login_sessions", []string{"tenant_id", "id"}, "expires_at < ?", before, batch)
}

// ---- sessions ----

type sessions struct{ c *conn }

func (r sessions) Create(ctx context.Context, t string, s adapters.Session) (*adapters.Session, error) {
	return sessionSpec.create(ctx, r.c, t, s, "id")
}
func (r sessions) Get(ctx context.Context, t, id string) (*adapters.Session, error) {
	return sessionSpec.get(ctx, r.c, t, id)
}
func (r sessions) ListByUser(ctx context.Context, t, userID string, p adapters.ListParams) (*adapters.List[adapters.Session], error) {
	w := where{}
	w.add("tenant_id = ? AND user_id = ?", t, userID)
	l := created(desc, "id")
	l.checkpointDesc = true
	return sessionSpec.list(ctx, r.c, w, p, l)
}
func (r sessions) Update(ctx context.Context, t, id string, m func(*adapters.Session) error) (*adapters.Session, error) {
	return sessionSpec.update(ctx, r.c, t, m, "id", id)
}
func (r sessions) Delete(ctx context.Context, t, id string) error {
	return sessionSpec.remove(ctx, r.c, t, id)
}
func (r sessions) RevokeByUser(ctx context.Context, t, userID string, at time.Time) (int, error) {
	return rowsAffected(r.c.exec(ctx, "UPDATE sessions SET revoked_at = ? WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL",
		adapters.Millis(at).UnixMilli(), t, userID))
}
func (r sessions) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	return r.c.deleteExpired(ctx, "sessions", []string{"tenant_id", "id"}, "expires_at < ? OR idle_expires_at < ?", before, batch)
}

// ---- refresh tokens ----

type refreshTokens struct{ c *conn }

func (r refreshTokens) Create(ctx context.Context, t string, rt adapters.RefreshToken) (*adapters.RefreshToken, error) {
	return refreshTokenSpec.create(ctx, r.c, t, rt, "id or token lookup")
}
func (r refreshTokens) Get(ctx context.Context, t, id string) (*adapters.RefreshToken, error) {
	return refreshTokenSpec.get(ctx, r.c, t, id)
}
func (r refreshTokens) GetByLookup(ctx context.Context, t, lookup string) (*adapters.RefreshToken, error) {
	if lookup == "" {
		return nil, adapters.ErrNotFound
	}
	return refreshTokenSpec.one(ctx, r.c, "tenant_id = ? AND token_lookup = ?", []any{t, lookup}, false)
}
func (r refreshTokens) ListByUser(ctx context.Context, t, userID string, p adapters.ListParams) (*adapters.List[adapters.RefreshToken], error) {
	w := where{}
	w.add("tenant_id = ? AND user_id = ?", t, userID)
	l := created(desc, "id")
	l.checkpointDesc = true
	return refreshTokenSpec.list(ctx, r.c, w, p, l)
}
func (r refreshTokens) Update(ctx context.Context, t, id string, m func(*adapters.RefreshToken) error) (*adapters.RefreshToken, error) {
	return refreshTokenSpec.update(ctx, r.c, t, m, "id or token lookup", id)
}
func (r refreshTokens) Delete(ctx context.Context, t, id string) error {
	return refreshTokenSpec.remove(ctx, r.c, t, id)
}
func (r refreshTokens) Rotate(ctx context.Context, t, oldID string, next adapters.RefreshToken, now time.Time) (*adapters.RefreshToken, error) {
	var out *adapters.RefreshToken
	var consumed *adapters.RefreshToken
	err := r.c.within(ctx, func(c *conn) error {
		refreshTokenSpec.prepare(&next, adapters.Now())
		n, err := rowsAffected(c.exec(ctx, "UPDATE refresh_tokens SET rotated_to = ?, rotated_at = ? WHERE tenant_id = ? AND id = ? AND rotated_at IS NULL AND revoked_at IS NULL",
			next.ID, adapters.Millis(now).UnixMilli(), t, oldID))
		if err != nil {
			return err
		}
		if n == 0 {
			old, err := refreshTokenSpec.get(ctx, c, t, oldID)
			if err != nil {
				return err
			}
			consumed = old
			return adapters.ErrConsumed
		}
		if err := refreshTokenSpec.insert(ctx, c, t, &next, "id or token lookup"); err != nil {
			return err
		}
		out = &next
		return nil
	})
	if consumed != nil {
		return consumed, adapters.ErrConsumed
	}
	return out, err
}
func (r refreshTokens) revoke(ctx context.Context, col, t, v string, at time.Time) (int, error) {
	return rowsAffected(r.c.exec(ctx, "UPDATE refresh_tokens SET revoked_at = ? WHERE tenant_id = ? AND "+col+" = ? AND revoked_at IS NULL",
		adapters.Millis(at).UnixMilli(), t, v))
}
func (r refreshTokens) RevokeFamily(ctx context.Context, t, familyID string, at time.Time) (int, error) {
	return r.revoke(ctx, "family_id", t, familyID, at)
}
func (r refreshTokens) RevokeByUser(ctx context.Context, t, userID string, at time.Time) (int, error) {
	return r.revoke(ctx, "user_id", t, userID, at)
}
func (r refreshTokens) RevokeByLogin(ctx context.Context, t, loginID string, at time.Time) (int, error) {
	return r.revoke(ctx, "login_id", t, loginID, at)
}
func (r refreshTokens) DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	return r.c.deleteExpired(ctx, "refresh_tokens", []string{"tenant_id", "id"}, "expires_at < ? OR idle_expires_at < ?", before, batch)
}

// ---- logs ----

type logs struct{ c *conn }

var logColumns = map[string]string{"type": "log_type", "date": "log_date"}

func (r logs) Create(ctx context.Context, t string, l adapters.Log) (*adapters.Log, error) {
	return logSpec.create(ctx, r.c, t, l, "log_id")
}
func (r logs) Get(ctx context.Context, t, id string) (*adapters.Log, error) {
	return logSpec.get(ctx, r.c, t, id)
}
func (r logs) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.Log], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	if err := r.c.a.d.search(&w, p.Q, adapters.LogSearch, logColumns); err != nil {
		return nil, err
	}
	return logSpec.list(ctx, r.c, w, p, listing{
		sorts: map[string]string{"date": "log_date", "type": "log_type", "user_id": "user_id", "client_id": "client_id", "log_id": "log_id"},
		def:   adapters.SortSpec{Field: "date", Desc: true}, timeCol: "log_date", timeField: "date", idCol: "log_id", checkpointDesc: true,
	})
}

// ---- custom domains ----

type customDomains struct{ c *conn }

func (r customDomains) Create(ctx context.Context, t string, d adapters.CustomDomain) (*adapters.CustomDomain, error) {
	d.TenantID = t
	return customDomainSpec.create(ctx, r.c, t, d, "domain")
}
func (r customDomains) Get(ctx context.Context, t, id string) (*adapters.CustomDomain, error) {
	return customDomainSpec.get(ctx, r.c, t, id)
}
func (r customDomains) GetByDomain(ctx context.Context, domain string) (*adapters.CustomDomain, error) {
	return lagged(ctx, r.c, notFound, func(ctx context.Context, c *conn) (*adapters.CustomDomain, error) {
		return customDomainSpec.one(ctx, c, "domain = ?", []any{lower(domain)}, false)
	})
}
func (r customDomains) List(ctx context.Context, t string) ([]adapters.CustomDomain, error) {
	return lagged(ctx, r.c, never, func(ctx context.Context, c *conn) ([]adapters.CustomDomain, error) {
		return customDomainSpec.all(ctx, c, "WHERE tenant_id = ? ORDER BY created_at, custom_domain_id", []any{t})
	})
}
func (r customDomains) Update(ctx context.Context, t, id string, m func(*adapters.CustomDomain) error) (*adapters.CustomDomain, error) {
	return customDomainSpec.update(ctx, r.c, t, m, "domain", id)
}
func (r customDomains) Delete(ctx context.Context, t, id string) error {
	return customDomainSpec.remove(ctx, r.c, t, id)
}

// ---- organizations ----

type organizations struct{ c *conn }

func (r organizations) Create(ctx context.Context, t string, o adapters.Organization) (*adapters.Organization, error) {
	return organizationSpec.create(ctx, r.c, t, o, "name")
}
func (r organizations) Get(ctx context.Context, t, id string) (*adapters.Organization, error) {
	return organizationSpec.get(ctx, r.c, t, id)
}
func (r organizations) GetByName(ctx context.Context, t, name string) (*adapters.Organization, error) {
	return organizationSpec.one(ctx, r.c, "tenant_id = ? AND name = ?", []any{t, name}, false)
}
func (r organizations) List(ctx context.Context, t string, p adapters.ListParams) (*adapters.List[adapters.Organization], error) {
	w := where{}
	w.add("tenant_id = ?", t)
	return organizationSpec.list(ctx, r.c, w, p, created(asc, "id", "name"))
}
func (r organizations) Update(ctx context.Context, t, id string, m func(*adapters.Organization) error) (*adapters.Organization, error) {
	return organizationSpec.update(ctx, r.c, t, m, "name", id)
}
func (r organizations) Delete(ctx context.Context, t, id string) error {
	return r.c.within(ctx, func(c *conn) error {
		if err := organizationSpec.remove(ctx, c, t, id); err != nil {
			return err
		}
		for _, tbl := range []string{"organization_members", "user_roles", "user_permissions"} {
			if _, err := c.exec(ctx, "DELETE FROM "+tbl+" WHERE tenant_id = ? AND organization_id = ?", t, id); err != nil {
				return err
			}
		}
		return nil
	})
}
func (r organizations) AddMembers(ctx context.Context, t, orgID string, userIDs []string) error {
	return r.c.within(ctx, func(c *conn) error {
		if _, err := organizationSpec.get(ctx, c, t, orgID); err != nil {
			return err
		}
		q := c.a.d.insertIgnore("organization_members", []string{"tenant_id", "organization_id", "user_id", "created_at", "seq"})
		for _, u := range userIDs {
			if err := lengths("organization member", idLen, "user_id", u); err != nil {
				return err
			}
			if _, err := c.exec(ctx, q, t, orgID, u, adapters.Now().UnixMilli(), time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}
func (r organizations) RemoveMembers(ctx context.Context, t, orgID string, userIDs []string) error {
	return r.c.within(ctx, func(c *conn) error {
		for _, u := range userIDs {
			if _, err := c.exec(ctx, "DELETE FROM organization_members WHERE tenant_id = ? AND organization_id = ? AND user_id = ?", t, orgID, u); err != nil {
				return err
			}
		}
		return nil
	})
}
func (r organizations) ListMembers(ctx context.Context, t, orgID string, p adapters.ListParams) (*adapters.List[string], error) {
	return r.c.listIDs(ctx, "SELECT user_id FROM organization_members WHERE tenant_id = ? AND organization_id = ?", []any{t, orgID}, "seq, user_id", p)
}
func (r organizations) ListUserOrganizations(ctx context.Context, t, userID string) ([]adapters.Organization, error) {
	return organizationSpec.all(ctx, r.c, "JOIN organization_members m ON m.tenant_id = organizations.tenant_id AND m.organization_id = organizations.id WHERE m.tenant_id = ? AND m.user_id = ? ORDER BY organizations.name",
		[]any{t, userID})
}
