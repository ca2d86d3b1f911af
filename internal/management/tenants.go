package management

import (
	"net/http"

	"github.com/authhero-go/authhero/adapters"
)

func (s *Server) tenantRoutes() {
	s.handle("GET /api/v2/tenants/settings", "read:tenant_settings", s.getSettings)
	s.handle("PATCH /api/v2/tenants/settings", "update:tenant_settings", s.updateSettings)
	s.handle("GET /api/v2/tenants", "read:tenants", s.controlPlane(s.listTenants))
	s.handle("POST /api/v2/tenants", "create:tenants", s.controlPlane(s.createTenant))
	s.handle("GET /api/v2/tenants/{id}", "read:tenants", s.controlPlane(s.getTenant))
	s.handle("DELETE /api/v2/tenants/{id}", "delete:tenants", s.controlPlane(s.deleteTenant))
}

// tenantReadOnly are tenant fields a request may not set.
var tenantReadOnly = []string{"created_at", "updated_at"}

// controlPlane restricts a route to tokens of the control-plane tenant: only
// they may manage other tenants.
func (s *Server) controlPlane(h handler) handler {
	return func(r *http.Request, c *call) (int, any, *apiError) {
		if s.ControlPlane == "" || c.tenantID() != s.ControlPlane {
			return 0, nil, newErr(http.StatusForbidden, "control_plane_required", "Managing tenants requires a token of the control-plane tenant")
		}
		return h(r, c)
	}
}

func (s *Server) getSettings(r *http.Request, c *call) (int, any, *apiError) {
	return http.StatusOK, c.tenant.Tenant, nil
}

// updateSettings is PATCH /api/v2/tenants/settings.
func (s *Server) updateSettings(r *http.Request, c *call) (int, any, *apiError) {
	_, body, e := readBody(r, append(tenantReadOnly, "id", "signing_alg")...)
	if e != nil {
		return 0, nil, e
	}
	var ae *apiError
	t, err := s.Data.Tenants.Update(r.Context(), c.tenantID(), func(t *adapters.Tenant) error {
		if ae = strictInto(body, t); ae != nil {
			return ae
		}
		if t.FriendlyName == "" {
			ae = badBody("'friendly_name' must not be empty")
			return ae
		}
		if t.SessionLifetime < 0 || t.IdleSessionLifetime < 0 {
			ae = badBody("session lifetimes must not be negative")
			return ae
		}
		return nil
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "tenant")
	}
	return http.StatusOK, t, nil
}

func (s *Server) listTenants(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.Tenants.List(r.Context(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "tenant")
	}
	return http.StatusOK, page("tenants", p, l), nil
}

// createTenant is POST /api/v2/tenants: a tenant with its keys, Management
// API and default connection.
func (s *Server) createTenant(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, tenantReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "id"); e != nil {
		return 0, nil, e
	}
	var in adapters.Tenant
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	t, err := s.Provisioner.CreateTenant(r.Context(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "tenant")
	}
	return http.StatusCreated, t, nil
}

func (s *Server) getTenant(r *http.Request, c *call) (int, any, *apiError) {
	t, err := s.Data.Tenants.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "tenant")
	}
	return http.StatusOK, t, nil
}

func (s *Server) deleteTenant(r *http.Request, c *call) (int, any, *apiError) {
	id := r.PathValue("id")
	if id == s.ControlPlane {
		return 0, nil, newErr(http.StatusForbidden, "", "The control-plane tenant cannot be deleted")
	}
	if err := s.Data.Tenants.Delete(r.Context(), id); err != nil {
		return 0, nil, s.fail(r, err, "tenant")
	}
	return http.StatusNoContent, nil, nil
}
