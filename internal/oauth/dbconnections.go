package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/provision"
	"github.com/authhero-go/authhero/tenant"
)

// ResetSender delivers password-reset tickets. SendPasswordReset is given
// the tenant (its issuer is the host the link must point at), the user and
// the single-use code (an adapters.CodePasswordReset code, valid for
// PasswordResetLifetime) to put in the link it sends.
type ResetSender interface {
	SendPasswordReset(ctx context.Context, ti *tenant.Info, u *adapters.User, code string) error
}

// PasswordResetLifetime is how long a password-reset code stays valid.
const PasswordResetLifetime = 30 * time.Minute

// changePasswordMessage is the one answer of /dbconnections/change_password,
// whether or not the account exists (Auth0's text).
const changePasswordMessage = "We've just sent you an email to reset your password."

// dbError is the error shape of Auth0's /dbconnections endpoints.
type dbError struct {
	Name        string `json:"name"`
	Code        string `json:"code"`
	Description string `json:"description"`
	StatusCode  int    `json:"statusCode"`
}

func writeDBError(w http.ResponseWriter, status int, name, code, desc string) {
	writeJSON(w, status, &dbError{Name: name, Code: code, Description: desc, StatusCode: status})
}

func badSignup(w http.ResponseWriter, code, desc string) {
	writeDBError(w, http.StatusBadRequest, "BadRequestError", code, desc)
}

// signupRequest is the body of POST /dbconnections/signup.
type signupRequest struct {
	ClientID     string         `json:"client_id"`
	Email        string         `json:"email"`
	Password     string         `json:"password"`
	Connection   string         `json:"connection"`
	Username     string         `json:"username"`
	GivenName    string         `json:"given_name"`
	FamilyName   string         `json:"family_name"`
	Name         string         `json:"name"`
	Nickname     string         `json:"nickname"`
	Picture      string         `json:"picture"`
	UserMetadata map[string]any `json:"user_metadata"`
}

// decodeDBBody reads a JSON body (Auth0's SDKs send JSON) of at most maxBody
// bytes into v.
func decodeDBBody(w http.ResponseWriter, r *http.Request, v any) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		badSignup(w, "invalid_body", "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		badSignup(w, "invalid_body", "The request body is not a valid JSON object")
		return false
	}
	return true
}

// dbConnection returns the client and the database connection a
// /dbconnections request names, or writes the 400 and returns nil. The
// client must be one of this tenant's; the connection (default: the
// tenant's default_directory, else Username-Password-Authentication) must
// be a database connection enabled for it (an empty enabled_clients list
// enables it for all).
func (s *Server) dbConnection(w http.ResponseWriter, r *http.Request, clientID, name string) (*adapters.Client, *adapters.Connection) {
	ti := tenantOf(r)
	if clientID == "" {
		badSignup(w, "invalid_parameter", "Missing required parameter: client_id")
		return nil, nil
	}
	c, err := s.Data.Clients.Get(r.Context(), ti.ID(), clientID)
	if errors.Is(err, adapters.ErrNotFound) {
		badSignup(w, "invalid_client", "Unknown client")
		return nil, nil
	} else if err != nil {
		s.internal(w, r, "dbconnections client lookup", err)
		return nil, nil
	}
	if name == "" {
		name = ti.Tenant.DefaultDirectory
	}
	if name == "" {
		name = provision.DefaultConnection
	}
	conn, err := s.Data.Connections.GetByName(r.Context(), ti.ID(), name)
	if errors.Is(err, adapters.ErrNotFound) || err == nil && (!accounts.IsDatabase(conn) ||
		len(conn.EnabledClients) > 0 && !slices.Contains(conn.EnabledClients, c.ClientID)) {
		badSignup(w, "invalid_connection", "The connection does not exist or is not enabled for this client")
		return nil, nil
	} else if err != nil {
		s.internal(w, r, "dbconnections connection lookup", err)
		return nil, nil
	}
	return c, conn
}

func (s *Server) accountService() *accounts.Service {
	if s.Accounts != nil {
		return s.Accounts
	}
	return &accounts.Service{Data: s.Data, Now: s.Now}
}

