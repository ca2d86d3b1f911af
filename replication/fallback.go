package replication

import (
	"context"
	"errors"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// Fallback returns local with read-through on demand (the guide's "on-demand
// sync"): a Get or GetBy* read (tenants, users, clients, client grants,
// connections, resource servers, roles, signing keys, custom domains,
// organizations), a user's current password, or a tenant's key list, that
// finds nothing locally is served from remote, and the row is copied into
// local so that the next read is local. The copy records no change event
// (bunadapter.Replaying): the row came from the remote side. When remote
// fails too, the local answer (ErrNotFound) stands; a failed copy does not
// fail the read. Lists, searches and writes stay local.
func Fallback(local, remote *adapters.DataAdapters) *adapters.DataAdapters {
	d := *local
	d.Tenants = fbTenants{local.Tenants, remote.Tenants}
	d.Users = fbUsers{local.Users, remote.Users}
	d.Passwords = fbPasswords{local.Passwords, remote.Passwords}
	d.Clients = fbClients{local.Clients, remote.Clients}
	d.ClientGrants = fbClientGrants{local.ClientGrants, remote.ClientGrants}
	d.Connections = fbConnections{local.Connections, remote.Connections}
	d.ResourceServers = fbResourceServers{local.ResourceServers, remote.ResourceServers}
	d.Roles = fbRoles{local.Roles, remote.Roles}
	d.Keys = fbKeys{local.Keys, remote.Keys}
	d.CustomDomains = fbCustomDomains{local.CustomDomains, remote.CustomDomains}
	d.Organizations = fbOrganizations{local.Organizations, remote.Organizations}
	if local.Transaction != nil {
		d.Transaction = func(ctx context.Context, fn func(ctx context.Context, tx *adapters.DataAdapters) error) error {
			return local.Transaction(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
				return fn(ctx, Fallback(tx, remote))
			})
		}
	}
	return &d
}

// through reads locally, then remotely, and copies a remote hit with store.
func through[T any](ctx context.Context, local, remote func(context.Context) (*T, error), store func(context.Context, T) error) (*T, error) {
	v, err := local(ctx)
	if !errors.Is(err, adapters.ErrNotFound) {
		return v, err
	}
	r, rerr := remote(ctx)
	if rerr != nil {
		return nil, err
	}
	store(bunadapter.Replaying(ctx), *r) // a conflict means another reader copied it first
	return r, nil
}

// ignore drops the stored value of a Create.
func ignore[T any](_ *T, err error) error { return err }

type fbTenants struct {
	adapters.TenantsAdapter
	r adapters.TenantsAdapter
}

func (f fbTenants) Get(ctx context.Context, id string) (*adapters.Tenant, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Tenant, error) { return f.TenantsAdapter.Get(ctx, id) },
		func(ctx context.Context) (*adapters.Tenant, error) { return f.r.Get(ctx, id) },
		func(ctx context.Context, v adapters.Tenant) error { return ignore(f.TenantsAdapter.Create(ctx, v)) })
}

type fbUsers struct {
	adapters.UsersAdapter
	r adapters.UsersAdapter
}

func (f fbUsers) Get(ctx context.Context, t, id string) (*adapters.User, error) {
	return through(ctx, func(ctx context.Context) (*adapters.User, error) { return f.UsersAdapter.Get(ctx, t, id) },
		func(ctx context.Context) (*adapters.User, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.User) error { return ignore(f.UsersAdapter.Create(ctx, t, v)) })
}

type fbPasswords struct {
	adapters.PasswordsAdapter
	r adapters.PasswordsAdapter
}

func (f fbPasswords) GetCurrent(ctx context.Context, t, userID string) (*adapters.Password, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Password, error) {
		return f.PasswordsAdapter.GetCurrent(ctx, t, userID)
	},
		func(ctx context.Context) (*adapters.Password, error) { return f.r.GetCurrent(ctx, t, userID) },
		func(ctx context.Context, v adapters.Password) error {
			return ignore(f.PasswordsAdapter.Create(ctx, t, v))
		})
}

type fbClients struct {
	adapters.ClientsAdapter
	r adapters.ClientsAdapter
}

func (f fbClients) Get(ctx context.Context, t, id string) (*adapters.Client, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Client, error) { return f.ClientsAdapter.Get(ctx, t, id) },
		func(ctx context.Context) (*adapters.Client, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.Client) error { return ignore(f.ClientsAdapter.Create(ctx, t, v)) })
}

func (f fbClients) GetByClientID(ctx context.Context, id string) (*adapters.Client, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Client, error) { return f.ClientsAdapter.GetByClientID(ctx, id) },
		func(ctx context.Context) (*adapters.Client, error) { return f.r.GetByClientID(ctx, id) },
		func(ctx context.Context, v adapters.Client) error {
			return ignore(f.ClientsAdapter.Create(ctx, v.TenantID, v))
		})
}

type fbClientGrants struct {
	adapters.ClientGrantsAdapter
	r adapters.ClientGrantsAdapter
}

func (f fbClientGrants) Get(ctx context.Context, t, id string) (*adapters.ClientGrant, error) {
	return through(ctx, func(ctx context.Context) (*adapters.ClientGrant, error) { return f.ClientGrantsAdapter.Get(ctx, t, id) },
		func(ctx context.Context) (*adapters.ClientGrant, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.ClientGrant) error {
			return ignore(f.ClientGrantsAdapter.Create(ctx, t, v))
		})
}

type fbConnections struct {
	adapters.ConnectionsAdapter
	r adapters.ConnectionsAdapter
}

