package cache

import (
	"context"

	"github.com/authhero-go/authhero/adapters"
)

// Invalidation rules. A write invalidates, in its tenant, every cached lookup
// of the entity's group (and of the groups the write may cascade into), plus
// the negative entries of the group, which carry no tenant. Global lookups
// are tagged with the tenant of the entity they found, so they fall with it.

// tenantInval is what a tenant create or update invalidates.
func tenantInval(id string) inval {
	return inval{tags: []tag{{gTenant, id}, {gTenant, ""}}}
}

// clientInval is what a client write invalidates: the tenant's client
// lookups, the global client_id lookup (found or not) and the tenant's grant
// lookups (deleting a client deletes its grants).
func clientInval(tenantID, clientID string) inval {
	return inval{
		tags: []tag{{gClient, tenantID}, {gClient, ""}, {gGrant, tenantID}},
		keys: []key{{kind: kClientByID, a: clientID}},
	}
}

// tenants caches Get.
type tenants struct {
	base
	next adapters.TenantsAdapter
}

// Create passes through and invalidates the tenant's entry and the cached
// not-founds of Get.
func (r *tenants) Create(ctx context.Context, t adapters.Tenant) (*adapters.Tenant, error) {
	out, err := r.next.Create(ctx, t)
	id := t.ID
	if out != nil {
		id = out.ID
	}
	r.written(tenantInval(id))
	return out, err
}

// Get is cached, ErrNotFound included (for NegativeTTL).
func (r *tenants) Get(ctx context.Context, id string) (*adapters.Tenant, error) {
	if r.inTx() {
		return r.next.Get(ctx, id)
	}
	return read(ctx, r.s, lookup[*adapters.Tenant]{
		key: key{kind: kTenant, a: id}, g: gTenant, negative: true,
		tenantOf: func(*adapters.Tenant) string { return id },
		clone:    cloneTenant,
		load:     func(ctx context.Context) (*adapters.Tenant, error) { return r.next.Get(ctx, id) },
	})
}

// List passes through.
func (r *tenants) List(ctx context.Context, p adapters.ListParams) (*adapters.List[adapters.Tenant], error) {
	return r.next.List(ctx, p)
}

// Update passes through and invalidates the tenant's entry.
func (r *tenants) Update(ctx context.Context, id string, mutate func(*adapters.Tenant) error) (*adapters.Tenant, error) {
	out, err := r.next.Update(ctx, id, mutate)
	r.written(tenantInval(id))
	return out, err
}

// Delete passes through and invalidates everything cached of the tenant.
func (r *tenants) Delete(ctx context.Context, id string) error {
	err := r.next.Delete(ctx, id)
	r.written(inval{tags: tenantTags(id)})
	return err
}

// clients caches Get and GetByClientID.
type clients struct {
	base
	next adapters.ClientsAdapter
}

// Create passes through and invalidates the client's lookups.
func (r *clients) Create(ctx context.Context, tenantID string, c adapters.Client) (*adapters.Client, error) {
	out, err := r.next.Create(ctx, tenantID, c)
	id := c.ClientID
	if out != nil {
		id = out.ClientID
	}
	r.written(clientInval(tenantID, id))
	return out, err
}

// Get is cached.
func (r *clients) Get(ctx context.Context, tenantID, clientID string) (*adapters.Client, error) {
	if r.inTx() {
		return r.next.Get(ctx, tenantID, clientID)
	}
	return read(ctx, r.s, lookup[*adapters.Client]{
		key: key{kind: kClient, tenant: tenantID, a: clientID}, g: gClient,
		clone: cloneClient,
		load: func(ctx context.Context) (*adapters.Client, error) {
			return r.next.Get(ctx, tenantID, clientID)
		},
	})
}

// GetByClientID is cached, ErrNotFound included (for NegativeTTL).
func (r *clients) GetByClientID(ctx context.Context, clientID string) (*adapters.Client, error) {
	if r.inTx() {
		return r.next.GetByClientID(ctx, clientID)
	}
	return read(ctx, r.s, lookup[*adapters.Client]{
		key: key{kind: kClientByID, a: clientID}, g: gClient, negative: true,
		tenantOf: func(c *adapters.Client) string {
			if c == nil {
				return ""
			}
			return c.TenantID
		},
		clone: cloneClient,
		load: func(ctx context.Context) (*adapters.Client, error) {
			return r.next.GetByClientID(ctx, clientID)
		},
	})
}

