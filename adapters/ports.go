package adapters

import (
	"context"
	"time"
)

// Update methods take a mutate function: the adapter loads the entity, calls
// mutate on a copy and stores the result atomically (inside one transaction),
// so a partial update never loses a concurrent write to another field.
// mutate may not change the entity's key (id, tenant) or its created_at; an
// adapter keeps those as stored. Returning an error from mutate aborts the
// update and returns that error unchanged. Update refreshes updated_at.
//
// Create methods fill an empty id with a new one of the entity's format (see
// NewID) and zero timestamps with the current time, and return the stored
// entity. Delete returns ErrNotFound when nothing was deleted.

// TenantsAdapter stores tenants. All methods are global.
type TenantsAdapter interface {
	Create(ctx context.Context, t Tenant) (*Tenant, error)
	Get(ctx context.Context, id string) (*Tenant, error)
	List(ctx context.Context, p ListParams) (*List[Tenant], error)
	Update(ctx context.Context, id string, mutate func(*Tenant) error) (*Tenant, error)
	// Delete removes the tenant and everything it owns.
	Delete(ctx context.Context, id string) error
}

// UsersAdapter stores user profiles. List accepts Q over UserSearchFields and
// sorts by UserSortFields. Email and username are unique per connection.
type UsersAdapter interface {
	Create(ctx context.Context, tenantID string, u User) (*User, error)
	Get(ctx context.Context, tenantID, userID string) (*User, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[User], error)
	Update(ctx context.Context, tenantID, userID string, mutate func(*User) error) (*User, error)
	// Delete removes the user with its passwords, sessions, refresh tokens,
	// roles, permissions and memberships.
	Delete(ctx context.Context, tenantID, userID string) error
}

// PasswordsAdapter stores password hashes with history.
type PasswordsAdapter interface {
	// Create stores a new current password for p.UserID; the previous current
	// one becomes history, in one transaction.
	Create(ctx context.Context, tenantID string, p Password) (*Password, error)
	// GetCurrent returns the user's current password, or ErrNotFound.
	GetCurrent(ctx context.Context, tenantID, userID string) (*Password, error)
	// List returns up to limit passwords of the user, newest first.
	List(ctx context.Context, tenantID, userID string, limit int) ([]Password, error)
}

// ClientsAdapter stores applications. client_id is unique across tenants.
type ClientsAdapter interface {
	Create(ctx context.Context, tenantID string, c Client) (*Client, error)
	Get(ctx context.Context, tenantID, clientID string) (*Client, error)
	// GetByClientID is global: it finds the client in any tenant and sets
	// TenantID. The token endpoint uses it before it knows the tenant.
	GetByClientID(ctx context.Context, clientID string) (*Client, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[Client], error)
	Update(ctx context.Context, tenantID, clientID string, mutate func(*Client) error) (*Client, error)
	Delete(ctx context.Context, tenantID, clientID string) error
}

