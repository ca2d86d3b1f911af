package management_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// jwksKids returns the kids the tenant's JWKS publishes.
func jwksKids(t *testing.T, e *env, tenantID string) []string {
	t.Helper()
	res, err := e.client.Get(e.issuer(tenantID) + ".well-known/jwks.json")
	require.NoError(t, err)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, jsonDecode(res, &set))
	require.Equal(t, 200, res.StatusCode)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestSigningKeysList(t *testing.T) {
	e := newEnv(t)
	all := e.token("acme")
	r := e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/keys/signing", scope: "read:signing_keys", want: 200})
	require.Len(t, r.list(), 2) // current and next
	var current string
	for _, k := range r.list() {
		m := k.(map[string]any)
		require.NotEmpty(t, m["kid"])
		require.NotContains(t, m, "tenant_id")
		require.NotContains(t, m, "private_key")
		require.NotContains(t, m, "PrivateKeyEncrypted")
		require.Equal(t, false, m["revoked"])
		if m["current"] == true {
			current = m["kid"].(string)
		}
	}
	require.NotEmpty(t, current)
	raw, _ := json.Marshal(r.body)
	require.NotContains(t, string(raw), "PRIVATE")

	r = e.checkRoute(t, routeCase{method: "GET", path: "/api/v2/keys/signing/" + current, scope: "read:signing_keys", want: 200})
	require.Equal(t, current, r.m()["kid"])
	requireError(t, e.do("acme", all, "GET", "/api/v2/keys/signing/nope", nil), 404, "inexistent_signing_key")
	// A kid of another tenant is not found.
	requireError(t, e.do("globex", e.token("globex"), "GET", "/api/v2/keys/signing/"+current, nil), 404, "inexistent_signing_key")
}

func TestSigningKeysRotateRevoke(t *testing.T) {
	e := newEnv(t)
	before := e.token("acme") // signed by the key that rotation retires
	keys := e.do("acme", before, "GET", "/api/v2/keys/signing", nil).list()
	var oldCurrent, next string
	for _, k := range keys {
		m := k.(map[string]any)
		if m["current"] == true {
			oldCurrent = m["kid"].(string)
		}
		if m["next"] == true {
			next = m["kid"].(string)
		}
	}

	r := e.checkRoute(t, routeCase{method: "POST", path: "/api/v2/keys/signing/rotate", scope: "create:signing_keys", want: 201})
	require.Equal(t, next, r.m()["kid"], "the next key becomes current")
	require.NotEmpty(t, r.m()["cert"])
	newKid := r.m()["kid"].(string)

	// A token signed before the rotation still verifies, and JWKS lists the
	// new current key, the new next key and the retired one.
	require.Equal(t, 200, e.do("acme", before, "GET", "/api/v2/keys/signing", nil).status)
	keys = e.do("acme", before, "GET", "/api/v2/keys/signing", nil).list()
	require.Len(t, keys, 3)
	kids := jwksKids(t, e, "acme")
	require.Contains(t, kids, newKid)
	require.Contains(t, kids, oldCurrent)
	for _, k := range keys {
		require.Contains(t, kids, k.(map[string]any)["kid"])
	}
	// globex is untouched.
	require.Len(t, e.do("globex", e.token("globex"), "GET", "/api/v2/keys/signing", nil).list(), 2)

	// Revoking the retired key takes it out of JWKS at once, and tokens it
	// signed stop verifying.
	r = e.checkRoute(t, routeCase{method: "PUT", path: "/api/v2/keys/signing/" + oldCurrent + "/revoke", scope: "update:signing_keys", want: 200})
	require.Equal(t, oldCurrent, r.m()["kid"])
	require.NotEmpty(t, r.m()["cert"])
	require.NotContains(t, jwksKids(t, e, "acme"), oldCurrent)
	requireError(t, e.do("acme", before, "GET", "/api/v2/keys/signing", nil), 401, "")
	after := e.token("acme")
	for _, k := range e.do("acme", after, "GET", "/api/v2/keys/signing", nil).list() {
		m := k.(map[string]any)
		if m["kid"] == oldCurrent {
			require.Equal(t, true, m["revoked"])
		}
	}

	requireError(t, e.do("acme", after, "PUT", "/api/v2/keys/signing/nope/revoke", nil), 404, "inexistent_signing_key")
	globexKid := e.do("globex", e.token("globex"), "GET", "/api/v2/keys/signing", nil).list()[0].(map[string]any)["kid"].(string)
	requireError(t, e.do("acme", after, "PUT", "/api/v2/keys/signing/"+globexKid+"/revoke", nil), 404, "inexistent_signing_key")
	require.Contains(t, jwksKids(t, e, "globex"), globexKid, "another tenant's key cannot be revoked")
}
