package management_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/password"
)

// usrConn is the database connection every provisioned tenant has.
const usrConn = "Username-Password-Authentication"

// usrPath is the API path of a user (ids hold "|", so they are escaped).
func usrPath(id string, rest ...string) string {
	return "/api/v2/users/" + url.PathEscape(id) + strings.Join(rest, "")
}

// usrCreate creates a database user of tenant through the API.
func usrCreate(t *testing.T, e *env, tenant, email string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"connection": usrConn, "email": email, "password": "correct horse battery"}
	for k, v := range extra {
		body[k] = v
	}
	r := e.do(tenant, e.token(tenant), "POST", "/api/v2/users", body)
	require.Equal(t, 201, r.status, r.body)
	return r.m()
}

// usrCount is the number of users of tenant, read from storage.
func usrCount(t *testing.T, e *env, tenant string) int {
	t.Helper()
	l, err := e.app.DataAdapter().Users.List(e.ctx, tenant, adapters.ListParams{IncludeTotals: true})
	require.NoError(t, err)
	return l.Total
}

// usrStored reads a user from storage.
func usrStored(t *testing.T, e *env, tenant, id string) *adapters.User {
	t.Helper()
	u, err := e.app.DataAdapter().Users.Get(e.ctx, tenant, id)
	require.NoError(t, err)
	return u
}

// usrPasswordIs reports whether pw is the user's current password.
func usrPasswordIs(t *testing.T, e *env, tenant, id, pw string) bool {
	t.Helper()
	cur, err := e.app.DataAdapter().Passwords.GetCurrent(e.ctx, tenant, id)
	require.NoError(t, err)
	ok, _, err := password.Hasher{}.Verify(cur.Hash, cur.Algorithm, pw)
	require.NoError(t, err)
	return ok
}

func TestUsersCreate(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/users", scope: "create:users", want: 201,
		body: map[string]any{"connection": usrConn, "email": "Ada@Example.COM", "password": "correct horse battery",
			"given_name": "Ada", "user_metadata": map[string]any{"theme": "dark"}, "verify_email": false}})
	u := r.m()
	id := u["user_id"].(string)
	require.True(t, strings.HasPrefix(id, "auth0|"), id)
	require.Equal(t, "ada@example.com", u["email"], "email is lower-cased")
	require.Equal(t, "Ada", u["given_name"])
	require.Equal(t, map[string]any{"theme": "dark"}, u["user_metadata"])
	require.Equal(t, []any{map[string]any{"connection": usrConn, "user_id": strings.TrimPrefix(id, "auth0|"),
		"provider": "auth0", "isSocial": false}}, u["identities"])
	require.NotContains(t, u, "password")
	require.NotContains(t, fmt.Sprint(u), "argon2", "the hash is never returned")
	require.NotContains(t, fmt.Sprint(u), "correct horse")

	// The password is stored hashed with argon2id.
	cur, err := e.app.DataAdapter().Passwords.GetCurrent(e.ctx, "acme", id)
	require.NoError(t, err)
	require.Equal(t, password.Argon2id, cur.Algorithm)
	require.True(t, usrPasswordIs(t, e, "acme", id, "correct horse battery"))

	// A given user_id becomes "{provider}|{user_id}".
	r = e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": usrConn, "email": "mine@example.com",
		"password": "correct horse battery", "user_id": "mine-1"})
	require.Equal(t, 201, r.status, r.body)
	require.Equal(t, "auth0|mine-1", r.m()["user_id"])
	require.Equal(t, "mine-1", r.m()["identities"].([]any)[0].(map[string]any)["user_id"])

	// The same email in the connection is Auth0's 409.
	r = e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": usrConn, "email": "ADA@example.com", "password": "another password"})
	require.Equal(t, map[string]any{"statusCode": float64(409), "error": "Conflict", "message": "The user already exists.",
		"errorCode": "auth0_idp_error"}, r.m())

	// Validation failures store nothing.
	before := usrCount(t, e, "acme")
	for _, c := range []struct {
		body      map[string]any
		code, msg string
	}{
		{map[string]any{"email": "x@example.com", "password": "correct horse battery"}, "invalid_body", "connection"},
		{map[string]any{"connection": "nope", "email": "x@example.com", "password": "correct horse battery"}, "inexistent_connection", "connection"},
		{map[string]any{"connection": usrConn, "email": "x@example.com", "password": "correct horse battery", "bogus": 1}, "invalid_body", "bogus"},
		{map[string]any{"connection": usrConn, "email": "x@example.com", "password": "short"}, "invalid_password", "at least 8"},
		{map[string]any{"connection": usrConn, "email": "x@example.com"}, "invalid_body", "password"},
		{map[string]any{"connection": usrConn, "password": "correct horse battery"}, "invalid_body", "email"},
		{map[string]any{"connection": usrConn, "email": "not-an-email", "password": "correct horse battery"}, "invalid_body", "email"},
		{map[string]any{"connection": usrConn, "email": 42, "password": "correct horse battery"}, "invalid_body", "email"},
		{map[string]any{"connection": usrConn, "email": "x@example.com", "password": "correct horse battery", "phone_number": "555"}, "invalid_body", "phone_number"},
		{map[string]any{"connection": usrConn, "email": "x@example.com", "password": "correct horse battery", "user_id": "auth0|"}, "invalid_body", "user_id"},
	} {
		r := e.do("acme", all, "POST", "/api/v2/users", c.body)
		requireError(t, r, 400, c.code)
		require.Contains(t, r.m()["message"], c.msg, c.body)
	}
	requireError(t, e.do("acme", all, "POST", "/api/v2/users", `{"connection":`), 400, "invalid_body")
	require.Equal(t, before, usrCount(t, e, "acme"), "a rejected create stores nothing")
}

