package session

import (
	"net/http"
	"strings"
	"time"
)

// CookieName is the session cookie of a tenant. On https it carries the
// __Host- prefix, which browsers only accept host-only, Secure and on Path=/.
func CookieName(tenantID string, secure bool) string {
	name := "ah_session_" + tenantID
	if secure {
		return "__Host-" + name
	}
	return name
}

// Secure reports whether the tenant is served over https, judging by its
// issuer. Plain http is only for development on localhost.
func Secure(issuer string) bool { return strings.HasPrefix(issuer, "https://") }

// SetCookie sets the tenant's session cookie to id, host-only, HttpOnly,
// Path=/, expiring at expires. Over https it is Secure and SameSite=None so
// that prompt=none works from the applications' sites (in iframes and
// web_message); over plain http (development) it is SameSite=Lax.
func SetCookie(w http.ResponseWriter, tenantID, issuer, id string, expires time.Time) {
	secure := Secure(issuer)
	c := &http.Cookie{Name: CookieName(tenantID, secure), Value: id, Path: "/", HttpOnly: true, Secure: secure,
		Expires: expires.UTC(), MaxAge: int(time.Until(expires).Seconds())}
	if secure {
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = false
	} else {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.MaxAge <= 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// ClearCookie removes the tenant's session cookie.
func ClearCookie(w http.ResponseWriter, tenantID, issuer string) {
	secure := Secure(issuer)
	c := &http.Cookie{Name: CookieName(tenantID, secure), Value: "", Path: "/", HttpOnly: true, Secure: secure, MaxAge: -1,
		Expires: time.Unix(0, 0)}
	if secure {
		c.SameSite = http.SameSiteNoneMode
	} else {
		c.SameSite = http.SameSiteLaxMode
	}
	http.SetCookie(w, c)
}

// CookieValue returns the tenant's session id from the request, or "".
func CookieValue(r *http.Request, tenantID, issuer string) string {
	c, err := r.Cookie(CookieName(tenantID, Secure(issuer)))
	if err != nil || len(c.Value) > 4096 {
		return ""
	}
	return c.Value
}
