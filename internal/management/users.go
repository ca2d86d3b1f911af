package management

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/internal/password"
)

// userRoutes registers the users endpoints
// (https://auth0.com/docs/api/management/v2/users/get-users and siblings).
func (s *Server) userRoutes() {
	s.handle("GET /api/v2/users", "read:users", s.listUsers)
	s.handle("POST /api/v2/users", "create:users", s.createUser)
	s.handle("GET /api/v2/users/{id}", "read:users", s.getUser)
	s.handle("PATCH /api/v2/users/{id}", "update:users", s.updateUser)
	s.handle("DELETE /api/v2/users/{id}", "delete:users", s.deleteUser)
	s.handle("GET /api/v2/users-by-email", "read:users", s.usersByEmail)
	s.handle("GET /api/v2/users/{id}/sessions", "read:sessions", s.userSessions)
	s.handle("GET /api/v2/users/{id}/logs", "read:logs|read:logs_users", s.userLogs)
	s.userRoleRoutes()
}

// userPhonePattern is Auth0's E.164 check of phone_number.
var userPhonePattern = regexp.MustCompile(`^\+[0-9]{1,15}$`)

// userExists is Auth0's 409 for a duplicate user (same id, or the same email
// or username in the connection).
func userExists(msg string) *apiError {
	return newErr(http.StatusConflict, "auth0_idp_error", "%s", msg)
}

// userOut is a user as the API shows it: identities[] always present, and
// identity-provider tokens only for a token with read:user_idp_tokens.
func userOut(u adapters.User, tok *token) adapters.User {
	if len(u.Identities) == 0 {
		u.Identities = []adapters.Identity{userIdentity(&u)}
	} else {
		u.Identities = append([]adapters.Identity(nil), u.Identities...)
	}
	if !tok.has("read:user_idp_tokens") {
		for i := range u.Identities {
			u.Identities[i].AccessToken, u.Identities[i].RefreshToken = "", ""
		}
	}
	return u
}

// userIdentity is the primary identity of u: its connection, provider and
// the part of user_id after "|".
func userIdentity(u *adapters.User) adapters.Identity {
	_, id, ok := strings.Cut(u.UserID, "|")
	if !ok {
		id = u.UserID
	}
	return adapters.Identity{Connection: u.Connection, UserID: id, Provider: u.Provider, IsSocial: u.IsSocial}
}

// userCheck validates the profile fields of u for its connection cn (nil
// when the connection is gone).
func userCheck(u *adapters.User, cn *adapters.Connection) *apiError {
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || a.Name != "" {
			return badBody("'Object didn't pass validation for format email: %s' on property email.", u.Email)
		}
	}
	if u.PhoneNumber != "" && !userPhonePattern.MatchString(u.PhoneNumber) {
		return badBody("'String does not match pattern ^\\+[0-9]{1,15}$' on property phone_number.")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"given_name", u.GivenName, 150}, {"family_name", u.FamilyName, 150}, {"name", u.Name, 300},
		{"nickname", u.Nickname, 300}, {"username", u.Username, 128}} {
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return badBody("'String is too long (%d chars), maximum %d' on property %s.", n, f.max, f.name)
		}
	}
	if cn == nil {
		return nil
	}
	switch {
	case (accounts.IsDatabase(cn) || cn.Strategy == "email") && u.Email == "":
		return badBody("Missing required property: email")
	case cn.Strategy == "sms" && u.PhoneNumber == "":
		return badBody("Missing required property: phone_number")
	case accounts.IsDatabase(cn) && cn.Options.RequiresUsername && u.Username == "":
		return badBody("Missing required property: username")
	}
	return nil
}

// userConnection returns the tenant's connection named name; an unknown
// name is a 400, as Auth0 answers for POST /users.
func (s *Server) userConnection(r *http.Request, tenantID, name string) (*adapters.Connection, *apiError) {
	cn, err := s.Data.Connections.GetByName(r.Context(), tenantID, name)
	if errors.Is(err, adapters.ErrNotFound) {
		return nil, newErr(http.StatusBadRequest, "inexistent_connection", "The connection does not exist.")
	}
	if err != nil {
		return nil, s.fail(r, err, "connection")
	}
	return cn, nil
}

// userMustExist is a 404 inexistent_user unless the tenant has the user.
func (s *Server) userMustExist(r *http.Request, tenantID, id string) *apiError {
	if _, err := s.Data.Users.Get(r.Context(), tenantID, id); err != nil {
		return s.fail(r, err, "user")
	}
	return nil
}

