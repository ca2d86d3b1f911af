package oauth

import (
	"net/http"
)

// discoveryCache is the Cache-Control of discovery and JWKS: five minutes,
// as AuthHero and Auth0 do. Rotation publishes the next key ahead of use, so
// a cached key set never lacks the signing key.
const discoveryCache = "public, max-age=300, stale-while-revalidate=600"

// Discovery serves /.well-known/openid-configuration for the request's tenant
// (OpenID Connect Discovery 1.0 §3). It lists only what is implemented.
func (s *Server) Discovery(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	iss := ti.Issuer
	alg := ti.Tenant.SigningAlg
	if alg == "" {
		alg = "RS256"
	}
	doc := map[string]any{
		"issuer":                                     iss,
		"authorization_endpoint":                     iss + "authorize",
		"token_endpoint":                             iss + "oauth/token",
		"userinfo_endpoint":                          iss + "userinfo",
		"jwks_uri":                                   iss + ".well-known/jwks.json",
		"revocation_endpoint":                        iss + "oauth/revoke",
		"end_session_endpoint":                       iss + "oidc/logout",
		"grant_types_supported":                      []string{"authorization_code", "refresh_token", "client_credentials", "password", GrantPasswordRealm},
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query", "fragment", "form_post", "web_message"},
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{alg},
		"scopes_supported":                           []string{"openid", "profile", "email", "offline_access"},
		"claims_supported":                           []string{"sub", "iss", "aud", "exp", "iat", "name", "nickname", "picture", "email", "email_verified", "updated_at"},
	}
	w.Header().Set("Cache-Control", discoveryCache)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeBody(w, doc)
}

// JWKS serves /.well-known/jwks.json: the tenant's public signing keys
// (RFC 7517), never another tenant's.
func (s *Server) JWKS(w http.ResponseWriter, r *http.Request) {
	b, err := s.Keys.JWKS(r.Context(), tenantOf(r).ID())
	if err != nil {
		s.internal(w, r, "jwks", err)
		return
	}
	w.Header().Set("Cache-Control", discoveryCache)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(b)
}
