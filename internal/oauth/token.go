package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/provision"
)

// Token serves POST /oauth/token
// (https://auth0.com/docs/api/authentication#get-token, RFC 6749 §4.4).
func (s *Server) Token(w http.ResponseWriter, r *http.Request) {
	p, e := params(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	grant := p.Get("grant_type")
	switch grant {
	case "":
		writeError(w, errInvalidRequest("grant_type is required"))
	case "client_credentials":
		s.clientCredentials(w, r, p)
	case grantAuthorizationCode:
		s.authorizationCode(w, r, p)
	case grantRefreshToken:
		s.refreshTokenGrant(w, r, p)
	case "password", GrantPasswordRealm:
		s.passwordGrant(w, r, p, grant)
	default:
		writeError(w, errUnsupportedGrant(fmt.Sprintf("grant type %q is not supported", grant)))
	}
}

// clientCredentials issues an access token to a confidential client for an
// API it has a client grant for (RFC 6749 §4.4).
func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, p map[string][]string) {
	ctx := r.Context()
	ti := tenantOf(r)
	c, e := s.authenticateClient(r, p, ti.ID(), true)
	if e != nil {
		s.eventAsync(r, logCredentialsFail, adapters.Log{ClientID: limit(first(p["client_id"])), Description: e.Description})
		writeError(w, e)
		return
	}
	fail := func(e *Error) {
		s.eventAsync(r, logCredentialsFail, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, Description: e.Description})
		writeError(w, e)
	}
	if !grantAllowed(c.Client, "client_credentials") {
		fail(oerr(statusFor(c.auth0()), "unauthorized_client", `Grant type 'client_credentials' not allowed for the client.`))
		return
	}
	audience := first(p["audience"])
	if audience == "" {
		audience = ti.Tenant.DefaultAudience
	}
	if audience == "" {
		fail(oerr(http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured"))
		return
	}
	// The tenant's "{issuer}api/v2/" (Auth0's https://{domain}/api/v2/) names
	// the Management API, whose resource server is stored under one fixed
	// identifier so it survives a change of domain.
	identifier := audience
	if audience == ti.Issuer+"api/v2/" {
		identifier = provision.ManagementAudience
	}
	rs, err := s.Data.ResourceServers.GetByIdentifier(ctx, ti.ID(), identifier)
	if errors.Is(err, adapters.ErrNotFound) {
		fail(oerr(http.StatusForbidden, "access_denied", fmt.Sprintf("Service not found: %s", audience)))
		return
	} else if err != nil {
		s.internal(w, r, "resource server lookup", err)
		return
	}
	grants, err := s.Data.ClientGrants.List(ctx, ti.ID(), adapters.ClientGrantFilter{ClientID: c.ClientID, Audience: rs.Identifier}, adapters.ListParams{})
	if err != nil {
		s.internal(w, r, "client grant lookup", err)
		return
	}
	if len(grants.Items) == 0 {
		fail(oerr(http.StatusForbidden, "access_denied",
			fmt.Sprintf(`Client is not authorized to access %q. You need to create a "client-grant" associated to this API.`, audience)))
		return
	}
	granted := grants.Items[0].Scope
	scopes := granted
	if req := strings.Fields(first(p["scope"])); len(req) > 0 {
		allowed := make(map[string]bool, len(granted))
		for _, g := range granted {
			allowed[g] = true
		}
		var missing []string
		for _, sc := range req {
			if !allowed[sc] {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			if c.auth0() {
				fail(oerr(http.StatusForbidden, "access_denied", "Client has not been granted scopes: "+strings.Join(missing, " ")))
			} else {
				fail(oerr(http.StatusBadRequest, "invalid_scope", "Client has not been granted scopes: "+strings.Join(missing, " ")))
			}
			return
		}
		scopes = dedupe(req)
	}
	lifetime := rs.TokenLifetime
	if lifetime <= 0 {
		lifetime = 86400
	}
	now := s.now()
	claims := map[string]any{
		"iss":   ti.Issuer,
		"sub":   c.ClientID + "@clients",
		"aud":   audience,
		"azp":   c.ClientID,
		"iat":   now.Unix(),
		"exp":   now.Unix() + int64(lifetime),
		"scope": strings.Join(scopes, " "),
		"gty":   "client-credentials",
		"jti":   newJTI(),
	}
	if rs.Options.TokenDialect == "access_token_authz" {
		claims["permissions"] = scopes
	}
	tok, err := s.Keys.Sign(ctx, ti.ID(), claims, "at+jwt")
	if err != nil {
		s.internal(w, r, "sign", err)
		return
	}
	s.eventAsync(r, logCredentialsOK, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, Audience: audience,
		Scope: limit(strings.Join(scopes, " ")), Description: "Client credentials for access token"})
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   lifetime,
		"scope":        strings.Join(scopes, " "),
	})
}

// first returns the first value, or "".
func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// newJTI returns a 128-bit random token id.
func newJTI() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