// ---- passwords ----

// userPassword checks pw against the database connection's policy (shared
// with the login pages through package accounts) and, for an existing user,
// its password history, and hashes it with argon2id. The returned password
// is not stored yet.
func (s *Server) userPassword(r *http.Request, tenantID string, cn *adapters.Connection, userID, email, pw string) (*adapters.Password, *apiError) {
	if cn == nil || !accounts.IsDatabase(cn) {
		return nil, badBody("'password' is only valid for users of a database connection")
	}
	if err := accounts.CheckPolicy(cn, pw, email); err != nil {
		var pe *accounts.PolicyError
		if errors.As(err, &pe) {
			return nil, newErr(http.StatusBadRequest, "invalid_password", "%s", pe.Error())
		}
		return nil, s.internal(r, "password policy", err)
	}
	if userID != "" {
		if e := s.userPasswordHistory(r, tenantID, cn, userID, pw); e != nil {
			return nil, e
		}
	}
	hash, alg, err := password.Hasher{}.Hash(pw)
	if err != nil {
		return nil, s.internal(r, "hash password", err)
	}
	return &adapters.Password{UserID: userID, Hash: hash, Algorithm: alg}, nil
}

// userPasswordHistory refuses a password among the user's last ones when
// the connection's password_history is enabled (size 5 when unset).
func (s *Server) userPasswordHistory(r *http.Request, tenantID string, cn *adapters.Connection, userID, pw string) *apiError {
	h := cn.Options.PasswordHistory
	if h == nil || !h.Enable {
		return nil
	}
	size := h.Size
	if size <= 0 {
		size = 5
	}
	old, err := s.Data.Passwords.List(r.Context(), tenantID, userID, size)
	if err != nil {
		return s.internal(r, "password history", err)
	}
	for _, p := range old {
		if ok, _, err := (password.Hasher{}).Verify(p.Hash, p.Algorithm, pw); err == nil && ok {
			return newErr(http.StatusBadRequest, "invalid_password", "PasswordHistoryError: Password has previously been used")
		}
	}
	return nil
}

// ---- list, get, delete ----

// listUsers is GET /api/v2/users: q (Lucene subset), sort, and offset or
// checkpoint paging. search_engine is accepted and ignored.
func (s *Server) listUsers(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.Users.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "user")
	}
	for i := range l.Items {
		l.Items[i] = userOut(l.Items[i], c.token)
	}
	return http.StatusOK, page("users", p, l), nil
}

// getUser is GET /api/v2/users/{id}; a user of another tenant is a 404.
func (s *Server) getUser(r *http.Request, c *call) (int, any, *apiError) {
	u, err := s.Data.Users.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "user")
	}
	return http.StatusOK, userOut(*u, c.token), nil
}

// deleteUser is DELETE /api/v2/users/{id}; the adapter removes the user's
// passwords, sessions, refresh tokens, roles and permissions with it.
func (s *Server) deleteUser(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.Data.Users.Delete(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "user")
	}
	return http.StatusNoContent, nil, nil
}

// userQuote escapes v for a quoted value of a q search.
func userQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// usersByEmail is GET /api/v2/users-by-email: every user of the tenant with
// that email, in any connection. Emails are stored lower-cased, so the match
// ignores case.
func (s *Server) usersByEmail(r *http.Request, c *call) (int, any, *apiError) {
	email := strings.ToLower(r.URL.Query().Get("email"))
	if email == "" {
		return 0, nil, badQuery("Missing required property: email")
	}
	q := "email:" + userQuote(email)
	out := []adapters.User{}
	for pg := 0; ; pg++ {
		l, err := s.Data.Users.List(r.Context(), c.tenantID(), adapters.ListParams{Q: q, Page: pg, PerPage: adapters.MaxPerPage})
		if err != nil {
			return 0, nil, listErr(s, r, err, "user")
		}
		for _, u := range l.Items {
			if u.Email == email { // a '*' in the address would be a wildcard
				out = append(out, userOut(u, c.token))
			}
		}
		if len(l.Items) < adapters.MaxPerPage {
			return http.StatusOK, out, nil
		}
	}
}