func TestUsersCreateConnectionPolicy(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	_, err := e.app.DataAdapter().Connections.Create(e.ctx, "acme", adapters.Connection{Name: "strict", Strategy: "auth0",
		Options: adapters.ConnectionOptions{PasswordComplexity: &adapters.PasswordComplexity{MinLength: 12}}})
	require.NoError(t, err)
	_, err = e.app.DataAdapter().Connections.Create(e.ctx, "acme", adapters.Connection{Name: "email", Strategy: "email"})
	require.NoError(t, err)

	r := e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": "strict", "email": "a@example.com", "password": "ten chars!"})
	requireError(t, r, 400, "invalid_password")
	require.Contains(t, r.m()["message"], "at least 12")
	r = e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": "strict", "email": "a@example.com", "password": "twelve chars"})
	require.Equal(t, 201, r.status, r.body)

	// A passwordless connection takes no password; its provider is the strategy.
	requireError(t, e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": "email", "email": "b@example.com",
		"password": "correct horse battery"}), 400, "invalid_body")
	r = e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": "email", "email": "b@example.com"})
	require.Equal(t, 201, r.status, r.body)
	require.True(t, strings.HasPrefix(r.m()["user_id"].(string), "email|"))
	_, err = e.app.DataAdapter().Passwords.GetCurrent(e.ctx, "acme", r.m()["user_id"].(string))
	require.ErrorIs(t, err, adapters.ErrNotFound)

	// The same email in another connection is another user.
	r = e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": usrConn, "email": "b@example.com", "password": "correct horse battery"})
	require.Equal(t, 201, r.status, r.body)
}