func (f fbConnections) Get(ctx context.Context, t, id string) (*adapters.Connection, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Connection, error) { return f.ConnectionsAdapter.Get(ctx, t, id) },
		func(ctx context.Context) (*adapters.Connection, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.Connection) error {
			return ignore(f.ConnectionsAdapter.Create(ctx, t, v))
		})
}

func (f fbConnections) GetByName(ctx context.Context, t, name string) (*adapters.Connection, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Connection, error) {
		return f.ConnectionsAdapter.GetByName(ctx, t, name)
	},
		func(ctx context.Context) (*adapters.Connection, error) { return f.r.GetByName(ctx, t, name) },
		func(ctx context.Context, v adapters.Connection) error {
			return ignore(f.ConnectionsAdapter.Create(ctx, t, v))
		})
}

type fbResourceServers struct {
	adapters.ResourceServersAdapter
	r adapters.ResourceServersAdapter
}

func (f fbResourceServers) Get(ctx context.Context, t, id string) (*adapters.ResourceServer, error) {
	return through(ctx, func(ctx context.Context) (*adapters.ResourceServer, error) {
		return f.ResourceServersAdapter.Get(ctx, t, id)
	},
		func(ctx context.Context) (*adapters.ResourceServer, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.ResourceServer) error {
			return ignore(f.ResourceServersAdapter.Create(ctx, t, v))
		})
}

func (f fbResourceServers) GetByIdentifier(ctx context.Context, t, identifier string) (*adapters.ResourceServer, error) {
	return through(ctx, func(ctx context.Context) (*adapters.ResourceServer, error) {
		return f.ResourceServersAdapter.GetByIdentifier(ctx, t, identifier)
	},
		func(ctx context.Context) (*adapters.ResourceServer, error) {
			return f.r.GetByIdentifier(ctx, t, identifier)
		},
		func(ctx context.Context, v adapters.ResourceServer) error {
			return ignore(f.ResourceServersAdapter.Create(ctx, t, v))
		})
}

type fbRoles struct {
	adapters.RolesAdapter
	r adapters.RolesAdapter
}

func (f fbRoles) Get(ctx context.Context, t, id string) (*adapters.Role, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Role, error) { return f.RolesAdapter.Get(ctx, t, id) },
		func(ctx context.Context) (*adapters.Role, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.Role) error { return ignore(f.RolesAdapter.Create(ctx, t, v)) })
}

type fbKeys struct {
	adapters.KeysAdapter
	r adapters.KeysAdapter
}

func (f fbKeys) Get(ctx context.Context, kid string) (*adapters.SigningKey, error) {
	return through(ctx, func(ctx context.Context) (*adapters.SigningKey, error) { return f.KeysAdapter.Get(ctx, kid) },
		func(ctx context.Context) (*adapters.SigningKey, error) { return f.r.Get(ctx, kid) },
		func(ctx context.Context, v adapters.SigningKey) error { return ignore(f.KeysAdapter.Create(ctx, v)) })
}

// List serves the remote keys when the tenant has none locally: a standby
// that syncs on demand needs them to sign and to publish its JWKS.
func (f fbKeys) List(ctx context.Context, t string) ([]adapters.SigningKey, error) {
	ks, err := f.KeysAdapter.List(ctx, t)
	if err != nil || len(ks) > 0 {
		return ks, err
	}
	rks, rerr := f.r.List(ctx, t)
	if rerr != nil || len(rks) == 0 {
		return ks, nil
	}
	cctx := bunadapter.Replaying(ctx)
	for _, k := range rks {
		f.KeysAdapter.Create(cctx, k)
	}
	return rks, nil
}

type fbCustomDomains struct {
	adapters.CustomDomainsAdapter
	r adapters.CustomDomainsAdapter
}

func (f fbCustomDomains) Get(ctx context.Context, t, id string) (*adapters.CustomDomain, error) {
	return through(ctx, func(ctx context.Context) (*adapters.CustomDomain, error) {
		return f.CustomDomainsAdapter.Get(ctx, t, id)
	},
		func(ctx context.Context) (*adapters.CustomDomain, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.CustomDomain) error {
			return ignore(f.CustomDomainsAdapter.Create(ctx, t, v))
		})
}

func (f fbCustomDomains) GetByDomain(ctx context.Context, domain string) (*adapters.CustomDomain, error) {
	return through(ctx, func(ctx context.Context) (*adapters.CustomDomain, error) {
		return f.CustomDomainsAdapter.GetByDomain(ctx, domain)
	},
		func(ctx context.Context) (*adapters.CustomDomain, error) { return f.r.GetByDomain(ctx, domain) },
		func(ctx context.Context, v adapters.CustomDomain) error {
			return ignore(f.CustomDomainsAdapter.Create(ctx, v.TenantID, v))
		})
}

type fbOrganizations struct {
	adapters.OrganizationsAdapter
	r adapters.OrganizationsAdapter
}

func (f fbOrganizations) Get(ctx context.Context, t, id string) (*adapters.Organization, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Organization, error) {
		return f.OrganizationsAdapter.Get(ctx, t, id)
	},
		func(ctx context.Context) (*adapters.Organization, error) { return f.r.Get(ctx, t, id) },
		func(ctx context.Context, v adapters.Organization) error {
			return ignore(f.OrganizationsAdapter.Create(ctx, t, v))
		})
}

func (f fbOrganizations) GetByName(ctx context.Context, t, name string) (*adapters.Organization, error) {
	return through(ctx, func(ctx context.Context) (*adapters.Organization, error) {
		return f.OrganizationsAdapter.GetByName(ctx, t, name)
	},
		func(ctx context.Context) (*adapters.Organization, error) { return f.r.GetByName(ctx, t, name) },
		func(ctx context.Context, v adapters.Organization) error {
			return ignore(f.OrganizationsAdapter.Create(ctx, t, v))
		})
}
