package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/email"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/bruteforce"
	"github.com/authhero-go/authhero/tenant"
)

func stateURL(path, state string) string { return path + "?state=" + url.QueryEscape(state) }

// connection returns the database connection a login uses: the requested
// one, the tenant's default directory, or Username-Password-Authentication;
// it must be enabled for the client.
func (s *Server) connection(ctx context.Context, ti *tenant.Info, ap adapters.AuthParams) (*adapters.Connection, error) {
	name := ap.Connection
	if name == "" {
		name = ti.Tenant.DefaultDirectory
	}
	if name == "" {
		name = "Username-Password-Authentication"
	}
	c, err := s.Data.Connections.GetByName(ctx, ti.ID(), name)
	if err != nil {
		return nil, err
	}
	if !accounts.IsDatabase(c) || (len(c.EnabledClients) > 0 && !slices.Contains(c.EnabledClients, ap.ClientID)) {
		return nil, adapters.ErrNotFound
	}
	return c, nil
}

// postedLogin reads a login page's POST: the form (size-limited), its login
// transaction and its CSRF token. On any failure it has answered and returns
// a nil login.
func (s *Server) postedLogin(w http.ResponseWriter, r *http.Request) (*tenant.Info, *adapters.LoginSession) {
	ti := tenant.FromContext(r.Context())
	if readForm(w, r) != nil {
		s.errorPage(w, r, ti, http.StatusBadRequest, "Malformed form.")
		return ti, nil
	}
	l := s.loginFromRequest(w, r, ti, r.PostForm.Get("state"))
	if l == nil || !s.checkCSRF(w, r, ti, l.CSRFToken) {
		return ti, nil
	}
	return ti, l
}

func (s *Server) loginRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, stateURL("/u/login/identifier", r.URL.Query().Get("state")), http.StatusFound)
}

func (s *Server) basePage(r *http.Request, ti *tenant.Info, l *adapters.LoginSession, title string) *page {
	p := newPage(r, ti, l.AuthParams.UILocales)
	p.Title, p.State, p.CSRF = p.T[title], l.ID, l.CSRFToken
	return p
}

// identifierPage is the first login step: the email address.
func (s *Server) identifierPage(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	l := s.loginFromRequest(w, r, ti, r.URL.Query().Get("state"))
	if l == nil {
		return
	}
	p := s.basePage(r, ti, l, "login_title")
	p.Email = l.AuthParams.Username
	if c, err := s.connection(r.Context(), ti, l.AuthParams); err == nil && !c.Options.DisableSignup {
		p.SignupURL = stateURL("/u/signup", l.ID)
	}
	s.render(w, "identifier", http.StatusOK, p, l.AuthParams.RedirectURI)
}

// validEmail accepts a bare address.
func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && len(v) <= 320
}

func (s *Server) identifierPost(w http.ResponseWriter, r *http.Request) {
	ti, l := s.postedLogin(w, r)
	if l == nil {
		return
	}
	addr := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	if !validEmail(addr) {
		p := s.basePage(r, ti, l, "login_title")
		p.Email, p.FieldError = r.PostForm.Get("username"), p.T["invalid_email"]
		s.render(w, "identifier", http.StatusBadRequest, p, l.AuthParams.RedirectURI)
		return
	}
	if _, err := s.Sessions.UpdateLogin(r.Context(), ti.ID(), l.ID, func(x *adapters.LoginSession) error {
		x.AuthParams.Username = addr
		return nil
	}); err != nil {
		s.unavailable(w, r, ti, "update login", err)
		return
	}
	http.Redirect(w, r, stateURL("/u/login/password", l.ID), http.StatusFound)
}

// passwordPage is the second step. Whether the email has an account is not
// revealed: every address gets this page.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	l := s.loginFromRequest(w, r, ti, r.URL.Query().Get("state"))
	if l == nil {
		return
	}
	if l.AuthParams.Username == "" {
		http.Redirect(w, r, stateURL("/u/login/identifier", l.ID), http.StatusFound)
		return
	}
	s.render(w, "password", http.StatusOK, s.passwordView(r, ti, l, ""), l.AuthParams.RedirectURI)
}

func (s *Server) passwordView(r *http.Request, ti *tenant.Info, l *adapters.LoginSession, errKey string) *page {
	p := s.basePage(r, ti, l, "login_title")
	p.Email = l.AuthParams.Username
	p.EditURL = stateURL("/u/login/identifier", l.ID)
	p.ForgotURL = stateURL("/u/reset-password/request", l.ID)
	if errKey != "" {
		p.Error = p.T[errKey]
	}
	return p
}

