package management_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

func TestLogsRoutes(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	day := func(d int) time.Time { return time.Date(2024, 1, d, 12, 0, 0, 0, time.UTC) }
	var ids []string
	for i, typ := range []string{"s", "f", "s"} {
		l, err := db.Logs.Create(e.ctx, "acme", adapters.Log{Type: typ, Date: day(i + 1), UserID: "auth0|u1", Description: "login"})
		require.NoError(t, err)
		ids = append(ids, l.LogID)
	}
	_, err := db.Logs.Create(e.ctx, "globex", adapters.Log{Type: "s", Date: day(1), UserID: "auth0|u1"})
	require.NoError(t, err)

	get := func(q string) resp { return e.do("acme", all, "GET", "/api/v2/logs?"+q, nil) }
	r := e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/logs?q=" + url.QueryEscape("user_id:auth0|u1"), scope: "read:logs", want: 200})
	require.Len(t, r.list(), 3)
	require.Equal(t, ids[2], r.list()[0].(map[string]any)["log_id"], "newest first by default")

	r = get("q=" + url.QueryEscape("type:f"))
	require.Len(t, r.list(), 1)
	require.Equal(t, ids[1], r.list()[0].(map[string]any)["log_id"])
	r = get("q=" + url.QueryEscape("date:[2024-01-02 TO 2024-01-04] AND user_id:auth0|u1"))
	require.Len(t, r.list(), 2)
	r = get("q=" + url.QueryEscape("user_id:auth0|u1") + "&sort=date:1")
	require.Equal(t, ids[0], r.list()[0].(map[string]any)["log_id"])
	r = get("q=" + url.QueryEscape("user_id:auth0|u1") + "&include_totals=true&per_page=2&page=1")
	require.EqualValues(t, 3, r.m()["total"])
	require.Len(t, r.m()["logs"], 1)
	r = get("q=" + url.QueryEscape("user_id:auth0|u1") + "&take=2")
	require.Len(t, r.m()["logs"], 2)
	r = get("q=" + url.QueryEscape("user_id:auth0|u1") + "&take=2&from=" + url.QueryEscape(r.m()["next"].(string)))
	require.Len(t, r.m()["logs"], 1)
	require.Equal(t, ids[0], r.m()["logs"].([]any)[0].(map[string]any)["log_id"])

	// Only allow-listed fields may be searched; tenant_id above all.
	requireError(t, get("q="+url.QueryEscape("tenant_id:globex")), 400, "invalid_query_string")
	requireError(t, get("q="+url.QueryEscape("details.secret:x")), 400, "invalid_query_string")
	requireError(t, get("q="+url.QueryEscape("type:(")), 400, "invalid_query_string")
	requireError(t, get("sort=details:1"), 400, "invalid_query_string")

	// The management API logs its own failures (fapi), and lists them.
	require.NotEmpty(t, get("q=type:fapi").list())

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/logs/" + ids[0], scope: "read:logs", want: 200})
	require.Equal(t, "s", r.m()["type"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/logs/nope", nil), 404, "inexistent_log")
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/logs/"+ids[0], nil), 404, "inexistent_log")
}
