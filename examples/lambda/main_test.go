package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

const (
	adminID     = "lambda-admin"
	adminSecret = "lambda-admin-secret-0123456789abcdef"
	functionURL = "k3xq7r2ybnzqv4h6tmw5lds5ja0xxomx.lambda-url.eu-west-1.on.aws"
	sessionID   = "lambda-test-session-0123456789abcdefghijklmnopqrstuv"
)

// testEnv is the function's environment in the tests: a temporary SQLite
// database, and the management client the fixtures authenticate as.
func testEnv(t *testing.T, extra map[string]string) map[string]string {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i + 1)
	}
	env := map[string]string{
		"DATABASE_URL":                 "sqlite://" + filepath.Join(t.TempDir(), "lambda.db"),
		"ENCRYPTION_KEY":               base64.StdEncoding.EncodeToString(key),
		"AUTHHERO_ADMIN_CLIENT_ID":     adminID,
		"AUTHHERO_ADMIN_CLIENT_SECRET": adminSecret,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// newDeployment configures the function as main does, from env.
func newDeployment(t *testing.T, env map[string]string) *deployment {
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	d, err := setup(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { d.db.Close() })
	return d
}

func fixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// invoke runs an event through the Lambda runtime's own JSON decoding and
// encoding, as a deployed function would.
func invoke[Resp any](t *testing.T, handler any, payload []byte) Resp {
	out, err := lambda.NewHandler(handler).Invoke(context.Background(), payload)
	require.NoError(t, err)
	var res Resp
	require.NoError(t, json.Unmarshal(out, &res))
	return res
}

// edit decodes a fixture, lets change modify it, and encodes it again.
func edit[Event any](t *testing.T, payload []byte, change func(*Event)) []byte {
	var e Event
	require.NoError(t, json.Unmarshal(payload, &e))
	change(&e)
	b, err := json.Marshal(e)
	require.NoError(t, err)
	return b
}

func jsonBody(t *testing.T, body string) map[string]any {
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

func TestSetupBootstrapsTenantAndClient(t *testing.T) {
	env := testEnv(t, nil)
	d := newDeployment(t, env)
	ctx := context.Background()
	_, err := d.app.DataAdapter().Tenants.Get(ctx, defaultTenant)
	require.NoError(t, err)
	_, err = d.app.DataAdapter().Clients.Get(ctx, defaultTenant, adminID)
	require.NoError(t, err)

	// Another cold start on the same database finds both and adds nothing.
	d2 := newDeployment(t, env)
	l, err := d2.app.DataAdapter().Tenants.List(ctx, adapters.ListParams{})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)

	// Without AUTHHERO_ADMIN_CLIENT_ID/_SECRET: the tenant, no client.
	env = testEnv(t, nil)
	delete(env, "AUTHHERO_ADMIN_CLIENT_ID")
	delete(env, "AUTHHERO_ADMIN_CLIENT_SECRET")
	d3 := newDeployment(t, env)
	_, err = d3.app.DataAdapter().Tenants.Get(ctx, defaultTenant)
	require.NoError(t, err)
	_, err = d3.app.DataAdapter().Clients.Get(ctx, defaultTenant, adminID)
	require.ErrorIs(t, err, adapters.ErrNotFound)
}

func TestFunctionURLDiscovery(t *testing.T) {
	d := newDeployment(t, testEnv(t, nil))
	res := invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), fixture(t, "function-url-discovery.json"))

	require.Equal(t, 200, res.StatusCode, res.Body)
	require.False(t, res.IsBase64Encoded)
	require.True(t, strings.HasPrefix(res.Headers["Content-Type"], "application/json"), res.Headers["Content-Type"])
	require.Equal(t, "aws-lambda", res.Headers["X-Authhero-Provider"], "PROVIDER defaults to aws-lambda")
	require.Equal(t, "3f1c2b6e-8a4d-4e0f-9b7a-2c5d8e1f0a3b", res.Headers["X-Request-Id"], "the AWS request id is the request id")
	require.Empty(t, res.Cookies)

	disc := jsonBody(t, res.Body)
	base := "https://" + functionURL
	require.Equal(t, base+"/", disc["issuer"], "https and the host from the event")
	require.Equal(t, base+"/oauth/token", disc["token_endpoint"])
	require.Equal(t, base+"/.well-known/jwks.json", disc["jwks_uri"])
}