// ClientGrantsAdapter stores client grants; (client_id, audience) is unique.
type ClientGrantsAdapter interface {
	Create(ctx context.Context, tenantID string, g ClientGrant) (*ClientGrant, error)
	Get(ctx context.Context, tenantID, id string) (*ClientGrant, error)
	List(ctx context.Context, tenantID string, f ClientGrantFilter, p ListParams) (*List[ClientGrant], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*ClientGrant) error) (*ClientGrant, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// ConnectionsAdapter stores connections; name is unique per tenant.
type ConnectionsAdapter interface {
	Create(ctx context.Context, tenantID string, c Connection) (*Connection, error)
	Get(ctx context.Context, tenantID, id string) (*Connection, error)
	GetByName(ctx context.Context, tenantID, name string) (*Connection, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[Connection], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*Connection) error) (*Connection, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// ResourceServersAdapter stores APIs; identifier is unique per tenant.
type ResourceServersAdapter interface {
	Create(ctx context.Context, tenantID string, rs ResourceServer) (*ResourceServer, error)
	Get(ctx context.Context, tenantID, id string) (*ResourceServer, error)
	GetByIdentifier(ctx context.Context, tenantID, identifier string) (*ResourceServer, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[ResourceServer], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*ResourceServer) error) (*ResourceServer, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// RolesAdapter stores roles; name is unique per tenant.
type RolesAdapter interface {
	Create(ctx context.Context, tenantID string, r Role) (*Role, error)
	Get(ctx context.Context, tenantID, id string) (*Role, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[Role], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*Role) error) (*Role, error)
	// Delete removes the role, its permissions and its user assignments.
	Delete(ctx context.Context, tenantID, id string) error
}

// RolePermissionsAdapter assigns permissions to roles. Assigning an existing
// permission again is not an error.
type RolePermissionsAdapter interface {
	Assign(ctx context.Context, tenantID, roleID string, perms []Permission) error
	Remove(ctx context.Context, tenantID, roleID string, perms []Permission) error
	List(ctx context.Context, tenantID, roleID string, p ListParams) (*List[Permission], error)
}

// UserRolesAdapter assigns roles to users, globally (organizationID "") or in
// an organization. Assigning twice is not an error.
type UserRolesAdapter interface {
	Assign(ctx context.Context, tenantID, userID, organizationID string, roleIDs []string) error
	Remove(ctx context.Context, tenantID, userID, organizationID string, roleIDs []string) error
	List(ctx context.Context, tenantID, userID, organizationID string) ([]Role, error)
	// ListUsers returns the ids of the users that have the role.
	ListUsers(ctx context.Context, tenantID, roleID string, p ListParams) (*List[string], error)
}

// UserPermissionsAdapter assigns permissions directly to users.
type UserPermissionsAdapter interface {
	Assign(ctx context.Context, tenantID, userID, organizationID string, perms []Permission) error
	Remove(ctx context.Context, tenantID, userID, organizationID string, perms []Permission) error
	List(ctx context.Context, tenantID, userID, organizationID string) ([]Permission, error)
}

// KeysAdapter stores signing keys. Its methods are global; TenantID on the key
// says whose it is. Kid is unique.
type KeysAdapter interface {
	Create(ctx context.Context, k SigningKey) (*SigningKey, error)
	Get(ctx context.Context, kid string) (*SigningKey, error)
	// List returns the tenant's keys, revoked ones included, newest first.
	List(ctx context.Context, tenantID string) ([]SigningKey, error)
	Update(ctx context.Context, kid string, mutate func(*SigningKey) error) (*SigningKey, error)
}

// CodesAdapter stores single-use codes.
type CodesAdapter interface {
	Create(ctx context.Context, tenantID string, c Code) (*Code, error)
	Get(ctx context.Context, tenantID, codeType, codeID string) (*Code, error)
	// Consume marks the code used at now and returns it. Under any number of
	// concurrent callers exactly one gets a nil error; the others get the code
	// and ErrConsumed. Expiry is the caller's to check.
	Consume(ctx context.Context, tenantID, codeType, codeID string, now time.Time) (*Code, error)
	Delete(ctx context.Context, tenantID, codeType, codeID string) error
	// DeleteExpired deletes codes that expired before the given time, at most
	// batch rows per statement, and returns how many it deleted.
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error)
}

// LoginSessionsAdapter stores login transactions.
type LoginSessionsAdapter interface {
	Create(ctx context.Context, tenantID string, ls LoginSession) (*LoginSession, error)
	Get(ctx context.Context, tenantID, id string) (*LoginSession, error)
	Update(ctx context.Context, tenantID, id string, mutate func(*LoginSession) error) (*LoginSession, error)
	Delete(ctx context.Context, tenantID, id string) error
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error)
}

// SessionsAdapter stores browser sessions.
type SessionsAdapter interface {
	Create(ctx context.Context, tenantID string, s Session) (*Session, error)
	Get(ctx context.Context, tenantID, id string) (*Session, error)
	// ListByUser returns the user's sessions, newest first.
	ListByUser(ctx context.Context, tenantID, userID string, p ListParams) (*List[Session], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*Session) error) (*Session, error)
	Delete(ctx context.Context, tenantID, id string) error
	// RevokeByUser sets revoked_at on every unrevoked session of the user.
	RevokeByUser(ctx context.Context, tenantID, userID string, at time.Time) (int, error)
	// DeleteExpired deletes sessions whose expires_at or idle_expires_at is
	// before the given time.
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error)
}

// RefreshTokensAdapter stores refresh tokens.
type RefreshTokensAdapter interface {
	Create(ctx context.Context, tenantID string, rt RefreshToken) (*RefreshToken, error)
	Get(ctx context.Context, tenantID, id string) (*RefreshToken, error)
	GetByLookup(ctx context.Context, tenantID, lookup string) (*RefreshToken, error)
	ListByUser(ctx context.Context, tenantID, userID string, p ListParams) (*List[RefreshToken], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*RefreshToken) error) (*RefreshToken, error)
	Delete(ctx context.Context, tenantID, id string) error
	// Rotate marks oldID rotated to next (rotated_to, rotated_at) and creates
	// next, in one transaction. next inherits nothing: the caller sets
	// FamilyID. Under concurrent callers exactly one succeeds; the others get
	// the old token and ErrConsumed, and nothing is created for them. A revoked
	// old token gives ErrConsumed too.
	Rotate(ctx context.Context, tenantID, oldID string, next RefreshToken, now time.Time) (*RefreshToken, error)
	// RevokeFamily revokes every unrevoked token of the family.
	RevokeFamily(ctx context.Context, tenantID, familyID string, at time.Time) (int, error)
	// RevokeByUser revokes every unrevoked token of the user.
	RevokeByUser(ctx context.Context, tenantID, userID string, at time.Time) (int, error)
	// RevokeByLogin revokes every unrevoked token of one login (session).
	RevokeByLogin(ctx context.Context, tenantID, loginID string, at time.Time) (int, error)
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int, error)
}

