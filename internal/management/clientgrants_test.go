package management_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// grantEnv is an env with an API "https://api.acme.test/" defining
// read:things and write:things, and a client "Worker" of acme.
func grantEnv(t *testing.T) (*env, string, string) {
	e := newEnv(t)
	all := e.token("acme")
	require.Equal(t, 201, e.do("acme", all, "POST", "/api/v2/resource-servers", map[string]any{"identifier": "https://api.acme.test/",
		"scopes": []map[string]any{{"value": "read:things"}, {"value": "write:things"}}}).status)
	w := e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "Worker", "app_type": "non_interactive"}).m()
	return e, w["client_id"].(string), w["client_secret"].(string)
}

func TestClientGrantsCreate(t *testing.T) {
	e, worker, secret := grantEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	api := "https://api.acme.test/"

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/client-grants", scope: "create:client_grants",
		body: map[string]any{"client_id": worker, "audience": api, "scope": []string{"read:things"}}, want: 201})
	require.Equal(t, worker, r.m()["client_id"])
	require.Equal(t, []any{"read:things"}, r.m()["scope"])

	requireError(t, e.do("acme", all, "POST", "/api/v2/client-grants", map[string]any{"client_id": worker, "audience": api, "scope": []string{}}), 409, "")
	requireError(t, e.do("acme", all, "POST", "/api/v2/client-grants", map[string]any{"client_id": "nope", "audience": api, "scope": []string{}}), 404, "inexistent_client")
	requireError(t, e.do("acme", all, "POST", "/api/v2/client-grants",
		map[string]any{"client_id": e.admin["globex"][0], "audience": api, "scope": []string{}}), 404, "inexistent_client")
	for _, bad := range []map[string]any{
		{"client_id": e.admin["acme"][0], "audience": "https://unknown.test/", "scope": []string{}},
		{"client_id": e.admin["acme"][0], "audience": api, "scope": []string{"delete:things"}},
		{"client_id": e.admin["acme"][0], "audience": api},
		{"client_id": e.admin["acme"][0], "scope": []string{}},
		{"client_id": e.admin["acme"][0], "audience": api, "scope": []string{""}},
		{"client_id": e.admin["acme"][0], "audience": api, "scope": []string{}, "organization_usage": "maybe"},
		{"client_id": e.admin["acme"][0], "audience": api, "scope": []string{}, "id": "cgr_mine"},
	} {
		requireError(t, e.do("acme", all, "POST", "/api/v2/client-grants", bad), 400, "invalid_body")
	}
	l, err := db.ClientGrants.List(e.ctx, "acme", adapters.ClientGrantFilter{Audience: api}, adapters.ListParams{})
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "rejected creates stored nothing")

	// The grant works at the token endpoint.
	res, err := e.client.PostForm(e.issuer("acme")+"oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {worker}, "client_secret": {secret}, "audience": {api}})
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, jsonDecode(res, &tok))
	require.Equal(t, 200, res.StatusCode, tok)
	require.Equal(t, "read:things", tok["scope"])
}

func TestClientGrantsReadUpdateDelete(t *testing.T) {
	e, worker, _ := grantEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	api := "https://api.acme.test/"
	id := e.do("acme", all, "POST", "/api/v2/client-grants", map[string]any{"client_id": worker, "audience": api, "scope": []string{"read:things"}}).m()["id"].(string)
	path := "/api/v2/client-grants/" + id

	r := e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/client-grants", scope: "read:client_grants", want: 200})
	require.Len(t, r.list(), 2) // the admin's Management API grant and this one
	r = e.do("acme", all, "GET", "/api/v2/client-grants?client_id="+worker, nil)
	require.Len(t, r.list(), 1)
	r = e.do("acme", all, "GET", "/api/v2/client-grants?audience=urn:authhero:management&include_totals=true", nil)
	require.EqualValues(t, 1, r.m()["total"])
	require.Len(t, r.m()["client_grants"], 1)
	r = e.do("acme", all, "GET", "/api/v2/client-grants?take=1", nil)
	require.Len(t, r.m()["client_grants"], 1)
	require.NotEmpty(t, r.m()["next"])
	e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:client_grants", want: 200})
	requireError(t, e.do("acme", all, "GET", "/api/v2/client-grants/cgr_nope", nil), 404, "inexistent_client_grant")
	requireError(t, e.do("globex", e.token("globex"), "GET", path, nil), 404, "inexistent_client_grant")

	r = e.checkRoute(t, routeCase{method: "PATCH", path: path, scope: "update:client_grants",
		body: map[string]any{"scope": []string{"read:things", "write:things"}}, want: 200})
	require.Equal(t, []any{"read:things", "write:things"}, r.m()["scope"])
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"scope": []string{"admin:things"}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"audience": "urn:authhero:management"}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"scope": "read:things"}), 400, "invalid_body")
	g, err := db.ClientGrants.Get(e.ctx, "acme", id)
	require.NoError(t, err)
	require.Equal(t, []string{"read:things", "write:things"}, g.Scope, "a rejected PATCH changes nothing")
	require.Equal(t, api, g.Audience)
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/client-grants/cgr_nope", map[string]any{"scope": []string{}}), 404, "inexistent_client_grant")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:client_grants", want: 204})
	requireError(t, e.do("acme", all, "DELETE", path, nil), 404, "inexistent_client_grant")
}
