package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/session"
)

// errRefreshRevoked aborts a non-rotating refresh whose token was revoked
// concurrently.
var errRefreshRevoked = errors.New("refresh token revoked")

// refreshTokenGrant serves grant_type=refresh_token (RFC 6749 §6,
// RFC 9700 §4.14.2, https://auth0.com/docs/api/authentication#refresh-token).
//
// The token must belong to the authenticated client, be neither revoked nor
// past its absolute or idle expiry, and its user must exist and not be
// blocked; otherwise invalid_grant "Unknown or invalid refresh token." (403
// for auth0_conformant clients, 400 otherwise) and nothing is changed. A
// token of another client or tenant never touches its family.
//
// Rotating tokens (the default) are replaced atomically by a child of the
// same family with the same absolute expiry and a fresh idle expiry. A
// rotated token presented again:
//   - after the client's leeway (refresh_token.leeway, 30 s when the client
//     has no refresh_token settings, 0-600): the whole family is revoked,
//     the newest token included, and the answer is invalid_grant;
//   - within the leeway (a retry after a lost response): the token it was
//     rotated to is itself rotated, atomically, to a new child, but only if
//     that newer token has not been used yet; otherwise invalid_grant
//     without revoking anything. So a family never has two live tokens, and
//     a retry invalidates the response it lost.
//
// Non-rotating tokens are returned unchanged, with their idle expiry and
// last_exchanged_at bumped.
//
// An optional scope narrows the new access token; it must be a subset of the
// granted scopes (else invalid_scope). The refresh token keeps its scopes.
func (s *Server) refreshTokenGrant(w http.ResponseWriter, r *http.Request, p url.Values) {
	ctx := r.Context()
	ti := tenantOf(r)
	now := s.now()
	c, tok, fail := s.startGrant(w, r, p, grantRefreshToken, logRefreshExchangeFail, "refresh_token")
	if c == nil {
		return
	}
	bad := func(userID, why string) {
		fail(oerr(statusFor(c.auth0()), "invalid_grant", refreshDescription), userID, why)
	}
	lookup, secret, ok := SplitRefreshToken(tok)
	if !ok {
		bad("", "malformed refresh token")
		return
	}
	rt, err := s.Data.RefreshTokens.GetByLookup(ctx, ti.ID(), lookup)
	if errors.Is(err, adapters.ErrNotFound) {
		bad("", "unknown refresh token")
		return
	} else if err != nil {
		s.internal(w, r, "refresh lookup", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(HashRefreshSecret(secret)), []byte(rt.TokenHash)) != 1 {
		bad("", "unknown refresh token")
		return
	}
	if rt.ClientID != c.ClientID {
		bad("", "refresh token of another client")
		return
	}
	if rt.RevokedAt != nil {
		bad(rt.UserID, "refresh token revoked")
		return
	}
	if rt.ExpiresAt != nil && !now.Before(*rt.ExpiresAt) {
		bad(rt.UserID, "refresh token expired")
		return
	}
	if rt.IdleExpiresAt != nil && !now.Before(*rt.IdleExpiresAt) {
		bad(rt.UserID, "refresh token expired (idle)")
		return
	}
	u, err := s.resolveUser(ctx, ti.ID(), rt.UserID)
	if errors.Is(err, adapters.ErrNotFound) {
		bad(rt.UserID, "user of the refresh token not found")
		return
	} else if err != nil {
		s.internal(w, r, "refresh user lookup", err)
		return
	}
	if u.Blocked {
		fail(oerr(statusFor(c.auth0()), "invalid_grant", "User is blocked"), u.UserID, "user is blocked")
		return
	}

	var granted []string
	aud := ""
	if len(rt.ResourceServers) > 0 {
		aud = rt.ResourceServers[0].Audience
		granted = strings.Fields(rt.ResourceServers[0].Scopes)
	}
	scopes := granted
	if req := strings.Fields(p.Get("scope")); len(req) > 0 {
		var extra []string
		for _, sc := range req {
			if !hasScope(granted, sc) {
				extra = append(extra, sc)
			}
		}
		if len(extra) > 0 {
			fail(oerr(statusFor(c.auth0()), "invalid_scope", "The requested scope exceeds the granted scope: "+limit(strings.Join(extra, " "))),
				u.UserID, "scope exceeds the granted scope")
			return
		}
		scopes = dedupe(req)
	}
	// A token minted for /userinfo at another of the tenant's hosts (custom
	// domain) stays a /userinfo token here.
	if aud == "" || strings.HasSuffix(aud, "/userinfo") {
		aud = ti.Issuer + "userinfo"
	}
	aud, rs, e, err := s.resolveAudience(ctx, ti, aud)
	if err != nil {
		s.internal(w, r, "refresh audience lookup", err)
		return
	} else if e != nil {
		fail(e, u.UserID, e.Description)
		return
	}

	wire := tok
	if rt.Rotating || (c.RefreshToken != nil && c.RefreshToken.RotationType == "rotating") {
		var refused string
		wire, refused, err = s.rotateRefresh(ctx, r, ti.ID(), c.Client, rt, now)
		if err != nil {
			s.internal(w, r, "refresh rotation", err)
			return
		}
		if refused != "" {
			bad(u.UserID, refused)
			return
		}
	} else {
		_, idle, _ := refreshPolicy(c.Client)
		ip, ua := requestIP(r), limitUA(r.UserAgent())
		_, err := s.Data.RefreshTokens.Update(ctx, ti.ID(), rt.ID, func(x *adapters.RefreshToken) error {
			if x.RevokedAt != nil {
				return errRefreshRevoked
			}
			x.IdleExpiresAt = idleExpiry(now, idle, x.ExpiresAt)
			x.LastExchangedAt = &now
			x.Device.LastIP, x.Device.LastUserAgent = ip, ua
			return nil
		})
		if errors.Is(err, errRefreshRevoked) || errors.Is(err, adapters.ErrNotFound) {
			bad(u.UserID, "refresh token revoked")
			return
		} else if err != nil {
			s.internal(w, r, "refresh bump", err)
			return
		}
	}

	// The session id and auth_time come from the family's login, while its
	// login transaction is kept.
	var sid string
	var authTime *time.Time
	if rt.LoginID != "" {
		if login, err := s.Sessions.GetLogin(ctx, ti.ID(), rt.LoginID); err == nil {
			sid, authTime = SessionSID(session.StableID(s.Sessions, ti.ID(), login.SessionID)), login.AuthenticatedAt
			if login.SessionID != "" {
				if sess, err := s.Sessions.GetSession(ctx, ti.ID(), login.SessionID); err == nil {
					authTime = &sess.AuthenticatedAt
				}
			}
		} else if !errors.Is(err, adapters.ErrNotFound) {
			s.internal(w, r, "refresh login lookup", err)
			return
		}
	}
	ts, err := s.mint(ctx, ti, userToken{client: c, user: u, scopes: scopes, audience: aud, rs: rs, sid: sid, authTime: authTime})
	if err != nil {
		s.internal(w, r, "refresh mint", err)
		return
	}
	s.event(r, logRefreshExchangeOK, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: u.UserID,
		UserName: userName(u), Audience: aud, Scope: ts.scope, Description: "Refresh Token for Access Token"})
	writeJSON(w, http.StatusOK, ts.response(wire))
}

