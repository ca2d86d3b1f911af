package management_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// usrRole creates a role of tenant in storage.
func usrRole(t *testing.T, e *env, tenant, name string) string {
	t.Helper()
	r, err := e.app.DataAdapter().Roles.Create(e.ctx, tenant, adapters.Role{Name: name})
	require.NoError(t, err)
	return r.ID
}

// usrNames returns the field of each object of a list.
func usrNames(list any, field string) []any {
	out := []any{}
	items, _ := list.([]any)
	for _, v := range items {
		out = append(out, v.(map[string]any)[field])
	}
	return out
}

func TestUserRoles(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	id := usrCreate(t, e, "acme", "ro@acme.test", nil)["user_id"].(string)
	admin, editor := usrRole(t, e, "acme", "admin"), usrRole(t, e, "acme", "editor")
	path := usrPath(id, "/roles")

	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:users", want: 200})
	require.Equal(t, []any{}, r.body)
	r = e.do("acme", e.token("acme", "read:roles"), "GET", path, nil)
	require.Equal(t, 200, r.status, r.body)

	e.checkRoute(t, routeCase{method: "POST", path: path, scope: "create:role_members", body: map[string]any{"roles": []string{admin}}, want: 204})
	r = e.do("acme", all, "GET", path, nil)
	require.Equal(t, []any{"admin"}, usrNames(r.body, "name"))

	// An unknown role assigns nothing.
	r = e.do("acme", all, "POST", path, map[string]any{"roles": []string{editor, "rol_nope"}})
	requireError(t, r, 404, "inexistent_role")
	require.Equal(t, "The role does not exist.", r.m()["message"])
	roles, err := e.app.DataAdapter().UserRoles.List(e.ctx, "acme", id, "")
	require.NoError(t, err)
	require.Len(t, roles, 1)

	for _, body := range []any{
		map[string]any{"roles": []string{}},
		map[string]any{"roles": "admin"},
		map[string]any{"roles": []string{""}},
		map[string]any{},
		map[string]any{"roles": []string{editor}, "bogus": 1},
	} {
		requireError(t, e.do("acme", all, "POST", path, body), 400, "invalid_body")
	}
	requireError(t, e.do("acme", all, "POST", usrPath("auth0|nope", "/roles"), map[string]any{"roles": []string{admin}}), 404, "inexistent_user")
	requireError(t, e.do("acme", all, "GET", usrPath("auth0|nope", "/roles"), nil), 404, "inexistent_user")

	// Offset paging only, as Auth0.
	require.Equal(t, 204, e.do("acme", all, "POST", path, map[string]any{"roles": []string{editor, admin}}).status)
	r = e.do("acme", all, "GET", path+"?per_page=1&page=1&include_totals=true", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Equal(t, []any{"editor"}, usrNames(r.m()["roles"], "name"))
	requireError(t, e.do("acme", all, "GET", path+"?take=1", nil), 400, "invalid_query_string")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:role_members", body: map[string]any{"roles": []string{admin}}, want: 204})
	r = e.do("acme", all, "GET", path, nil)
	require.Equal(t, []any{"editor"}, usrNames(r.body, "name"))
	require.Equal(t, 204, e.do("acme", all, "DELETE", path, map[string]any{"roles": []string{admin}}).status, "removing twice is fine")

	// Another tenant's user or role does not exist here.
	gid := usrCreate(t, e, "globex", "ro@globex.test", nil)["user_id"].(string)
	gall := e.token("globex")
	requireError(t, e.do("globex", gall, "GET", path, nil), 404, "inexistent_user")
	requireError(t, e.do("globex", gall, "POST", usrPath(gid, "/roles"), map[string]any{"roles": []string{admin}}), 404, "inexistent_role")
	requireError(t, e.do("acme", all, "POST", usrPath(gid, "/roles"), map[string]any{"roles": []string{admin}}), 404, "inexistent_user")
}

func TestUserPermissions(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	d := e.app.DataAdapter()
	id := usrCreate(t, e, "acme", "pe@acme.test", nil)["user_id"].(string)
	const api = "https://api.acme.test/"
	_, err := d.ResourceServers.Create(e.ctx, "acme", adapters.ResourceServer{Name: "API", Identifier: api,
		Scopes: []adapters.ResourceServerScope{{Value: "read:things", Description: "Read things"}, {Value: "write:things"}}})
	require.NoError(t, err)
	role := usrRole(t, e, "acme", "writer")
	require.NoError(t, d.RolePermissions.Assign(e.ctx, "acme", role, []adapters.Permission{{ResourceServerIdentifier: api, PermissionName: "write:things"}}))
	require.NoError(t, d.UserRoles.Assign(e.ctx, "acme", id, "", []string{role}))
	path := usrPath(id, "/permissions")
	perm := func(name string) map[string]any {
		return map[string]any{"resource_server_identifier": api, "permission_name": name}
	}

	// Permissions through roles are listed with their source.
	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:users", want: 200})
	require.Len(t, r.list(), 1)
	require.Equal(t, []any{map[string]any{"source_id": role, "source_name": "writer", "source_type": "ROLE"}},
		r.list()[0].(map[string]any)["sources"])

	e.checkRoute(t, routeCase{method: "POST", path: path, scope: "update:users",
		body: map[string]any{"permissions": []any{perm("read:things"), perm("write:things")}}, want: 201})
	r = e.do("acme", all, "GET", path, nil)
	require.Equal(t, []any{"read:things", "write:things"}, usrNames(r.body, "permission_name"))
	read := r.list()[0].(map[string]any)
	require.Equal(t, "API", read["resource_server_name"])
	require.Equal(t, "Read things", read["description"])
	require.Equal(t, []any{map[string]any{"source_id": "", "source_name": "", "source_type": "DIRECT"}}, read["sources"])
	require.Len(t, r.list()[1].(map[string]any)["sources"], 2, "write:things is direct and through the role")

	// An unknown API or scope is a 400 and assigns nothing, not even the
	// valid permissions of the request.
	require.NoError(t, d.UserPermissions.Remove(e.ctx, "acme", id, "", []adapters.Permission{{ResourceServerIdentifier: api, PermissionName: "read:things"}}))
	for _, body := range []any{
		map[string]any{"permissions": []any{perm("read:things"), map[string]any{"resource_server_identifier": "https://nope/", "permission_name": "x"}}},
		map[string]any{"permissions": []any{perm("read:things"), perm("delete:things")}},
		map[string]any{"permissions": []any{}},
		map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": api}}},
		map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": api, "permission_name": "read:things", "x": 1}}},
		map[string]any{},
	} {
		requireError(t, e.do("acme", all, "POST", path, body), 400, "invalid_body")
	}
	direct, err := d.UserPermissions.List(e.ctx, "acme", id, "")
	require.NoError(t, err)
	require.Len(t, direct, 1, "only write:things is assigned directly")
	requireError(t, e.do("acme", all, "POST", usrPath("auth0|nope", "/permissions"), map[string]any{"permissions": []any{perm("read:things")}}), 404, "inexistent_user")
	requireError(t, e.do("acme", all, "GET", usrPath("auth0|nope", "/permissions"), nil), 404, "inexistent_user")

	// Paging.
	require.Equal(t, 201, e.do("acme", all, "POST", path, map[string]any{"permissions": []any{perm("read:things")}}).status)
	r = e.do("acme", all, "GET", path+"?per_page=1&page=1&include_totals=true", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Equal(t, []any{"write:things"}, usrNames(r.m()["permissions"], "permission_name"))

	// Removing a direct permission leaves the role's.
	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "update:users",
		body: map[string]any{"permissions": []any{perm("read:things"), perm("write:things")}}, want: 204})
	r = e.do("acme", all, "GET", path, nil)
	require.Equal(t, []any{"write:things"}, usrNames(r.body, "permission_name"))
	require.Equal(t, "ROLE", r.list()[0].(map[string]any)["sources"].([]any)[0].(map[string]any)["source_type"])
	requireError(t, e.do("acme", all, "DELETE", path, map[string]any{"permissions": []any{}}), 400, "invalid_body")
}
