package oauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authhero-go/authhero/adapters"
)

// bearerError is a 401/403 with an RFC 6750 §3 challenge.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="userinfo"`
	if code != "" {
		ch += `, error="` + code + `", error_description="` + desc + `"`
	}
	w.Header().Set("WWW-Authenticate", ch)
	if code == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, &Error{Code: code, Description: desc})
}

// bearerToken returns the access token of an RFC 6750 request: the
// Authorization header, or access_token in a POST form body.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// UserInfo serves /userinfo (OpenID Connect Core §5.3): the claims of the
// user an access token of this tenant was issued for.
func (s *Server) UserInfo(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	tok := bearerToken(r)
	if tok == "" {
		bearerError(w, http.StatusUnauthorized, "", "")
		return
	}
	claims, err := s.Keys.Verify(r.Context(), ti.ID(), tok, "at+jwt")
	if err != nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid")
		return
	}
	if iss, _ := claims["iss"].(string); iss != ti.Issuer {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token was not issued by this tenant")
		return
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || strings.HasSuffix(sub, "@clients") {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token does not identify a user")
		return
	}
	scope, _ := claims["scope"].(string)
	scopes := map[string]bool{}
	for _, s := range strings.Fields(scope) {
		scopes[s] = true
	}
	if !scopes["openid"] {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "The access token lacks the openid scope")
		return
	}
	u, err := s.Data.Users.Get(r.Context(), ti.ID(), sub)
	if errors.Is(err, adapters.ErrNotFound) {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists")
		return
	} else if err != nil {
		s.internal(w, r, "userinfo user lookup", err)
		return
	}
	if u.Blocked {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The user is blocked")
		return
	}
	writeJSON(w, http.StatusOK, UserClaims(u, scopes))
}

// UserClaims returns the OIDC standard claims of u that the scopes release
// (OpenID Connect Core §5.4).
func UserClaims(u *adapters.User, scopes map[string]bool) map[string]any {
	c := map[string]any{"sub": u.UserID}
	put := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	if scopes["profile"] {
		put("name", u.Name)
		put("given_name", u.GivenName)
		put("family_name", u.FamilyName)
		put("middle_name", u.MiddleName)
		put("nickname", u.Nickname)
		put("preferred_username", u.PreferredUsername)
		put("profile", u.Profile)
		put("picture", u.Picture)
		put("website", u.Website)
		put("gender", u.Gender)
		put("birthdate", u.Birthdate)
		put("zoneinfo", u.Zoneinfo)
		put("locale", u.Locale)
		c["updated_at"] = u.UpdatedAt.Unix()
	}
	if scopes["email"] && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if scopes["phone"] && u.PhoneNumber != "" {
		c["phone_number"] = u.PhoneNumber
		c["phone_number_verified"] = u.PhoneVerified
	}
	if scopes["address"] && u.Address != nil {
		c["address"] = u.Address
	}
	return c
}
