// Package adapters is the storage port of authhero-go: the entity types (with
// Auth0's JSON field names), one small interface per entity, list and search
// parameters, and the sentinel errors every implementation returns.
//
// Every tenant-scoped method takes the tenant id explicitly, right after the
// context. Only four lookups are global because the protocol needs them before
// it knows the tenant: [TenantsAdapter.Get], [ClientsAdapter.GetByClientID],
// [CustomDomainsAdapter.GetByDomain] and the [KeysAdapter] methods.
//
// [DataAdapters] bundles the interfaces. A custom adapter may replace any one
// field (for example Users served from another system) and must pass the
// conformance suite in package adaptertest.
//
// The shapes follow Auth0's Management API v2:
// https://auth0.com/docs/api/management/v2
package adapters
