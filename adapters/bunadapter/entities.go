package bunadapter

import (
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

// Column limits in bytes, matching the migrations.
const (
	idLen    = 191
	emailLen = 512
	shortLen = 64
	uriLen   = 255
)

// timeOf parses a nullable Unix-milliseconds column.
func timeOf(v sql.NullString) *time.Time {
	if !v.Valid || v.String == "" {
		return nil
	}
	n, err := strconv.ParseInt(v.String, 10, 64)
	if err != nil {
		return nil
	}
	t := time.UnixMilli(n).UTC()
	return &t
}

// boolOf parses a boolean column as the three drivers return it.
func boolOf(v sql.NullString) bool {
	return v.Valid && (v.String == "1" || strings.EqualFold(v.String, "true") || v.String == "t")
}

var tenantSpec = &spec[adapters.Tenant]{
	table: "tenants", entity: "tenant", keys: []string{"id"},
	keyOf: func(e *adapters.Tenant) []any { return []any{e.ID} },
	prepare: func(e *adapters.Tenant, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("t_")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.Tenant, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
	},
	cols: func(e *adapters.Tenant) ([]string, []any, error) {
		if err := lengths("tenant", shortLen, "id", e.ID); err != nil {
			return nil, nil, err
		}
		return []string{"id", "created_at", "updated_at"}, []any{e.ID, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

var userSpec = &spec[adapters.User]{
	table: "users", entity: "user", tenant: true, keys: []string{"user_id"},
	keyOf: func(e *adapters.User) []any { return []any{e.UserID} },
	prepare: func(e *adapters.User, now time.Time) {
		if e.Provider == "" {
			if p, _, ok := strings.Cut(e.UserID, "|"); ok {
				e.Provider = p
			} else {
				e.Provider = "auth0"
			}
		}
		if e.UserID == "" {
			e.UserID = e.Provider + "|" + adapters.NewID("")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
		normUser(e)
	},
	fix: func(old, e *adapters.User, now time.Time) {
		e.UserID, e.CreatedAt, e.UpdatedAt = old.UserID, old.CreatedAt, now
		normUser(e)
	},
	cols: func(e *adapters.User) ([]string, []any, error) {
		if e.Connection == "" {
			return nil, nil, adapters.Invalid("connection", "is required")
		}
		if err := lengths("user", idLen, "user_id", e.UserID, "connection", e.Connection, "provider", e.Provider,
			"phone_number", e.PhoneNumber, "linked_to", e.LinkedTo); err != nil {
			return nil, nil, err
		}
		if err := lengths("user", emailLen, "email", e.Email, "username", e.Username); err != nil {
			return nil, nil, err
		}
		if err := lengths("user", shortLen, "locale", e.Locale, "last_ip", e.LastIP); err != nil {
			return nil, nil, err
		}
		return []string{"user_id", "email", "username", "connection", "provider", "email_verified", "phone_number",
				"phone_verified", "name", "given_name", "family_name", "nickname", "picture", "locale", "linked_to",
				"is_social", "blocked", "last_ip", "last_login", "logins_count", "created_at", "updated_at"},
			[]any{e.UserID, str(e.Email), str(e.Username), e.Connection, e.Provider, e.EmailVerified, str(e.PhoneNumber),
				e.PhoneVerified, str(e.Name), str(e.GivenName), str(e.FamilyName), str(e.Nickname), str(e.Picture), str(e.Locale), str(e.LinkedTo),
				e.IsSocial, e.Blocked, str(e.LastIP), msp(e.LastLogin), e.LoginsCount, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

func normUser(e *adapters.User) {
	e.Email = strings.ToLower(e.Email)
	e.LastLogin = millisPtr(e.LastLogin)
	e.RegistrationCompletedAt = millisPtr(e.RegistrationCompletedAt)
}

var passwordSpec = &spec[adapters.Password]{
	table: "passwords", entity: "password", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.Password) []any { return []any{e.ID} },
	prepare: func(e *adapters.Password, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("pwd_")
		}
		stamp(&e.CreatedAt, nil, now)
		e.IsCurrent = true
	},
	fix: func(old, e *adapters.Password, now time.Time) { e.ID, e.CreatedAt = old.ID, old.CreatedAt },
	cols: func(e *adapters.Password) ([]string, []any, error) {
		if e.UserID == "" {
			return nil, nil, adapters.Invalid("user_id", "is required")
		}
		if err := lengths("password", idLen, "id", e.ID, "user_id", e.UserID); err != nil {
			return nil, nil, err
		}
		return []string{"id", "user_id", "is_current", "created_at", "seq"},
			[]any{e.ID, e.UserID, e.IsCurrent, ms(e.CreatedAt), time.Now().UnixNano()}, nil
	},
	hidden:  []string{"is_current"},
	restore: func(e *adapters.Password, v []sql.NullString) { e.IsCurrent = boolOf(v[0]) },
}

var clientSpec = &spec[adapters.Client]{
	table: "clients", entity: "client", tenant: true, keys: []string{"client_id"},
	keyOf: func(e *adapters.Client) []any { return []any{e.ClientID} },
	prepare: func(e *adapters.Client, now time.Time) {
		if e.ClientID == "" {
			e.ClientID = adapters.NewID("")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.Client, now time.Time) {
		e.ClientID, e.TenantID, e.CreatedAt, e.UpdatedAt = old.ClientID, old.TenantID, old.CreatedAt, now
	},
	cols: func(e *adapters.Client) ([]string, []any, error) {
		if err := lengths("client", idLen, "client_id", e.ClientID); err != nil {
			return nil, nil, err
		}
		return []string{"client_id", "created_at", "updated_at"}, []any{e.ClientID, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
	hidden:  []string{"tenant_id"},
	restore: func(e *adapters.Client, v []sql.NullString) { e.TenantID = v[0].String },
}

var clientGrantSpec = &spec[adapters.ClientGrant]{
	table: "client_grants", entity: "client grant", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.ClientGrant) []any { return []any{e.ID} },
	prepare: func(e *adapters.ClientGrant, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("cgr_")
		}
		if e.Scope == nil {
			e.Scope = []string{}
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.ClientGrant, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
		if e.Scope == nil {
			e.Scope = []string{}
		}
	},
	cols: func(e *adapters.ClientGrant) ([]string, []any, error) {
		if e.ClientID == "" || e.Audience == "" {
			return nil, nil, adapters.Invalid("client_grant", "client_id and audience are required")
		}
		if err := lengths("client grant", idLen, "id", e.ID, "client_id", e.ClientID); err != nil {
			return nil, nil, err
		}
		if err := lengths("client grant", uriLen, "audience", e.Audience); err != nil {
			return nil, nil, err
		}
		return []string{"id", "client_id", "audience", "created_at", "updated_at"},
			[]any{e.ID, e.ClientID, e.Audience, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

var connectionSpec = &spec[adapters.Connection]{
	table: "connections", entity: "connection", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.Connection) []any { return []any{e.ID} },
	prepare: func(e *adapters.Connection, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("con_")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.Connection, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
	},
	cols: func(e *adapters.Connection) ([]string, []any, error) {
		if e.Name == "" {
			return nil, nil, adapters.Invalid("name", "is required")
		}
		if err := lengths("connection", idLen, "id", e.ID, "name", e.Name); err != nil {
			return nil, nil, err
		}
		return []string{"id", "name", "created_at", "updated_at"}, []any{e.ID, e.Name, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

var resourceServerSpec = &spec[adapters.ResourceServer]{
	table: "resource_servers", entity: "resource server", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.ResourceServer) []any { return []any{e.ID} },
	prepare: func(e *adapters.ResourceServer, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("api_")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.ResourceServer, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
	},
	cols: func(e *adapters.ResourceServer) ([]string, []any, error) {
		if e.Identifier == "" {
			return nil, nil, adapters.Invalid("identifier", "is required")
		}
		if err := lengths("resource server", idLen, "id", e.ID); err != nil {
			return nil, nil, err
		}
		if err := lengths("resource server", uriLen, "identifier", e.Identifier); err != nil {
			return nil, nil, err
		}
		return []string{"id", "identifier", "created_at", "updated_at"}, []any{e.ID, e.Identifier, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

var roleSpec = &spec[adapters.Role]{
	table: "roles", entity: "role", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.Role) []any { return []any{e.ID} },
	prepare: func(e *adapters.Role, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("rol_")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.Role, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
	},
	cols: func(e *adapters.Role) ([]string, []any, error) {
		if e.Name == "" {
			return nil, nil, adapters.Invalid("name", "is required")
		}
		if err := lengths("role", idLen, "id", e.ID, "name", e.Name); err != nil {
			return nil, nil, err
		}
		return []string{"id", "name", "created_at", "updated_at"}, []any{e.ID, e.Name, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

// permissionSpec reads role and user permission rows.
var permissionSpec = &spec[adapters.Permission]{entity: "permission"}

var keySpec = &spec[adapters.SigningKey]{
	table: "signing_keys", entity: "signing key", keys: []string{"kid"},
	keyOf: func(e *adapters.SigningKey) []any { return []any{e.Kid} },
	prepare: func(e *adapters.SigningKey, now time.Time) {
		stamp(&e.CreatedAt, nil, now)
		normKey(e)
	},
	fix: func(old, e *adapters.SigningKey, now time.Time) {
		e.Kid, e.TenantID, e.CreatedAt = old.Kid, old.TenantID, old.CreatedAt
		normKey(e)
	},
	cols: func(e *adapters.SigningKey) ([]string, []any, error) {
		if e.Kid == "" {
			return nil, nil, adapters.Invalid("kid", "is required")
		}
		if err := lengths("signing key", idLen, "kid", e.Kid); err != nil {
			return nil, nil, err
		}
		if err := lengths("signing key", shortLen, "tenant_id", e.TenantID); err != nil {
			return nil, nil, err
		}
		return []string{"kid", "tenant_id", "created_at", "private_key"}, []any{e.Kid, e.TenantID, ms(e.CreatedAt), str(e.PrivateKeyEncrypted)}, nil
	},
	hidden:  []string{"private_key"},
	restore: func(e *adapters.SigningKey, v []sql.NullString) { e.PrivateKeyEncrypted = v[0].String },
}

func normKey(e *adapters.SigningKey) {
	e.CurrentSince = millisPtr(e.CurrentSince)
	e.CurrentUntil = millisPtr(e.CurrentUntil)
	e.RevokedAt = millisPtr(e.RevokedAt)
}

var codeSpec = &spec[adapters.Code]{
	table: "codes", entity: "code", tenant: true, keys: []string{"code_type", "code_id"},
	keyOf: func(e *adapters.Code) []any { return []any{e.CodeType, e.CodeID} },
	prepare: func(e *adapters.Code, now time.Time) {
		if e.CodeID == "" {
			e.CodeID = adapters.NewID("")
		}
		stamp(&e.CreatedAt, nil, now)
		e.ExpiresAt = adapters.Millis(e.ExpiresAt)
		e.UsedAt = millisPtr(e.UsedAt)
	},
	fix: func(old, e *adapters.Code, now time.Time) {},
	cols: func(e *adapters.Code) ([]string, []any, error) {
		if e.CodeType == "" {
			return nil, nil, adapters.Invalid("code_type", "is required")
		}
		if e.ExpiresAt.IsZero() {
			return nil, nil, adapters.Invalid("expires_at", "is required")
		}
		if err := lengths("code", idLen, "code_id", e.CodeID); err != nil {
			return nil, nil, err
		}
		if err := lengths("code", 32, "code_type", e.CodeType); err != nil {
			return nil, nil, err
		}
		return []string{"code_type", "code_id", "used_at", "expires_at", "created_at"},
			[]any{e.CodeType, e.CodeID, msp(e.UsedAt), ms(e.ExpiresAt), ms(e.CreatedAt)}, nil
	},
	hidden:  []string{"used_at"},
	restore: func(e *adapters.Code, v []sql.NullString) { e.UsedAt = timeOf(v[0]) },
}

var loginSessionSpec = &spec[adapters.LoginSession]{
	table: "login_sessions", entity: "login session", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.LoginSession) []any { return []any{e.ID} },
	prepare: func(e *adapters.LoginSession, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewULID()
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
		e.ExpiresAt = adapters.Millis(e.ExpiresAt)
		e.AuthenticatedAt = millisPtr(e.AuthenticatedAt)
	},
	fix: func(old, e *adapters.LoginSession, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
		e.ExpiresAt = adapters.Millis(e.ExpiresAt)
		e.AuthenticatedAt = millisPtr(e.AuthenticatedAt)
	},
	cols: func(e *adapters.LoginSession) ([]string, []any, error) {
		if e.ExpiresAt.IsZero() {
			return nil, nil, adapters.Invalid("expires_at", "is required")
		}
		if err := lengths("login session", idLen, "id", e.ID); err != nil {
			return nil, nil, err
		}
		return []string{"id", "expires_at", "created_at", "updated_at"}, []any{e.ID, ms(e.ExpiresAt), ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}

var sessionSpec = &spec[adapters.Session]{
	table: "sessions", entity: "session", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.Session) []any { return []any{e.ID} },
	prepare: func(e *adapters.Session, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewULID()
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
		normSession(e, now)
	},
	fix: func(old, e *adapters.Session, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
		normSession(e, now)
	},
	cols: func(e *adapters.Session) ([]string, []any, error) {
		if e.UserID == "" {
			return nil, nil, adapters.Invalid("user_id", "is required")
		}
		if err := lengths("session", idLen, "id", e.ID, "user_id", e.UserID); err != nil {
			return nil, nil, err
		}
		return []string{"id", "user_id", "revoked_at", "expires_at", "idle_expires_at", "created_at", "updated_at"},
			[]any{e.ID, e.UserID, msp(e.RevokedAt), msp(e.ExpiresAt), msp(e.IdleExpiresAt), ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
	hidden:  []string{"revoked_at"},
	restore: func(e *adapters.Session, v []sql.NullString) { e.RevokedAt = timeOf(v[0]) },
}

func normSession(e *adapters.Session, now time.Time) {
	if e.Clients == nil {
		e.Clients = []string{}
	}
	if e.AuthenticatedAt.IsZero() {
		e.AuthenticatedAt = e.CreatedAt
	}
	if e.LastInteractionAt.IsZero() {
		e.LastInteractionAt = e.CreatedAt
	}
	e.AuthenticatedAt = adapters.Millis(e.AuthenticatedAt)
	e.LastInteractionAt = adapters.Millis(e.LastInteractionAt)
	e.ExpiresAt, e.IdleExpiresAt = millisPtr(e.ExpiresAt), millisPtr(e.IdleExpiresAt)
	e.UsedAt, e.RevokedAt = millisPtr(e.UsedAt), millisPtr(e.RevokedAt)
}

var refreshTokenSpec = &spec[adapters.RefreshToken]{
	table: "refresh_tokens", entity: "refresh token", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.RefreshToken) []any { return []any{e.ID} },
	prepare: func(e *adapters.RefreshToken, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewULID()
		}
		stamp(&e.CreatedAt, nil, now)
		normRefresh(e)
	},
	fix: func(old, e *adapters.RefreshToken, now time.Time) {
		e.ID, e.CreatedAt = old.ID, old.CreatedAt
		normRefresh(e)
	},
	cols: func(e *adapters.RefreshToken) ([]string, []any, error) {
		if e.UserID == "" {
			return nil, nil, adapters.Invalid("user_id", "is required")
		}
		if err := lengths("refresh token", idLen, "id", e.ID, "user_id", e.UserID, "session_id", e.LoginID,
			"family_id", e.FamilyID, "token_lookup", e.TokenLookup, "token_hash", e.TokenHash, "rotated_to", e.RotatedTo); err != nil {
			return nil, nil, err
		}
		return []string{"id", "user_id", "login_id", "family_id", "token_lookup", "token_hash", "rotated_to", "rotated_at",
				"revoked_at", "expires_at", "idle_expires_at", "created_at"},
			[]any{e.ID, e.UserID, str(e.LoginID), str(e.FamilyID), str(e.TokenLookup), str(e.TokenHash), str(e.RotatedTo),
				msp(e.RotatedAt), msp(e.RevokedAt), msp(e.ExpiresAt), msp(e.IdleExpiresAt), ms(e.CreatedAt)}, nil
	},
	hidden: []string{"token_lookup", "token_hash", "rotated_to", "rotated_at", "revoked_at"},
	restore: func(e *adapters.RefreshToken, v []sql.NullString) {
		e.TokenLookup, e.TokenHash, e.RotatedTo = v[0].String, v[1].String, v[2].String
		e.RotatedAt, e.RevokedAt = timeOf(v[3]), timeOf(v[4])
	},
}

func normRefresh(e *adapters.RefreshToken) {
	if e.ResourceServers == nil {
		e.ResourceServers = []adapters.TokenResource{}
	}
	e.RotatedAt, e.RevokedAt = millisPtr(e.RotatedAt), millisPtr(e.RevokedAt)
	e.ExpiresAt, e.IdleExpiresAt = millisPtr(e.ExpiresAt), millisPtr(e.IdleExpiresAt)
	e.LastExchangedAt = millisPtr(e.LastExchangedAt)
}

var logSpec = &spec[adapters.Log]{
	table: "logs", entity: "log", tenant: true, keys: []string{"log_id"},
	keyOf: func(e *adapters.Log) []any { return []any{e.LogID} },
	prepare: func(e *adapters.Log, now time.Time) {
		if e.LogID == "" {
			e.LogID = adapters.NewULID()
		}
		stamp(&e.Date, nil, now)
	},
	fix: func(old, e *adapters.Log, now time.Time) {},
	cols: func(e *adapters.Log) ([]string, []any, error) {
		if e.Type == "" {
			return nil, nil, adapters.Invalid("type", "is required")
		}
		if err := lengths("log", idLen, "log_id", e.LogID, "user_id", e.UserID, "connection", e.Connection,
			"connection_id", e.ConnectionID, "client_id", e.ClientID); err != nil {
			return nil, nil, err
		}
		if err := lengths("log", shortLen, "ip", e.IP, "strategy", e.Strategy, "strategy_type", e.StrategyType); err != nil {
			return nil, nil, err
		}
		if err := lengths("log", 32, "type", e.Type); err != nil {
			return nil, nil, err
		}
		if err := lengths("log", uriLen, "hostname", e.Hostname); err != nil {
			return nil, nil, err
		}
		return []string{"log_id", "log_type", "log_date", "description", "ip", "user_agent", "user_id", "user_name",
				"connection", "connection_id", "client_id", "client_name", "audience", "scope", "strategy", "strategy_type", "hostname"},
			[]any{e.LogID, e.Type, ms(e.Date), str(e.Description), str(e.IP), str(e.UserAgent), str(e.UserID), str(e.UserName),
				str(e.Connection), str(e.ConnectionID), str(e.ClientID), str(e.ClientName), str(e.Audience), str(e.Scope),
				str(e.Strategy), str(e.StrategyType), str(e.Hostname)}, nil
	},
}

var customDomainSpec = &spec[adapters.CustomDomain]{
	table: "custom_domains", entity: "custom domain", tenant: true, keys: []string{"custom_domain_id"},
	keyOf: func(e *adapters.CustomDomain) []any { return []any{e.CustomDomainID} },
	prepare: func(e *adapters.CustomDomain, now time.Time) {
		if e.CustomDomainID == "" {
			e.CustomDomainID = adapters.NewID("cd_")
		}
		e.Domain = strings.ToLower(e.Domain)
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.CustomDomain, now time.Time) {
		e.CustomDomainID, e.TenantID, e.CreatedAt, e.UpdatedAt = old.CustomDomainID, old.TenantID, old.CreatedAt, now
		e.Domain = strings.ToLower(e.Domain)
	},
	cols: func(e *adapters.CustomDomain) ([]string, []any, error) {
		if e.Domain == "" {
			return nil, nil, adapters.Invalid("domain", "is required")
		}
		if err := lengths("custom domain", idLen, "custom_domain_id", e.CustomDomainID); err != nil {
			return nil, nil, err
		}
		if err := lengths("custom domain", uriLen, "domain", e.Domain); err != nil {
			return nil, nil, err
		}
		return []string{"custom_domain_id", "domain", "created_at", "updated_at"},
			[]any{e.CustomDomainID, e.Domain, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
	hidden:  []string{"tenant_id"},
	restore: func(e *adapters.CustomDomain, v []sql.NullString) { e.TenantID = v[0].String },
}

var organizationSpec = &spec[adapters.Organization]{
	table: "organizations", entity: "organization", tenant: true, keys: []string{"id"},
	keyOf: func(e *adapters.Organization) []any { return []any{e.ID} },
	prepare: func(e *adapters.Organization, now time.Time) {
		if e.ID == "" {
			e.ID = adapters.NewID("org_")
		}
		stamp(&e.CreatedAt, &e.UpdatedAt, now)
	},
	fix: func(old, e *adapters.Organization, now time.Time) {
		e.ID, e.CreatedAt, e.UpdatedAt = old.ID, old.CreatedAt, now
	},
	cols: func(e *adapters.Organization) ([]string, []any, error) {
		if e.Name == "" {
			return nil, nil, adapters.Invalid("name", "is required")
		}
		if err := lengths("organization", shortLen, "id", e.ID); err != nil {
			return nil, nil, err
		}
		if err := lengths("organization", idLen, "name", e.Name); err != nil {
			return nil, nil, err
		}
		return []string{"id", "name", "created_at", "updated_at"}, []any{e.ID, e.Name, ms(e.CreatedAt), ms(e.UpdatedAt)}, nil
	},
}