// List passes through.
func (r *clients) List(ctx context.Context, tenantID string, p adapters.ListParams) (*adapters.List[adapters.Client], error) {
	return r.next.List(ctx, tenantID, p)
}

// Update passes through and invalidates the client's lookups.
func (r *clients) Update(ctx context.Context, tenantID, clientID string, mutate func(*adapters.Client) error) (*adapters.Client, error) {
	out, err := r.next.Update(ctx, tenantID, clientID, mutate)
	r.written(clientInval(tenantID, clientID))
	return out, err
}

// Delete passes through and invalidates the client's lookups and the
// tenant's grant lookups.
func (r *clients) Delete(ctx context.Context, tenantID, clientID string) error {
	err := r.next.Delete(ctx, tenantID, clientID)
	r.written(clientInval(tenantID, clientID))
	return err
}

// clientGrants caches the token endpoint's List: one client and one audience
// with default ListParams.
type clientGrants struct {
	base
	next adapters.ClientGrantsAdapter
}

// grantInval is what a grant write invalidates: the tenant's grant lookups.
func grantInval(tenantID string) inval {
	return inval{tags: []tag{{gGrant, tenantID}}}
}

// Create passes through and invalidates the tenant's grant lookups.
func (r *clientGrants) Create(ctx context.Context, tenantID string, g adapters.ClientGrant) (*adapters.ClientGrant, error) {
	out, err := r.next.Create(ctx, tenantID, g)
	r.written(grantInval(tenantID))
	return out, err
}

// Get passes through.
func (r *clientGrants) Get(ctx context.Context, tenantID, id string) (*adapters.ClientGrant, error) {
	return r.next.Get(ctx, tenantID, id)
}

// List is cached when f names both a client and an audience and p is the
// zero ListParams (the token endpoint's lookup); other lists pass through.
func (r *clientGrants) List(ctx context.Context, tenantID string, f adapters.ClientGrantFilter, p adapters.ListParams) (*adapters.List[adapters.ClientGrant], error) {
	if r.inTx() || f.ClientID == "" || f.Audience == "" || p != (adapters.ListParams{}) {
		return r.next.List(ctx, tenantID, f, p)
	}
	return read(ctx, r.s, lookup[*adapters.List[adapters.ClientGrant]]{
		key: key{kind: kGrantLookup, tenant: tenantID, a: f.ClientID, b: f.Audience}, g: gGrant,
		clone: cloneGrantList,
		load: func(ctx context.Context) (*adapters.List[adapters.ClientGrant], error) {
			return r.next.List(ctx, tenantID, f, p)
		},
	})
}

// Update passes through and invalidates the tenant's grant lookups.
func (r *clientGrants) Update(ctx context.Context, tenantID, id string, mutate func(*adapters.ClientGrant) error) (*adapters.ClientGrant, error) {
	out, err := r.next.Update(ctx, tenantID, id, mutate)
	r.written(grantInval(tenantID))
	return out, err
}

// Delete passes through and invalidates the tenant's grant lookups.
func (r *clientGrants) Delete(ctx context.Context, tenantID, id string) error {
	err := r.next.Delete(ctx, tenantID, id)
	r.written(grantInval(tenantID))
	return err
}

// connections caches Get and GetByName.
type connections struct {
	base
	next adapters.ConnectionsAdapter
}

// connectionInval is what a connection write invalidates.
func connectionInval(tenantID string) inval {
	return inval{tags: []tag{{gConnection, tenantID}}}
}

// Create passes through and invalidates the tenant's connection lookups.
func (r *connections) Create(ctx context.Context, tenantID string, c adapters.Connection) (*adapters.Connection, error) {
	out, err := r.next.Create(ctx, tenantID, c)
	r.written(connectionInval(tenantID))
	return out, err
}

// Get is cached.
func (r *connections) Get(ctx context.Context, tenantID, id string) (*adapters.Connection, error) {
	if r.inTx() {
		return r.next.Get(ctx, tenantID, id)
	}
	return read(ctx, r.s, lookup[*adapters.Connection]{
		key: key{kind: kConnection, tenant: tenantID, a: id}, g: gConnection,
		clone: cloneConnection,
		load: func(ctx context.Context) (*adapters.Connection, error) {
			return r.next.Get(ctx, tenantID, id)
		},
	})
}

// GetByName is cached.
func (r *connections) GetByName(ctx context.Context, tenantID, name string) (*adapters.Connection, error) {
	if r.inTx() {
		return r.next.GetByName(ctx, tenantID, name)
	}
	return read(ctx, r.s, lookup[*adapters.Connection]{
		key: key{kind: kConnectionByName, tenant: tenantID, a: name}, g: gConnection,
		clone: cloneConnection,
		load: func(ctx context.Context) (*adapters.Connection, error) {
			return r.next.GetByName(ctx, tenantID, name)
		},
	})
}

