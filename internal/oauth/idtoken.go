package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/tenant"
)

// Token lifetimes used when neither the API nor the client sets one
// (Auth0's defaults).
const (
	defaultAccessLifetime  = 86400      // resource server token_lifetime
	defaultWebLifetime     = 7200       // resource server token_lifetime_for_web (SPAs)
	defaultIDTokenLifetime = 36000      // client jwt_configuration.lifetime_in_seconds
	defaultRefreshAbsolute = 30 * 86400 // client refresh_token.token_lifetime
	defaultRefreshIdle     = 15 * 86400 // client refresh_token.idle_token_lifetime
	defaultRefreshLeeway   = 30         // client refresh_token.leeway (AuthHero's default)
	maxRefreshLeeway       = 600        // Auth0's upper bound for leeway
	authCodeDescription    = "Invalid authorization code"
	refreshDescription     = "Unknown or invalid refresh token."
	offlineAccess          = "offline_access"
	grantRefreshToken      = "refresh_token"
	grantAuthorizationCode = "authorization_code"
)

// userToken describes the tokens a user grant issues.
type userToken struct {
	client   *authenticatedClient
	user     *adapters.User
	scopes   []string
	audience string                   // resolved audience
	rs       *adapters.ResourceServer // nil for {issuer}userinfo
	sid      string                   // SSO session id, "" without one
	authTime *time.Time               // when the user authenticated
	nonce    string                   // authorization request nonce
	gty      string                   // Auth0 grant-type claim, "" for none
}

// tokenSet is a signed access token and, for openid requests, an ID token.
type tokenSet struct {
	access    string
	id        string
	expiresIn int
	scope     string
}

// response is the token response (RFC 6749 §5.1; OpenID Connect Core
// §3.1.3.3) with the refresh token, when one was issued.
func (t *tokenSet) response(refresh string) map[string]any {
	m := map[string]any{
		"access_token": t.access,
		"token_type":   "Bearer",
		"expires_in":   t.expiresIn,
		"scope":        t.scope,
	}
	if t.id != "" {
		m["id_token"] = t.id
	}
	if refresh != "" {
		m["refresh_token"] = refresh
	}
	return m
}

// resolveAudience returns the audience of a user token: requested, else the
// tenant's default_audience, else {issuer}userinfo; and its resource server
// (nil for userinfo). An audience that names no API is Auth0's 403
// access_denied "Service not found".
func (s *Server) resolveAudience(ctx context.Context, ti *tenant.Info, requested string) (string, *adapters.ResourceServer, *Error, error) {
	aud := requested
	if aud == "" {
		aud = ti.Tenant.DefaultAudience
	}
	if aud == "" || aud == ti.Issuer+"userinfo" {
		return ti.Issuer + "userinfo", nil, nil, nil
	}
	identifier := aud
	if aud == ti.Issuer+"api/v2/" {
		identifier = provision.ManagementAudience
	}
	rs, err := s.Data.ResourceServers.GetByIdentifier(ctx, ti.ID(), identifier)
	if errors.Is(err, adapters.ErrNotFound) {
		return "", nil, oerr(http.StatusForbidden, "access_denied", "Service not found: "+aud), nil
	} else if err != nil {
		return "", nil, nil, err
	}
	return aud, rs, nil, nil
}

// accessLifetime is the API's token_lifetime, or token_lifetime_for_web for
// SPAs (never longer than token_lifetime), in seconds.
func accessLifetime(rs *adapters.ResourceServer, c *adapters.Client) int {
	life := defaultAccessLifetime
	if rs != nil && rs.TokenLifetime > 0 {
		life = rs.TokenLifetime
	}
	if c.AppType == "spa" && rs != nil {
		web := rs.TokenLifetimeForWeb
		if web <= 0 {
			web = defaultWebLifetime
		}
		if web < life {
			life = web
		}
	}
	return life
}

// idTokenLifetime is the client's jwt_configuration.lifetime_in_seconds,
// default 36000 (Auth0).
func idTokenLifetime(c *adapters.Client) int {
	if v, ok := c.JWTConfiguration["lifetime_in_seconds"]; ok {
		switch n := v.(type) {
		case float64:
			if n > 0 {
				return int(n)
			}
		case int:
			if n > 0 {
				return n
			}
		case int64:
			if n > 0 {
				return int(n)
			}
		}
	}
	return defaultIDTokenLifetime
}

