package management

import (
	"context"
	"net/http"
	"strings"

	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/tenant"
)

// token is an authenticated management access token.
type token struct {
	tenantID string
	clientID string
	subject  string
	scopes   map[string]bool
}

func unauthorized(msg string) *apiError {
	e := newErr(http.StatusUnauthorized, "", "%s", msg)
	e.Attributes = map[string]string{"error": msg}
	return e
}

// authenticate verifies the bearer token: signed by a key of a tenant, of
// type at+jwt, issued by that tenant, for the Management API audience. A
// token of the request's tenant passes; a valid token of another tenant is a
// 403 (it is never used to read or change anything here).
func (s *Server) authenticate(r *http.Request, ti *tenant.Info) (*token, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, unauthorized("Missing authentication")
	}
	raw = strings.TrimSpace(raw)
	ctx := r.Context()
	claims, err := s.Keys.Verify(ctx, ti.ID(), raw, "at+jwt")
	if err != nil {
		if other := s.otherTenant(ctx, ti, raw); other != "" {
			return nil, newErr(http.StatusForbidden, "cross_tenant", "This token belongs to another tenant")
		}
		return nil, unauthorized("Invalid token")
	}
	if iss, _ := claims["iss"].(string); iss != ti.Issuer {
		return nil, unauthorized("Invalid token")
	}
	if !audienceOK(claims["aud"], ti.Issuer) {
		return nil, unauthorized("Invalid audience")
	}
	t := &token{tenantID: ti.ID(), scopes: map[string]bool{}}
	t.subject, _ = claims["sub"].(string)
	t.clientID, _ = claims["azp"].(string)
	if sc, ok := claims["scope"].(string); ok {
		for _, v := range strings.Fields(sc) {
			t.scopes[v] = true
		}
	}
	if perms, ok := claims["permissions"].([]any); ok {
		for _, p := range perms {
			if v, ok := p.(string); ok {
				t.scopes[v] = true
			}
		}
	}
	return t, nil
}

// otherTenant reports the tenant whose key signed raw, when it is a valid
// management token of a tenant other than ti's. It looks the kid up in the
// key store, so it never trusts the token's own claims.
func (s *Server) otherTenant(ctx context.Context, ti *tenant.Info, raw string) string {
	kid := unverifiedKid(raw)
	if kid == "" || s.Data.Keys == nil {
		return ""
	}
	k, err := s.Data.Keys.Get(ctx, kid)
	if err != nil || k.TenantID == ti.ID() {
		return ""
	}
	if _, err := s.Keys.Verify(ctx, k.TenantID, raw, "at+jwt"); err != nil {
		return ""
	}
	return k.TenantID
}

func audienceOK(aud any, issuer string) bool {
	ok := func(a string) bool { return a == provision.ManagementAudience || a == issuer+"api/v2/" }
	switch v := aud.(type) {
	case string:
		return ok(v)
	case []string:
		for _, a := range v {
			if ok(a) {
				return true
			}
		}
	case []any:
		for _, a := range v {
			if s, _ := a.(string); ok(s) {
				return true
			}
		}
	}
	return false
}

// require checks that the token has scope (a route may list alternatives
// separated by "|").
func (t *token) require(scope string) *apiError {
	if scope == "" {
		return nil
	}
	for _, s := range strings.Split(scope, "|") {
		if t.scopes[s] {
			return nil
		}
	}
	return newErr(http.StatusForbidden, "insufficient_scope", "Insufficient scope, expected any of: %s", strings.ReplaceAll(scope, "|", ","))
}

func (t *token) has(scope string) bool { return t.scopes[scope] }
