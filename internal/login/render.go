package login

import (
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	layout := template.Must(template.ParseFS(templateFS, "templates/layout.html"))
	for _, name := range []string{"identifier", "password", "signup", "reset_request", "reset", "message"} {
		t := template.Must(layout.Clone())
		out[name] = template.Must(t.ParseFS(templateFS, "templates/"+name+".html"))
	}
	return out
}()

// page is what every template gets.
type page struct {
	Lang, Title, TenantName, Logo, Nonce string
	Color                                template.CSS
	T                                    map[string]string
	Error, Info, Message                 string
	State, CSRF, Ticket                  string
	Email, FieldError                    string
	PasswordHint, PasswordError          string
	SignupURL, LoginURL, ForgotURL       string
	EditURL                              string
	Done                                 bool
}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{3,8}$`)

// newPage fills the tenant's branding and the language's texts.
func newPage(r *http.Request, ti *tenant.Info, uiLocales string) *page {
	lang := language(uiLocales, r.Header.Get("Accept-Language"))
	p := &page{Lang: lang, T: texts[lang], TenantName: ti.Tenant.FriendlyName, Nonce: randomToken(16), Color: "#635dff"}
	if c := ti.Tenant.PrimaryColor; hexColor.MatchString(c) {
		p.Color = template.CSS(c)
	}
	if l := ti.Tenant.LogoURL; strings.HasPrefix(l, "https://") {
		p.Logo = l
	}
	return p
}

// render writes a login page with the protections every page carries:
// no framing (X-Frame-Options and CSP frame-ancestors), no referrer, no
// caching, a strict CSP whose form-action allows only this origin and the
// origin the login returns to.
func (s *Server) render(w http.ResponseWriter, name string, status int, p *page, returnTo string) {
	formAction := "'self'"
	if returnTo != "" {
		formAction += " " + origin(returnTo)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; img-src https: data:; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	noStore(w)
	w.WriteHeader(status)
	if err := pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		s.log().Error("login: render", "page", name, "err", err)
	}
}

// errorPage shows an error on our own page (used when redirecting is not
// safe: unknown client, unregistered redirect URI).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, ti *tenant.Info, status int, msg string) {
	p := newPage(r, ti, "")
	p.Title, p.Message = p.T["error_title"], msg
	s.render(w, "message", status, p, "")
}

// unavailable logs a storage failure and shows a 503 page.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, ti *tenant.Info, where string, err error) {
	s.log().ErrorContext(r.Context(), "login: "+where, "err", err)
	p := newPage(r, ti, "")
	p.Title, p.Message = p.T["error_title"], p.T["unavailable"]
	w.Header().Set("Retry-After", "5")
	s.render(w, "message", http.StatusServiceUnavailable, p, "")
}

// readForm parses a POSTed form of at most 64 KiB.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return r.ParseForm()
}

// loadLogin returns the unexpired login transaction named by state.
func (s *Server) loadLogin(r *http.Request, ti *tenant.Info, state string) (*adapters.LoginSession, error) {
	if state == "" || len(state) > 128 {
		return nil, adapters.ErrNotFound
	}
	l, err := s.Sessions.GetLogin(r.Context(), ti.ID(), state)
	if err != nil {
		return nil, err
	}
	if !s.now().Before(l.ExpiresAt) {
		return nil, adapters.ErrNotFound
	}
	return l, nil
}

// loginFromRequest loads the login of a page request, answering with an
// error page when it is missing or expired.
func (s *Server) loginFromRequest(w http.ResponseWriter, r *http.Request, ti *tenant.Info, state string) *adapters.LoginSession {
	l, err := s.loadLogin(r, ti, state)
	if errors.Is(err, adapters.ErrNotFound) {
		p := newPage(r, ti, "")
		p.Title, p.Message = p.T["error_title"], p.T["expired"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return nil
	} else if err != nil {
		s.unavailable(w, r, ti, "load login", err)
		return nil
	}
	return l
}

// checkCSRF compares the form's token with the login transaction's, in
// constant time; a mismatch shows an error page.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, ti *tenant.Info, want string) bool {
	got := r.PostForm.Get("csrf_token")
	if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	p := newPage(r, ti, "")
	p.Title, p.Message = p.T["error_title"], p.T["csrf"]
	s.render(w, "message", http.StatusForbidden, p, "")
	return false
}
