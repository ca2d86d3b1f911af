package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// authorizationCode serves grant_type=authorization_code (RFC 6749 §4.1.3,
// RFC 7636 §4.6, OpenID Connect Core §3.1.3,
// https://auth0.com/docs/api/authentication#authorization-code-flow).
//
// The code is consumed before anything else is checked, so a failed attempt
// (wrong verifier, wrong redirect_uri, another client) burns it: a code
// cannot be tried twice. A code presented again is a sign it leaked: the
// refresh tokens issued from its login are revoked (RFC 6749 §4.1.2,
// RFC 9700 §4.2.4). Every problem with the code answers the same
// invalid_grant "Invalid authorization code", 403 for auth0_conformant
// clients and 400 otherwise; the audit log says which check failed.
func (s *Server) authorizationCode(w http.ResponseWriter, r *http.Request, p url.Values) {
	ctx := r.Context()
	ti := tenantOf(r)
	now := s.now()
	c, code, fail := s.startGrant(w, r, p, grantAuthorizationCode, logCodeExchangeFail, "code")
	if c == nil {
		return
	}
	bad := func(userID, why string) {
		fail(oerr(statusFor(c.auth0()), "invalid_grant", authCodeDescription), userID, why)
	}
	if len(code) > 256 {
		bad("", "malformed authorization code")
		return
	}
	cd, err := s.Data.Codes.Consume(ctx, ti.ID(), adapters.CodeAuthorization, code, now)
	switch {
	case errors.Is(err, adapters.ErrNotFound):
		bad("", "unknown authorization code")
		return
	case errors.Is(err, adapters.ErrConsumed):
		why := "authorization code reused"
		if cd != nil && cd.LoginID != "" {
			n, rerr := s.Data.RefreshTokens.RevokeByLogin(ctx, ti.ID(), cd.LoginID, now)
			if rerr != nil {
				s.log().ErrorContext(ctx, "oauth: revoke tokens of a reused code", "err", rerr)
				why += "; revoking its refresh tokens failed"
			} else {
				why += fmt.Sprintf("; %d refresh token(s) issued from it revoked", n)
			}
		}
		userID := ""
		if cd != nil {
			userID = cd.UserID
		}
		bad(userID, why)
		return
	case err != nil:
		s.internal(w, r, "consume code", err)
		return
	}
	if !now.Before(cd.ExpiresAt) {
		bad(cd.UserID, "authorization code expired")
		return
	}
	login, err := s.Sessions.GetLogin(ctx, ti.ID(), cd.LoginID)
	if errors.Is(err, adapters.ErrNotFound) {
		bad(cd.UserID, "login transaction of the code not found")
		return
	} else if err != nil {
		s.internal(w, r, "code login lookup", err)
		return
	}
	if login.AuthParams.ClientID != c.ClientID {
		bad(cd.UserID, "authorization code was issued to another client")
		return
	}
	// RFC 6749 §4.1.3: redirect_uri is required, and identical, when the
	// authorization request carried one.
	if cd.RedirectURI != "" && p.Get("redirect_uri") != cd.RedirectURI {
		bad(cd.UserID, "redirect_uri does not match the authorization request")
		return
	}
	if why := checkPKCE(cd, p.Get("code_verifier"), isPublic(c.Client)); why != "" {
		bad(cd.UserID, why)
		return
	}
	userID := cd.UserID
	if userID == "" {
		userID = login.UserID
	} else if login.UserID != "" && login.UserID != userID {
		bad(cd.UserID, "code and login transaction name different users")
		return
	}
	if userID == "" {
		bad("", "authorization code names no user")
		return
	}

	var sess *adapters.Session
	authTime := login.AuthenticatedAt
	if login.SessionID != "" {
		sess, err = s.Sessions.GetSession(ctx, ti.ID(), login.SessionID)
		if errors.Is(err, adapters.ErrNotFound) {
			bad(userID, "session of the code not found")
			return
		} else if err != nil {
			s.internal(w, r, "code session lookup", err)
			return
		}
		if !session.Usable(sess, now) || sess.UserID != userID {
			bad(userID, "session of the code was revoked or expired")
			return
		}
		authTime = &sess.AuthenticatedAt
	}

	u, err := s.resolveUser(ctx, ti.ID(), userID)
	if errors.Is(err, adapters.ErrNotFound) {
		bad(userID, "user of the code not found")
		return
	} else if err != nil {
		s.internal(w, r, "code user lookup", err)
		return
	}
	if u.Blocked {
		fail(errUserBlocked(), u.UserID, "user is blocked")
		return
	}
	scopes := dedupe(strings.Fields(login.AuthParams.Scope))
	aud, rs, e, err := s.resolveAudience(ctx, ti, login.AuthParams.Audience)
	if err != nil {
		s.internal(w, r, "code audience lookup", err)
		return
	} else if e != nil {
		fail(e, u.UserID, e.Description)
		return
	}
	nonce := cd.Nonce
	if nonce == "" {
		nonce = login.AuthParams.Nonce
	}
	ts, err := s.mint(ctx, ti, userToken{client: c, user: u, scopes: scopes, audience: aud, rs: rs,
		sid: SessionSID(session.StableID(s.Sessions, ti.ID(), login.SessionID)), authTime: authTime, nonce: nonce})
	if err != nil {
		s.internal(w, r, "code mint", err)
		return
	}
	var refresh string
	if refreshAllowed(c.Client, scopes) {
		if refresh, err = s.issueRefresh(ctx, r, ti.ID(), c.Client, u.UserID, cd.LoginID, aud, scopes); err != nil {
			s.internal(w, r, "code refresh token", err)
			return
		}
	}
	if sess != nil && !slices.Contains(sess.Clients, c.ClientID) {
		_, err := s.Sessions.UpdateSession(ctx, ti.ID(), sess.ID, func(x *adapters.Session) error {
			if !slices.Contains(x.Clients, c.ClientID) {
				x.Clients = append(x.Clients, c.ClientID)
			}
			return nil
		})
		if err != nil {
			s.log().WarnContext(ctx, "oauth: cannot add the client to the session", "err", err)
		}
	}
	s.event(r, logCodeExchangeOK, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: u.UserID,
		UserName: userName(u), Audience: aud, Scope: ts.scope, Description: "Authorization Code for Access Token"})
	writeJSON(w, http.StatusOK, ts.response(refresh))
}

