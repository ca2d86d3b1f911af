package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/internal/provision"
)

// GrantPasswordRealm is Auth0's resource-owner password grant with a realm
// (connection) parameter
// (https://auth0.com/docs/api/authentication#resource-owner-password).
const GrantPasswordRealm = "http://auth0.com/oauth/grant-type/password-realm"

// wrongCredentials is the one answer for an unknown user and a wrong
// password alike, so that responses do not reveal which accounts exist.
const wrongCredentials = "Wrong email or password."

// passwordGrant serves grant_type=password (RFC 6749 §4.3) and Auth0's
// password-realm grant
// (https://auth0.com/docs/api/authentication#resource-owner-password).
//
// Only clients whose grant_types list the grant explicitly may use it
// (RFC 9700 §2.4 discourages it). The realm (default: the tenant's
// default_directory, else Username-Password-Authentication) must be a
// database connection enabled for the client. Failed attempts are counted
// per (tenant, username, IP): after bruteforce.DefaultMax failures that IP
// gets 429 too_many_attempts for that user, other IPs are unaffected. An
// unknown user and a wrong password get the same 403 (400 for
// non-auth0_conformant clients) invalid_grant "Wrong email or password.";
// only the audit log (fu / fp) tells them apart. No SSO session is created,
// so the tokens carry no sid.
func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request, p url.Values, grant string) {
	ctx := r.Context()
	ti := tenantOf(r)
	if s.Accounts == nil {
		writeError(w, errUnsupportedGrant("grant type \""+grant+"\" is not supported"))
		return
	}
	c, e := s.grantClient(r, p, ti.ID())
	if e != nil {
		s.event(r, logLoginFail, adapters.Log{ClientID: limit(p.Get("client_id")), Description: e.Description})
		writeError(w, e)
		return
	}
	ev := func(typ, userID, username, conn, why string) {
		s.event(r, typ, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: userID, UserName: limit(username),
			Connection: limit(conn), Description: why})
	}
	if !slices.Contains(c.GrantTypes, grant) {
		ev(logLoginFail, "", "", "", "grant type not allowed")
		writeError(w, oerr(statusFor(c.auth0()), "unauthorized_client", "Grant type '"+grant+"' not allowed for the client."))
		return
	}
	username, password := p.Get("username"), p.Get("password")
	if username == "" || password == "" {
		ev(logLoginFail, "", username, "", "missing username or password")
		writeError(w, errInvalidRequest("Missing required parameter: username and password are required"))
		return
	}
	realm := ""
	if grant == GrantPasswordRealm {
		realm = p.Get("realm")
	}
	if realm == "" {
		realm = ti.Tenant.DefaultDirectory
	}
	if realm == "" {
		realm = provision.DefaultConnection
	}
	conn, err := s.Data.Connections.GetByName(ctx, ti.ID(), realm)
	if errors.Is(err, adapters.ErrNotFound) || err == nil && !accounts.IsDatabase(conn) {
		ev(logLoginFail, "", username, realm, "unknown or non-database realm")
		writeError(w, errInvalidRequest("Unknown realm: "+limit(realm)))
		return
	} else if err != nil {
		s.internal(w, r, "password realm lookup", err)
		return
	}
	if len(conn.EnabledClients) > 0 && !slices.Contains(conn.EnabledClients, c.ClientID) {
		ev(logLoginFail, "", username, realm, "connection not enabled for the client")
		writeError(w, oerr(statusFor(c.auth0()), "unauthorized_client", "The connection is not enabled for this client."))
		return
	}

	key := bruteforce.Key(ti.ID(), strings.ToLower(strings.TrimSpace(username)), requestIP(r))
	if s.Limiter != nil {
		if blocked, _ := s.Limiter.Blocked(key); blocked {
			ev(logBlocked, "", username, realm, "too many failed logins for this user from this IP")
			writeError(w, oerr(http.StatusTooManyRequests, "too_many_attempts",
				"Your account has been blocked after multiple consecutive login attempts."))
			return
		}
	}
	u, err := s.Accounts.Login(ctx, ti.ID(), realm, username, password)
	if errors.Is(err, accounts.ErrBadCredentials) {
		if s.Limiter != nil {
			s.Limiter.Fail(key)
		}
		// Which of the two it was is for the log only; the lookup is made
		// in both cases so it costs the same.
		typ, userID, why := logUnknownUser, "", "unknown user"
		if known, ferr := s.Accounts.FindByIdentifier(ctx, ti.ID(), realm, username); ferr == nil {
			typ, userID, why = logWrongPassword, known.UserID, "wrong password"
		}
		ev(typ, userID, username, realm, why)
		writeError(w, oerr(statusFor(c.auth0()), "invalid_grant", wrongCredentials))
		return
	} else if err != nil {
		s.internal(w, r, "password login", err)
		return
	}
	if s.Limiter != nil {
		s.Limiter.Reset(key)
	}
	if u.Blocked {
		ev(logLoginFail, u.UserID, username, realm, "user is blocked")
		writeError(w, errUserBlocked())
		return
	}
	if u, err = s.resolveUser(ctx, ti.ID(), u.UserID); err != nil {
		s.internal(w, r, "password user lookup", err)
		return
	}
	if _, err := s.Accounts.RecordLogin(ctx, ti.ID(), u.UserID, requestIP(r)); err != nil {
		s.log().WarnContext(ctx, "oauth: cannot record login", "err", err)
	}
	scopes := dedupe(strings.Fields(p.Get("scope")))
	aud, rs, e, err := s.resolveAudience(ctx, ti, p.Get("audience"))
	if err != nil {
		s.internal(w, r, "password audience lookup", err)
		return
	} else if e != nil {
		ev(logLoginFail, u.UserID, username, realm, e.Description)
		writeError(w, e)
		return
	}
	now := s.now()
	ts, err := s.mint(ctx, ti, userToken{client: c, user: u, scopes: scopes, audience: aud, rs: rs, authTime: &now, gty: "password"})
	if err != nil {
		s.internal(w, r, "password mint", err)
		return
	}
	var refresh string
	if refreshAllowed(c.Client, scopes) {
		if refresh, err = s.issueRefresh(ctx, r, ti.ID(), c.Client, u.UserID, "", aud, scopes); err != nil {
			s.internal(w, r, "password refresh token", err)
			return
		}
	}
	s.event(r, logLoginOK, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: u.UserID, UserName: userName(u),
		Connection: conn.Name, ConnectionID: conn.ID, Strategy: conn.Strategy, StrategyType: "database",
		Audience: aud, Scope: ts.scope, Description: "Successful login (" + grant + ")"})
	writeJSON(w, http.StatusOK, ts.response(refresh))
}
