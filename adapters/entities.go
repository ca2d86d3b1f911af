package adapters

import "time"

// Metadata is a free-form JSON object such as user_metadata or app_metadata.
type Metadata = map[string]any

// Tenant is one isolated Auth0 tenant: its settings and its own keys, users and
// clients. Fields follow Auth0's tenant settings
// (https://auth0.com/docs/api/management/v2/tenants/tenant-settings-route).
type Tenant struct {
	ID                    string         `json:"id"`
	FriendlyName          string         `json:"friendly_name"`
	Audience              string         `json:"audience,omitempty"`
	DefaultAudience       string         `json:"default_audience,omitempty"`
	DefaultOrganization   string         `json:"default_organization,omitempty"`
	DefaultDirectory      string         `json:"default_directory,omitempty"`
	PictureURL            string         `json:"picture_url,omitempty"`
	SupportEmail          string         `json:"support_email,omitempty"`
	SupportURL            string         `json:"support_url,omitempty"`
	SenderEmail           string         `json:"sender_email,omitempty"`
	SenderName            string         `json:"sender_name,omitempty"`
	SessionLifetime       float64        `json:"session_lifetime,omitempty"`
	IdleSessionLifetime   float64        `json:"idle_session_lifetime,omitempty"`
	AllowedLogoutURLs     []string       `json:"allowed_logout_urls,omitempty"`
	DefaultRedirectionURI string         `json:"default_redirection_uri,omitempty"`
	EnabledLocales        []string       `json:"enabled_locales,omitempty"`
	Flags                 map[string]any `json:"flags,omitempty"`
	// SigningAlg is the algorithm of the tenant's signing keys: RS256 (the
	// default, as Auth0), ES256 or EdDSA. An authhero-go extension.
	SigningAlg string `json:"signing_alg,omitempty"`
	// Branding used by the universal login pages.
	LogoURL      string    `json:"logo_url,omitempty"`
	PrimaryColor string    `json:"primary_color,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Address is the OIDC address claim of a user.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// Identity is one linked identity of a user (Auth0's identities[]).
type Identity struct {
	Connection    string   `json:"connection"`
	UserID        string   `json:"user_id"`
	Provider      string   `json:"provider"`
	IsSocial      bool     `json:"isSocial"`
	AccessToken   string   `json:"access_token,omitempty"`
	RefreshToken  string   `json:"refresh_token,omitempty"`
	ProfileData   Metadata `json:"profileData,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Username      string   `json:"username,omitempty"`
	PhoneNumber   string   `json:"phone_number,omitempty"`
	PhoneVerified bool     `json:"phone_verified,omitempty"`
}