// LogsAdapter stores audit logs. List accepts Q over LogSearchFields, a date
// range and both pagination styles, newest first by default.
type LogsAdapter interface {
	Create(ctx context.Context, tenantID string, l Log) (*Log, error)
	Get(ctx context.Context, tenantID, logID string) (*Log, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[Log], error)
}

// CustomDomainsAdapter stores custom domains; domain is unique across tenants.
type CustomDomainsAdapter interface {
	Create(ctx context.Context, tenantID string, d CustomDomain) (*CustomDomain, error)
	Get(ctx context.Context, tenantID, id string) (*CustomDomain, error)
	// GetByDomain is global: tenant resolution uses it. It sets TenantID.
	GetByDomain(ctx context.Context, domain string) (*CustomDomain, error)
	List(ctx context.Context, tenantID string) ([]CustomDomain, error)
	Update(ctx context.Context, tenantID, id string, mutate func(*CustomDomain) error) (*CustomDomain, error)
	Delete(ctx context.Context, tenantID, id string) error
}

// OrganizationsAdapter stores organizations and their members; name is unique
// per tenant.
type OrganizationsAdapter interface {
	Create(ctx context.Context, tenantID string, o Organization) (*Organization, error)
	Get(ctx context.Context, tenantID, id string) (*Organization, error)
	GetByName(ctx context.Context, tenantID, name string) (*Organization, error)
	List(ctx context.Context, tenantID string, p ListParams) (*List[Organization], error)
	Update(ctx context.Context, tenantID, id string, mutate func(*Organization) error) (*Organization, error)
	Delete(ctx context.Context, tenantID, id string) error
	// AddMembers adds users to the organization; adding twice is not an error.
	AddMembers(ctx context.Context, tenantID, orgID string, userIDs []string) error
	RemoveMembers(ctx context.Context, tenantID, orgID string, userIDs []string) error
	// ListMembers returns member user ids in the order they joined.
	ListMembers(ctx context.Context, tenantID, orgID string, p ListParams) (*List[string], error)
	// ListUserOrganizations returns the organizations a user belongs to.
	ListUserOrganizations(ctx context.Context, tenantID, userID string) ([]Organization, error)
}

// DataAdapters is the whole storage port: one small interface per entity plus
// Transaction. A custom adapter can replace any field.
type DataAdapters struct {
	Tenants         TenantsAdapter
	Users           UsersAdapter
	Passwords       PasswordsAdapter
	Clients         ClientsAdapter
	ClientGrants    ClientGrantsAdapter
	Connections     ConnectionsAdapter
	ResourceServers ResourceServersAdapter
	Roles           RolesAdapter
	RolePermissions RolePermissionsAdapter
	UserRoles       UserRolesAdapter
	UserPermissions UserPermissionsAdapter
	Keys            KeysAdapter
	Codes           CodesAdapter
	LoginSessions   LoginSessionsAdapter
	Sessions        SessionsAdapter
	RefreshTokens   RefreshTokensAdapter
	Logs            LogsAdapter
	CustomDomains   CustomDomainsAdapter
	Organizations   OrganizationsAdapter

	// Transaction runs fn with adapters bound to one transaction; it commits
	// when fn returns nil and rolls back otherwise. Nil means the adapter has
	// no transactions and fn runs on the adapters themselves.
	Transaction func(ctx context.Context, fn func(ctx context.Context, tx *DataAdapters) error) error

	// Ping checks that the backing store answers; nil means always healthy.
	Ping func(ctx context.Context) error

	// Close releases the adapter's resources; nil means nothing to release.
	Close func() error

	// SessionRevocations keeps the revocation list of the stateless session
	// store (session.Stateless): logged-out sessions and per-user "revoked
	// before" marks, until the cookies they refuse expire. Nil: the adapter
	// has none, and the stateless store needs another RevocationList.
	SessionRevocations SessionRevocationsAdapter
}

// InTx runs fn in a transaction when the adapters support one, and directly
// otherwise.
func (d *DataAdapters) InTx(ctx context.Context, fn func(ctx context.Context, tx *DataAdapters) error) error {
	if d.Transaction == nil {
		return fn(ctx, d)
	}
	return d.Transaction(ctx, fn)
}

// RevokeUser revokes every session and refresh token of a user in one
// transaction, as blocking a user or "log out everywhere" requires. It
// returns how many sessions and refresh tokens it revoked.
func (d *DataAdapters) RevokeUser(ctx context.Context, tenantID, userID string, at time.Time) (sessions, tokens int, err error) {
	err = d.InTx(ctx, func(ctx context.Context, tx *DataAdapters) error {
		var err error
		if sessions, err = tx.Sessions.RevokeByUser(ctx, tenantID, userID, at); err != nil {
			return err
		}
		tokens, err = tx.RefreshTokens.RevokeByUser(ctx, tenantID, userID, at)
		return err
	})
	return sessions, tokens, err
}
