// Package replication keeps independent authhero-go databases in sync (the
// multi-cloud guide's "Option 2: independent databases"): each deployment
// writes to its own database, and changes travel between them as events.
//
// # Pieces
//
//   - The change feed (bunadapter.Options.ChangeFeed): every write to a
//     replicated entity records a change event in the same transaction, in
//     the database's change_events outbox. An event carries the row's full
//     stored state (the JSON document plus the columns the document does not
//     hold, such as the sealed private key of a signing key) or a delete,
//     the row's version (updated_at and the origin id of the database that
//     wrote it) and a ULID id.
//   - A Relay reads unsent events in id order, publishes each at least once
//     through a Publisher (NATSPublisher: JetStream with Nats-Msg-Id set to
//     the event id for de-duplication; WebhookPublisher: an HMAC-signed HTTP
//     POST with Idempotency-Key), and marks them sent. While the transport is
//     down, writes still succeed and events wait in the outbox (the backlog).
//   - An Applier consumes events (Applier.RunNATS from a durable JetStream
//     consumer, or Applier.WebhookHandler) and applies them to another
//     database through bunadapter.ChangeLog.Apply.
//   - Reconcile compares two databases row by row and repairs drift; Fallback
//     serves reads missing locally from a remote database and copies them.
//
// # No ping-pong, idempotency, conflicts
//
// An applier writes through bunadapter.Replaying, so applying an event never
// records a new one: replicated state does not travel back. It also skips
// events whose origin is its own (the same stream feeds every instance in a
// two-way or mesh setup). Each applied event id is remembered in the target's
// change_applied table in the same transaction as the write, so a redelivered
// or replayed event is a no-op (outcome "duplicate").
//
// Conflicts resolve per row by a Resolver over versions, LastWriterWins by
// default: the later updated_at wins, then the greater origin id. Every
// database keeps the last version of each row (change_versions, written with
// local writes and applied events alike; deletes leave a tombstone), so two
// databases that have seen the same events hold the same rows whatever the
// order they saw them in. Versions of one row increase strictly: a local
// write is stamped after the last version its database knew (a hybrid
// logical clock), so a write made after applying a remote one wins even when
// the writer's clock is behind.
//
// # Cascades and what is not replicated
//
// Deleting a tenant, user, client, role or organization records one delete
// event for the parent; applying it runs the adapter's own Delete, which
// removes the same children on the other side. A parent deleted on one side
// while it is updated on the other resolves by last-writer-wins for the
// parent row only: if the update wins, the parent comes back without the
// children the delete removed, and Reconcile (which compares children too)
// restores them from the side that has them.
//
// Transient state (codes, login sessions, sessions, refresh tokens, logs) is
// recorded only with bunadapter.Options.Transient. Expiry cleanup
// (DeleteExpired) records nothing: it follows from replicated data and each
// side runs its own.
//
// # Secrets
//
// Events, exports and repairs carry secrets as stored: sealed with the
// deployment's ENCRYPTION_KEY (client and connection secrets, signing private
// keys). Every database that receives them must run with the same
// ENCRYPTION_KEY to use them; nothing is ever decrypted on the way.
package replication
