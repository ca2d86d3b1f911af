package management_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientsRoutes(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")

	// create
	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/clients", scope: "create:clients",
		body: map[string]any{"name": "Web", "app_type": "regular_web", "callbacks": []string{"https://app.test/cb"}}, want: 201})
	c := r.m()
	id := c["client_id"].(string)
	require.NotEmpty(t, id)
	require.Len(t, c["client_secret"], 64, "a confidential client gets a generated secret")
	require.Equal(t, "client_secret_post", c["token_endpoint_auth_method"])
	require.NotContains(t, c, "tenant_id")

	spa := e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "SPA", "app_type": "spa"}).m()
	require.NotContains(t, spa, "client_secret", "a public client gets no secret")
	require.Equal(t, "none", spa["token_endpoint_auth_method"])

	// validation
	requireError(t, e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"app_type": "spa"}), 400, "invalid_body")
	r = e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "x", "bogus": 1})
	requireError(t, r, 400, "invalid_body")
	require.Contains(t, r.m()["message"], "bogus")
	r = e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": 42})
	requireError(t, r, 400, "invalid_body")
	require.Contains(t, r.m()["message"], "name")
	requireError(t, e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "x", "client_id": "mine"}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", "/api/v2/clients", map[string]any{"name": "x", "callbacks": []string{"https://a.test/#frag"}}), 400, "invalid_body")
	requireError(t, e.do("acme", all, "POST", "/api/v2/clients", `{"name":`), 400, "invalid_body")

	// get, with and without read:client_keys
	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/clients/" + id, scope: "read:clients", want: 200})
	require.NotContains(t, r.m(), "client_secret")
	r = e.do("acme", e.token("acme", "read:clients", "read:client_keys"), "GET", "/api/v2/clients/"+id, nil)
	require.Equal(t, c["client_secret"], r.m()["client_secret"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/clients/nope", nil), 404, "inexistent_client")
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/clients/"+id, nil), 404, "inexistent_client")

	// list: bare array, totals, checkpoint
	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/clients", scope: "read:clients", want: 200})
	require.Len(t, r.list(), 3) // admin, Web, SPA
	r = e.do("acme", all, "GET", "/api/v2/clients?include_totals=true&per_page=2&page=1", nil)
	require.EqualValues(t, 3, r.m()["total"])
	require.EqualValues(t, 2, r.m()["start"])
	require.Len(t, r.m()["clients"], 1)
	r = e.do("acme", all, "GET", "/api/v2/clients?take=2", nil)
	require.Len(t, r.m()["clients"], 2)
	next := r.m()["next"].(string)
	r = e.do("acme", all, "GET", "/api/v2/clients?take=2&from="+next, nil)
	require.Len(t, r.m()["clients"], 1)
	require.NotContains(t, r.m(), "next")
	requireError(t, e.do("acme", all, "GET", "/api/v2/clients?per_page=500", nil), 400, "invalid_query_string")
	requireError(t, e.do("acme", all, "GET", "/api/v2/clients?from=garbage&take=1", nil), 400, "invalid_query_string")

	// update: present fields replace, others stay
	r = e.checkRoute(t, routeCase{method: "PATCH", path: "/api/v2/clients/" + id, scope: "update:clients",
		body: map[string]any{"description": "hello", "callbacks": []string{"https://app.test/cb2"}}, want: 200})
	require.Equal(t, "hello", r.m()["description"])
	require.Equal(t, "Web", r.m()["name"])
	require.Equal(t, []any{"https://app.test/cb2"}, r.m()["callbacks"])
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/clients/"+id, map[string]any{"app_type": "toaster"}), 400, "invalid_body")
	got := e.do("acme", all, "GET", "/api/v2/clients/"+id, nil).m()
	require.Equal(t, "regular_web", got["app_type"], "a rejected PATCH changes nothing")
	requireError(t, e.do("acme", all, "PATCH", "/api/v2/clients/nope", map[string]any{"description": "x"}), 404, "inexistent_client")

	// rotate the secret: the old one stops working
	old := c["client_secret"].(string)
	r = e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/clients/" + id + "/rotate-secret", scope: "update:client_keys", want: 200})
	require.NotEqual(t, old, r.m()["client_secret"])
	requireError(t, e.do("acme", all, "POST", "/api/v2/clients/"+spa["client_id"].(string)+"/rotate-secret", nil), 400, "invalid_body")

	// connections of a client
	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/clients/" + id + "/connections", scope: "read:connections", want: 200})
	require.NotNil(t, r.m()["connections"])

	// delete
	e.checkRoute(t, routeCase{method: "DELETE", path: "/api/v2/clients/" + id, scope: "delete:clients", want: http.StatusNoContent})
	requireError(t, e.do("acme", all, "DELETE", "/api/v2/clients/"+id, nil), 404, "inexistent_client")

	// every write left a sapi log, every failure a fapi
	logs, err := e.app.DataAdapter().Logs.List(e.ctx, "acme", adapters_params("type:fapi"))
	require.NoError(t, err)
	require.NotEmpty(t, logs.Items)
	logs, err = e.app.DataAdapter().Logs.List(e.ctx, "acme", adapters_params("type:sapi"))
	require.NoError(t, err)
	require.NotEmpty(t, logs.Items)
}
