package provision

// managementResources are the Management API v2 resources whose scopes follow
// Auth0's read/create/update/delete:{resource} pattern
// (https://auth0.com/docs/get-started/apis/scopes/management-api-scopes? see
// https://auth0.com/docs/api/management/v2 for each endpoint's scope).
var managementResources = []string{
	"users", "users_app_metadata", "clients", "client_grants", "connections", "resource_servers",
	"roles", "role_members", "organizations", "organization_members", "organization_member_roles",
	"organization_connections", "organization_invitations", "custom_domains", "email_templates",
	"email_provider", "hooks", "actions", "log_streams", "prompts", "branding", "tenants",
	"signing_keys", "sessions", "refresh_tokens", "grants", "guardian_factors", "attack_protection",
	"forms", "flows", "client_credentials",
}

// extraScopes are management scopes outside that pattern.
var extraScopes = []string{
	"read:logs", "read:logs_users", "read:stats", "read:tenant_settings", "update:tenant_settings",
	"create:user_tickets", "read:client_keys", "update:client_keys", "blacklist:tokens",
	"read:user_idp_tokens", "read:current_user", "update:current_user_metadata", "admin:organizations",
}

// ManagementScopes returns every scope of the Management API, in Auth0's
// names, as the tenant's Management API resource server defines them.
func ManagementScopes() []string {
	var out []string
	for _, r := range managementResources {
		for _, verb := range []string{"read", "create", "update", "delete"} {
			out = append(out, verb+":"+r)
		}
	}
	return append(out, extraScopes...)
}
