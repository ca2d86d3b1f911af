package management_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func TestResourceServersCreateRead(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/resource-servers", scope: "create:resource_servers",
		body: map[string]any{"identifier": "https://api.acme.test/", "scopes": []map[string]any{{"value": "read:things", "description": "Read"}}}, want: 201})
	rs := r.m()
	id := rs["id"].(string)
	require.Equal(t, "https://api.acme.test/", rs["name"], "name defaults to the identifier")
	require.EqualValues(t, 86400, rs["token_lifetime"])
	require.Equal(t, "RS256", rs["signing_alg"])

	requireError(t, e.do("acme", all, "POST", "/api/v2/resource-servers", map[string]any{"identifier": "https://api.acme.test/"}), 409, "")
	for _, bad := range []map[string]any{
		{"name": "no identifier"},
		{"identifier": "x", "token_lifetime": 0},
		{"identifier": "x", "token_lifetime": 2592001},
		{"identifier": "x", "signing_alg": "HS256"},
		{"identifier": "x", "scopes": []map[string]any{{"value": ""}}},
		{"identifier": "x", "scopes": []map[string]any{{"value": "a"}, {"value": "a"}}},
		{"identifier": "x", "is_system": true},
		{"identifier": "x", "signing_secret": "s"},
		{"identifier": "x", "bogus": 1},
	} {
		requireError(t, e.do("acme", all, "POST", "/api/v2/resource-servers", bad), 400, "invalid_body")
	}
	l, err := db.ResourceServers.List(e.ctx, "acme", adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	require.Equal(t, 2, l.Total, "rejected creates stored nothing")

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/resource-servers/" + id, scope: "read:resource_servers", want: 200})
	require.Equal(t, id, r.m()["id"])
	r = e.do("acme", all, "GET", "/api/v2/resource-servers/"+url.PathEscape("https://api.acme.test/"), nil)
	require.Equal(t, id, r.m()["id"], "found by identifier too")
	requireError(t, e.do("acme", all, "GET", "/api/v2/resource-servers/api_nope", nil), 404, "inexistent_resource_server")
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/resource-servers/"+id, nil), 404, "inexistent_resource_server")

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/resource-servers", scope: "read:resource_servers", want: 200})
	require.Len(t, r.list(), 2)
	r = e.do("acme", all, "GET", "/api/v2/resource-servers?include_totals=true&per_page=1", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Len(t, r.m()["resource_servers"], 1)
	r = e.do("acme", all, "GET", "/api/v2/resource-servers?take=1", nil)
	require.Len(t, r.m()["resource_servers"], 1)
	require.NotEmpty(t, r.m()["next"])
}

func TestResourceServersUpdateDelete(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	id := e.do("acme", all, "POST", "/api/v2/resource-servers", map[string]any{"name": "API", "identifier": "https://api.acme.test/",
		"scopes": []map[string]any{{"value": "read:things"}}}).m()["id"].(string)
	path := "/api/v2/resource-servers/" + id

	r := e.checkRoute(t, routeCase{method: "PATCH", path: path, scope: "update:resource_servers",
		body: map[string]any{"name": "Things", "token_lifetime": 3600, "scopes": []map[string]any{{"value": "read:things"}, {"value": "write:things"}}}, want: 200})
	require.Equal(t, "Things", r.m()["name"])
	require.Len(t, r.m()["scopes"], 2)
	// The same identifier is no change; another one is refused.
	require.Equal(t, 200, e.do("acme", all, "PATCH", path, map[string]any{"identifier": "https://api.acme.test/"}).status)
	for _, bad := range []map[string]any{
		{"identifier": "https://other.test/"},
		{"name": "X", "token_lifetime": 2592001},
		{"name": "X", "scopes": []map[string]any{{"value": "a"}, {"value": "a"}}},
		{"name": "X", "signing_alg": "none"},
	} {
		requireError(t, e.do("acme", all, "PATCH", path, bad), 400, "invalid_body")
	}
	got, err := db.ResourceServers.Get(e.ctx, "acme", id)
	require.NoError(t, err)
	require.Equal(t, "Things", got.Name, "a rejected PATCH changes nothing")
	require.Equal(t, "https://api.acme.test/", got.Identifier)
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/resource-servers/api_nope", map[string]any{"name": "x"}), 404, "inexistent_resource_server")

	// The Management API is protected.
	mgmt, err := db.ResourceServers.GetByIdentifier(e.ctx, "acme", "urn:authhero:management")
	require.NoError(t, err)
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/resource-servers/"+mgmt.ID, map[string]any{"identifier": "urn:other"}), 403, "")
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/resource-servers/"+mgmt.ID, map[string]any{"scopes": []map[string]any{}}), 403, "")
	requireError(t, e.do("acme", all, "DELETE", "/api/v2/resource-servers/"+mgmt.ID, nil), 403, "")
	r = e.do("acme", all, "PATCH", "/api/v2/resource-servers/"+mgmt.ID, map[string]any{"name": "Management"})
	require.Equal(t, 200, r.status, r.body)

	// An API stored without the defaults gets them on its next PATCH.
	bare, err := db.ResourceServers.Create(e.ctx, "acme", adapters.ResourceServer{Identifier: "urn:bare"})
	require.NoError(t, err)
	r = e.do("acme", all, "PATCH", "/api/v2/resource-servers/"+bare.ID, map[string]any{"allow_offline_access": true})
	require.Equal(t, 200, r.status, r.body)
	require.EqualValues(t, 86400, r.m()["token_lifetime"])
	require.Equal(t, "urn:bare", r.m()["name"])

	// Deleting an API deletes its client grants.
	_, err = db.ClientGrants.Create(e.ctx, "acme", adapters.ClientGrant{ClientID: e.admin["acme"][0], Audience: "https://api.acme.test/", Scope: []string{"read:things"}})
	require.NoError(t, err)
	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:resource_servers", want: 204})
	requireError(t, e.do("acme", all, "DELETE", path, nil), 404, "inexistent_resource_server")
	grants, err := db.ClientGrants.List(e.ctx, "acme", adapters.ClientGrantFilter{Audience: "https://api.acme.test/"}, adapters.ListParams{})
	require.NoError(t, err)
	require.Empty(t, grants.Items)
	// The management token still works: its grant is untouched.
	require.Equal(t, 200, e.do("acme", e.token("acme", "read:resource_servers"), "GET", "/api/v2/resource-servers", nil).status)
}
