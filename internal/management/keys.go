package management

import (
	"errors"
	"net/http"

	"github.com/authhero-go/authhero/adapters"
)

func (s *Server) keyRoutes() {
	s.handle("GET /api/v2/keys/signing", "read:signing_keys", s.listSigningKeys)
	s.handle("GET /api/v2/keys/signing/{kid}", "read:signing_keys", s.getSigningKey)
	s.handle("POST /api/v2/keys/signing/rotate", "create:signing_keys", s.rotateSigningKey)
	s.handle("PUT /api/v2/keys/signing/{kid}/revoke", "update:signing_keys", s.revokeSigningKey)
}

// errNoCurrentKey means a rotation left the tenant without a current key.
var errNoCurrentKey = errors.New("management: no current signing key after rotation")

// signingKeyOut is a signing key as /api/v2/keys/signing shows it: public
// material only, with Auth0's revoked flag.
type signingKeyOut struct {
	adapters.SigningKey
	Revoked bool `json:"revoked"`
}

func (s *Server) signingKeyOut(k adapters.SigningKey) signingKeyOut {
	k.TenantID, k.PrivateKeyEncrypted = "", ""
	return signingKeyOut{SigningKey: k, Revoked: k.RevokedAt != nil && !k.RevokedAt.After(s.now())}
}

// keyRef is the body of rotate and revoke: the key's cert and kid.
type keyRef struct {
	Cert string `json:"cert"`
	Kid  string `json:"kid"`
}

func (s *Server) listSigningKeys(r *http.Request, c *call) (int, any, *apiError) {
	keys, err := s.Keys.List(r.Context(), c.tenantID())
	if err != nil {
		return 0, nil, s.internal(r, "signing keys", err)
	}
	out := make([]signingKeyOut, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.signingKeyOut(k))
	}
	return http.StatusOK, out, nil
}

// findSigningKey returns the tenant's key kid; another tenant's kid is not
// found.
func (s *Server) findSigningKey(r *http.Request, tenantID, kid string) (*adapters.SigningKey, *apiError) {
	keys, err := s.Keys.List(r.Context(), tenantID)
	if err != nil {
		return nil, s.internal(r, "signing keys", err)
	}
	for i := range keys {
		if keys[i].Kid == kid && keys[i].TenantID == tenantID {
			return &keys[i], nil
		}
	}
	return nil, notFound("signing key")
}

func (s *Server) getSigningKey(r *http.Request, c *call) (int, any, *apiError) {
	k, e := s.findSigningKey(r, c.tenantID(), r.PathValue("kid"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.signingKeyOut(*k), nil
}

// rotateSigningKey is POST /api/v2/keys/signing/rotate: the next key becomes
// current (the old one stays published for the overlap) and the new current
// key is returned.
func (s *Server) rotateSigningKey(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.Keys.Rotate(r.Context(), c.tenantID()); err != nil {
		return 0, nil, s.fail(r, err, "signing key")
	}
	keys, err := s.Keys.List(r.Context(), c.tenantID())
	if err != nil {
		return 0, nil, s.internal(r, "signing keys", err)
	}
	for _, k := range keys {
		if k.Current && k.TenantID == c.tenantID() {
			return http.StatusCreated, keyRef{Cert: k.Cert, Kid: k.Kid}, nil
		}
	}
	return 0, nil, s.internal(r, "rotate", errNoCurrentKey)
}

// revokeSigningKey is PUT /api/v2/keys/signing/{kid}/revoke: the key leaves
// the JWKS at once; revoking the current key promotes the next one.
func (s *Server) revokeSigningKey(r *http.Request, c *call) (int, any, *apiError) {
	k, e := s.findSigningKey(r, c.tenantID(), r.PathValue("kid"))
	if e != nil {
		return 0, nil, e
	}
	if err := s.Keys.Revoke(r.Context(), c.tenantID(), k.Kid); err != nil {
		return 0, nil, s.fail(r, err, "signing key")
	}
	return http.StatusOK, keyRef{Cert: k.Cert, Kid: k.Kid}, nil
}