func (s *Server) passwordPost(w http.ResponseWriter, r *http.Request) {
	ti, l := s.postedLogin(w, r)
	if l == nil {
		return
	}
	ctx := r.Context()
	client, err := s.Data.Clients.Get(ctx, ti.ID(), l.AuthParams.ClientID)
	if err != nil {
		s.unavailable(w, r, ti, "client lookup", err)
		return
	}
	ident := l.AuthParams.Username
	key := bruteforce.Key(ti.ID(), ident, clientIP(r))
	if blocked, _ := s.Limiter.Blocked(key); blocked {
		s.event(r, ti, "limit_wc", client, "", "Blocked: too many failed logins from this IP")
		s.render(w, "password", http.StatusTooManyRequests, s.passwordView(r, ti, l, "blocked_ip"), l.AuthParams.RedirectURI)
		return
	}
	conn, err := s.connection(ctx, ti, l.AuthParams)
	if err != nil {
		s.errorPage(w, r, ti, http.StatusBadRequest, "The connection is not available for this application.")
		return
	}
	user, err := s.Accounts.Login(ctx, ti.ID(), conn.Name, ident, r.PostForm.Get("password"))
	if errors.Is(err, accounts.ErrBadCredentials) {
		status, msg := http.StatusBadRequest, "wrong_credentials"
		if s.Limiter.Fail(key) {
			s.event(r, ti, "limit_wc", client, "", "Blocked after too many failed logins from this IP")
			status, msg = http.StatusTooManyRequests, "blocked_ip"
		}
		s.event(r, ti, "f", client, "", "Wrong email or password")
		s.render(w, "password", status, s.passwordView(r, ti, l, msg), l.AuthParams.RedirectURI)
		return
	} else if err != nil {
		s.unavailable(w, r, ti, "login", err)
		return
	}
	s.Limiter.Reset(key)
	if user.Blocked {
		s.event(r, ti, "f", client, user.UserID, "User is blocked")
		s.render(w, "password", http.StatusForbidden, s.passwordView(r, ti, l, "user_blocked"), l.AuthParams.RedirectURI)
		return
	}
	s.completeLogin(w, r, ti, l, user, "s")
}

// signupPage creates a database user and logs it in.
func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	l := s.loginFromRequest(w, r, ti, r.URL.Query().Get("state"))
	if l == nil {
		return
	}
	p, ok := s.signupView(w, r, ti, l)
	if !ok {
		return
	}
	p.Email = l.AuthParams.Username
	s.render(w, "signup", http.StatusOK, p, l.AuthParams.RedirectURI)
}

func (s *Server) signupView(w http.ResponseWriter, r *http.Request, ti *tenant.Info, l *adapters.LoginSession) (*page, bool) {
	conn, err := s.connection(r.Context(), ti, l.AuthParams)
	if err != nil || conn.Options.DisableSignup {
		p := s.basePage(r, ti, l, "signup_title")
		p.Message = p.T["signup_disabled"]
		s.render(w, "message", http.StatusForbidden, p, "")
		return nil, false
	}
	p := s.basePage(r, ti, l, "signup_title")
	p.PasswordHint = fmt.Sprintf(p.T["password_hint"], accounts.MinLength(conn))
	p.LoginURL = stateURL("/u/login/identifier", l.ID)
	return p, true
}

func (s *Server) signupPost(w http.ResponseWriter, r *http.Request) {
	ti, l := s.postedLogin(w, r)
	if l == nil {
		return
	}
	p, ok := s.signupView(w, r, ti, l)
	if !ok {
		return
	}
	ctx := r.Context()
	addr := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	p.Email = r.PostForm.Get("email")
	if !validEmail(addr) {
		p.FieldError = p.T["invalid_email"]
		s.render(w, "signup", http.StatusBadRequest, p, l.AuthParams.RedirectURI)
		return
	}
	conn, _ := s.connection(ctx, ti, l.AuthParams)
	client, _ := s.Data.Clients.Get(ctx, ti.ID(), l.AuthParams.ClientID)
	user, err := s.Accounts.CreateUser(ctx, ti.ID(), accounts.NewUser{Connection: conn.Name, Email: addr, Password: r.PostForm.Get("password")})
	var pe *accounts.PolicyError
	switch {
	case errors.As(err, &pe):
		p.PasswordError = pe.Reason
		s.event(r, ti, "fs", client, "", pe.Reason)
		s.render(w, "signup", http.StatusBadRequest, p, l.AuthParams.RedirectURI)
		return
	case errors.Is(err, adapters.ErrConflict):
		p.Error = p.T["user_exists"]
		s.event(r, ti, "fs", client, "", "User exists")
		s.render(w, "signup", http.StatusBadRequest, p, l.AuthParams.RedirectURI)
		return
	case err != nil:
		s.unavailable(w, r, ti, "signup", err)
		return
	}
	s.event(r, ti, "ss", client, user.UserID, "Successful signup")
	s.sendVerification(r, ti, user)
	s.completeLogin(w, r, ti, l, user, "s")
}

