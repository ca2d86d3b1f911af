package adapters

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when the addressed entity does not exist in the
// given tenant. An entity of another tenant is never visible, so it is
// reported as not found too.
var ErrNotFound = errors.New("adapters: not found")

// ErrConflict is returned when a write would break a uniqueness rule: the same
// id twice, the same email or username in one connection, the same
// resource-server identifier, role name, connection name or organization name
// in one tenant, the same client grant (client, audience), the same custom
// domain or client_id anywhere.
var ErrConflict = errors.New("adapters: conflict")

// ErrInvalid is returned for input that cannot be stored or evaluated: an
// unknown search field, a malformed cursor, an oversized value, a missing
// required field. Nothing is written when it is returned.
var ErrInvalid = errors.New("adapters: invalid input")

// ErrConsumed is returned by single-use operations (code consumption, refresh
// token rotation) when another caller already used the entity. The entity is
// returned alongside so the caller can react to a replay (for example by
// revoking the refresh-token family), as RFC 9700 §4.14 asks.
var ErrConsumed = errors.New("adapters: already used")

// InvalidError wraps ErrInvalid with the name of the offending field and a
// message fit for an API response.
type InvalidError struct {
	Field   string
	Message string
}

// Error returns the message, naming the field.
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Invalid returns an *InvalidError for field with a formatted message.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError wraps ErrConflict with the uniqueness rule that was broken.
type ConflictError struct {
	Entity string
	Rule   string
}

// Error describes the duplicate.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s already exists (%s)", e.Entity, e.Rule)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }
