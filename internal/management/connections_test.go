package management_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func TestConnectionsCreate(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	admin := e.admin["acme"][0]

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/connections", scope: "create:connections",
		body: map[string]any{"name": "google", "strategy": "google-oauth2", "enabled_clients": []string{admin, admin},
			"options": map[string]any{"client_id": "gid", "client_secret": "s3cret", "scope": "email profile"}}, want: 201})
	cn := r.m()
	id := cn["id"].(string)
	require.NotContains(t, cn["options"], "client_secret", "the secret is never returned")
	require.Equal(t, "gid", cn["options"].(map[string]any)["client_id"])
	require.Equal(t, []any{admin}, cn["enabled_clients"])
	stored, err := db.Connections.Get(e.ctx, "acme", id)
	require.NoError(t, err)
	require.NotEmpty(t, stored.Options.ClientSecret)
	require.NotContains(t, stored.Options.ClientSecret, "s3cret", "the secret is stored sealed")

	requireError(t, e.do("acme", all, "POST", "/api/v2/connections", map[string]any{"name": "google", "strategy": "github"}), 409, "")
	for _, bad := range []map[string]any{
		{"strategy": "auth0"},
		{"name": "db2"},
		{"name": "db2", "strategy": "toaster"},
		{"name": "-db2", "strategy": "auth0"},
		{"name": "db2", "strategy": "auth0", "id": "con_mine"},
		{"name": "db2", "strategy": "auth0", "bogus": true},
		{"name": "db2", "strategy": "auth0", "options": map[string]any{"password_complexity_options": map[string]any{"min_length": 0}}},
		{"name": "db2", "strategy": "auth0", "options": map[string]any{"password_complexity_options": map[string]any{"min_length": 129}}},
		{"name": "db2", "strategy": "auth0", "options": map[string]any{"passwordPolicy": "weak"}},
		{"name": "db2", "strategy": "oidc", "options": map[string]any{"token_endpoint": "not a url"}},
		{"name": "db2", "strategy": "auth0", "enabled_clients": []string{"nope"}},
	} {
		requireError(t, e.do("acme", all, "POST", "/api/v2/connections", bad), 400, "invalid_body")
	}
	l, err := db.Connections.List(e.ctx, "acme", adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	require.Equal(t, 2, l.Total, "rejected creates stored nothing")

	// The other tenant does not see it.
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/connections/"+id, nil), 404, "inexistent_connection")
}

func TestConnectionsReadList(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	for _, b := range []map[string]any{{"name": "gh", "strategy": "github"}, {"name": "gg", "strategy": "google-oauth2"}} {
		require.Equal(t, 201, e.do("acme", all, "POST", "/api/v2/connections", b).status)
	}
	r := e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/connections", scope: "read:connections", want: 200})
	require.Len(t, r.list(), 3)
	r = e.do("acme", all, "GET", "/api/v2/connections?strategy=github&strategy=auth0", nil)
	require.Len(t, r.list(), 2)
	r = e.do("acme", all, "GET", "/api/v2/connections?strategy=github,google-oauth2&include_totals=true&per_page=1&page=1", nil)
	require.EqualValues(t, 2, r.m()["total"])
	require.Len(t, r.m()["connections"], 1)
	r = e.do("acme", all, "GET", "/api/v2/connections?name=gg", nil)
	require.Len(t, r.list(), 1)
	require.Equal(t, "gg", r.list()[0].(map[string]any)["name"])
	r = e.do("acme", all, "GET", "/api/v2/connections?take=2", nil)
	require.Len(t, r.m()["connections"], 2)
	r = e.do("acme", all, "GET", "/api/v2/connections?take=2&from="+r.m()["next"].(string), nil)
	require.Len(t, r.m()["connections"], 1)
	requireError(t, e.do("acme", all, "GET", "/api/v2/connections?per_page=-1", nil), 400, "invalid_query_string")

	id := r.m()["connections"].([]any)[0].(map[string]any)["id"].(string)
	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/connections/" + id, scope: "read:connections", want: 200})
	require.Equal(t, id, r.m()["id"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/connections/con_nope", nil), 404, "inexistent_connection")
}

func TestConnectionsUpdateDelete(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	cn := e.do("acme", all, "POST", "/api/v2/connections", map[string]any{"name": "corp", "strategy": "oidc",
		"options": map[string]any{"client_id": "a", "client_secret": "first", "issuer": "https://idp.test/"}}).m()
	id := cn["id"].(string)
	path := "/api/v2/connections/" + id
	before, err := db.Connections.Get(e.ctx, "acme", id)
	require.NoError(t, err)

	// options replace the whole object, but a left-out secret is kept.
	r := e.checkRoute(t, routeCase{method: "PATCH", path: path, scope: "update:connections",
		body: map[string]any{"display_name": "Corp", "options": map[string]any{"client_id": "b"}}, want: 200})
	require.Equal(t, "Corp", r.m()["display_name"])
	require.Equal(t, map[string]any{"client_id": "b"}, r.m()["options"])
	after, err := db.Connections.Get(e.ctx, "acme", id)
	require.NoError(t, err)
	require.Equal(t, before.Options.ClientSecret, after.Options.ClientSecret)
	require.Empty(t, after.Options.Issuer)

	r = e.do("acme", all, "PATCH", path, map[string]any{"options": map[string]any{"client_id": "b", "client_secret": "second"}})
	require.Equal(t, 200, r.status, r.body)
	require.NotContains(t, r.m()["options"], "client_secret")
	after2, _ := db.Connections.Get(e.ctx, "acme", id)
	require.NotEqual(t, after.Options.ClientSecret, after2.Options.ClientSecret)
	require.NotContains(t, after2.Options.ClientSecret, "second")

	// name and strategy are immutable; bad options change nothing.
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"name": "other"}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"strategy": "auth0"}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"display_name": "X",
		"options": map[string]any{"password_history": map[string]any{"enable": true, "size": 99}}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"enabled_clients": []string{"nope"}}), 400, "invalid_body")
	got, _ := db.Connections.Get(e.ctx, "acme", id)
	require.Equal(t, "Corp", got.DisplayName, "a rejected PATCH changes nothing")
	require.Equal(t, "b", got.Options.ClientID)
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/connections/con_nope", map[string]any{"display_name": "x"}), 404, "inexistent_connection")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:connections", want: 204})
	requireError(t, e.do("acme", all, "DELETE", path, nil), 404, "inexistent_connection")
	_, err = db.Connections.Get(e.ctx, "acme", id)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestConnectionClients(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	admin := e.admin["acme"][0]
	cn, err := db.Connections.GetByName(e.ctx, "acme", "Username-Password-Authentication")
	require.NoError(t, err)
	path := "/api/v2/connections/" + cn.ID + "/clients"

	e.checkRoute(t, routeCase{method: "PATCH", path: path, scope: "update:connections",
		body: []map[string]any{{"client_id": admin, "status": true}}, want: 204})
	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:connections", want: 200})
	require.Equal(t, []any{map[string]any{"client_id": admin}}, r.m()["clients"])
	require.NotContains(t, r.m(), "next")

	// The client's own view agrees.
	r = e.do("acme", all, "GET", "/api/v2/clients/"+admin+"/connections", nil)
	require.Len(t, r.m()["connections"], 1)

	web := e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "Web"}).m()["client_id"].(string)
	require.Equal(t, 204, e.do("acme", all, "PATCH", path, []map[string]any{{"client_id": web, "status": true}}).status)
	r = e.do("acme", all, "GET", path+"?take=1", nil)
	require.Len(t, r.m()["clients"], 1)
	r = e.do("acme", all, "GET", path+"?take=1&from="+r.m()["next"].(string), nil)
	require.Equal(t, []any{map[string]any{"client_id": web}}, r.m()["clients"])

	// validation: a client of another tenant, a missing status, an empty
	// array, an object body. Nothing changes.
	globexAdmin := e.admin["globex"][0]
	requireError(t, e.do("acme", all, "PATCH", path, []map[string]any{{"client_id": admin, "status": false}, {"client_id": globexAdmin, "status": true}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, []map[string]any{{"client_id": admin}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, []map[string]any{}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "PATCH", path, map[string]any{"client_id": admin, "status": false}), 400, "invalid_body")
	got, _ := db.Connections.Get(e.ctx, "acme", cn.ID)
	require.Equal(t, []string{admin, web}, got.EnabledClients)

	require.Equal(t, 204, e.do("acme", all, "PATCH", path, []map[string]any{{"client_id": admin, "status": false}}).status)
	got, _ = db.Connections.Get(e.ctx, "acme", cn.ID)
	require.Equal(t, []string{web}, got.EnabledClients)

	requireError(t, e.do("acme", all, "GET", "/api/v2/connections/con_nope/clients", nil), 404, "inexistent_connection")
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/connections/con_nope/clients", []map[string]any{{"client_id": admin, "status": true}}), 404, "inexistent_connection")
}
