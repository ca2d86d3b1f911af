package management_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func adapters_params(q string) adapters.ListParams { return adapters.ListParams{Q: q} }

func TestTenantSettings(t *testing.T) {
	e := newEnv(t)
	r := e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/tenants/settings", scope: "read:tenant_settings", want: 200})
	require.Equal(t, "ACME", r.m()["friendly_name"])
	r = e.checkRoute(t, routeCase{method: "PATCH", path: "/api/v2/tenants/settings", scope: "update:tenant_settings",
		body: map[string]any{"friendly_name": "Acme Inc", "support_email": "help@acme.test"}, want: 200})
	require.Equal(t, "Acme Inc", r.m()["friendly_name"])
	requireError(t, e.do("acme", e.token("acme"), "PATCH", "/api/v2/tenants/settings", map[string]any{"id": "other"}), 400, "invalid_body")
	requireError(t, e.do("acme", e.token("acme"), "PATCH", "/api/v2/tenants/settings", map[string]any{"friendly_name": ""}), 400, "invalid_body")
	got, err := e.app.DataAdapter().Tenants.Get(e.ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme Inc", got.FriendlyName)
	g, err := e.app.DataAdapter().Tenants.Get(e.ctx, "globex")
	require.NoError(t, err)
	require.Equal(t, "GLOBEX", g.FriendlyName, "globex untouched")
}

func TestTenantsControlPlane(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/tenants", scope: "create:tenants",
		body: map[string]any{"id": "initech", "friendly_name": "Initech"}, want: 201})
	require.Equal(t, "initech", r.m()["id"])
	// The new tenant is usable: it has keys and a Management API.
	_, err := e.app.DataAdapter().ResourceServers.GetByIdentifier(e.ctx, "initech", "urn:authhero:management")
	require.NoError(t, err)

	requireError(t, e.do("acme", all, "POST", "/api/v2/tenants", map[string]any{"id": "initech"}), 409, "")
	requireError(t, e.do("acme", all, "POST", "/api/v2/tenants", map[string]any{"id": "Not A Label"}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", "/api/v2/tenants", map[string]any{"friendly_name": "no id"}), 400, "invalid_body")

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/tenants?include_totals=true", scope: "read:tenants", want: 200})
	require.EqualValues(t, 3, r.m()["total"])
	e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/tenants/initech", scope: "read:tenants", want: 200})
	requireError(t, e.do("acme", all, "GET", "/api/v2/tenants/nope", nil), 404, "inexistent_tenant")

	// A token of a non-control-plane tenant cannot manage tenants, not even
	// at its own host.
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/tenants", nil), 403, "control_plane_required")
	requireError(t, e.do("globex", e.token("globex"), "DELETE", "/api/v2/tenants/initech", nil), 403, "control_plane_required")

	requireError(t, e.do("acme", all, "DELETE", "/api/v2/tenants/acme", nil), 403, "")
	e.checkRoute(t, routeCase{method: "DELETE", path: "/api/v2/tenants/initech", scope: "delete:tenants", want: 204})
	_, err = e.app.DataAdapter().Tenants.Get(e.ctx, "initech")
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

// TestManagementTokens covers token checks: wrong audience, an ID-token
// typed JWT, a token of another tenant, and the tenant-id header.
func TestManagementTokens(t *testing.T) {
	e := newEnv(t)
	// A token for another API of the same tenant.
	_, err := e.app.DataAdapter().ResourceServers.Create(e.ctx, "acme", adapters.ResourceServer{Name: "API", Identifier: "https://api.acme.test/"})
	require.NoError(t, err)
	_, err = e.app.DataAdapter().ClientGrants.Create(e.ctx, "acme", adapters.ClientGrant{ClientID: e.admin["acme"][0], Audience: "https://api.acme.test/", Scope: []string{"read:clients"}})
	require.NoError(t, err)
	res, err := e.client.PostForm(e.issuer("acme")+"oauth/token", map[string][]string{"grant_type": {"client_credentials"},
		"client_id": {e.admin["acme"][0]}, "client_secret": {e.admin["acme"][1]}, "audience": {"https://api.acme.test/"}})
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, jsonDecode(res, &body))
	r := e.do("acme", body["access_token"].(string), "GET", "/api/v2/clients", nil)
	requireError(t, r, 401, "")
	require.Equal(t, "Invalid audience", r.m()["message"])

	requireError(t, e.do("acme", "not.a.jwt", "GET", "/api/v2/clients", nil), 401, "")
	requireError(t, e.do("acme", "garbage", "GET", "/api/v2/clients", nil), 401, "")

	// The tenant-id header picks the tenant at the base host; a token of
	// another tenant is still refused.
	req, _ := newReq("GET", e.base+"api/v2/clients", e.token("acme"), map[string]string{"tenant-id": "globex"})
	res, err = e.client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 403, res.StatusCode)
	req, _ = newReq("GET", e.base+"api/v2/clients", e.token("globex"), map[string]string{"tenant-id": "globex"})
	res, err = e.client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)

	requireError(t, e.do("acme", e.token("acme"), "GET", "/api/v2/nothing-here", nil), 404, "")
}