// rotateRefresh replaces rt by a new token of its family and returns the new
// wire token, or why the presentation is refused (a reuse). See
// refreshTokenGrant for the rules.
func (s *Server) rotateRefresh(ctx context.Context, r *http.Request, tenantID string, c *adapters.Client, rt *adapters.RefreshToken, now time.Time) (wire, refused string, err error) {
	_, idle, leeway := refreshPolicy(c)
	ip, ua := requestIP(r), limitUA(r.UserAgent())
	child := func(parent *adapters.RefreshToken) (adapters.RefreshToken, string) {
		w, lookup, hashed := newRefreshWire()
		fam := parent.FamilyID
		if fam == "" {
			fam = parent.ID
		}
		dev := parent.Device
		dev.LastIP, dev.LastUserAgent = ip, ua
		return adapters.RefreshToken{
			ID: adapters.NewULID(), FamilyID: fam, LoginID: parent.LoginID, UserID: parent.UserID, ClientID: parent.ClientID,
			TokenLookup: lookup, TokenHash: hashed, Rotating: true, Device: dev, ResourceServers: parent.ResourceServers,
			ExpiresAt: parent.ExpiresAt, IdleExpiresAt: idleExpiry(now, idle, parent.ExpiresAt), LastExchangedAt: &now,
		}, w
	}
	old := rt
	if old.RotatedAt == nil {
		next, w := child(old)
		got, err := s.Data.RefreshTokens.Rotate(ctx, tenantID, old.ID, next, now)
		if err == nil {
			return w, "", nil
		}
		if !errors.Is(err, adapters.ErrConsumed) {
			return "", "", err
		}
		// Lost a race with a concurrent use (or a revocation): treat it as
		// a reuse of the state that won.
		if got != nil {
			old = got
		}
		if old.RotatedAt == nil {
			return "", "refresh token revoked", nil
		}
	}
	if old.RevokedAt != nil {
		return "", "refresh token revoked", nil
	}
	if now.Sub(*old.RotatedAt) > leeway {
		fam := old.FamilyID
		if fam == "" {
			fam = old.ID
		}
		n, err := s.Data.RefreshTokens.RevokeFamily(ctx, tenantID, fam, now)
		if err != nil {
			return "", "", err
		}
		return "", fmt.Sprintf("reuse of a rotated refresh token after the %s leeway: %d token(s) of its family revoked", leeway, n), nil
	}
	if old.RotatedTo == "" {
		return "", "reuse of a rotated refresh token within the leeway, without a successor", nil
	}
	kid, err := s.Data.RefreshTokens.Get(ctx, tenantID, old.RotatedTo)
	if errors.Is(err, adapters.ErrNotFound) {
		return "", "reuse of a rotated refresh token within the leeway, its successor is gone", nil
	} else if err != nil {
		return "", "", err
	}
	if kid.RevokedAt != nil || kid.RotatedAt != nil {
		return "", "reuse of a rotated refresh token within the leeway, but its successor was already used", nil
	}
	next, w := child(kid)
	if _, err := s.Data.RefreshTokens.Rotate(ctx, tenantID, kid.ID, next, now); errors.Is(err, adapters.ErrConsumed) {
		return "", "reuse of a rotated refresh token within the leeway, but its successor was used concurrently", nil
	} else if err != nil {
		return "", "", err
	}
	return w, "", nil
}

// limitUA bounds a user agent before it is stored.
func limitUA(ua string) string {
	if len(ua) > 512 {
		return ua[:512]
	}
	return ua
}
