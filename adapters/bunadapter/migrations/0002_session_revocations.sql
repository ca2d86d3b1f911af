-- authhero-go schema, version 2: the revocation list of the stateless
-- session store (adapters.SessionRevocation). Rendered per dialect like
-- 0001_init.sql; times are BIGINT Unix milliseconds (UTC).

CREATE TABLE session_revocations (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(191) NOT NULL,
  revoked_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
){opts};
CREATE INDEX session_revocations_expires ON session_revocations (expires_at);