// userSessions is GET /api/v2/users/{id}/sessions: {"sessions": [...]},
// newest first, with next for checkpoint paging.
func (s *Server) userSessions(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if e := s.userMustExist(r, c.tenantID(), id); e != nil {
		return 0, nil, e
	}
	var l *adapters.List[adapters.Session]
	var err error
	if s.sessionsInDB() {
		l, err = s.Data.Sessions.ListByUser(r.Context(), c.tenantID(), id, p)
	} else if p.Checkpoint() {
		return 0, nil, badQuery("from/take pagination needs the database session store; use page/per_page")
	} else {
		var all []adapters.Session
		if all, err = s.sessions().ListUserSessions(r.Context(), c.tenantID(), id); err == nil {
			l, err = pageInMemory(all, p)
		}
	}
	if err != nil {
		return 0, nil, listErr(s, r, err, "session")
	}
	out := map[string]any{"sessions": l.Items}
	if l.Next != "" {
		out["next"] = l.Next
	}
	if p.IncludeTotals {
		out["total"] = l.Total
	}
	return http.StatusOK, out, nil
}

// userLogs is GET /api/v2/users/{id}/logs: the tenant's log events of the
// user, newest first, with Auth0's paging.
func (s *Server) userLogs(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if e := s.userMustExist(r, c.tenantID(), id); e != nil {
		return 0, nil, e
	}
	p.Q = "user_id:" + userQuote(id)
	l, err := s.Data.Logs.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "log")
	}
	items := l.Items[:0]
	for _, lg := range l.Items {
		if lg.UserID == id { // a '*' in the id would be a wildcard
			items = append(items, lg)
		}
	}
	l.Items = items
	return http.StatusOK, page("logs", p, l), nil
}

// ---- create ----

// userCreateBody is the body of POST /api/v2/users.
type userCreateBody struct {
	Connection    string            `json:"connection"`
	UserID        string            `json:"user_id"`
	Email         string            `json:"email"`
	EmailVerified bool              `json:"email_verified"`
	VerifyEmail   bool              `json:"verify_email"`
	Username      string            `json:"username"`
	Password      string            `json:"password"`
	PhoneNumber   string            `json:"phone_number"`
	PhoneVerified bool              `json:"phone_verified"`
	GivenName     string            `json:"given_name"`
	FamilyName    string            `json:"family_name"`
	Name          string            `json:"name"`
	Nickname      string            `json:"nickname"`
	Picture       string            `json:"picture"`
	Blocked       bool              `json:"blocked"`
	UserMetadata  adapters.Metadata `json:"user_metadata"`
	AppMetadata   adapters.Metadata `json:"app_metadata"`
}

// createUser is POST /api/v2/users: a user of a connection of the tenant,
// with its password (database connections) stored in the same transaction.
func (s *Server) createUser(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "connection"); e != nil {
		return 0, nil, e
	}
	var in userCreateBody
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	cn, e := s.userConnection(r, c.tenantID(), in.Connection)
	if e != nil {
		return 0, nil, e
	}
	u, e := userFromBody(&in, cn, userFieldSent(raw, "user_id"))
	if e != nil {
		return 0, nil, e
	}
	var pw *adapters.Password
	switch {
	case in.Password != "":
		if pw, e = s.userPassword(r, c.tenantID(), cn, "", u.Email, in.Password); e != nil {
			return 0, nil, e
		}
	case accounts.IsDatabase(cn):
		return 0, nil, badBody("Missing required property: password")
	}
	created, e := s.storeNewUser(r, c.tenantID(), u, pw)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusCreated, userOut(*created, c.token), nil
}

// userFieldSent reports whether a raw body names field.
func userFieldSent(raw map[string]json.RawMessage, field string) bool {
	_, ok := raw[field]
	return ok
}