func TestUsersGetAndList(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	alice := usrCreate(t, e, "acme", "alice@acme.test", map[string]any{"given_name": "Alice"})
	usrCreate(t, e, "acme", "bob@acme.test", map[string]any{"given_name": "Bob"})
	usrCreate(t, e, "acme", "carol@acme.test", map[string]any{"given_name": "Carol", "blocked": true})
	id := alice["user_id"].(string)

	r := e.checkRoute(t, routeCase{method: "GET", path: usrPath(id), scope: "read:users", want: 200})
	require.Equal(t, alice, r.m())
	r = e.do("acme", all, "GET", usrPath("auth0|nope"), nil)
	requireError(t, r, 404, "inexistent_user")
	require.Equal(t, "The user does not exist.", r.m()["message"])

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/users", scope: "read:users", want: 200})
	require.Len(t, r.list(), 3)

	// q search over the allow-list; anything else is a 400 naming the field.
	q := func(query string, extra ...string) resp {
		return e.do("acme", all, "GET", "/api/v2/users?q="+url.QueryEscape(query)+strings.Join(extra, ""), nil)
	}
	r = q(`email:"bob@acme.test"`, "&search_engine=v3")
	require.Equal(t, 200, r.status, r.body)
	require.Len(t, r.list(), 1)
	require.Equal(t, "Bob", r.list()[0].(map[string]any)["given_name"])
	require.Len(t, q(`given_name:Alice OR given_name:Carol`).list(), 2)
	require.Len(t, q(`blocked:true`).list(), 1)
	for _, bad := range []string{`tenant_id:acme`, `password:x`} {
		r = q(bad)
		requireError(t, r, 400, "invalid_query_string")
		require.Contains(t, r.m()["message"], strings.Split(bad, ":")[0])
	}
	requireError(t, q(`email:(`), 400, "invalid_query_string")

	// sort
	r = e.do("acme", all, "GET", "/api/v2/users?sort=email:-1", nil)
	require.Equal(t, "carol@acme.test", r.list()[0].(map[string]any)["email"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/users?sort=bogus:1", nil), 400, "invalid_query_string")

	// offset paging with totals
	r = e.do("acme", all, "GET", "/api/v2/users?include_totals=true&per_page=2&page=1&sort=email:1", nil)
	require.EqualValues(t, 3, r.m()["total"])
	require.EqualValues(t, 2, r.m()["start"])
	require.EqualValues(t, 2, r.m()["limit"])
	require.Len(t, r.m()["users"], 1)
	require.Equal(t, "carol@acme.test", r.m()["users"].([]any)[0].(map[string]any)["email"])

	// checkpoint paging
	r = e.do("acme", all, "GET", "/api/v2/users?take=2", nil)
	require.Len(t, r.m()["users"], 2)
	next := r.m()["next"].(string)
	r = e.do("acme", all, "GET", "/api/v2/users?take=2&from="+url.QueryEscape(next), nil)
	require.Len(t, r.m()["users"], 1)
	require.NotContains(t, r.m(), "next")
	requireError(t, e.do("acme", all, "GET", "/api/v2/users?from=garbage&take=1", nil), 400, "invalid_query_string")
	requireError(t, e.do("acme", all, "GET", "/api/v2/users?per_page=500", nil), 400, "invalid_query_string")
}

func TestUsersIsolation(t *testing.T) {
	e := newEnv(t)
	g := usrCreate(t, e, "globex", "gus@globex.test", nil)
	gid := g["user_id"].(string)
	a := usrCreate(t, e, "acme", "gus@globex.test", nil) // same email, other tenant: no conflict
	require.NotEqual(t, gid, a["user_id"])

	// Through acme, globex's user does not exist, even with its id.
	all := e.token("acme")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", usrPath(gid), nil},
		{"PATCH", usrPath(gid), map[string]any{"given_name": "Hacked"}},
		{"DELETE", usrPath(gid), nil},
		{"GET", usrPath(gid, "/sessions"), nil},
		{"GET", usrPath(gid, "/logs"), nil},
	} {
		requireError(t, e.do("acme", all, c.method, c.path, c.body), 404, "inexistent_user")
	}
	r := e.do("acme", all, "GET", "/api/v2/users-by-email?email=gus@globex.test", nil)
	require.Len(t, r.list(), 1)
	require.Equal(t, a["user_id"], r.list()[0].(map[string]any)["user_id"])
	r = e.do("acme", all, "GET", "/api/v2/users?q="+url.QueryEscape(`user_id:"`+gid+`"`), nil)
	require.Empty(t, r.list())

	got := usrStored(t, e, "globex", gid)
	require.Empty(t, got.GivenName, "globex's user is untouched")
}

func TestUsersPatch(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	u := usrCreate(t, e, "acme", "ada@acme.test", map[string]any{
		"user_metadata": map[string]any{"a": 1, "b": map[string]any{"x": 1}, "c": "keep"},
		"app_metadata":  map[string]any{"plan": "free"}, "email_verified": true, "nickname": "ada"})
	id := u["user_id"].(string)
	path := usrPath(id)

	// Metadata merges one level deep, null removes a key; other fields replace.
	r := e.checkRoute(t, routeCase{method: "PATCH", path: path, scope: "update:users", want: 200, body: map[string]any{
		"user_metadata": map[string]any{"a": nil, "b": map[string]any{"y": 2}, "d": true},
		"app_metadata":  map[string]any{"roles": []string{"x"}}, "given_name": "Ada"}})
	want := map[string]any{"b": map[string]any{"y": float64(2)}, "c": "keep", "d": true}
	require.Equal(t, want, r.m()["user_metadata"])
	require.Equal(t, map[string]any{"plan": "free", "roles": []any{"x"}}, r.m()["app_metadata"])
	require.Equal(t, "Ada", r.m()["given_name"])
	stored := usrStored(t, e, "acme", id)
	require.Equal(t, want, stored.UserMetadata)
	require.Equal(t, "ada", stored.Nickname)

	// null unsets a field; {} clears a metadata object.
	r = e.do("acme", all, "PATCH", path, map[string]any{"nickname": nil, "app_metadata": map[string]any{}})
	require.Equal(t, 200, r.status, r.body)
	require.NotContains(t, r.m(), "nickname")
	require.NotContains(t, r.m(), "app_metadata")
	require.Equal(t, want, r.m()["user_metadata"])

	// A new email is lower-cased and unverified.
	r = e.do("acme", all, "PATCH", path, map[string]any{"email": "Ada.New@ACME.test"})
	require.Equal(t, 200, r.status, r.body)
	require.Equal(t, "ada.new@acme.test", r.m()["email"])
	require.Equal(t, false, r.m()["email_verified"])

	// An email taken in the connection is a 409; nothing changes.
	usrCreate(t, e, "acme", "taken@acme.test", nil)
	r = e.do("acme", all, "PATCH", path, map[string]any{"email": "TAKEN@acme.test", "given_name": "Other"})
	require.Equal(t, map[string]any{"statusCode": float64(409), "error": "Conflict",
		"message": "The specified new email already exists", "errorCode": "auth0_idp_error"}, r.m())
	stored = usrStored(t, e, "acme", id)
	require.Equal(t, "ada.new@acme.test", stored.Email)
	require.Equal(t, "Ada", stored.GivenName)

	// Validation failures change nothing.
	for _, body := range []any{
		map[string]any{"email": "not-an-email", "given_name": "Zed"},
		map[string]any{"connection": "other", "given_name": "Zed"},
		map[string]any{"given_name": "Zed", "bogus": 1},
		map[string]any{"given_name": "Zed", "user_id": "auth0|other"},
		map[string]any{"given_name": "Zed", "blocked": "yes"},
		map[string]any{"given_name": "Zed", "user_metadata": "not an object"},
		map[string]any{"given_name": "Zed", "password": "short"},
		map[string]any{"given_name": "Zed", "password": nil},
		map[string]any{"given_name": "Zed", "email": nil},
		map[string]any{},
	} {
		r := e.do("acme", all, "PATCH", path, body)
		require.Equal(t, 400, r.status, "%v: %v", body, r.body)
		requireError(t, r, 400, "")
	}
	r = e.do("acme", all, "PATCH", path, map[string]any{"given_name": 42})
	require.Contains(t, r.m()["message"], "given_name")
	stored = usrStored(t, e, "acme", id)
	require.Equal(t, "Ada", stored.GivenName)
	require.Equal(t, want, stored.UserMetadata)
	require.True(t, usrPasswordIs(t, e, "acme", id, "correct horse battery"))

	// The user's own connection may be named.
	r = e.do("acme", all, "PATCH", path, map[string]any{"connection": usrConn, "family_name": "Lovelace"})
	require.Equal(t, 200, r.status, r.body)

	requireError(t, e.do("acme", all, "PATCH", usrPath("auth0|nope"), map[string]any{"given_name": "x"}), 404, "inexistent_user")
}

func TestUsersPatchPassword(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	id := usrCreate(t, e, "acme", "pat@acme.test", nil)["user_id"].(string)

	r := e.do("acme", all, "PATCH", usrPath(id), map[string]any{"password": "second password"})
	require.Equal(t, 200, r.status, r.body)
	require.NotContains(t, fmt.Sprint(r.body), "second password")
	require.True(t, usrPasswordIs(t, e, "acme", id, "second password"), "the login hash changed")
	require.False(t, usrPasswordIs(t, e, "acme", id, "correct horse battery"))
	hist, err := e.app.DataAdapter().Passwords.List(e.ctx, "acme", id, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2, "the old hash is kept as history")

	r = e.do("acme", all, "PATCH", usrPath(id), map[string]any{"password": "short"})
	requireError(t, r, 400, "invalid_password")
	require.Contains(t, r.m()["message"], "at least 8")
	require.True(t, usrPasswordIs(t, e, "acme", id, "second password"))

	// With password_history on, a recent password is refused.
	_, err = e.app.DataAdapter().Connections.Update(e.ctx, "acme", usrConnID(t, e, "acme"), func(c *adapters.Connection) error {
		c.Options.PasswordHistory = &adapters.PasswordHistory{Enable: true, Size: 3}
		return nil
	})
	require.NoError(t, err)
	r = e.do("acme", all, "PATCH", usrPath(id), map[string]any{"password": "correct horse battery"})
	requireError(t, r, 400, "invalid_password")
	require.Contains(t, r.m()["message"], "PasswordHistoryError")
	r = e.do("acme", all, "PATCH", usrPath(id), map[string]any{"password": "third password"})
	require.Equal(t, 200, r.status, r.body)
	hist, err = e.app.DataAdapter().Passwords.List(e.ctx, "acme", id, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3)
}

// usrConnID is the id of the tenant's database connection.
func usrConnID(t *testing.T, e *env, tenant string) string {
	t.Helper()
	c, err := e.app.DataAdapter().Connections.GetByName(e.ctx, tenant, usrConn)
	require.NoError(t, err)
	return c.ID
}

func TestUsersBlockRevokes(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	id := usrCreate(t, e, "acme", "bo@acme.test", nil)["user_id"].(string)
	other := usrCreate(t, e, "acme", "other@acme.test", nil)["user_id"].(string)
	d := e.app.DataAdapter()
	sess, err := d.Sessions.Create(e.ctx, "acme", adapters.Session{UserID: id})
	require.NoError(t, err)
	rt, err := d.RefreshTokens.Create(e.ctx, "acme", adapters.RefreshToken{UserID: id, ClientID: e.admin["acme"][0],
		TokenLookup: "lookup-bo", TokenHash: "hash-bo"})
	require.NoError(t, err)
	otherSess, err := d.Sessions.Create(e.ctx, "acme", adapters.Session{UserID: other})
	require.NoError(t, err)

	// A rejected PATCH blocks and revokes nothing.
	requireError(t, e.do("acme", all, "PATCH", usrPath(id), map[string]any{"blocked": true, "email": "bad"}), 400, "invalid_body")
	s, err := d.Sessions.Get(e.ctx, "acme", sess.ID)
	require.NoError(t, err)
	require.Nil(t, s.RevokedAt)

	r := e.do("acme", all, "PATCH", usrPath(id), map[string]any{"blocked": true})
	require.Equal(t, 200, r.status, r.body)
	require.Equal(t, true, r.m()["blocked"])
	s, err = d.Sessions.Get(e.ctx, "acme", sess.ID)
	require.NoError(t, err)
	require.NotNil(t, s.RevokedAt, "the session is revoked")
	tok, err := d.RefreshTokens.Get(e.ctx, "acme", rt.ID)
	require.NoError(t, err)
	require.NotNil(t, tok.RevokedAt, "the refresh token is revoked")
	s, err = d.Sessions.Get(e.ctx, "acme", otherSess.ID)
	require.NoError(t, err)
	require.Nil(t, s.RevokedAt, "other users keep their sessions")
}

func TestUsersDelete(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	id := usrCreate(t, e, "acme", "del@acme.test", nil)["user_id"].(string)
	e.checkRoute(t, routeCase{method: "DELETE", path: usrPath(id), scope: "delete:users", want: 204})
	requireError(t, e.do("acme", all, "GET", usrPath(id), nil), 404, "inexistent_user")
	requireError(t, e.do("acme", all, "DELETE", usrPath(id), nil), 404, "inexistent_user")
	_, err := e.app.DataAdapter().Passwords.GetCurrent(e.ctx, "acme", id)
	require.ErrorIs(t, err, adapters.ErrNotFound, "the password went with the user")
	// The email is free again.
	usrCreate(t, e, "acme", "del@acme.test", nil)
}

func TestUsersByEmail(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	_, err := e.app.DataAdapter().Connections.Create(e.ctx, "acme", adapters.Connection{Name: "email", Strategy: "email"})
	require.NoError(t, err)
	a := usrCreate(t, e, "acme", "Same@Acme.test", nil)
	r := e.do("acme", all, "POST", "/api/v2/users", map[string]any{"connection": "email", "email": "same@acme.TEST"})
	require.Equal(t, 201, r.status, r.body)
	usrCreate(t, e, "acme", "samedifferent@acme.test", nil)

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/users-by-email?email=SAME%40acme.test", scope: "read:users", want: 200})
	require.Len(t, r.list(), 2, "both connections, whatever the case")
	ids := []any{r.list()[0].(map[string]any)["user_id"], r.list()[1].(map[string]any)["user_id"]}
	require.Contains(t, ids, a["user_id"])
	r = e.do("acme", all, "GET", "/api/v2/users-by-email?email=nobody@acme.test", nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, []any{}, r.body)
	r = e.do("acme", all, "GET", "/api/v2/users-by-email?email="+url.QueryEscape(`x"y@acme.test`), nil)
	require.Equal(t, 200, r.status, r.body)
	requireError(t, e.do("acme", all, "GET", "/api/v2/users-by-email", nil), 400, "invalid_query_string")
}

func TestUserSessionsAndLogs(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	id := usrCreate(t, e, "acme", "sl@acme.test", nil)["user_id"].(string)
	other := usrCreate(t, e, "acme", "ot@acme.test", nil)["user_id"].(string)
	d := e.app.DataAdapter()
	for i := 0; i < 3; i++ {
		_, err := d.Sessions.Create(e.ctx, "acme", adapters.Session{UserID: id})
		require.NoError(t, err)
	}
	_, err := d.Sessions.Create(e.ctx, "acme", adapters.Session{UserID: other})
	require.NoError(t, err)

	r := e.checkRoute(t, routeCase{method: "GET", path: usrPath(id, "/sessions"), scope: "read:sessions", want: 200})
	require.Len(t, r.m()["sessions"], 3)
	for _, s := range r.m()["sessions"].([]any) {
		require.Equal(t, id, s.(map[string]any)["user_id"])
	}
	r = e.do("acme", all, "GET", usrPath(id, "/sessions?take=2"), nil)
	require.Len(t, r.m()["sessions"], 2)
	r = e.do("acme", all, "GET", usrPath(id, "/sessions?take=2&from="+url.QueryEscape(r.m()["next"].(string))), nil)
	require.Len(t, r.m()["sessions"], 1)
	requireError(t, e.do("acme", all, "GET", usrPath("auth0|nope", "/sessions"), nil), 404, "inexistent_user")

	now := time.Now()
	for i := 0; i < 3; i++ {
		_, err := d.Logs.Create(e.ctx, "acme", adapters.Log{Type: "s", UserID: id, Date: now.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
	}
	_, err = d.Logs.Create(e.ctx, "acme", adapters.Log{Type: "s", UserID: other, Date: now})
	require.NoError(t, err)
	r = e.checkRoute(t, routeCase{method: "GET", path: usrPath(id, "/logs"), scope: "read:logs", want: 200})
	require.Len(t, r.list(), 3)
	for _, l := range r.list() {
		require.Equal(t, id, l.(map[string]any)["user_id"])
	}
	r = e.do("acme", e.token("acme", "read:logs_users"), "GET", usrPath(id, "/logs?per_page=2&page=1&include_totals=true"), nil)
	require.Equal(t, 200, r.status, r.body)
	require.EqualValues(t, 3, r.m()["total"])
	require.Len(t, r.m()["logs"], 1)
	// A caller's q cannot widen the list to other users.
	r = e.do("acme", all, "GET", usrPath(id, "/logs?q="+url.QueryEscape("user_id:"+other)), nil)
	require.Len(t, r.list(), 3)
	requireError(t, e.do("acme", all, "GET", usrPath("auth0|nope", "/logs"), nil), 404, "inexistent_user")
}