// sendVerification emails a verification link (verify_email).
func (s *Server) sendVerification(r *http.Request, ti *tenant.Info, u *adapters.User) {
	ctx := r.Context()
	c, err := s.Data.Codes.Create(ctx, ti.ID(), adapters.Code{CodeType: adapters.CodeEmailVerification, CodeID: randomToken(32),
		UserID: u.UserID, ExpiresAt: s.now().Add(verifyTTL)})
	if err != nil {
		s.log().WarnContext(ctx, "login: verification code", "err", err)
		return
	}
	link := ti.Issuer + "u/email-verification?ticket=" + url.QueryEscape(c.CodeID)
	err = s.mailer().Send(ctx, email.Message{TenantID: ti.ID(), To: u.Email, Template: email.VerifyEmail, Link: link,
		From: ti.Tenant.SenderEmail, Subject: "Verify your email for " + ti.Tenant.FriendlyName,
		Text: "Please verify your email address by opening this link:\n\n" + link + "\n"})
	if err != nil {
		s.log().WarnContext(ctx, "login: send verification", "err", err)
	}
}

// resetRequestPage asks for the email to send a reset link to.
func (s *Server) resetRequestPage(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	l := s.loginFromRequest(w, r, ti, r.URL.Query().Get("state"))
	if l == nil {
		return
	}
	p := s.basePage(r, ti, l, "reset_title")
	p.Email, p.LoginURL = l.AuthParams.Username, stateURL("/u/login/identifier", l.ID)
	s.render(w, "reset_request", http.StatusOK, p, "")
}

// resetRequestPost answers the same whether or not the address has an
// account; only an existing database user gets an email.
func (s *Server) resetRequestPost(w http.ResponseWriter, r *http.Request) {
	ti, l := s.postedLogin(w, r)
	if l == nil {
		return
	}
	ctx := r.Context()
	addr := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	client, _ := s.Data.Clients.Get(ctx, ti.ID(), l.AuthParams.ClientID)
	if conn, err := s.connection(ctx, ti, l.AuthParams); err == nil && validEmail(addr) {
		if u, err := s.Accounts.FindByIdentifier(ctx, ti.ID(), conn.Name, addr); err == nil {
			if err := s.startReset(ctx, ti, u); err != nil {
				s.event(r, ti, "fcpr", client, u.UserID, "Failed change password request")
			} else {
				s.event(r, ti, "scpr", client, u.UserID, "Success change password request")
			}
		}
	}
	p := s.basePage(r, ti, l, "reset_title")
	p.Info, p.Done, p.LoginURL = p.T["reset_sent"], true, stateURL("/u/login/identifier", l.ID)
	s.render(w, "reset_request", http.StatusOK, p, "")
}

// startReset creates a reset ticket for u and emails its link.
func (s *Server) startReset(ctx context.Context, ti *tenant.Info, u *adapters.User) error {
	c, err := s.Data.Codes.Create(ctx, ti.ID(), adapters.Code{CodeType: adapters.CodePasswordReset, CodeID: randomToken(32),
		UserID: u.UserID, ExpiresAt: s.now().Add(resetTTL)})
	if err != nil {
		return err
	}
	return s.SendPasswordReset(ctx, ti, u, c.CodeID)
}

// SendPasswordReset emails u the link of an existing password-reset ticket
// (Auth0's reset_email template); /dbconnections/change_password uses it.
func (s *Server) SendPasswordReset(ctx context.Context, ti *tenant.Info, u *adapters.User, code string) error {
	link := ti.Issuer + "u/reset-password?ticket=" + url.QueryEscape(code)
	return s.mailer().Send(ctx, email.Message{TenantID: ti.ID(), To: u.Email, Template: email.ResetEmail, Link: link,
		From: ti.Tenant.SenderEmail, Subject: "Reset your password for " + ti.Tenant.FriendlyName,
		Text: "Someone asked to reset the password of your account. To choose a new password, open:\n\n" + link + "\n\nIf it was not you, ignore this email.\n"})
}

// ticket returns the unused, unexpired code of a link.
func (s *Server) ticket(ctx context.Context, ti *tenant.Info, typ, id string) (*adapters.Code, error) {
	if id == "" || len(id) > 128 {
		return nil, adapters.ErrNotFound
	}
	c, err := s.Data.Codes.Get(ctx, ti.ID(), typ, id)
	if err != nil {
		return nil, err
	}
	if c.UsedAt != nil || !s.now().Before(c.ExpiresAt) {
		return nil, adapters.ErrNotFound
	}
	return c, nil
}

const csrfCookie = "ah_csrf"