// userFromBody builds and validates the user of a create body. Its user_id is
// "{provider}|{user_id}", the provider being "auth0" for a database
// connection and the connection's strategy otherwise.
func userFromBody(in *userCreateBody, cn *adapters.Connection, idSent bool) (*adapters.User, *apiError) {
	provider := cn.Strategy
	if accounts.IsDatabase(cn) {
		provider = "auth0"
	}
	idPart := strings.TrimPrefix(in.UserID, provider+"|")
	if idSent && strings.TrimSpace(idPart) == "" {
		return nil, badBody("'String is too short (0 chars), minimum 1' on property user_id.")
	}
	if idPart == "" {
		idPart = adapters.NewID("")
	}
	u := &adapters.User{
		UserID: provider + "|" + idPart, Provider: provider, Connection: cn.Name,
		Email: strings.ToLower(in.Email), EmailVerified: in.EmailVerified, Username: in.Username,
		PhoneNumber: in.PhoneNumber, PhoneVerified: in.PhoneVerified, GivenName: in.GivenName,
		FamilyName: in.FamilyName, Name: in.Name, Nickname: in.Nickname, Picture: in.Picture,
		Blocked: in.Blocked, UserMetadata: in.UserMetadata, AppMetadata: in.AppMetadata,
	}
	if e := userCheck(u, cn); e != nil {
		return nil, e
	}
	local, _, _ := strings.Cut(u.Email, "@")
	u.Name = userFirst(u.Name, u.Email, u.PhoneNumber, u.Username)
	u.Nickname = userFirst(u.Nickname, local, u.Username, u.PhoneNumber)
	u.Identities = []adapters.Identity{userIdentity(u)}
	return u, nil
}

// userFirst returns the first non-empty string.
func userFirst(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// storeNewUser creates u and its password in one transaction.
func (s *Server) storeNewUser(r *http.Request, tenantID string, u *adapters.User, pw *adapters.Password) (*adapters.User, *apiError) {
	var created *adapters.User
	err := s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
		var err error
		if created, err = tx.Users.Create(ctx, tenantID, *u); err != nil || pw == nil {
			return err
		}
		pw.UserID = created.UserID
		_, err = tx.Passwords.Create(ctx, tenantID, *pw)
		return err
	})
	if errors.Is(err, adapters.ErrConflict) {
		return nil, userExists("The user already exists.")
	}
	if err != nil {
		return nil, s.fail(r, err, "user")
	}
	return created, nil
}

// ---- update ----

// userOpt is one field of a PATCH body: whether it was sent, whether as
// null, and its value (the zero value for null).
type userOpt[T any] struct {
	Set, Null bool
	V         T
}