// List passes through.
func (r *connections) List(ctx context.Context, tenantID string, p adapters.ListParams) (*adapters.List[adapters.Connection], error) {
	return r.next.List(ctx, tenantID, p)
}

// Update passes through and invalidates the tenant's connection lookups.
func (r *connections) Update(ctx context.Context, tenantID, id string, mutate func(*adapters.Connection) error) (*adapters.Connection, error) {
	out, err := r.next.Update(ctx, tenantID, id, mutate)
	r.written(connectionInval(tenantID))
	return out, err
}

// Delete passes through and invalidates the tenant's connection lookups.
func (r *connections) Delete(ctx context.Context, tenantID, id string) error {
	err := r.next.Delete(ctx, tenantID, id)
	r.written(connectionInval(tenantID))
	return err
}

// resourceServers caches Get and GetByIdentifier.
type resourceServers struct {
	base
	next adapters.ResourceServersAdapter
}

// resourceServerInval is what a resource-server write invalidates: the
// tenant's resource-server lookups and, in case an adapter cascades to
// grants of the audience, its grant lookups.
func resourceServerInval(tenantID string) inval {
	return inval{tags: []tag{{gResourceServer, tenantID}, {gGrant, tenantID}}}
}

// Create passes through and invalidates the tenant's resource-server lookups.
func (r *resourceServers) Create(ctx context.Context, tenantID string, rs adapters.ResourceServer) (*adapters.ResourceServer, error) {
	out, err := r.next.Create(ctx, tenantID, rs)
	r.written(resourceServerInval(tenantID))
	return out, err
}

// Get is cached.
func (r *resourceServers) Get(ctx context.Context, tenantID, id string) (*adapters.ResourceServer, error) {
	if r.inTx() {
		return r.next.Get(ctx, tenantID, id)
	}
	return read(ctx, r.s, lookup[*adapters.ResourceServer]{
		key: key{kind: kResourceServer, tenant: tenantID, a: id}, g: gResourceServer,
		clone: cloneResourceServer,
		load: func(ctx context.Context) (*adapters.ResourceServer, error) {
			return r.next.Get(ctx, tenantID, id)
		},
	})
}

// GetByIdentifier is cached.
func (r *resourceServers) GetByIdentifier(ctx context.Context, tenantID, identifier string) (*adapters.ResourceServer, error) {
	if r.inTx() {
		return r.next.GetByIdentifier(ctx, tenantID, identifier)
	}
	return read(ctx, r.s, lookup[*adapters.ResourceServer]{
		key: key{kind: kResourceServerByIdentifier, tenant: tenantID, a: identifier}, g: gResourceServer,
		clone: cloneResourceServer,
		load: func(ctx context.Context) (*adapters.ResourceServer, error) {
			return r.next.GetByIdentifier(ctx, tenantID, identifier)
		},
	})
}

// List passes through.
func (r *resourceServers) List(ctx context.Context, tenantID string, p adapters.ListParams) (*adapters.List[adapters.ResourceServer], error) {
	return r.next.List(ctx, tenantID, p)
}

// Update passes through and invalidates the tenant's resource-server lookups.
func (r *resourceServers) Update(ctx context.Context, tenantID, id string, mutate func(*adapters.ResourceServer) error) (*adapters.ResourceServer, error) {
	out, err := r.next.Update(ctx, tenantID, id, mutate)
	r.written(resourceServerInval(tenantID))
	return out, err
}

// Delete passes through and invalidates the tenant's resource-server lookups.
func (r *resourceServers) Delete(ctx context.Context, tenantID, id string) error {
	err := r.next.Delete(ctx, tenantID, id)
	r.written(resourceServerInval(tenantID))
	return err
}

// keys caches Get and List.
type keys struct {
	base
	next adapters.KeysAdapter
}

// keyInval is what a write of key kid invalidates: the key and the key
// lookups of the tenants it belongs to.
func keyInval(kid string, tenantIDs ...string) inval {
	iv := inval{tags: []tag{{gKey, ""}}, keys: []key{{kind: kKey, a: kid}}}
	for _, t := range tenantIDs {
		iv.tags = append(iv.tags, tag{gKey, t})
	}
	return iv
}