// hasScope reports whether scopes contains want.
func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// mint signs the access token (RFC 9068 "at+jwt") and, when the scopes
// include openid, the ID token (OpenID Connect Core §2) of a user grant.
func (s *Server) mint(ctx context.Context, ti *tenant.Info, in userToken) (*tokenSet, error) {
	now := s.now().Unix()
	life := accessLifetime(in.rs, in.client.Client)
	scope := strings.Join(in.scopes, " ")
	openid := hasScope(in.scopes, "openid")
	userinfo := ti.Issuer + "userinfo"
	var aud any = in.audience
	if openid && in.audience != userinfo {
		aud = []string{in.audience, userinfo}
	}
	at := map[string]any{
		"iss":   ti.Issuer,
		"sub":   in.user.UserID,
		"aud":   aud,
		"azp":   in.client.ClientID,
		"iat":   now,
		"exp":   now + int64(life),
		"scope": scope,
		"jti":   newJTI(),
	}
	if in.sid != "" {
		at["sid"] = in.sid
	}
	if in.gty != "" {
		at["gty"] = in.gty
	}
	if in.rs != nil && in.rs.Options.TokenDialect == "access_token_authz" {
		at["permissions"] = apiScopes(in.scopes)
	}
	access, err := s.Keys.Sign(ctx, ti.ID(), at, "at+jwt")
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	out := &tokenSet{access: access, expiresIn: life, scope: scope}
	if !openid {
		return out, nil
	}
	set := map[string]bool{}
	for _, sc := range in.scopes {
		set[sc] = true
	}
	id := UserClaims(in.user, set)
	id["iss"] = ti.Issuer
	id["sub"] = in.user.UserID
	id["aud"] = in.client.ClientID
	id["azp"] = in.client.ClientID
	id["iat"] = now
	id["exp"] = now + int64(idTokenLifetime(in.client.Client))
	if in.authTime != nil {
		id["auth_time"] = in.authTime.Unix()
	}
	if in.nonce != "" {
		id["nonce"] = in.nonce
	}
	if in.sid != "" {
		id["sid"] = in.sid
	}
	id["at_hash"] = halfHash(ti.Tenant.SigningAlg, access)
	if out.id, err = s.Keys.Sign(ctx, ti.ID(), id, "JWT"); err != nil {
		return nil, fmt.Errorf("sign ID token: %w", err)
	}
	return out, nil
}

// apiScopes drops the OpenID Connect scopes, leaving the API permissions.
func apiScopes(scopes []string) []string {
	out := []string{}
	for _, s := range scopes {
		switch s {
		case "openid", "profile", "email", "address", "phone", offlineAccess:
		default:
			out = append(out, s)
		}
	}
	return out
}