func TestAPIGatewayV2TokenWithBase64Body(t *testing.T) {
	d := newDeployment(t, testEnv(t, map[string]string{"ISSUER": "https://auth.example.com/"}))
	h := APIGatewayV2Handler(d.handler)
	raw := fixture(t, "apigw-v2-token.json")
	res := invoke[events.APIGatewayV2HTTPResponse](t, h, raw)

	require.Equal(t, 200, res.StatusCode, res.Body)
	require.False(t, res.IsBase64Encoded)
	require.Equal(t, "no-store", res.Headers["Cache-Control"])
	tok := jsonBody(t, res.Body)
	require.Equal(t, "Bearer", tok["token_type"])
	require.NotZero(t, tok["expires_in"])
	access, _ := tok["access_token"].(string)
	parts := strings.Split(access, ".")
	require.Len(t, parts, 3, access)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	claims := jsonBody(t, string(payload))
	require.Equal(t, "https://auth.example.com/", claims["iss"])
	require.Equal(t, "urn:authhero:management", claims["aud"])

	// The token works on the Management API through the same handler: the
	// Authorization header and the query string make it across.
	list := invoke[events.APIGatewayV2HTTPResponse](t, h, edit(t, raw, func(e *events.APIGatewayV2HTTPRequest) {
		e.RequestContext.HTTP.Method, e.RawPath, e.RawQueryString = "GET", "/api/v2/clients", "per_page=10&page=0"
		e.Headers["authorization"] = "Bearer " + access
		delete(e.Headers, "content-type")
		delete(e.Headers, "content-length")
		e.Body, e.IsBase64Encoded = "", false
	}))
	require.Equal(t, 200, list.StatusCode, list.Body)
	var clients []map[string]any
	require.NoError(t, json.Unmarshal([]byte(list.Body), &clients), list.Body)
	require.Len(t, clients, 1, list.Body)
	require.Equal(t, adminID, clients[0]["client_id"])

	// A wrong secret is the RFC 6749 401, with its headers.
	bad := invoke[events.APIGatewayV2HTTPResponse](t, h, edit(t, raw, func(e *events.APIGatewayV2HTTPRequest) {
		e.Body = base64.StdEncoding.EncodeToString([]byte("grant_type=client_credentials&client_id=" + adminID +
			"&client_secret=wrong&audience=urn%3Aauthhero%3Amanagement"))
	}))
	require.Equal(t, 401, bad.StatusCode, bad.Body)
	require.Equal(t, "invalid_client", jsonBody(t, bad.Body)["error"])
}

func TestFunctionURLCookies(t *testing.T) {
	d := newDeployment(t, testEnv(t, nil))
	ctx := context.Background()
	u, err := d.app.CreateUser(ctx, defaultTenant, "Username-Password-Authentication", "ana@example.com", "Correct-Horse-Battery-9")
	require.NoError(t, err)
	store := session.NewSQL(d.db.DataAdapters)
	now := time.Now()
	exp := now.Add(time.Hour)
	_, err = store.CreateSession(ctx, defaultTenant, adapters.Session{ID: sessionID, UserID: u.UserID,
		AuthenticatedAt: now, LastInteractionAt: now, ExpiresAt: &exp, IdleExpiresAt: &exp})
	require.NoError(t, err)

	res := invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), fixture(t, "function-url-logout-cookies.json"))
	require.Equal(t, 200, res.StatusCode, res.Body)
	require.False(t, res.IsBase64Encoded)
	require.Equal(t, "text/html; charset=utf-8", res.Headers["Content-Type"])
	require.Contains(t, res.Body, "You have been logged out")

	// The cookie of the event reached the App: the session it names is revoked.
	s, err := store.GetSession(ctx, defaultTenant, sessionID)
	require.NoError(t, err)
	require.NotNil(t, s.RevokedAt, "the session cookie of the event's cookies was read")

	// The App's Set-Cookie came back in cookies: the __Host- cookie cleared,
	// Secure because the request was https.
	require.NotContains(t, res.Headers, "Set-Cookie")
	require.Len(t, res.Cookies, 1, res.Cookies)
	c := res.Cookies[0]
	require.True(t, strings.HasPrefix(c, "__Host-ah_session_default=;"), c)
	for _, attr := range []string{"Path=/", "Max-Age=0", "HttpOnly", "Secure", "SameSite=None"} {
		require.Contains(t, c, attr)
	}
}

