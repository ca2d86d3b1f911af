package management_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func TestRolesCRUD(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/roles", scope: "create:roles",
		body: map[string]any{"name": "admin", "description": "Administrators"}, want: 200})
	id := r.m()["id"].(string)
	require.Equal(t, "admin", r.m()["name"])

	requireError(t, e.do("acme", all, "POST", "/api/v2/roles", map[string]any{"name": "admin"}), 409, "")
	for _, bad := range []map[string]any{
		{"description": "no name"},
		{"name": ""},
		{"name": strings.Repeat("n", 51)},
		{"name": "x", "description": strings.Repeat("d", 141)},
		{"name": "x", "id": "rol_mine"},
		{"name": "x", "bogus": 1},
	} {
		requireError(t, e.do("acme", all, "POST", "/api/v2/roles", bad), 400, "invalid_body")
	}
	l, err := db.Roles.List(e.ctx, "acme", adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	require.Equal(t, 1, l.Total, "rejected creates stored nothing")

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/roles/" + id, scope: "read:roles", want: 200})
	require.Equal(t, "Administrators", r.m()["description"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/roles/rol_nope", nil), 404, "inexistent_role")
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/roles/"+id, nil), 404, "inexistent_role")

	require.Equal(t, 200, e.do("acme", all, "POST", "/api/v2/roles", map[string]any{"name": "viewer"}).status)
	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/roles", scope: "read:roles", want: 200})
	require.Len(t, r.list(), 2)
	r = e.do("acme", all, "GET", "/api/v2/roles?include_totals=true&per_page=1&page=1", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Len(t, r.m()["roles"], 1)
	r = e.do("acme", all, "GET", "/api/v2/roles?take=1", nil)
	require.Len(t, r.m()["roles"], 1)
	require.NotEmpty(t, r.m()["next"])

	r = e.checkRoute(t, routeCase{method: "PATCH", path: "/api/v2/roles/" + id, scope: "update:roles",
		body: map[string]any{"description": "Admins"}, want: 200})
	require.Equal(t, "Admins", r.m()["description"])
	require.Equal(t, "admin", r.m()["name"])
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/roles/"+id, map[string]any{"name": "viewer"}), 409, "")
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/roles/"+id, map[string]any{"name": "", "description": "x"}), 400, "invalid_body")
	got, err := db.Roles.Get(e.ctx, "acme", id)
	require.NoError(t, err)
	require.Equal(t, "admin", got.Name, "a rejected PATCH changes nothing")
	require.Equal(t, "Admins", got.Description)
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/roles/rol_nope", map[string]any{"description": "x"}), 404, "inexistent_role")

	e.checkRoute(t, routeCase{method: "DELETE", path: "/api/v2/roles/" + id, scope: "delete:roles", want: 204})
	requireError(t, e.do("acme", all, "DELETE", "/api/v2/roles/"+id, nil), 404, "inexistent_role")
}

func TestRolePermissions(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	api := "https://api.acme.test/"
	require.Equal(t, 201, e.do("acme", all, "POST", "/api/v2/resource-servers", map[string]any{"name": "Things", "identifier": api,
		"scopes": []map[string]any{{"value": "read:things", "description": "Read things"}, {"value": "write:things"}}}).status)
	id := e.do("acme", all, "POST", "/api/v2/roles", map[string]any{"name": "reader"}).m()["id"].(string)
	path := "/api/v2/roles/" + id + "/permissions"
	perm := func(name string) map[string]any {
		return map[string]any{"resource_server_identifier": api, "permission_name": name}
	}

	e.checkRoute(t, routeCase{method: "POST", path: path, scope: "update:roles",
		body: map[string]any{"permissions": []any{perm("read:things"), perm("write:things")}}, want: 201})
	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:roles", want: 200})
	require.Len(t, r.list(), 2)
	first := r.list()[0].(map[string]any)
	require.Equal(t, "read:things", first["permission_name"])
	require.Equal(t, "Things", first["resource_server_name"])
	require.Equal(t, "Read things", first["description"])
	r = e.do("acme", all, "GET", path+"?include_totals=true&per_page=1", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Len(t, r.m()["permissions"], 1)
	requireError(t, e.do("acme", all, "GET", path+"?take=1", nil), 400, "invalid_query_string")

	// validation: unknown API, undefined permission, empty list, missing
	// field. Nothing is assigned.
	for _, bad := range []map[string]any{
		{"permissions": []any{perm("read:things"), map[string]any{"resource_server_identifier": "https://unknown.test/", "permission_name": "read:things"}}},
		{"permissions": []any{perm("delete:things")}},
		{"permissions": []any{}},
		{"permissions": []any{map[string]any{"permission_name": "read:things"}}},
		{},
	} {
		requireError(t, e.do("acme", all, "POST", path, bad), 400, "invalid_body")
	}
	requireError(t, e.do("acme", all, "POST", "/api/v2/roles/rol_nope/permissions", map[string]any{"permissions": []any{perm("read:things")}}), 404, "inexistent_role")
	requireError(t, e.do("acme", all, "GET", "/api/v2/roles/rol_nope/permissions", nil), 404, "inexistent_role")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "update:roles",
		body: map[string]any{"permissions": []any{perm("write:things")}}, want: 200})
	r = e.do("acme", all, "GET", path, nil)
	require.Len(t, r.list(), 1)
	requireError(t, e.do("acme", all, "DELETE", path, map[string]any{"permissions": []any{}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "DELETE", "/api/v2/roles/rol_nope/permissions", map[string]any{"permissions": []any{perm("read:things")}}), 404, "inexistent_role")
}

func TestRoleUsers(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	var users []string
	for _, email := range []string{"ann@acme.test", "bob@acme.test", "cat@acme.test"} {
		u, err := db.Users.Create(e.ctx, "acme", adapters.User{Email: email, Name: email, Connection: "Username-Password-Authentication"})
		require.NoError(t, err)
		users = append(users, u.UserID)
	}
	other, err := db.Users.Create(e.ctx, "globex", adapters.User{Email: "eve@globex.test", Connection: "Username-Password-Authentication"})
	require.NoError(t, err)
	id := e.do("acme", all, "POST", "/api/v2/roles", map[string]any{"name": "member"}).m()["id"].(string)
	path := "/api/v2/roles/" + id + "/users"

	e.checkRoute(t, routeCase{method: "POST", path: path, scope: "create:role_members", body: map[string]any{"users": users[:2]}, want: 200})
	requireError(t, e.do("acme", all, "POST", path, map[string]any{"users": []string{users[2], other.UserID}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", path, map[string]any{"users": []string{}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", path, map[string]any{}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", "/api/v2/roles/rol_nope/users", map[string]any{"users": users[:1]}), 404, "inexistent_role")
	roles, err := db.UserRoles.List(e.ctx, "acme", users[2], "")
	require.NoError(t, err)
	require.Empty(t, roles, "a rejected assignment assigns nobody")

	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:roles read:users", want: 200})
	require.Len(t, r.list(), 2)
	u0 := r.list()[0].(map[string]any)
	require.Contains(t, users[:2], u0["user_id"])
	require.Contains(t, u0["email"], "@acme.test")
	// read:roles alone is not enough.
	requireError(t, e.do("acme", e.token("acme", "read:roles"), "GET", path, nil), 403, "insufficient_scope")
	r = e.do("acme", all, "GET", path+"?include_totals=true&per_page=1", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Len(t, r.m()["users"], 1)
	r = e.do("acme", all, "GET", path+"?take=1", nil)
	require.Len(t, r.m()["users"], 1)
	r = e.do("acme", all, "GET", path+"?take=1&from="+r.m()["next"].(string), nil)
	require.Len(t, r.m()["users"], 1)
	require.NotContains(t, r.m(), "next")
	requireError(t, e.do("acme", all, "GET", "/api/v2/roles/rol_nope/users", nil), 404, "inexistent_role")
}
