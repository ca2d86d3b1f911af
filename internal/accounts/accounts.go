// Package accounts creates database-connection users and checks their
// passwords: the password policy of the connection, hashing, history, and a
// login check that takes the same time whether or not the user exists (no
// account enumeration). The Management API, the login pages and
// /dbconnections share it.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/internal/password"
)

// Service works on one data adapter.
type Service struct {
	Data   *adapters.DataAdapters
	Hasher password.Hasher
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrPolicy is returned (wrapped in a *PolicyError) for a password the
// connection's policy refuses.
var ErrPolicy = errors.New("password does not meet the policy")

// PolicyError explains why a password was refused.
type PolicyError struct{ Reason string }

// Error returns the reason.
func (e *PolicyError) Error() string { return "PasswordStrengthError: " + e.Reason }

// Unwrap makes errors.Is(err, ErrPolicy) true.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// IsDatabase reports whether c stores passwords (Auth0 strategy "auth0").
func IsDatabase(c *adapters.Connection) bool {
	return c.Strategy == "auth0" || c.Strategy == "Username-Password-Authentication" || c.Strategy == "auth2"
}

// MinLength returns the connection's minimum password length (default 8).
func MinLength(c *adapters.Connection) int {
	if c.Options.PasswordComplexity != nil && c.Options.PasswordComplexity.MinLength > 0 {
		return c.Options.PasswordComplexity.MinLength
	}
	return 8
}

// CheckPolicy checks pw against the connection's policy: minimum length (in
// characters), at most password.MaxLength bytes, and, when
// password_no_personal_info is on, not containing the email's local part.
func CheckPolicy(c *adapters.Connection, pw, email string) error {
	if n := utf8.RuneCountInString(pw); n < MinLength(c) {
		return &PolicyError{Reason: fmt.Sprintf("Password is too short: at least %d characters are required", MinLength(c))}
	}
	if len(pw) > password.MaxLength {
		return &PolicyError{Reason: "Password is too long"}
	}
	if c.Options.PasswordNoPersonalInfo && email != "" {
		local, _, _ := strings.Cut(strings.ToLower(email), "@")
		if len(local) >= 3 && strings.Contains(strings.ToLower(pw), local) {
			return &PolicyError{Reason: "Password contains user information"}
		}
	}
	return nil
}

// NewUser describes a database user to create.
type NewUser struct {
	Connection string
	Email      string
	Username   string
	Password   string
	// Profile fields copied onto the user (name, metadata, ...).
	Profile adapters.User
}

// CreateUser checks the connection and the policy, then creates the user and
// its password hash in one transaction: a failure leaves nothing.
func (s *Service) CreateUser(ctx context.Context, tenantID string, in NewUser) (*adapters.User, error) {
	conn, err := s.Data.Connections.GetByName(ctx, tenantID, in.Connection)
	if errors.Is(err, adapters.ErrNotFound) {
		return nil, adapters.Invalid("connection", "connection %q does not exist", in.Connection)
	} else if err != nil {
		return nil, err
	}
	if !IsDatabase(conn) {
		return nil, adapters.Invalid("connection", "connection %q is not a database connection", in.Connection)
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" && in.Username == "" {
		return nil, adapters.Invalid("email", "is required")
	}
	if err := CheckPolicy(conn, in.Password, email); err != nil {
		return nil, err
	}
	hash, alg, err := s.Hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	u := in.Profile
	u.Email, u.Username, u.Connection, u.Provider = email, in.Username, conn.Name, "auth0"
	if u.UserID == "" {
		u.UserID = "auth0|" + adapters.NewID("")
	}
	_, local, _ := strings.Cut(u.UserID, "|")
	u.Identities = []adapters.Identity{{Connection: conn.Name, UserID: local, Provider: "auth0"}}
	if u.Name == "" {
		u.Name = email
	}
	if u.Nickname == "" {
		u.Nickname, _, _ = strings.Cut(email, "@")
	}
	var out *adapters.User
	err = s.Data.InTx(ctx, func(ctx context.Context, tx *adapters.DataAdapters) error {
		var err error
		if out, err = tx.Users.Create(ctx, tenantID, u); err != nil {
			return err
		}
		_, err = tx.Passwords.Create(ctx, tenantID, adapters.Password{UserID: out.UserID, Hash: hash, Algorithm: alg})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetPassword checks the policy and stores a new current password for the
// user (the old one becomes history).
func (s *Service) SetPassword(ctx context.Context, tenantID string, u *adapters.User, pw string) error {
	conn, err := s.Data.Connections.GetByName(ctx, tenantID, u.Connection)
	if err != nil {
		return err
	}
	if err := CheckPolicy(conn, pw, u.Email); err != nil {
		return err
	}
	hash, alg, err := s.Hasher.Hash(pw)
	if err != nil {
		return err
	}
	_, err = s.Data.Passwords.Create(ctx, tenantID, adapters.Password{UserID: u.UserID, Hash: hash, Algorithm: alg})
	return err
}

// dummy is a hash verified when the user does not exist, so that a wrong
// email costs as much as a wrong password.
var dummy, dummyAlg, _ = password.Hasher{}.Hash("authhero-dummy-password")

// ErrBadCredentials is returned for an unknown user or a wrong password
// alike.
var ErrBadCredentials = errors.New("wrong email or password")

// FindByIdentifier returns the connection's user with that email or
// username.
func (s *Service) FindByIdentifier(ctx context.Context, tenantID, connection, identifier string) (*adapters.User, error) {
	identifier = strings.TrimSpace(identifier)
	if identifier == "" || len(identifier) > 512 || strings.ContainsAny(identifier, "\"\\") {
		return nil, adapters.ErrNotFound
	}
	field := "username"
	if strings.Contains(identifier, "@") {
		field, identifier = "email", strings.ToLower(identifier)
	}
	l, err := s.Data.Users.List(ctx, tenantID, adapters.ListParams{PerPage: 2,
		Q: fmt.Sprintf(`%s:"%s" connection:"%s"`, field, identifier, strings.ReplaceAll(connection, `"`, ""))})
	if err != nil {
		return nil, err
	}
	if len(l.Items) != 1 {
		return nil, adapters.ErrNotFound
	}
	return &l.Items[0], nil
}

// Login checks identifier and password on a database connection. An unknown
// user and a wrong password both give ErrBadCredentials after the same hash
// work. A password hashed with weaker parameters is re-hashed on success.
func (s *Service) Login(ctx context.Context, tenantID, connection, identifier, pw string) (*adapters.User, error) {
	u, err := s.FindByIdentifier(ctx, tenantID, connection, identifier)
	if err != nil && !errors.Is(err, adapters.ErrNotFound) {
		return nil, err
	}
	if u == nil {
		s.Hasher.Verify(dummy, dummyAlg, pw)
		return nil, ErrBadCredentials
	}
	stored, err := s.Data.Passwords.GetCurrent(ctx, tenantID, u.UserID)
	if errors.Is(err, adapters.ErrNotFound) {
		s.Hasher.Verify(dummy, dummyAlg, pw)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	ok, rehash, err := s.Hasher.Verify(stored.Hash, stored.Algorithm, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	if rehash {
		if hash, alg, err := s.Hasher.Hash(pw); err == nil {
			s.Data.Passwords.Create(ctx, tenantID, adapters.Password{UserID: u.UserID, Hash: hash, Algorithm: alg})
		}
	}
	return u, nil
}

// RecordLogin stamps last_login, last_ip and logins_count.
func (s *Service) RecordLogin(ctx context.Context, tenantID, userID, ip string) (*adapters.User, error) {
	now := s.now()
	return s.Data.Users.Update(ctx, tenantID, userID, func(u *adapters.User) error {
		u.LastLogin, u.LastIP = &now, ip
		u.LoginsCount++
		return nil
	})
}
