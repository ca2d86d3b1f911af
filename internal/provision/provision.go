// Package provision creates tenants with everything a new Auth0 tenant has:
// signing keys, the Management API resource server, the default database
// connection, and optionally a machine-to-machine management client.
package provision

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/credentials"
	"github.com/authhero-go/authhero/internal/secrets"
)

// ManagementAudience is the identifier of each tenant's Management API.
const ManagementAudience = "urn:authhero:management"

// DefaultConnection is the name of the database connection every tenant
// starts with, as in Auth0.
const DefaultConnection = "Username-Password-Authentication"

// KeyMaker creates a tenant's signing keys.
type KeyMaker interface {
	EnsureKeys(ctx context.Context, tenantID, alg string) error
}

// Provisioner creates tenants and clients.
type Provisioner struct {
	Data *adapters.DataAdapters
	Keys KeyMaker
	Box  *secrets.Box
}

// tenantID is a DNS label, since tenants are served at {id}.{issuer host}.
var tenantID = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidAlg reports whether alg is a signing algorithm tenants may use.
func ValidAlg(alg string) bool { return alg == "RS256" || alg == "ES256" || alg == "EdDSA" }

// CreateTenant creates t with its keys (t.SigningAlg, default RS256), its
// Management API resource server and its default database connection. If a
// step fails, what was created is removed again.
func (p *Provisioner) CreateTenant(ctx context.Context, t adapters.Tenant) (*adapters.Tenant, error) {
	if !tenantID.MatchString(t.ID) {
		return nil, adapters.Invalid("id", "must be 1-63 lower-case letters, digits or hyphens (it becomes a host name label)")
	}
	if t.FriendlyName == "" {
		t.FriendlyName = t.ID
	}
	if t.SigningAlg == "" {
		t.SigningAlg = "RS256"
	}
	if !ValidAlg(t.SigningAlg) {
		return nil, adapters.Invalid("signing_alg", "must be RS256, ES256 or EdDSA")
	}
	created, err := p.Data.Tenants.Create(ctx, t)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*adapters.Tenant, error) {
		if derr := p.Data.Tenants.Delete(context.WithoutCancel(ctx), t.ID); derr != nil && !errors.Is(derr, adapters.ErrNotFound) {
			err = errors.Join(err, fmt.Errorf("provision: cleanup of tenant %s failed: %w", t.ID, derr))
		}
		return nil, err
	}
	if err := p.Keys.EnsureKeys(ctx, t.ID, t.SigningAlg); err != nil {
		return fail(fmt.Errorf("provision: signing keys: %w", err))
	}
	scopes := make([]adapters.ResourceServerScope, 0, 150)
	for _, s := range ManagementScopes() {
		scopes = append(scopes, adapters.ResourceServerScope{Value: s})
	}
	if _, err := p.Data.ResourceServers.Create(ctx, t.ID, adapters.ResourceServer{
		Name: "Auth0 Management API", Identifier: ManagementAudience, Scopes: scopes,
		SigningAlg: t.SigningAlg, TokenLifetime: 86400, IsSystem: true,
	}); err != nil {
		return fail(fmt.Errorf("provision: management API: %w", err))
	}
	if _, err := p.Data.Connections.Create(ctx, t.ID, adapters.Connection{
		Name: DefaultConnection, Strategy: "auth0", IsSystem: false,
		Options: adapters.ConnectionOptions{PasswordPolicy: "good", PasswordComplexity: &adapters.PasswordComplexity{MinLength: 8}},
	}); err != nil {
		return fail(fmt.Errorf("provision: default connection: %w", err))
	}
	return created, nil
}

// ManagementClient creates a machine-to-machine client named name with a
// client grant for every Management API scope. clientID and secret may be
// empty to generate them; the secret is returned in clear once and stored
// encrypted.
func (p *Provisioner) ManagementClient(ctx context.Context, tenantID, name, clientID, secret string) (*adapters.Client, string, error) {
	if clientID == "" {
		clientID = adapters.NewID("")
	}
	if secret == "" {
		secret = credentials.NewSecret()
	}
	sealed, err := credentials.Seal(p.Box, clientID, secret)
	if err != nil {
		return nil, "", err
	}
	var c *adapters.Client
	err = p.Data.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		var err error
		c, err = tx.Clients.Create(ctx, tenantID, adapters.Client{
			ClientID: clientID, Name: name, ClientSecret: sealed, AppType: "non_interactive",
			IsFirstParty: true, OIDCConformant: true, GrantTypes: []string{"client_credentials"},
			TokenEndpointAuthMethod: "client_secret_post",
		})
		if err != nil {
			return err
		}
		_, err = tx.ClientGrants.Create(ctx, tenantID, adapters.ClientGrant{
			ClientID: clientID, Audience: ManagementAudience, Scope: ManagementScopes(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}