func TestForwardedHost(t *testing.T) {
	raw := fixture(t, "function-url-discovery.json")
	withHeader := edit(t, raw, func(e *events.LambdaFunctionURLRequest) {
		e.Headers["x-forwarded-host"] = "auth.example.com"
	})

	// With an issuer, the function URL's own host serves no tenant, and
	// X-Forwarded-Host is not believed by default.
	d := newDeployment(t, testEnv(t, map[string]string{"ISSUER": "https://auth.example.com/"}))
	res := invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), raw)
	require.Equal(t, 404, res.StatusCode, res.Body)
	res = invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), withHeader)
	require.Equal(t, 404, res.StatusCode, res.Body)

	// Behind CloudFront, TRUST_FORWARDED_HOST serves the viewer's host.
	d = newDeployment(t, testEnv(t, map[string]string{"ISSUER": "https://auth.example.com/", "TRUST_FORWARDED_HOST": "true"}))
	res = invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), withHeader)
	require.Equal(t, 200, res.StatusCode, res.Body)
	require.Equal(t, "https://auth.example.com/", jsonBody(t, res.Body)["issuer"])

	// A forged host that is not the issuer's, a tenant's or a custom domain
	// serves nothing.
	forged := edit(t, raw, func(e *events.LambdaFunctionURLRequest) { e.Headers["x-forwarded-host"] = "evil.example" })
	res = invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), forged)
	require.Equal(t, 404, res.StatusCode, res.Body)
}

// TestHealth checks that the App's /health, which DNS failover probes, is
// reachable through a function URL.
func TestHealth(t *testing.T) {
	d := newDeployment(t, testEnv(t, nil))
	ev := edit(t, fixture(t, "function-url-discovery.json"), func(e *events.LambdaFunctionURLRequest) {
		e.RawPath, e.RequestContext.HTTP.Path = "/health", "/health"
	})
	res := invoke[events.LambdaFunctionURLResponse](t, Handler(d.handler), ev)
	require.Equal(t, 200, res.StatusCode, res.Body)
	require.False(t, res.IsBase64Encoded)
	require.Equal(t, "ok", jsonBody(t, res.Body)["status"])
}

func TestLoadConfig(t *testing.T) {
	get := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }

	_, err := loadConfig(get(nil))
	require.ErrorContains(t, err, "DATABASE_URL is required")
	require.ErrorContains(t, err, "ENCRYPTION_KEY is required")

	_, err = loadConfig(get(map[string]string{"DATABASE_URL": "postgres://db/authhero", "ENCRYPTION_KEY": "c2hvcnQ="}))
	require.ErrorContains(t, err, "ENCRYPTION_KEY")

	env := testEnv(t, nil)
	env["DATABASE_URL"] = "postgres://db/authhero"
	c, err := loadConfig(get(env))
	require.NoError(t, err)
	require.Equal(t, "aws-lambda", c.provider)
	require.Equal(t, "RS256", c.signingAlg)
	require.Len(t, c.encryptionKey, 32)
	require.False(t, c.trustForwardedHost)

	env["PROVIDER"], env["ISSUER"], env["TRUST_FORWARDED_HOST"] = "aws-eu-west-1", "https://auth.example.com/", "1"
	c, err = loadConfig(get(env))
	require.NoError(t, err)
	require.Equal(t, "aws-eu-west-1", c.provider)
	require.Equal(t, "https://auth.example.com/", c.issuer)
	require.True(t, c.trustForwardedHost)

	env["TRUST_FORWARDED_HOST"] = "perhaps"
	_, err = loadConfig(get(env))
	require.ErrorContains(t, err, "TRUST_FORWARDED_HOST")

	env["TRUST_FORWARDED_HOST"], env["ISSUER"] = "true", ""
	_, err = loadConfig(get(env))
	require.ErrorContains(t, err, "TRUST_FORWARDED_HOST needs ISSUER")

	env["TRUST_FORWARDED_HOST"] = ""
	delete(env, "AUTHHERO_ADMIN_CLIENT_SECRET")
	_, err = loadConfig(get(env))
	require.ErrorContains(t, err, "go together")
}
