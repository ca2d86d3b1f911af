package oauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/credentials"
)

// authenticatedClient is a client after client authentication.
type authenticatedClient struct {
	*adapters.Client
	// secret reports whether the client proved a secret (confidential).
	secret bool
}

// auth0 reports whether the client wants Auth0's status codes.
func (c *authenticatedClient) auth0() bool {
	return c.Auth0Conformant == nil || *c.Auth0Conformant
}

// authenticateClient identifies the client by client_secret_basic or
// client_secret_post (RFC 6749 §2.3.1). Using both is an invalid_request
// (RFC 6749 §2.3). The client must belong to the request's tenant; a client
// of another tenant, an unknown client and a wrong secret all give the same
// invalid_client. requireSecret refuses public clients.
func (s *Server) authenticateClient(r *http.Request, p url.Values, tenantID string, requireSecret bool) (*authenticatedClient, *Error) {
	id, secret := p.Get("client_id"), p.Get("client_secret")
	_, bodySecret := p["client_secret"]
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return nil, errInvalidRequest("unsupported Authorization scheme at the token endpoint")
		}
		if bodySecret {
			return nil, errInvalidRequest("use one client authentication method, not Basic and client_secret together")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return nil, errInvalidClient()
		}
		u, pw, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, errInvalidClient()
		}
		// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
		bu, err1 := url.QueryUnescape(u)
		bp, err2 := url.QueryUnescape(pw)
		if err1 != nil || err2 != nil {
			return nil, errInvalidClient()
		}
		if id != "" && id != bu {
			return nil, errInvalidRequest("client_id does not match the Authorization header")
		}
		id, secret, bodySecret = bu, bp, true
	}
	if id == "" {
		return nil, errInvalidRequest("client_id is required")
	}
	c, err := s.Data.Clients.GetByClientID(r.Context(), id)
	if err != nil && !errors.Is(err, adapters.ErrNotFound) {
		return nil, &Error{Status: 503, Code: "temporarily_unavailable", Description: "client store unavailable"}
	}
	if err != nil || c.TenantID != tenantID {
		// Spend the same work as a real comparison so timing does not tell
		// unknown clients from wrong secrets.
		credentials.Check(s.Box, &adapters.Client{ClientID: id}, secret)
		return nil, errInvalidClient()
	}
	if !bodySecret {
		if requireSecret {
			return nil, errInvalidClient()
		}
		return &authenticatedClient{Client: c}, nil
	}
	if !credentials.Check(s.Box, c, secret) {
		return nil, errInvalidClient()
	}
	return &authenticatedClient{Client: c, secret: true}, nil
}

// grantAllowed reports whether the client may use grant. An empty
// grant_types list allows the grants of its app type, as Auth0 does.
func grantAllowed(c *adapters.Client, grant string) bool {
	if len(c.GrantTypes) == 0 {
		return !(grant == "client_credentials" && (c.AppType == "spa" || c.AppType == "native"))
	}
	for _, g := range c.GrantTypes {
		if g == grant {
			return true
		}
	}
	return false
}