// checkPKCE checks the code_verifier against the stored challenge (RFC 7636
// §4.6) and returns why it fails, or "". Only S256 is accepted. A verifier
// sent for a code without a challenge is refused (PKCE downgrade,
// RFC 9700 §4.8.2), and a public client must have used PKCE (RFC 9700
// §2.1.1).
func checkPKCE(cd *adapters.Code, verifier string, public bool) string {
	if cd.CodeChallenge == "" {
		if verifier != "" {
			return "code_verifier sent but the authorization request had no code_challenge"
		}
		if public {
			return "public clients must use PKCE"
		}
		return ""
	}
	if cd.CodeChallengeMethod != "S256" {
		return "unsupported code_challenge_method " + limit(cd.CodeChallengeMethod)
	}
	if verifier == "" {
		return "code_verifier is required"
	}
	if !validVerifier(verifier) {
		return "malformed code_verifier"
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(cd.CodeChallenge)) != 1 {
		return "code_verifier does not match the code_challenge"
	}
	return ""
}

// validVerifier reports whether v is 43 to 128 characters of
// [A-Za-z0-9-._~] (RFC 7636 §4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// userName is the name Auth0 logs show for a user.
func userName(u *adapters.User) string {
	switch {
	case u.Email != "":
		return u.Email
	case u.Username != "":
		return u.Username
	}
	return u.Name
}

// limit shortens attacker-chosen text before it is logged.
func limit(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}
