package oauth

import (
	"context"
	"net/http"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/tenant"
)

// Auth0 log event type codes written by the grants, logout and
// /dbconnections (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes).
const (
	logCredentialsOK       = "seccft"   // success exchange: client credentials for access token
	logCredentialsFail     = "feccft"   // failed exchange: client credentials for access token
	logCodeExchangeOK      = "seacft"   // success exchange: authorization code for access token
	logCodeExchangeFail    = "feacft"   // failed exchange: authorization code for access token
	logRefreshExchangeOK   = "sertft"   // success exchange: refresh token for access token
	logRefreshExchangeFail = "fertft"   // failed exchange: refresh token for access token
	logLoginOK             = "s"        // success login
	logLoginFail           = "f"        // failed login (not a credential problem)
	logWrongPassword       = "fp"       // failed login: incorrect password
	logUnknownUser         = "fu"       // failed login: invalid email/username
	logBlocked             = "limit_wc" // account blocked for this IP after too many failures
	logLogout              = "slo"      // success logout
	logSignupOK            = "ss"       // success signup
	logSignupFail          = "fs"       // failed signup
	logChangePasswordReq   = "scpr"     // success change password request
	logChangePasswordFail  = "fcpr"     // failed change password request
)

// event writes an audit log entry of Auth0 type typ for the request. l
// carries the event's own fields (client, user, description, details); the
// date, IP, user agent and host name come from the request. A failing log
// store is reported to the operational logger and never fails the request.
func (s *Server) event(r *http.Request, typ string, l adapters.Log) {
	if s.Data == nil || s.Data.Logs == nil {
		return
	}
	ti := tenantOf(r)
	if ti == nil {
		return
	}
	l = s.stamp(r, ti.Host, typ, l)
	if _, err := s.Data.Logs.Create(context.WithoutCancel(r.Context()), ti.ID(), l); err != nil {
		s.log().WarnContext(r.Context(), "oauth: cannot write log", "type", typ, "err", err)
	}
}

// stamp fills the fields every log entry takes from the request.
func (s *Server) stamp(r *http.Request, host, typ string, l adapters.Log) adapters.Log {
	l.Type = typ
	l.Date = s.now()
	l.IP = requestIP(r)
	l.UserAgent = limitUA(r.UserAgent())
	l.Hostname = host
	if len(l.Description) > 1000 {
		l.Description = l.Description[:1000]
	}
	return l
}

// requestIP is the end user's address: the peer, or behind a trusted proxy
// the forwarded address (tenant.ClientIP). Headers from untrusted peers are
// never believed, so the brute-force limiter cannot be steered by a client.
func requestIP(r *http.Request) string {
	return tenant.ClientIP(r)
}