// Create passes through and invalidates the key and its tenant's key list.
func (r *keys) Create(ctx context.Context, k adapters.SigningKey) (*adapters.SigningKey, error) {
	out, err := r.next.Create(ctx, k)
	kid, tenants := k.Kid, []string{k.TenantID}
	if out != nil {
		kid = out.Kid
		tenants = append(tenants, out.TenantID)
	}
	r.written(keyInval(kid, tenants...))
	return out, err
}

// Get is cached (ErrNotFound is not).
func (r *keys) Get(ctx context.Context, kid string) (*adapters.SigningKey, error) {
	if r.inTx() {
		return r.next.Get(ctx, kid)
	}
	return read(ctx, r.s, lookup[*adapters.SigningKey]{
		key: key{kind: kKey, a: kid}, g: gKey,
		tenantOf: func(k *adapters.SigningKey) string {
			if k == nil {
				return ""
			}
			return k.TenantID
		},
		clone: cloneKey,
		load:  func(ctx context.Context) (*adapters.SigningKey, error) { return r.next.Get(ctx, kid) },
	})
}

// List is cached.
func (r *keys) List(ctx context.Context, tenantID string) ([]adapters.SigningKey, error) {
	if r.inTx() {
		return r.next.List(ctx, tenantID)
	}
	return read(ctx, r.s, lookup[[]adapters.SigningKey]{
		key: key{kind: kKeyList, tenant: tenantID}, g: gKey,
		clone: cloneKeys,
		load:  func(ctx context.Context) ([]adapters.SigningKey, error) { return r.next.List(ctx, tenantID) },
	})
}

// Update passes through and invalidates the key and its tenant's key list.
// The tenant is taken from the stored key that mutate receives.
func (r *keys) Update(ctx context.Context, kid string, mutate func(*adapters.SigningKey) error) (*adapters.SigningKey, error) {
	var tenants []string
	out, err := r.next.Update(ctx, kid, func(k *adapters.SigningKey) error {
		tenants = append(tenants, k.TenantID)
		return mutate(k)
	})
	if out != nil {
		tenants = append(tenants, out.TenantID)
	}
	r.written(keyInval(kid, tenants...))
	return out, err
}

// customDomains caches GetByDomain.
type customDomains struct {
	base
	next adapters.CustomDomainsAdapter
}

// domainInval is what a custom-domain write invalidates: the tenant's domain
// lookups (the old host name included) and the cached not-founds (the new
// host name).
func domainInval(tenantID string) inval {
	return inval{tags: []tag{{gDomain, tenantID}, {gDomain, ""}}}
}

// Create passes through and invalidates the domain lookups it affects.
func (r *customDomains) Create(ctx context.Context, tenantID string, d adapters.CustomDomain) (*adapters.CustomDomain, error) {
	out, err := r.next.Create(ctx, tenantID, d)
	r.written(domainInval(tenantID))
	return out, err
}

// Get passes through.
func (r *customDomains) Get(ctx context.Context, tenantID, id string) (*adapters.CustomDomain, error) {
	return r.next.Get(ctx, tenantID, id)
}

// GetByDomain is cached, ErrNotFound included (for NegativeTTL).
func (r *customDomains) GetByDomain(ctx context.Context, domain string) (*adapters.CustomDomain, error) {
	if r.inTx() {
		return r.next.GetByDomain(ctx, domain)
	}
	return read(ctx, r.s, lookup[*adapters.CustomDomain]{
		key: key{kind: kDomain, a: domain}, g: gDomain, negative: true,
		tenantOf: func(d *adapters.CustomDomain) string {
			if d == nil {
				return ""
			}
			return d.TenantID
		},
		clone: cloneDomain,
		load: func(ctx context.Context) (*adapters.CustomDomain, error) {
			return r.next.GetByDomain(ctx, domain)
		},
	})
}

// List passes through.
func (r *customDomains) List(ctx context.Context, tenantID string) ([]adapters.CustomDomain, error) {
	return r.next.List(ctx, tenantID)
}

// Update passes through and invalidates the domain lookups it affects.
func (r *customDomains) Update(ctx context.Context, tenantID, id string, mutate func(*adapters.CustomDomain) error) (*adapters.CustomDomain, error) {
	out, err := r.next.Update(ctx, tenantID, id, mutate)
	r.written(domainInval(tenantID))
	return out, err
}

// Delete passes through and invalidates the tenant's domain lookups.
func (r *customDomains) Delete(ctx context.Context, tenantID, id string) error {
	err := r.next.Delete(ctx, tenantID, id)
	r.written(domainInval(tenantID))
	return err
}