// Signup serves POST /dbconnections/signup
// (https://auth0.com/docs/api/authentication#signup): it creates a user in a
// database connection, unless the connection has disable_signup. Answers:
// 200 with the new user ({"_id", "email", "email_verified": false, ...});
// 400 invalid_signup "Invalid sign up" when the user exists; 400
// PasswordStrengthError invalid_password when the connection's policy
// refuses the password; 400 operation_not_supported when sign-up is
// disabled.
func (s *Server) Signup(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	var in signupRequest
	if !decodeDBBody(w, r, &in) {
		return
	}
	c, conn := s.dbConnection(w, r, in.ClientID, in.Connection)
	if c == nil {
		return
	}
	fail := func(why string) {
		s.event(r, logSignupFail, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserName: limit(in.Email),
			Connection: conn.Name, ConnectionID: conn.ID, Description: why})
	}
	if conn.Options.DisableSignup {
		fail("public signup is disabled")
		badSignup(w, "operation_not_supported", "public signup is disabled")
		return
	}
	email := strings.TrimSpace(in.Email)
	if email == "" || !strings.Contains(email, "@") || len(email) > 254 {
		fail("missing or malformed email")
		badSignup(w, "invalid_parameter", "Missing or malformed parameter: email")
		return
	}
	if in.Password == "" {
		fail("missing password")
		badSignup(w, "invalid_parameter", "Missing required parameter: password")
		return
	}
	if conn.Options.RequiresUsername && in.Username == "" {
		fail("missing username")
		badSignup(w, "invalid_parameter", "Missing required parameter: username")
		return
	}
	u, err := s.accountService().CreateUser(r.Context(), ti.ID(), accounts.NewUser{
		Connection: conn.Name, Email: email, Username: in.Username, Password: in.Password,
		Profile: adapters.User{GivenName: in.GivenName, FamilyName: in.FamilyName, Name: in.Name, Nickname: in.Nickname,
			Picture: in.Picture, UserMetadata: in.UserMetadata},
	})
	var pe *accounts.PolicyError
	switch {
	case errors.As(err, &pe):
		fail("password policy: " + pe.Reason)
		writeDBError(w, http.StatusBadRequest, "PasswordStrengthError", "invalid_password", pe.Reason)
		return
	case errors.Is(err, adapters.ErrConflict):
		fail("user exists")
		badSignup(w, "invalid_signup", "Invalid sign up")
		return
	case errors.Is(err, adapters.ErrInvalid):
		fail(err.Error())
		badSignup(w, "invalid_parameter", err.Error())
		return
	case err != nil:
		s.internal(w, r, "signup", err)
		return
	}
	s.event(r, logSignupOK, adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserID: u.UserID, UserName: userName(u),
		Connection: conn.Name, ConnectionID: conn.ID, Strategy: conn.Strategy, StrategyType: "database", Description: "Successful signup"})
	_, local, _ := strings.Cut(u.UserID, "|")
	out := map[string]any{"_id": local, "email": u.Email, "email_verified": u.EmailVerified}
	for k, v := range map[string]string{"username": u.Username, "given_name": u.GivenName, "family_name": u.FamilyName,
		"name": u.Name, "nickname": u.Nickname, "picture": u.Picture} {
		if v != "" {
			out[k] = v
		}
	}
	if u.UserMetadata != nil {
		out["user_metadata"] = u.UserMetadata
	}
	writeJSON(w, http.StatusOK, out)
}

// changePasswordRequest is the body of POST /dbconnections/change_password.
type changePasswordRequest struct {
	ClientID   string `json:"client_id"`
	Email      string `json:"email"`
	Connection string `json:"connection"`
}

// ChangePassword serves POST /dbconnections/change_password
// (https://auth0.com/docs/api/authentication#change-password). The answer
// is the same 200 text whether or not the account exists (no account
// enumeration, ASVS 5.0 6.3.8). For an existing user a single-use
// password_reset code (256 bits, PasswordResetLifetime) is stored and handed
// to Server.Reset, in the background so that the answer's timing does not
// depend on the mail transport. A nil Reset sends nothing.
func (s *Server) ChangePassword(w http.ResponseWriter, r *http.Request) {
	ti := tenantOf(r)
	ctx := r.Context()
	var in changePasswordRequest
	if !decodeDBBody(w, r, &in) {
		return
	}
	c, conn := s.dbConnection(w, r, in.ClientID, in.Connection)
	if c == nil {
		return
	}
	email := strings.TrimSpace(in.Email)
	if email == "" {
		badSignup(w, "invalid_parameter", "Missing required parameter: email")
		return
	}
	ev := adapters.Log{ClientID: c.ClientID, ClientName: c.Name, UserName: limit(email), Connection: conn.Name, ConnectionID: conn.ID}
	u, err := s.accountService().FindByIdentifier(ctx, ti.ID(), conn.Name, email)
	switch {
	case errors.Is(err, adapters.ErrNotFound):
		ev.Description = "no such user"
		s.event(r, logChangePasswordFail, ev)
	case err != nil:
		s.internal(w, r, "change password user lookup", err)
		return
	default:
		code := newCodeID()
		_, err := s.Data.Codes.Create(ctx, ti.ID(), adapters.Code{CodeType: adapters.CodePasswordReset, CodeID: code,
			UserID: u.UserID, ConnectionID: conn.ID, ExpiresAt: s.now().Add(PasswordResetLifetime)})
		if err != nil {
			s.internal(w, r, "change password code", err)
			return
		}
		if s.Reset != nil {
			sender, log := s.Reset, s.log()
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			go func() {
				defer cancel()
				if err := sender.SendPasswordReset(bg, ti, u, code); err != nil {
					log.ErrorContext(bg, "oauth: cannot send the password reset", "err", err)
				}
			}()
		}
		ev.UserID, ev.Description = u.UserID, "Password reset requested"
		s.event(r, logChangePasswordReq, ev)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(changePasswordMessage))
}

// newCodeID returns a 43-character single-use code: 256 random bits,
// base64url.
func newCodeID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
