package management

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/provision"
)

func (s *Server) resourceServerRoutes() {
	s.handle("GET /api/v2/resource-servers", "read:resource_servers", s.listResourceServers)
	s.handle("POST /api/v2/resource-servers", "create:resource_servers", s.createResourceServer)
	s.handle("GET /api/v2/resource-servers/{id}", "read:resource_servers", s.getResourceServer)
	s.handle("PATCH /api/v2/resource-servers/{id}", "update:resource_servers", s.updateResourceServer)
	s.handle("DELETE /api/v2/resource-servers/{id}", "delete:resource_servers", s.deleteResourceServer)
}

// resourceServerReadOnly are resource-server fields a request may not set.
// signing_secret belongs to HS256, which tenants do not sign with.
var resourceServerReadOnly = []string{"id", "is_system", "created_at", "updated_at", "signing_secret"}

// Limits of resource-server fields, as Auth0's.
const (
	defaultTokenLifetime = 86400
	maxTokenLifetime     = 2592000
)

// resourceServerOut is a resource server as the API shows it.
func resourceServerOut(rs adapters.ResourceServer) adapters.ResourceServer {
	rs.SigningSecret = ""
	return rs
}

// resourceServerDefaults fills what Auth0 fills when it is not given: the
// name (the identifier), signing_alg (the tenant's) and token_lifetime
// (86400). An explicit token_lifetime of 0 is left for validation to refuse.
func resourceServerDefaults(rs *adapters.ResourceServer, raw map[string]json.RawMessage, tenantAlg string) {
	if rs.Name == "" {
		rs.Name = rs.Identifier
	}
	if rs.SigningAlg == "" {
		rs.SigningAlg = tenantAlg
		if rs.SigningAlg == "" {
			rs.SigningAlg = "RS256"
		}
	}
	if rs.TokenLifetime == 0 && !hasField(raw, "token_lifetime") {
		rs.TokenLifetime = defaultTokenLifetime
	}
}

// validateResourceServer checks the fields of a resource server.
func validateResourceServer(rs *adapters.ResourceServer) *apiError {
	if rs.Identifier == "" {
		return badBody("Missing required property: identifier")
	}
	if e := maxLen("identifier", rs.Identifier, 600); e != nil {
		return e
	}
	if e := maxLen("name", rs.Name, 200); e != nil {
		return e
	}
	if !provision.ValidAlg(rs.SigningAlg) {
		return badBody("'signing_alg' must be one of RS256, ES256, EdDSA")
	}
	if rs.TokenLifetime < 1 || rs.TokenLifetime > maxTokenLifetime {
		return badBody("'token_lifetime' must be between 1 and %d", maxTokenLifetime)
	}
	if w := rs.TokenLifetimeForWeb; w != 0 && (w < 1 || w > rs.TokenLifetime) {
		return badBody("'token_lifetime_for_web' must be between 1 and token_lifetime")
	}
	switch rs.Options.TokenDialect {
	case "", "access_token", "access_token_authz":
	default:
		return badBody("'token_dialect' must be access_token or access_token_authz")
	}
	return validateScopes(rs.Scopes)
}

// validateScopes checks that every scope has a unique, non-empty value.
func validateScopes(scopes []adapters.ResourceServerScope) *apiError {
	seen := map[string]bool{}
	for _, sc := range scopes {
		if sc.Value == "" {
			return badBody("'String is too short (0 chars), minimum 1' on property scopes[].value.")
		}
		if e := maxLen("scopes[].value", sc.Value, 280); e != nil {
			return e
		}
		if e := maxLen("scopes[].description", sc.Description, 500); e != nil {
			return e
		}
		if seen[sc.Value] {
			return badBody("the scope '%s' is defined twice", sc.Value)
		}
		seen[sc.Value] = true
	}
	return nil
}

