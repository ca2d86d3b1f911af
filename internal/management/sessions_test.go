package management_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// sessionFixture creates a user of tenantID with a session and two refresh
// tokens of that session, plus one refresh token of another session.
func sessionFixture(t *testing.T, e *env, tenantID string) (session string, tokens []string, other string) {
	t.Helper()
	db := e.app.DataAdapter()
	u, err := db.Users.Create(e.ctx, tenantID, adapters.User{Email: "ann@" + tenantID + ".test", Connection: "Username-Password-Authentication"})
	require.NoError(t, err)
	s, err := db.Sessions.Create(e.ctx, tenantID, adapters.Session{UserID: u.UserID, Clients: []string{e.admin[tenantID][0]},
		Device: adapters.Device{InitialIP: "10.0.0.1", InitialUserAgent: "test"}})
	require.NoError(t, err)
	for _, login := range []string{s.ID, s.ID, "another-session"} {
		rt, err := db.RefreshTokens.Create(e.ctx, tenantID, adapters.RefreshToken{UserID: u.UserID, LoginID: login,
			ClientID: e.admin[tenantID][0], TokenLookup: adapters.NewID("lk_"), TokenHash: "hash-" + adapters.NewID("")})
		require.NoError(t, err)
		tokens = append(tokens, rt.ID)
	}
	return s.ID, tokens[:2], tokens[2]
}

func TestSessionsRoutes(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	sid, tokens, other := sessionFixture(t, e, "acme")
	path := "/api/v2/sessions/" + sid

	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:sessions", want: 200})
	require.Equal(t, sid, r.m()["id"])
	require.Equal(t, []any{map[string]any{"client_id": e.admin["acme"][0]}}, r.m()["clients"], "Auth0's clients shape")
	require.Equal(t, "10.0.0.1", r.m()["device"].(map[string]any)["initial_ip"])
	require.Contains(t, r.m(), "last_interacted_at")
	require.NotContains(t, r.m(), "revoked_at")
	requireError(t, e.do("acme", all, "GET", "/api/v2/sessions/nope", nil), 404, "inexistent_session")
	requireError(t, e.do("globex", e.token("globex"), "GET", path, nil), 404, "inexistent_session")

	// revoke: the session and its refresh tokens, not the others.
	e.checkRoute(t, routeCase{method: "POST", path: path + "/revoke", scope: "update:sessions", want: 202})
	s, err := db.Sessions.Get(e.ctx, "acme", sid)
	require.NoError(t, err)
	require.NotNil(t, s.RevokedAt)
	for _, id := range tokens {
		rt, err := db.RefreshTokens.Get(e.ctx, "acme", id)
		require.NoError(t, err)
		require.NotNil(t, rt.RevokedAt, id)
	}
	rt, err := db.RefreshTokens.Get(e.ctx, "acme", other)
	require.NoError(t, err)
	require.Nil(t, rt.RevokedAt, "another session's token stays valid")
	require.Contains(t, e.do("acme", all, "GET", path, nil).m(), "revoked_at")
	requireError(t, e.do("acme", all, "POST", "/api/v2/sessions/nope/revoke", nil), 404, "inexistent_session")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:sessions", want: 202})
	requireError(t, e.do("acme", all, "DELETE", path, nil), 404, "inexistent_session")
	_, err = db.Sessions.Get(e.ctx, "acme", sid)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestRefreshTokensRoutes(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	db := e.app.DataAdapter()
	sid, tokens, _ := sessionFixture(t, e, "acme")
	path := "/api/v2/refresh-tokens/" + tokens[0]

	r := e.checkRoute(t, routeCase{method: "GET", path: path, scope: "read:refresh_tokens", want: 200})
	require.Equal(t, tokens[0], r.m()["id"])
	require.Equal(t, sid, r.m()["session_id"])
	require.Equal(t, e.admin["acme"][0], r.m()["client_id"])
	raw, _ := json.Marshal(r.body)
	require.NotContains(t, string(raw), "lk_", "never the lookup")
	require.NotContains(t, string(raw), "hash-", "never the hash")
	require.NotContains(t, r.m(), "token_lookup")
	require.NotContains(t, r.m(), "token_hash")
	requireError(t, e.do("acme", all, "GET", "/api/v2/refresh-tokens/nope", nil), 404, "inexistent_refresh_token")
	requireError(t, e.do("globex", e.token("globex"), "GET", path, nil), 404, "inexistent_refresh_token")

	e.checkRoute(t, routeCase{method: "DELETE", path: path, scope: "delete:refresh_tokens", want: 202})
	requireError(t, e.do("acme", all, "DELETE", path, nil), 404, "inexistent_refresh_token")
	_, err := db.RefreshTokens.Get(e.ctx, "acme", tokens[0])
	require.ErrorIs(t, err, adapters.ErrNotFound)
	_, err = db.RefreshTokens.Get(e.ctx, "acme", tokens[1])
	require.NoError(t, err, "only that token is deleted")
}
