package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/authhero-go/authhero/adapters"
)

// RefreshTokenPrefix starts every refresh token: "rt_" + lookup + "." +
// secret. Only the lookup and a SHA-256 of the secret are stored.
const RefreshTokenPrefix = "rt_"

// SplitRefreshToken returns the lookup and secret parts of a refresh token.
func SplitRefreshToken(tok string) (lookup, secret string, ok bool) {
	rest, ok := strings.CutPrefix(tok, RefreshTokenPrefix)
	if !ok {
		return "", "", false
	}
	lookup, secret, ok = strings.Cut(rest, ".")
	if !ok || lookup == "" || secret == "" || len(tok) > 512 {
		return "", "", false
	}
	return lookup, secret, true
}

// HashRefreshSecret returns the stored form of a refresh token's secret.
func HashRefreshSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Revoke serves POST /oauth/revoke (RFC 7009,
// https://auth0.com/docs/api/authentication#revoke-refresh-token). The
// client must authenticate (public clients by client_id). A refresh token is
// revoked with its whole rotation family; an unknown or foreign token gets
// 200 as RFC 7009 §2.2 requires; an access token (a JWT, which cannot be
// recalled) gets unsupported_token_type.
func (s *Server) Revoke(w http.ResponseWriter, r *http.Request) {
	p, e := params(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	ti := tenantOf(r)
	c, e := s.authenticateClient(r, p, ti.ID(), false)
	if e != nil {
		writeError(w, e)
		return
	}
	if !c.secret && c.TokenEndpointAuthMethod != "none" {
		writeError(w, errInvalidClient())
		return
	}
	tok := p.Get("token")
	if tok == "" {
		writeError(w, errInvalidRequest("token is required"))
		return
	}
	if p.Get("token_type_hint") == "access_token" || strings.Count(tok, ".") == 2 && !strings.HasPrefix(tok, RefreshTokenPrefix) {
		writeError(w, oerr(http.StatusBadRequest, "unsupported_token_type", "Only refresh tokens can be revoked"))
		return
	}
	lookup, secret, ok := SplitRefreshToken(tok)
	if !ok {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	rt, err := s.Data.RefreshTokens.GetByLookup(r.Context(), ti.ID(), lookup)
	if errors.Is(err, adapters.ErrNotFound) {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	} else if err != nil {
		s.internal(w, r, "revoke lookup", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(HashRefreshSecret(secret)), []byte(rt.TokenHash)) != 1 || rt.ClientID != c.ClientID {
		// Not this client's token: do nothing, say nothing (RFC 7009 §2.1).
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	now := s.now()
	if rt.FamilyID != "" {
		_, err = s.Data.RefreshTokens.RevokeFamily(r.Context(), ti.ID(), rt.FamilyID, now)
	} else {
		_, err = s.Data.RefreshTokens.Update(r.Context(), ti.ID(), rt.ID, func(x *adapters.RefreshToken) error {
			if x.RevokedAt == nil {
				x.RevokedAt = &now
			}
			return nil
		})
	}
	if err != nil {
		s.internal(w, r, "revoke", err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