// UnmarshalJSON records that the field was sent.
func (o *userOpt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// userPatchBody is the body of PATCH /api/v2/users/{id}: Auth0's updatable
// root attributes. A field sent as null is unset.
type userPatchBody struct {
	Email         userOpt[string]            `json:"email"`
	EmailVerified userOpt[bool]              `json:"email_verified"`
	Username      userOpt[string]            `json:"username"`
	PhoneNumber   userOpt[string]            `json:"phone_number"`
	PhoneVerified userOpt[bool]              `json:"phone_verified"`
	GivenName     userOpt[string]            `json:"given_name"`
	FamilyName    userOpt[string]            `json:"family_name"`
	Name          userOpt[string]            `json:"name"`
	Nickname      userOpt[string]            `json:"nickname"`
	Picture       userOpt[string]            `json:"picture"`
	Blocked       userOpt[bool]              `json:"blocked"`
	Password      userOpt[string]            `json:"password"`
	Connection    userOpt[string]            `json:"connection"`
	ClientID      userOpt[string]            `json:"client_id"`
	VerifyEmail   userOpt[bool]              `json:"verify_email"`
	VerifyPhone   userOpt[bool]              `json:"verify_phone_number"`
	UserMetadata  userOpt[adapters.Metadata] `json:"user_metadata"`
	AppMetadata   userOpt[adapters.Metadata] `json:"app_metadata"`
}

// apply changes u as the body asks and validates the result.
func (p *userPatchBody) apply(u *adapters.User, cn *adapters.Connection) *apiError {
	for _, f := range []struct {
		o   *userOpt[string]
		dst *string
	}{{&p.Username, &u.Username}, {&p.PhoneNumber, &u.PhoneNumber}, {&p.GivenName, &u.GivenName},
		{&p.FamilyName, &u.FamilyName}, {&p.Name, &u.Name}, {&p.Nickname, &u.Nickname}, {&p.Picture, &u.Picture}} {
		if f.o.Set {
			*f.dst = f.o.V
		}
	}
	for _, f := range []struct {
		o   *userOpt[bool]
		dst *bool
	}{{&p.EmailVerified, &u.EmailVerified}, {&p.PhoneVerified, &u.PhoneVerified}, {&p.Blocked, &u.Blocked}} {
		if f.o.Set {
			*f.dst = f.o.V
		}
	}
	if p.Email.Set {
		email := strings.ToLower(p.Email.V)
		if email != u.Email && !p.EmailVerified.Set {
			u.EmailVerified = false // a new address is unverified, as in Auth0
		}
		u.Email = email
	}
	u.UserMetadata = userMergeMetadata(u.UserMetadata, p.UserMetadata)
	u.AppMetadata = userMergeMetadata(u.AppMetadata, p.AppMetadata)
	return userCheck(u, cn)
}

// userMergeMetadata applies Auth0's metadata rule: the top-level keys of patch
// replace those of stored, a key set to null is removed, and null or {}
// clears the whole object.
func userMergeMetadata(stored adapters.Metadata, patch userOpt[adapters.Metadata]) adapters.Metadata {
	if !patch.Set {
		return stored
	}
	if patch.Null || len(patch.V) == 0 {
		return nil
	}
	out := adapters.Metadata{}
	for k, v := range stored {
		out[k] = v
	}
	for k, v := range patch.V {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// readUserPatch reads and type-checks a PATCH body.
func readUserPatch(r *http.Request) (*userPatchBody, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if len(raw) == 0 {
		return nil, badBody("'Too few properties defined (0), minimum 1'.")
	}
	var p userPatchBody
	if e := strictInto(body, &p); e != nil {
		return nil, e
	}
	if p.Password.Null {
		return nil, badBody("'Expected type string but found type null' on property password.")
	}
	if p.Connection.Null {
		return nil, badBody("'Expected type string but found type null' on property connection.")
	}
	return &p, nil
}

// updateUser is PATCH /api/v2/users/{id}. The user, its new password and,
// for blocked: true, the revocation of its sessions and refresh tokens are
// written in one transaction after every check passed.
func (s *Server) updateUser(r *http.Request, c *call) (int, any, *apiError) {
	p, e := readUserPatch(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	cur, err := s.Data.Users.Get(r.Context(), c.tenantID(), id)
	if err != nil {
		return 0, nil, s.fail(r, err, "user")
	}
	if p.Connection.Set && p.Connection.V != cur.Connection {
		return 0, nil, badBody("a user cannot be moved to another connection: 'connection' must be %s", cur.Connection)
	}
	cn, err := s.Data.Connections.GetByName(r.Context(), c.tenantID(), cur.Connection)
	if err != nil && !errors.Is(err, adapters.ErrNotFound) {
		return 0, nil, s.fail(r, err, "connection")
	}
	var pw *adapters.Password
	if p.Password.Set {
		email := cur.Email
		if p.Email.Set {
			email = p.Email.V
		}
		if pw, e = s.userPassword(r, c.tenantID(), cn, id, email, p.Password.V); e != nil {
			return 0, nil, e
		}
	}
	updated, e := s.storeUserPatch(r, c.tenantID(), id, p, cn, pw)
	if e != nil {
		return 0, nil, e
	}
	// Sessions kept outside the database (Redis, stateless cookies) are
	// revoked through the session store as well.
	if p.Blocked.Set && p.Blocked.V && s.Sessions != nil {
		if _, err := s.Sessions.RevokeUserSessions(r.Context(), c.tenantID(), id, s.now()); err != nil {
			return 0, nil, s.internal(r, "revoke sessions of a blocked user", err)
		}
	}
	return http.StatusOK, userOut(*updated, c.token), nil
}

// storeUserPatch writes a checked PATCH in one transaction.
func (s *Server) storeUserPatch(r *http.Request, tenantID, id string, p *userPatchBody, cn *adapters.Connection, pw *adapters.Password) (*adapters.User, *apiError) {
	var ae *apiError
	var out *adapters.User
	err := s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
		var err error
		out, err = tx.Users.Update(ctx, tenantID, id, func(u *adapters.User) error {
			if ae = p.apply(u, cn); ae != nil {
				return ae
			}
			return nil
		})
		if err != nil {
			return err
		}
		if pw != nil {
			if _, err := tx.Passwords.Create(ctx, tenantID, *pw); err != nil {
				return err
			}
		}
		if p.Blocked.V {
			_, _, err = tx.RevokeUser(ctx, tenantID, id, s.now())
		}
		return err
	})
	switch {
	case ae != nil:
		return nil, ae
	case errors.Is(err, adapters.ErrConflict) && p.Email.Set:
		return nil, userExists("The specified new email already exists")
	case errors.Is(err, adapters.ErrConflict) && p.Username.Set:
		return nil, userExists("The specified new username already exists")
	case errors.Is(err, adapters.ErrConflict):
		return nil, userExists("The user already exists.")
	case err != nil:
		return nil, s.fail(r, err, "user")
	}
	return out, nil
}
