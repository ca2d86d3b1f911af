package management

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/credentials"
)

func (s *Server) clientRoutes() {
	s.handle("GET /api/v2/clients", "read:clients", s.listClients)
	s.handle("POST /api/v2/clients", "create:clients", s.createClient)
	s.handle("GET /api/v2/clients/{id}", "read:clients", s.getClient)
	s.handle("PATCH /api/v2/clients/{id}", "update:clients", s.updateClient)
	s.handle("DELETE /api/v2/clients/{id}", "delete:clients", s.deleteClient)
	s.handle("POST /api/v2/clients/{id}/rotate-secret", "update:client_keys", s.rotateClientSecret)
	s.handle("GET /api/v2/clients/{id}/connections", "read:connections", s.clientConnections)
}

// clientReadOnly are client fields a request may not set.
var clientReadOnly = []string{"client_id", "tenant_id", "tenant", "created_at", "updated_at", "signing_keys", "global"}

// publicClient reports whether c authenticates without a secret.
func publicClient(c *adapters.Client) bool {
	return c.TokenEndpointAuthMethod == "none"
}

// clientOut is a client as the API shows it: the secret in clear when the
// token may read client keys, as Auth0 does.
func (s *Server) clientOut(c *adapters.Client, tok *token, always bool) (*adapters.Client, error) {
	out := *c
	out.TenantID = ""
	if out.ClientSecret != "" {
		if always || tok.has("read:client_keys") {
			secret, err := credentials.Reveal(s.Box, c)
			if err != nil {
				return nil, err
			}
			out.ClientSecret = secret
		} else {
			out.ClientSecret = ""
		}
	}
	return &out, nil
}

// validateClient checks the URLs and enums of a client.
func validateClient(c *adapters.Client) *apiError {
	if c.Name == "" {
		return badBody("Missing required property: name")
	}
	for field, list := range map[string][]string{"callbacks": c.Callbacks, "allowed_logout_urls": c.AllowedLogoutURLs,
		"web_origins": c.WebOrigins, "allowed_origins": c.AllowedOrigins} {
		for _, v := range list {
			u, err := url.Parse(v)
			web := u != nil && (u.Scheme == "http" || u.Scheme == "https")
			if err != nil || u.Scheme == "" || u.Fragment != "" || web && u.Host == "" {
				return badBody("'%s' is not a valid URL (absolute, without a fragment) on property %s.", v, field)
			}
		}
	}
	switch c.AppType {
	case "", "spa", "native", "regular_web", "non_interactive", "resource_server":
	default:
		return badBody("'app_type' must be one of spa, native, regular_web, non_interactive")
	}
	switch c.TokenEndpointAuthMethod {
	case "", "none", "client_secret_post", "client_secret_basic":
	default:
		return badBody("'token_endpoint_auth_method' must be one of none, client_secret_post, client_secret_basic")
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains([]string{"authorization_code", "implicit", "refresh_token", "client_credentials", "password",
			"http://auth0.com/oauth/grant-type/password-realm"}, g) {
			return badBody("'%s' is not a supported grant type on property grant_types.", g)
		}
	}
	if rt := c.RefreshToken; rt != nil {
		if rt.RotationType != "" && rt.RotationType != "rotating" && rt.RotationType != "non-rotating" {
			return badBody("'rotation_type' must be rotating or non-rotating on property refresh_token.")
		}
		if rt.Leeway < 0 || rt.Leeway > 600 {
			return badBody("'leeway' must be between 0 and 600 on property refresh_token.")
		}
	}
	return nil
}

func (s *Server) listClients(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.Clients.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "client")
	}
	items := make([]adapters.Client, 0, len(l.Items))
	for i := range l.Items {
		out, err := s.clientOut(&l.Items[i], c.token, false)
		if err != nil {
			return 0, nil, s.internal(r, "client secret", err)
		}
		items = append(items, *out)
	}
	l.Items = items
	return http.StatusOK, page("clients", p, l), nil
}