// User is an Auth0 user profile
// (https://auth0.com/docs/manage-users/user-accounts/user-profiles/user-profile-structure).
// UserID has the form "{provider}|{id}", e.g. "auth0|65f1c0...".
// Email is stored lower-cased, as Auth0 does.
type User struct {
	UserID                  string     `json:"user_id"`
	Email                   string     `json:"email,omitempty"`
	EmailVerified           bool       `json:"email_verified"`
	Username                string     `json:"username,omitempty"`
	PhoneNumber             string     `json:"phone_number,omitempty"`
	PhoneVerified           bool       `json:"phone_verified,omitempty"`
	Name                    string     `json:"name,omitempty"`
	GivenName               string     `json:"given_name,omitempty"`
	FamilyName              string     `json:"family_name,omitempty"`
	MiddleName              string     `json:"middle_name,omitempty"`
	Nickname                string     `json:"nickname,omitempty"`
	PreferredUsername       string     `json:"preferred_username,omitempty"`
	Picture                 string     `json:"picture,omitempty"`
	Locale                  string     `json:"locale,omitempty"`
	Profile                 string     `json:"profile,omitempty"`
	Website                 string     `json:"website,omitempty"`
	Gender                  string     `json:"gender,omitempty"`
	Birthdate               string     `json:"birthdate,omitempty"`
	Zoneinfo                string     `json:"zoneinfo,omitempty"`
	Address                 *Address   `json:"address,omitempty"`
	AppMetadata             Metadata   `json:"app_metadata,omitempty"`
	UserMetadata            Metadata   `json:"user_metadata,omitempty"`
	Provider                string     `json:"provider"`
	Connection              string     `json:"connection"`
	IsSocial                bool       `json:"is_social"`
	LinkedTo                string     `json:"linked_to,omitempty"`
	Blocked                 bool       `json:"blocked,omitempty"`
	Identities              []Identity `json:"identities,omitempty"`
	LastIP                  string     `json:"last_ip,omitempty"`
	LastLogin               *time.Time `json:"last_login,omitempty"`
	LoginsCount             int        `json:"logins_count"`
	RegistrationCompletedAt *time.Time `json:"registration_completed_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// Password is one password hash of a user. The newest one is current; older
// ones are the history a password policy checks against.
type Password struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Hash      string    `json:"password"`
	Algorithm string    `json:"algorithm"` // "bcrypt" or "argon2id"
	IsCurrent bool      `json:"is_current"`
	CreatedAt time.Time `json:"created_at"`
}

// RefreshTokenSettings is a client's refresh_token policy
// (https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation).
type RefreshTokenSettings struct {
	RotationType              string `json:"rotation_type,omitempty"` // rotating | non-rotating
	ExpirationType            string `json:"expiration_type,omitempty"`
	Leeway                    int    `json:"leeway,omitempty"`
	TokenLifetime             int    `json:"token_lifetime,omitempty"`
	InfiniteTokenLifetime     bool   `json:"infinite_token_lifetime,omitempty"`
	IdleTokenLifetime         int    `json:"idle_token_lifetime,omitempty"`
	InfiniteIdleTokenLifetime bool   `json:"infinite_idle_token_lifetime,omitempty"`
}

// Client is an Auth0 application
// (https://auth0.com/docs/api/management/v2/clients/get-clients). ClientID is
// unique across all tenants. ClientSecret holds the secret as stored by the
// adapter's caller (authhero-go stores it encrypted).
type Client struct {
	TenantID       string `json:"tenant_id,omitempty"`
	ClientID       string `json:"client_id"`
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	ClientSecret   string `json:"client_secret,omitempty"`
	AppType        string `json:"app_type,omitempty"`
	LogoURI        string `json:"logo_uri,omitempty"`
	IsFirstParty   bool   `json:"is_first_party"`
	OIDCConformant bool   `json:"oidc_conformant"`
	// Auth0Conformant selects Auth0's status codes (403 for invalid_grant,
	// unauthorized_client and scope errors) when nil or true, and RFC 6749's
	// (400) when false.
	Auth0Conformant         *bool                 `json:"auth0_conformant,omitempty"`
	Callbacks               []string              `json:"callbacks,omitempty"`
	AllowedOrigins          []string              `json:"allowed_origins,omitempty"`
	WebOrigins              []string              `json:"web_origins,omitempty"`
	AllowedLogoutURLs       []string              `json:"allowed_logout_urls,omitempty"`
	GrantTypes              []string              `json:"grant_types,omitempty"`
	TokenEndpointAuthMethod string                `json:"token_endpoint_auth_method,omitempty"`
	JWTConfiguration        map[string]any        `json:"jwt_configuration,omitempty"`
	RefreshToken            *RefreshTokenSettings `json:"refresh_token,omitempty"`
	ClientMetadata          map[string]string     `json:"client_metadata,omitempty"`
	InitiateLoginURI        string                `json:"initiate_login_uri,omitempty"`
	SSO                     bool                  `json:"sso,omitempty"`
	SSODisabled             bool                  `json:"sso_disabled,omitempty"`
	CrossOriginAuth         bool                  `json:"cross_origin_authentication,omitempty"`
	OrganizationUsage       string                `json:"organization_usage,omitempty"`
	CreatedAt               time.Time             `json:"created_at"`
	UpdatedAt               time.Time             `json:"updated_at"`
}

// ClientGrant allows a client to ask for tokens for an API (client
// credentials); (ClientID, Audience) is unique per tenant
// (https://auth0.com/docs/api/management/v2/client-grants/get-client-grants).
type ClientGrant struct {
	ID                string    `json:"id"`
	ClientID          string    `json:"client_id"`
	Audience          string    `json:"audience"`
	Scope             []string  `json:"scope"`
	OrganizationUsage string    `json:"organization_usage,omitempty"`
	AllowAnyOrg       bool      `json:"allow_any_organization,omitempty"`
	SubjectType       string    `json:"subject_type,omitempty"`
	IsSystem          bool      `json:"is_system,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// ClientGrantFilter narrows a client-grant list; empty fields match all.
type ClientGrantFilter struct {
	ClientID string
	Audience string
}

// PasswordComplexity is a database connection's password_complexity_options.
type PasswordComplexity struct {
	MinLength int `json:"min_length,omitempty"`
}

// PasswordHistory is a database connection's password_history option.
type PasswordHistory struct {
	Enable bool `json:"enable"`
	Size   int  `json:"size,omitempty"`
}

// ConnectionOptions holds a connection's options. Secrets (ClientSecret) are
// stored as their caller hands them (authhero-go encrypts them).
type ConnectionOptions struct {
	ClientID               string              `json:"client_id,omitempty"`
	ClientSecret           string              `json:"client_secret,omitempty"`
	Scope                  string              `json:"scope,omitempty"`
	AuthorizationEndpoint  string              `json:"authorization_endpoint,omitempty"`
	TokenEndpoint          string              `json:"token_endpoint,omitempty"`
	UserinfoEndpoint       string              `json:"userinfo_endpoint,omitempty"`
	JWKSURI                string              `json:"jwks_uri,omitempty"`
	Issuer                 string              `json:"issuer,omitempty"`
	PasswordPolicy         string              `json:"passwordPolicy,omitempty"`
	PasswordComplexity     *PasswordComplexity `json:"password_complexity_options,omitempty"`
	PasswordHistory        *PasswordHistory    `json:"password_history,omitempty"`
	PasswordNoPersonalInfo bool                `json:"password_no_personal_info,omitempty"`
	DisableSignup          bool                `json:"disable_signup,omitempty"`
	BruteForceProtection   *bool               `json:"brute_force_protection,omitempty"`
	RequiresUsername       bool                `json:"requires_username,omitempty"`
	ImportMode             bool                `json:"import_mode,omitempty"`
}

// Connection is a source of users: a database, a social or an enterprise
// provider (https://auth0.com/docs/api/management/v2/connections/get-connections).
// Name is unique per tenant.
type Connection struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	DisplayName    string            `json:"display_name,omitempty"`
	Strategy       string            `json:"strategy"`
	Options        ConnectionOptions `json:"options"`
	EnabledClients []string          `json:"enabled_clients,omitempty"`
	IsDomainConn   bool              `json:"is_domain_connection,omitempty"`
	ShowAsButton   bool              `json:"show_as_button,omitempty"`
	Realms         []string          `json:"realms,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	IsSystem       bool              `json:"is_system,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// ResourceServerScope is one permission an API defines.
type ResourceServerScope struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// ResourceServerOptions holds authhero's resource-server options.
type ResourceServerOptions struct {
	TokenDialect    string `json:"token_dialect,omitempty"` // access_token | access_token_authz
	EnforcePolicies bool   `json:"enforce_policies,omitempty"`
}

// ResourceServer is an API that access tokens are issued for
// (https://auth0.com/docs/api/management/v2/resource-servers/get-resource-servers).
// Identifier (the audience) is unique per tenant.
type ResourceServer struct {
	ID                       string                `json:"id"`
	Name                     string                `json:"name"`
	Identifier               string                `json:"identifier"`
	Scopes                   []ResourceServerScope `json:"scopes,omitempty"`
	SigningAlg               string                `json:"signing_alg,omitempty"`
	SigningSecret            string                `json:"signing_secret,omitempty"`
	TokenLifetime            int                   `json:"token_lifetime,omitempty"`
	TokenLifetimeForWeb      int                   `json:"token_lifetime_for_web,omitempty"`
	AllowOfflineAccess       bool                  `json:"allow_offline_access,omitempty"`
	SkipConsentForFirstParty bool                  `json:"skip_consent_for_verifiable_first_party_clients,omitempty"`
	Options                  ResourceServerOptions `json:"options,omitempty"`
	IsSystem                 bool                  `json:"is_system,omitempty"`
	Metadata                 map[string]string     `json:"metadata,omitempty"`
	CreatedAt                time.Time             `json:"created_at"`
	UpdatedAt                time.Time             `json:"updated_at"`
}

// Role is a named set of permissions; Name is unique per tenant
// (https://auth0.com/docs/api/management/v2/roles/get-roles).
type Role struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	IsSystem    bool      `json:"is_system,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Permission names one scope of one resource server, as assigned to a role or
// a user (https://auth0.com/docs/api/management/v2/roles/get-role-permission).
type Permission struct {
	ResourceServerIdentifier string    `json:"resource_server_identifier"`
	PermissionName           string    `json:"permission_name"`
	ResourceServerName       string    `json:"resource_server_name,omitempty"`
	Description              string    `json:"description,omitempty"`
	OrganizationID           string    `json:"organization_id,omitempty"`
	CreatedAt                time.Time `json:"created_at"`
}

// SigningKey is one JWT signing key of a tenant. The private key is stored
// encrypted by the caller (PrivateKeyEncrypted); PublicJWK is the public JWK.
// Kid is the RFC 7638 thumbprint and unique across tenants.
type SigningKey struct {
	Kid                 string     `json:"kid"`
	TenantID            string     `json:"tenant_id,omitempty"`
	Alg                 string     `json:"alg"`
	Cert                string     `json:"cert,omitempty"`
	PublicJWK           string     `json:"public_jwk,omitempty"`
	PrivateKeyEncrypted string     `json:"-"`
	Fingerprint         string     `json:"fingerprint,omitempty"`
	Thumbprint          string     `json:"thumbprint,omitempty"`
	Current             bool       `json:"current,omitempty"`
	Next                bool       `json:"next,omitempty"`
	Previous            bool       `json:"previous,omitempty"`
	CurrentSince        *time.Time `json:"current_since,omitempty"`
	CurrentUntil        *time.Time `json:"current_until,omitempty"`
	RevokedAt           *time.Time `json:"revoked_at,omitempty"`
	Type                string     `json:"type,omitempty"` // jwt_signing
	CreatedAt           time.Time  `json:"created_at"`
}

// Code types used by the protocol (AuthHero's code_type values).
const (
	CodeAuthorization     = "authorization_code"
	CodeOTP               = "otp"
	CodePasswordReset     = "password_reset"
	CodeEmailVerification = "email_verification"
	CodeOAuth2State       = "oauth2_state"
	CodeTicket            = "ticket"
)

// Code is a single-use code: an authorization code, an OTP, a password-reset
// or email-verification ticket. (CodeID, CodeType) is unique per tenant.
type Code struct {
	CodeID              string     `json:"code_id"`
	CodeType            string     `json:"code_type"`
	LoginID             string     `json:"login_id,omitempty"`
	UserID              string     `json:"user_id,omitempty"`
	ConnectionID        string     `json:"connection_id,omitempty"`
	CodeChallenge       string     `json:"code_challenge,omitempty"`
	CodeChallengeMethod string     `json:"code_challenge_method,omitempty"`
	CodeVerifier        string     `json:"code_verifier,omitempty"`
	RedirectURI         string     `json:"redirect_uri,omitempty"`
	Nonce               string     `json:"nonce,omitempty"`
	State               string     `json:"state,omitempty"`
	OTP                 string     `json:"otp,omitempty"`
	ExpiresAt           time.Time  `json:"expires_at"`
	UsedAt              *time.Time `json:"used_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
}

