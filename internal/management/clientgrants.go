package management

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/authhero-go/authhero/adapters"
)

func (s *Server) clientGrantRoutes() {
	s.handle("GET /api/v2/client-grants", "read:client_grants", s.listClientGrants)
	s.handle("POST /api/v2/client-grants", "create:client_grants", s.createClientGrant)
	s.handle("GET /api/v2/client-grants/{id}", "read:client_grants", s.getClientGrant)
	s.handle("PATCH /api/v2/client-grants/{id}", "update:client_grants", s.updateClientGrant)
	s.handle("DELETE /api/v2/client-grants/{id}", "delete:client_grants", s.deleteClientGrant)
}

// clientGrantReadOnly are client-grant fields a request may not set.
var clientGrantReadOnly = []string{"id", "is_system", "created_at", "updated_at"}

func (s *Server) listClientGrants(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	q := r.URL.Query()
	f := adapters.ClientGrantFilter{ClientID: q.Get("client_id"), Audience: q.Get("audience")}
	l, err := s.Data.ClientGrants.List(r.Context(), c.tenantID(), f, p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "client grant")
	}
	return http.StatusOK, page("client_grants", p, l), nil
}

// checkGrantScopes checks that audience is an API of the tenant that defines
// every scope (400 otherwise).
func (s *Server) checkGrantScopes(r *http.Request, tenantID, audience string, scopes []string) *apiError {
	rs, err := s.Data.ResourceServers.GetByIdentifier(r.Context(), tenantID, audience)
	if errors.Is(err, adapters.ErrNotFound) {
		return badBody("no resource server has the identifier '%s' (audience)", audience)
	}
	if err != nil {
		return s.internal(r, "resource server", err)
	}
	var undefined []string
	for _, sc := range scopes {
		if !slices.ContainsFunc(rs.Scopes, func(d adapters.ResourceServerScope) bool { return d.Value == sc }) {
			undefined = append(undefined, sc)
		}
	}
	if len(undefined) > 0 {
		sort.Strings(undefined)
		return badBody("the API '%s' does not define the scopes: %s", audience, strings.Join(undefined, ", "))
	}
	return nil
}

// createClientGrant is POST /api/v2/client-grants. An unknown client is a
// 404, as in Auth0; an unknown audience or scope a 400; a second grant for
// the same client and audience a 409.
func (s *Server) createClientGrant(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, clientGrantReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "client_id", "audience", "scope"); e != nil {
		return 0, nil, e
	}
	var in adapters.ClientGrant
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	if e := validateGrant(&in); e != nil {
		return 0, nil, e
	}
	if _, err := s.Data.Clients.Get(r.Context(), c.tenantID(), in.ClientID); err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	if e := s.checkGrantScopes(r, c.tenantID(), in.Audience, in.Scope); e != nil {
		return 0, nil, e
	}
	created, err := s.Data.ClientGrants.Create(r.Context(), c.tenantID(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	return http.StatusCreated, created, nil
}

// validateGrant checks the fields of a grant that need no storage.
func validateGrant(g *adapters.ClientGrant) *apiError {
	if g.Scope == nil {
		g.Scope = []string{}
	}
	if slices.Contains(g.Scope, "") {
		return badBody("'String is too short (0 chars), minimum 1' on property scope[].")
	}
	g.Scope = withoutDuplicates(g.Scope)
	switch g.OrganizationUsage {
	case "", "deny", "allow", "require":
	default:
		return badBody("'organization_usage' must be one of deny, allow, require")
	}
	switch g.SubjectType {
	case "", "client", "user":
	default:
		return badBody("'subject_type' must be client or user")
	}
	return nil
}

func (s *Server) getClientGrant(r *http.Request, c *call) (int, any, *apiError) {
	g, err := s.Data.ClientGrants.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	return http.StatusOK, g, nil
}

// updateClientGrant is PATCH /api/v2/client-grants/{id}: only scope may
// change, to scopes the grant's API defines.
func (s *Server) updateClientGrant(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	var extra []string
	for k := range raw {
		if k != "scope" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return 0, nil, badBody("'Additional properties not allowed: %s'.", strings.Join(extra, ","))
	}
	var in struct {
		Scope []string `json:"scope"`
	}
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	g, err := s.Data.ClientGrants.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	if g.IsSystem {
		return 0, nil, newErr(http.StatusForbidden, "", "A system client grant cannot be changed")
	}
	if !hasField(raw, "scope") {
		return http.StatusOK, g, nil
	}
	probe := adapters.ClientGrant{Scope: in.Scope}
	if e := validateGrant(&probe); e != nil {
		return 0, nil, e
	}
	if e := s.checkGrantScopes(r, c.tenantID(), g.Audience, probe.Scope); e != nil {
		return 0, nil, e
	}
	updated, err := s.Data.ClientGrants.Update(r.Context(), c.tenantID(), g.ID, func(x *adapters.ClientGrant) error {
		x.Scope = probe.Scope
		return nil
	})
	if err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	return http.StatusOK, updated, nil
}

func (s *Server) deleteClientGrant(r *http.Request, c *call) (int, any, *apiError) {
	g, err := s.Data.ClientGrants.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	if g.IsSystem {
		return 0, nil, newErr(http.StatusForbidden, "", "A system client grant cannot be deleted")
	}
	if err := s.Data.ClientGrants.Delete(r.Context(), c.tenantID(), g.ID); err != nil {
		return 0, nil, s.fail(r, err, "client grant")
	}
	return http.StatusNoContent, nil, nil
}
