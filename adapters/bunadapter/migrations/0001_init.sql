-- authhero-go schema, version 1. Rendered per dialect: {doc} is the JSON
-- document type, {text} a long string, {bool} a boolean, {opts} table options.
-- Times are BIGINT Unix milliseconds (UTC).

CREATE TABLE tenants (
  id VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (id)
){opts};

CREATE TABLE users (
  tenant_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  email VARCHAR(512) NULL,
  username VARCHAR(512) NULL,
  connection VARCHAR(191) NOT NULL,
  provider VARCHAR(191) NOT NULL,
  email_verified {bool} NOT NULL,
  phone_number VARCHAR(191) NULL,
  phone_verified {bool} NOT NULL,
  name {text} NULL,
  given_name {text} NULL,
  family_name {text} NULL,
  nickname {text} NULL,
  picture {text} NULL,
  locale VARCHAR(64) NULL,
  linked_to VARCHAR(191) NULL,
  is_social {bool} NOT NULL,
  blocked {bool} NOT NULL,
  last_ip VARCHAR(64) NULL,
  last_login BIGINT NULL,
  logins_count BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
){opts};
CREATE UNIQUE INDEX users_email ON users (tenant_id, connection, email);
CREATE UNIQUE INDEX users_username ON users (tenant_id, connection, username);
CREATE INDEX users_created ON users (tenant_id, created_at, user_id);
CREATE INDEX users_phone ON users (tenant_id, phone_number);

CREATE TABLE passwords (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  is_current {bool} NOT NULL,
  created_at BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE INDEX passwords_user ON passwords (tenant_id, user_id, seq);

CREATE TABLE clients (
  tenant_id VARCHAR(64) NOT NULL,
  client_id VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, client_id)
){opts};
CREATE UNIQUE INDEX clients_client_id ON clients (client_id);
CREATE INDEX clients_created ON clients (tenant_id, created_at, client_id);

CREATE TABLE client_grants (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  client_id VARCHAR(191) NOT NULL,
  audience VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX client_grants_client_audience ON client_grants (tenant_id, client_id, audience);

CREATE TABLE connections (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  name VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX connections_name ON connections (tenant_id, name);

CREATE TABLE resource_servers (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  identifier VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX resource_servers_identifier ON resource_servers (tenant_id, identifier);

CREATE TABLE roles (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  name VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name);
CREATE INDEX roles_created ON roles (tenant_id, created_at, id);

CREATE TABLE role_permissions (
  tenant_id VARCHAR(64) NOT NULL,
  role_id VARCHAR(191) NOT NULL,
  resource_server_identifier VARCHAR(255) NOT NULL,
  permission_name VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, role_id, resource_server_identifier, permission_name)
){opts};

CREATE TABLE user_roles (
  tenant_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  organization_id VARCHAR(64) NOT NULL,
  role_id VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, organization_id, role_id)
){opts};
CREATE INDEX user_roles_role ON user_roles (tenant_id, role_id, created_at);

CREATE TABLE user_permissions (
  tenant_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  organization_id VARCHAR(64) NOT NULL,
  resource_server_identifier VARCHAR(191) NOT NULL,
  permission_name VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, user_id, organization_id, resource_server_identifier, permission_name)
){opts};

CREATE TABLE signing_keys (
  kid VARCHAR(191) NOT NULL,
  tenant_id VARCHAR(64) NOT NULL,
  created_at BIGINT NOT NULL,
  private_key {text} NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (kid)
){opts};
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at);

CREATE TABLE codes (
  tenant_id VARCHAR(64) NOT NULL,
  code_type VARCHAR(32) NOT NULL,
  code_id VARCHAR(191) NOT NULL,
  used_at BIGINT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, code_type, code_id)
){opts};
CREATE INDEX codes_expires ON codes (expires_at);

CREATE TABLE login_sessions (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);

CREATE TABLE sessions (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  revoked_at BIGINT NULL,
  expires_at BIGINT NULL,
  idle_expires_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);

CREATE TABLE refresh_tokens (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  login_id VARCHAR(191) NULL,
  family_id VARCHAR(191) NULL,
  token_lookup VARCHAR(191) NULL,
  token_hash VARCHAR(191) NULL,
  rotated_to VARCHAR(191) NULL,
  rotated_at BIGINT NULL,
  revoked_at BIGINT NULL,
  expires_at BIGINT NULL,
  idle_expires_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX refresh_tokens_lookup ON refresh_tokens (tenant_id, token_lookup);
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id, created_at);
CREATE INDEX refresh_tokens_login ON refresh_tokens (tenant_id, login_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_idle_expires ON refresh_tokens (idle_expires_at);

CREATE TABLE logs (
  tenant_id VARCHAR(64) NOT NULL,
  log_id VARCHAR(191) NOT NULL,
  log_type VARCHAR(32) NOT NULL,
  log_date BIGINT NOT NULL,
  description {text} NULL,
  ip VARCHAR(64) NULL,
  user_agent {text} NULL,
  user_id VARCHAR(191) NULL,
  user_name {text} NULL,
  connection VARCHAR(191) NULL,
  connection_id VARCHAR(191) NULL,
  client_id VARCHAR(191) NULL,
  client_name {text} NULL,
  audience {text} NULL,
  scope {text} NULL,
  strategy VARCHAR(64) NULL,
  strategy_type VARCHAR(64) NULL,
  hostname VARCHAR(255) NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, log_id)
){opts};
CREATE INDEX logs_date ON logs (tenant_id, log_date, log_id);
CREATE INDEX logs_user ON logs (tenant_id, user_id, log_date);

CREATE TABLE custom_domains (
  custom_domain_id VARCHAR(191) NOT NULL,
  tenant_id VARCHAR(64) NOT NULL,
  domain VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (custom_domain_id)
){opts};
CREATE UNIQUE INDEX custom_domains_domain ON custom_domains (domain);
CREATE INDEX custom_domains_tenant ON custom_domains (tenant_id);

CREATE TABLE organizations (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  name VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  data {doc} NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE UNIQUE INDEX organizations_name ON organizations (tenant_id, name);
CREATE INDEX organizations_created ON organizations (tenant_id, created_at, id);

CREATE TABLE organization_members (
  tenant_id VARCHAR(64) NOT NULL,
  organization_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, organization_id, user_id)
){opts};
CREATE INDEX organization_members_user ON organization_members (tenant_id, user_id);