// createClient is POST /api/v2/clients: client_id and (for confidential
// clients) client_secret are generated.
func (s *Server) createClient(r *http.Request, c *call) (int, any, *apiError) {
	_, body, e := readBody(r, clientReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	var in adapters.Client
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	if in.TokenEndpointAuthMethod == "" {
		in.TokenEndpointAuthMethod = "client_secret_post"
		if in.AppType == "spa" || in.AppType == "native" {
			in.TokenEndpointAuthMethod = "none"
		}
	}
	if e := validateClient(&in); e != nil {
		return 0, nil, e
	}
	in.ClientID = adapters.NewID("")
	in.IsFirstParty = true
	in.OIDCConformant = true
	if publicClient(&in) {
		in.ClientSecret = ""
	} else {
		secret := in.ClientSecret
		if secret == "" {
			secret = credentials.NewSecret()
		}
		sealed, err := credentials.Seal(s.Box, in.ClientID, secret)
		if err != nil {
			return 0, nil, s.internal(r, "seal client secret", err)
		}
		in.ClientSecret = sealed
	}
	created, err := s.Data.Clients.Create(r.Context(), c.tenantID(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	out, err := s.clientOut(created, c.token, true)
	if err != nil {
		return 0, nil, s.internal(r, "client secret", err)
	}
	return http.StatusCreated, out, nil
}

func (s *Server) getClient(r *http.Request, c *call) (int, any, *apiError) {
	cl, err := s.Data.Clients.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	out, err := s.clientOut(cl, c.token, false)
	if err != nil {
		return 0, nil, s.internal(r, "client secret", err)
	}
	return http.StatusOK, out, nil
}

// updateClient is PATCH /api/v2/clients/{id}: the fields present replace
// the stored ones.
func (s *Server) updateClient(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, clientReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	var ae *apiError
	updated, err := s.Data.Clients.Update(r.Context(), c.tenantID(), r.PathValue("id"), func(cl *adapters.Client) error {
		secret := cl.ClientSecret
		if e := strictInto(body, cl); e != nil {
			ae = e
			return e
		}
		if _, set := raw["client_secret"]; set {
			if cl.ClientSecret == "" || publicClient(cl) {
				cl.ClientSecret = ""
			} else {
				sealed, err := credentials.Seal(s.Box, cl.ClientID, cl.ClientSecret)
				if err != nil {
					return err
				}
				cl.ClientSecret = sealed
			}
		} else if publicClient(cl) {
			cl.ClientSecret = ""
		} else if secret == "" {
			// Becoming confidential: give it a secret.
			sealed, err := credentials.Seal(s.Box, cl.ClientID, credentials.NewSecret())
			if err != nil {
				return err
			}
			cl.ClientSecret = sealed
		} else {
			cl.ClientSecret = secret
		}
		if e := validateClient(cl); e != nil {
			ae = e
			return e
		}
		return nil
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	out, err := s.clientOut(updated, c.token, false)
	if err != nil {
		return 0, nil, s.internal(r, "client secret", err)
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteClient(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.Data.Clients.Delete(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	return http.StatusNoContent, nil, nil
}

// rotateClientSecret is POST /api/v2/clients/{id}/rotate-secret.
func (s *Server) rotateClientSecret(r *http.Request, c *call) (int, any, *apiError) {
	var ae *apiError
	updated, err := s.Data.Clients.Update(r.Context(), c.tenantID(), r.PathValue("id"), func(cl *adapters.Client) error {
		if publicClient(cl) {
			ae = badBody("a public client (token_endpoint_auth_method none) has no secret to rotate")
			return ae
		}
		sealed, err := credentials.Seal(s.Box, cl.ClientID, credentials.NewSecret())
		cl.ClientSecret = sealed
		return err
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	out, err := s.clientOut(updated, c.token, true)
	if err != nil {
		return 0, nil, s.internal(r, "client secret", err)
	}
	return http.StatusOK, out, nil
}

// clientConnections is GET /api/v2/clients/{id}/connections: the
// connections enabled for the client.
func (s *Server) clientConnections(r *http.Request, c *call) (int, any, *apiError) {
	id := r.PathValue("id")
	if _, err := s.Data.Clients.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "client")
	}
	conns, err := s.allConnections(r.Context(), c.tenantID())
	if err != nil {
		return 0, nil, s.internal(r, "connections", err)
	}
	out := []adapters.Connection{}
	for _, cn := range conns {
		if slices.Contains(cn.EnabledClients, id) {
			out = append(out, cn)
		}
	}
	return http.StatusOK, map[string]any{"connections": out}, nil
}

// allConnections returns every connection of a tenant.
func (s *Server) allConnections(ctx context.Context, tenantID string) ([]adapters.Connection, error) {
	var out []adapters.Connection
	for p := 0; ; p++ {
		l, err := s.Data.Connections.List(ctx, tenantID, adapters.ListParams{Page: p, PerPage: adapters.MaxPerPage})
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if len(l.Items) < adapters.MaxPerPage {
			return out, nil
		}
	}
}