// resetPage shows the new-password form of a reset link. Pages outside a
// login transaction use a double-submit CSRF cookie.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	id := r.URL.Query().Get("ticket")
	p := newPage(r, ti, "")
	p.Title = p.T["reset_title"]
	c, err := s.ticket(r.Context(), ti, adapters.CodePasswordReset, id)
	if err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	u, err := s.Data.Users.Get(r.Context(), ti.ID(), c.UserID)
	if err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	p.Ticket, p.CSRF = id, randomToken(32)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: p.CSRF, Path: "/u/reset-password", HttpOnly: true,
		Secure: strings.HasPrefix(ti.Issuer, "https://"), SameSite: http.SameSiteStrictMode, MaxAge: int(resetTTL.Seconds())})
	p.PasswordHint = s.hint(r.Context(), ti, u, p)
	s.render(w, "reset", http.StatusOK, p, "")
}

func (s *Server) hint(ctx context.Context, ti *tenant.Info, u *adapters.User, p *page) string {
	min := 8
	if c, err := s.Data.Connections.GetByName(ctx, ti.ID(), u.Connection); err == nil {
		min = accounts.MinLength(c)
	}
	return fmt.Sprintf(p.T["password_hint"], min)
}

func (s *Server) resetPost(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	ctx := r.Context()
	if readForm(w, r) != nil {
		s.errorPage(w, r, ti, http.StatusBadRequest, "Malformed form.")
		return
	}
	ck, err := r.Cookie(csrfCookie)
	if err != nil || !s.checkCSRF(w, r, ti, ck.Value) {
		if err != nil {
			s.checkCSRF(w, r, ti, "")
		}
		return
	}
	id := r.PostForm.Get("ticket")
	p := newPage(r, ti, "")
	p.Title, p.Ticket, p.CSRF = p.T["reset_title"], id, ck.Value
	c, err := s.ticket(ctx, ti, adapters.CodePasswordReset, id)
	var u *adapters.User
	if err == nil {
		u, err = s.Data.Users.Get(ctx, ti.ID(), c.UserID)
	}
	if err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	p.PasswordHint = s.hint(ctx, ti, u, p)
	pw := r.PostForm.Get("password")
	if subtle.ConstantTimeCompare([]byte(pw), []byte(r.PostForm.Get("password_confirm"))) != 1 {
		p.PasswordError = p.T["mismatch"]
		s.render(w, "reset", http.StatusBadRequest, p, "")
		return
	}
	conn, err := s.Data.Connections.GetByName(ctx, ti.ID(), u.Connection)
	if err != nil {
		s.unavailable(w, r, ti, "connection", err)
		return
	}
	if err := accounts.CheckPolicy(conn, pw, u.Email); err != nil {
		var pe *accounts.PolicyError
		errors.As(err, &pe)
		p.PasswordError = pe.Reason
		s.render(w, "reset", http.StatusBadRequest, p, "")
		return
	}
	// Single use: only the caller that consumes the ticket changes the
	// password.
	if _, err := s.Data.Codes.Consume(ctx, ti.ID(), adapters.CodePasswordReset, id, s.now()); err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	if err := s.Accounts.SetPassword(ctx, ti.ID(), u, pw); err != nil {
		s.unavailable(w, r, ti, "set password", err)
		return
	}
	// A reset ends every session and refresh token of the user: whoever knew
	// the old password is logged out.
	now := s.now()
	s.Sessions.RevokeUserSessions(ctx, ti.ID(), u.UserID, now)
	s.Data.RefreshTokens.RevokeByUser(ctx, ti.ID(), u.UserID, now)
	s.event(r, ti, "scp", nil, u.UserID, "Success change password")
	p.Done, p.Info = true, p.T["reset_done"]
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Path: "/u/reset-password", MaxAge: -1})
	s.render(w, "reset", http.StatusOK, p, "")
}

// verifyEmail consumes an email-verification link.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	ti := tenant.FromContext(r.Context())
	ctx := r.Context()
	p := newPage(r, ti, "")
	p.Title = p.T["error_title"]
	id := r.URL.Query().Get("ticket")
	if _, err := s.ticket(ctx, ti, adapters.CodeEmailVerification, id); err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	c, err := s.Data.Codes.Consume(ctx, ti.ID(), adapters.CodeEmailVerification, id, s.now())
	if err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	if _, err := s.Data.Users.Update(ctx, ti.ID(), c.UserID, func(u *adapters.User) error {
		u.EmailVerified = true
		return nil
	}); err != nil {
		p.Message = p.T["ticket_invalid"]
		s.render(w, "message", http.StatusBadRequest, p, "")
		return
	}
	s.event(r, ti, "sv", nil, c.UserID, "Success verification email")
	p.Title, p.Message = p.T["login_title"], p.T["verified"]
	s.render(w, "message", http.StatusOK, p, "")
}
