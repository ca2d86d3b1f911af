-- authhero-go schema, version 3: the change feed of package replication.
-- change_events is the outbox: one row per replicated write, written in the
-- write's own transaction, published by a relay and then marked sent.
-- change_versions holds the last known version of every replicated row (local
-- writes and applied events alike) for last-writer-wins; delete rows stay as
-- tombstones. change_applied remembers applied event ids so that a replayed
-- event changes nothing; change_dead_letters keeps events that could not be
-- applied. Only adapters with the change feed enabled write to the first two;
-- only appliers write to the last two.

CREATE TABLE change_events (
  id VARCHAR(32) NOT NULL,
  entity VARCHAR(64) NOT NULL,
  op VARCHAR(16) NOT NULL,
  tenant_id VARCHAR(191) NOT NULL,
  entity_key {text} NOT NULL,
  data {doc} NULL,
  updated_at BIGINT NOT NULL,
  origin VARCHAR(191) NOT NULL,
  created_at BIGINT NOT NULL,
  sent_at BIGINT NULL,
  PRIMARY KEY (id)
){opts};
CREATE INDEX change_events_unsent ON change_events (sent_at, id);

CREATE TABLE change_versions (
  key_hash VARCHAR(64) NOT NULL,
  entity VARCHAR(64) NOT NULL,
  tenant_id VARCHAR(191) NOT NULL,
  entity_key {text} NOT NULL,
  op VARCHAR(16) NOT NULL,
  updated_at BIGINT NOT NULL,
  origin VARCHAR(191) NOT NULL,
  event_id VARCHAR(32) NOT NULL,
  PRIMARY KEY (key_hash)
){opts};
CREATE INDEX change_versions_updated ON change_versions (updated_at);

CREATE TABLE change_applied (
  event_id VARCHAR(32) NOT NULL,
  origin VARCHAR(191) NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (event_id)
){opts};
CREATE INDEX change_applied_at ON change_applied (applied_at);

CREATE TABLE change_dead_letters (
  event_id VARCHAR(32) NOT NULL,
  event {doc} NOT NULL,
  error {text} NOT NULL,
  attempts BIGINT NOT NULL,
  failed_at BIGINT NOT NULL,
  PRIMARY KEY (event_id)
){opts};
