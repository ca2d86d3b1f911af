package login

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/tenant"
)

// respond delivers an authorization response (code or error) to the
// registered redirect URI in the requested response mode, always with state
// and iss (RFC 9207).
func (s *Server) respond(w http.ResponseWriter, r *http.Request, ti *tenant.Info, ap adapters.AuthParams, redirect string, v url.Values) {
	if ap.State != "" {
		v.Set("state", ap.State)
	}
	v.Set("iss", ti.Issuer)
	noStore(w)
	switch ap.ResponseMode {
	case "fragment":
		http.Redirect(w, r, redirect+"#"+v.Encode(), http.StatusFound)
	case "form_post":
		s.formPost(w, redirect, v)
	case "web_message":
		s.webMessage(w, redirect, v)
	default:
		u, _ := url.Parse(redirect)
		q := u.Query()
		for k, vals := range v {
			q[k] = vals
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}

// respondError sends an OAuth error to the redirect URI.
func (s *Server) respondError(w http.ResponseWriter, r *http.Request, ti *tenant.Info, ap adapters.AuthParams, redirect string, e authorizeError) {
	s.respond(w, r, ti, ap, redirect, url.Values{"error": {e.code}, "error_description": {e.desc}})
}

var formPostPage = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Submit</title></head>
<body>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Values}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
<script nonce="{{.Nonce}}">document.forms[0].submit();</script>
</body></html>`))

// formPost answers with an auto-submitting form (OAuth 2.0 Form Post
// Response Mode). The CSP allows the form to go to the redirect URI only.
func (s *Server) formPost(w http.ResponseWriter, redirect string, v url.Values) {
	nonce := randomToken(16)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action "+origin(redirect)+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	formPostPage.Execute(w, map[string]any{"Action": redirect, "Values": v, "Nonce": nonce})
}

var webMessagePage = template.Must(template.New("web_message").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization response</title></head>
<body><script nonce="{{.Nonce}}">
(function () {
  var msg = {type: "authorization_response", response: {{.Response}}};
  var target = window.opener || window.parent;
  if (target) { target.postMessage(msg, {{.Origin}}); }
})();
</script></body></html>`))

// webMessage posts the response to the opener or parent window of the
// redirect URI's origin (Auth0's response_mode=web_message, used by
// auth0-spa-js for silent authentication). Only that origin can read it.
func (s *Server) webMessage(w http.ResponseWriter, redirect string, v url.Values) {
	resp := map[string]string{}
	for k := range v {
		resp[k] = v.Get(k)
	}
	b, _ := json.Marshal(resp)
	nonce := randomToken(16)
	o := origin(redirect)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; frame-ancestors "+o+"; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Referrer-Policy", "no-referrer")
	webMessagePage.Execute(w, map[string]any{"Nonce": nonce, "Response": template.JS(b), "Origin": o})
}

// origin returns scheme://host of a URL.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "'none'"
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

// noStore marks a response uncacheable.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