// AuthParams are the authorization request parameters a login carries
// (https://auth0.com/docs/api/authentication#authorize-application).
type AuthParams struct {
	ClientID            string `json:"client_id"`
	ResponseType        string `json:"response_type,omitempty"`
	ResponseMode        string `json:"response_mode,omitempty"`
	RedirectURI         string `json:"redirect_uri,omitempty"`
	Audience            string `json:"audience,omitempty"`
	Organization        string `json:"organization,omitempty"`
	State               string `json:"state,omitempty"`
	Nonce               string `json:"nonce,omitempty"`
	Scope               string `json:"scope,omitempty"`
	Prompt              string `json:"prompt,omitempty"`
	CodeChallenge       string `json:"code_challenge,omitempty"`
	CodeChallengeMethod string `json:"code_challenge_method,omitempty"`
	Username            string `json:"username,omitempty"`
	UILocales           string `json:"ui_locales,omitempty"`
	MaxAge              *int   `json:"max_age,omitempty"`
	ACRValues           string `json:"acr_values,omitempty"`
	Connection          string `json:"connection,omitempty"`
	ScreenHint          string `json:"screen_hint,omitempty"`
}

// LoginSession is one login transaction, from /authorize to the callback.
type LoginSession struct {
	ID               string     `json:"id"`
	CSRFToken        string     `json:"csrf_token"`
	AuthParams       AuthParams `json:"authParams"`
	State            string     `json:"state,omitempty"`
	StateData        string     `json:"state_data,omitempty"`
	SessionID        string     `json:"session_id,omitempty"`
	UserID           string     `json:"user_id,omitempty"`
	AuthConnection   string     `json:"auth_connection,omitempty"`
	IP               string     `json:"ip,omitempty"`
	UserAgent        string     `json:"useragent,omitempty"`
	AuthorizationURL string     `json:"authorization_url,omitempty"`
	AuthenticatedAt  *time.Time `json:"authenticated_at,omitempty"`
	ExpiresAt        time.Time  `json:"expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Device describes the user agent a session or refresh token was made on.
type Device struct {
	InitialUserAgent string `json:"initial_user_agent,omitempty"`
	InitialIP        string `json:"initial_ip,omitempty"`
	InitialASN       string `json:"initial_asn,omitempty"`
	LastUserAgent    string `json:"last_user_agent,omitempty"`
	LastIP           string `json:"last_ip,omitempty"`
	LastASN          string `json:"last_asn,omitempty"`
}

// Session is a browser SSO session
// (https://auth0.com/docs/api/management/v2/sessions/get-session).
type Session struct {
	ID                string     `json:"id"`
	UserID            string     `json:"user_id"`
	LoginSessionID    string     `json:"login_session_id,omitempty"`
	Clients           []string   `json:"clients"`
	Device            Device     `json:"device"`
	AuthenticatedAt   time.Time  `json:"authenticated_at"`
	LastInteractionAt time.Time  `json:"last_interaction_at"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	IdleExpiresAt     *time.Time `json:"idle_expires_at,omitempty"`
	UsedAt            *time.Time `json:"used_at,omitempty"`
	RevokedAt         *time.Time `json:"revoked_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// TokenResource is one audience a refresh token may mint access tokens for.
type TokenResource struct {
	Audience string `json:"audience"`
	Scopes   string `json:"scopes"`
}

// RefreshToken is a refresh token as stored: a public lookup part and a hash of
// the secret, never the secret itself
// (https://auth0.com/docs/api/management/v2/refresh-tokens/get-refresh-token).
type RefreshToken struct {
	ID              string          `json:"id"`
	LoginID         string          `json:"session_id,omitempty"`
	UserID          string          `json:"user_id"`
	ClientID        string          `json:"client_id"`
	TokenLookup     string          `json:"-"`
	TokenHash       string          `json:"-"`
	FamilyID        string          `json:"family_id,omitempty"`
	Rotating        bool            `json:"rotating"`
	RotatedTo       string          `json:"rotated_to,omitempty"`
	RotatedAt       *time.Time      `json:"rotated_at,omitempty"`
	Device          Device          `json:"device"`
	ResourceServers []TokenResource `json:"resource_servers"`
	ExpiresAt       *time.Time      `json:"expires_at,omitempty"`
	IdleExpiresAt   *time.Time      `json:"idle_expires_at,omitempty"`
	LastExchangedAt *time.Time      `json:"last_exchanged_at,omitempty"`
	RevokedAt       *time.Time      `json:"revoked_at,omitempty"`
	CreatedAt       time.Time       `json:"created_at"`
}

// Log is one audit event with Auth0's log event type codes
// (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes).
type Log struct {
	LogID        string         `json:"log_id"`
	Type         string         `json:"type"`
	Date         time.Time      `json:"date"`
	Description  string         `json:"description,omitempty"`
	IP           string         `json:"ip,omitempty"`
	UserAgent    string         `json:"user_agent,omitempty"`
	Details      map[string]any `json:"details,omitempty"`
	UserID       string         `json:"user_id,omitempty"`
	UserName     string         `json:"user_name,omitempty"`
	Connection   string         `json:"connection,omitempty"`
	ConnectionID string         `json:"connection_id,omitempty"`
	ClientID     string         `json:"client_id,omitempty"`
	ClientName   string         `json:"client_name,omitempty"`
	Audience     string         `json:"audience,omitempty"`
	Scope        string         `json:"scope,omitempty"`
	Strategy     string         `json:"strategy,omitempty"`
	StrategyType string         `json:"strategy_type,omitempty"`
	Hostname     string         `json:"hostname,omitempty"`
}

// CustomDomain maps a host name to a tenant; Domain is unique across tenants
// (https://auth0.com/docs/api/management/v2/custom-domains/get-custom-domains).
type CustomDomain struct {
	CustomDomainID string         `json:"custom_domain_id"`
	TenantID       string         `json:"tenant_id,omitempty"`
	Domain         string         `json:"domain"`
	Type           string         `json:"type"`
	Primary        bool           `json:"primary"`
	Status         string         `json:"status"`
	Verification   map[string]any `json:"verification,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// OrganizationBranding is an organization's logo and colours.
type OrganizationBranding struct {
	LogoURL string            `json:"logo_url,omitempty"`
	Colors  map[string]string `json:"colors,omitempty"`
}

// Organization groups users for B2B; Name is unique per tenant
// (https://auth0.com/docs/api/management/v2/organizations/get-organizations).
type Organization struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	DisplayName string                `json:"display_name,omitempty"`
	Branding    *OrganizationBranding `json:"branding,omitempty"`
	Metadata    map[string]string     `json:"metadata,omitempty"`
	CreatedAt   time.Time             `json:"created_at"`
	UpdatedAt   time.Time             `json:"updated_at"`
}