// halfHash is the at_hash of OpenID Connect Core §3.1.3.6: the left half of
// the hash of the token's ASCII, with the hash of the signing algorithm
// (SHA-256 for RS256/ES256, SHA-512 for EdDSA as go-oidc and others use),
// base64url without padding.
func halfHash(alg, token string) string {
	var h hash.Hash
	switch alg {
	case "EdDSA", "RS512", "ES512", "PS512":
		h = sha512.New()
	case "RS384", "ES384", "PS384":
		h = sha512.New384()
	default:
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// refreshAllowed reports whether a grant with these scopes gets a refresh
// token: offline_access was granted and the client may use the
// refresh_token grant.
func refreshAllowed(c *adapters.Client, scopes []string) bool {
	return hasScope(scopes, offlineAccess) && grantAllowed(c, grantRefreshToken)
}

// newRefreshWire returns a new refresh token "rt_<lookup>.<secret>" (16
// random bytes of lookup, 32 of secret, base64url) with its lookup and the
// stored hash of its secret.
func newRefreshWire() (wire, lookup, hashed string) {
	var l [16]byte
	var sec [32]byte
	rand.Read(l[:])
	rand.Read(sec[:])
	lookup = base64.RawURLEncoding.EncodeToString(l[:])
	secret := base64.RawURLEncoding.EncodeToString(sec[:])
	return RefreshTokenPrefix + lookup + "." + secret, lookup, HashRefreshSecret(secret)
}

// refreshPolicy returns the client's refresh-token lifetimes in seconds (0 =
// infinite) and its reuse leeway.
func refreshPolicy(c *adapters.Client) (absolute, idle int, leeway time.Duration) {
	absolute, idle, lw := defaultRefreshAbsolute, defaultRefreshIdle, defaultRefreshLeeway
	if rt := c.RefreshToken; rt != nil {
		if rt.ExpirationType == "non-expiring" {
			absolute, idle = 0, 0
		} else {
			if rt.TokenLifetime > 0 {
				absolute = rt.TokenLifetime
			}
			if rt.IdleTokenLifetime > 0 {
				idle = rt.IdleTokenLifetime
			}
			if rt.InfiniteTokenLifetime {
				absolute = 0
			}
			if rt.InfiniteIdleTokenLifetime {
				idle = 0
			}
		}
		// A configured refresh_token block states its leeway; 0 is a valid
		// choice (Auth0's schema default), so only a missing block gets 30 s.
		lw = min(max(rt.Leeway, 0), maxRefreshLeeway)
	}
	return absolute, idle, time.Duration(lw) * time.Second
}

// rotating reports whether the client's refresh tokens rotate (the default).
func rotating(c *adapters.Client) bool {
	return c.RefreshToken == nil || c.RefreshToken.RotationType != "non-rotating"
}

// idleExpiry is now plus the idle lifetime, never past the absolute expiry;
// nil for an infinite idle lifetime.
func idleExpiry(now time.Time, idle int, absolute *time.Time) *time.Time {
	if idle <= 0 {
		return nil
	}
	t := now.Add(time.Duration(idle) * time.Second)
	if absolute != nil && t.After(*absolute) {
		t = *absolute
	}
	return &t
}

// issueRefresh creates a new refresh-token family for a user grant and
// returns the wire token.
func (s *Server) issueRefresh(ctx context.Context, r *http.Request, tenantID string, c *adapters.Client, userID, loginID, audience string, scopes []string) (string, error) {
	now := s.now()
	absolute, idle, _ := refreshPolicy(c)
	var exp *time.Time
	if absolute > 0 {
		t := now.Add(time.Duration(absolute) * time.Second)
		exp = &t
	}
	wire, lookup, hashed := newRefreshWire()
	id := adapters.NewULID()
	ip, ua := requestIP(r), limitUA(r.UserAgent())
	_, err := s.Data.RefreshTokens.Create(ctx, tenantID, adapters.RefreshToken{
		ID: id, FamilyID: id, LoginID: loginID, UserID: userID, ClientID: c.ClientID,
		TokenLookup: lookup, TokenHash: hashed, Rotating: rotating(c),
		Device:          adapters.Device{InitialIP: ip, InitialUserAgent: ua, LastIP: ip, LastUserAgent: ua},
		ResourceServers: []adapters.TokenResource{{Audience: audience, Scopes: strings.Join(scopes, " ")}},
		ExpiresAt:       exp, IdleExpiresAt: idleExpiry(now, idle, exp), LastExchangedAt: &now,
	})
	if err != nil {
		return "", fmt.Errorf("create refresh token: %w", err)
	}
	return wire, nil
}

// isPublic reports whether the client authenticates by client_id alone
// (token_endpoint_auth_method "none": SPAs and native apps).
func isPublic(c *adapters.Client) bool { return c.TokenEndpointAuthMethod == "none" }

// grantClient authenticates the client of a user grant: a confidential
// client must prove its secret (RFC 6749 §3.2.1), a public one is named by
// client_id.
// startGrant begins a user grant: it authenticates the client, checks that
// the client may use grant and reads the required parameter param. Failures
// are logged as failType and answered; then the client is nil. fail answers
// and logs a later failure of the same grant.
func (s *Server) startGrant(w http.ResponseWriter, r *http.Request, p url.Values, grant, failType, param string) (*authenticatedClient, string, func(e *Error, userID, why string)) {
	c, e := s.grantClient(r, p, tenantOf(r).ID())
	if e != nil {
		s.event(r, failType, adapters.Log{ClientID: limit(p.Get("client_id")), Description: e.Description})
		writeError(w, e)
		return nil, "", nil
	}
	fail := func(e *Error, userID, why string) {
		s.event(r, failType, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: userID, Description: why})
		writeError(w, e)
	}
	if !grantAllowed(c.Client, grant) {
		fail(oerr(statusFor(c.auth0()), "unauthorized_client", "Grant type '"+grant+"' not allowed for the client."), "", "grant type not allowed")
		return nil, "", nil
	}
	v := p.Get(param)
	if v == "" {
		fail(errInvalidRequest("Missing required parameter: "+param), "", "missing "+param)
		return nil, "", nil
	}
	return c, v, fail
}

func (s *Server) grantClient(r *http.Request, p url.Values, tenantID string) (*authenticatedClient, *Error) {
	c, e := s.authenticateClient(r, p, tenantID, false)
	if e != nil {
		return nil, e
	}
	if !c.secret && !isPublic(c.Client) {
		return nil, errInvalidClient()
	}
	return c, nil
}

// resolveUser loads the user a grant is for, following a linked (secondary)
// account to its primary user.
func (s *Server) resolveUser(ctx context.Context, tenantID, userID string) (*adapters.User, error) {
	u, err := s.Data.Users.Get(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	if u.LinkedTo != "" && u.LinkedTo != u.UserID {
		return s.Data.Users.Get(ctx, tenantID, u.LinkedTo)
	}
	return u, nil
}

// errUserBlocked is Auth0's answer for a blocked user.
func errUserBlocked() *Error { return oerr(http.StatusForbidden, "access_denied", "User is blocked") }