// findResourceServer finds a resource server by id or, as Auth0 allows, by
// its (URL-encoded) identifier.
func (s *Server) findResourceServer(ctx context.Context, tenantID, id string) (*adapters.ResourceServer, error) {
	rs, err := s.Data.ResourceServers.Get(ctx, tenantID, id)
	if errors.Is(err, adapters.ErrNotFound) {
		return s.Data.ResourceServers.GetByIdentifier(ctx, tenantID, id)
	}
	return rs, err
}

func (s *Server) listResourceServers(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.ResourceServers.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "resource server")
	}
	return http.StatusOK, page("resource_servers", p, convertPage(l, resourceServerOut)), nil
}

// createResourceServer is POST /api/v2/resource-servers.
func (s *Server) createResourceServer(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, resourceServerReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "identifier"); e != nil {
		return 0, nil, e
	}
	var in adapters.ResourceServer
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	resourceServerDefaults(&in, raw, c.tenant.Tenant.SigningAlg)
	if e := validateResourceServer(&in); e != nil {
		return 0, nil, e
	}
	created, err := s.Data.ResourceServers.Create(r.Context(), c.tenantID(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	return http.StatusCreated, resourceServerOut(*created), nil
}

func (s *Server) getResourceServer(r *http.Request, c *call) (int, any, *apiError) {
	rs, err := s.findResourceServer(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	return http.StatusOK, resourceServerOut(*rs), nil
}

// updateResourceServer is PATCH /api/v2/resource-servers/{id}. The
// identifier is immutable; the tenant's Management API (is_system) keeps its
// identifier and scopes, which the code defines (403).
func (s *Server) updateResourceServer(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, resourceServerReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	rs, err := s.findResourceServer(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	var probe adapters.ResourceServer
	if e := strictInto(body, &probe); e != nil {
		return 0, nil, e
	}
	changesIdentifier := hasField(raw, "identifier") && probe.Identifier != rs.Identifier
	if rs.IsSystem && (changesIdentifier || hasField(raw, "scopes") || hasField(raw, "signing_alg")) {
		return 0, nil, newErr(http.StatusForbidden, "", "The identifier, scopes and signing_alg of a system API cannot be changed")
	}
	if changesIdentifier {
		return 0, nil, badBody("'identifier' cannot be changed")
	}
	var ae *apiError
	updated, err := s.Data.ResourceServers.Update(r.Context(), c.tenantID(), rs.ID, func(x *adapters.ResourceServer) error {
		if ae = strictInto(body, x); ae != nil {
			return ae
		}
		resourceServerDefaults(x, raw, c.tenant.Tenant.SigningAlg)
		if ae = validateResourceServer(x); ae != nil {
			return ae
		}
		return nil
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	return http.StatusOK, resourceServerOut(*updated), nil
}

// deleteResourceServer is DELETE /api/v2/resource-servers/{id}: it removes
// the API and the client grants for it, in one transaction. The tenant's
// Management API cannot be deleted (403).
func (s *Server) deleteResourceServer(r *http.Request, c *call) (int, any, *apiError) {
	rs, err := s.findResourceServer(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	if rs.IsSystem {
		return 0, nil, newErr(http.StatusForbidden, "", "A system API cannot be deleted")
	}
	err = s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
		if err := deleteGrantsFor(ctx, tx, c.tenantID(), rs.Identifier); err != nil {
			return err
		}
		return tx.ResourceServers.Delete(ctx, c.tenantID(), rs.ID)
	})
	if err != nil {
		return 0, nil, s.fail(r, err, "resource server")
	}
	return http.StatusNoContent, nil, nil
}

// deleteGrantsFor deletes every client grant of the tenant for audience.
func deleteGrantsFor(ctx context.Context, tx *adapters.DataAdapters, tenantID, audience string) error {
	for {
		l, err := tx.ClientGrants.List(ctx, tenantID, adapters.ClientGrantFilter{Audience: audience}, adapters.ListParams{PerPage: adapters.MaxPerPage})
		if err != nil {
			return err
		}
		for _, g := range l.Items {
			if err := tx.ClientGrants.Delete(ctx, tenantID, g.ID); err != nil {
				return err
			}
		}
		if len(l.Items) < adapters.MaxPerPage {
			return nil
		}
	}
}
