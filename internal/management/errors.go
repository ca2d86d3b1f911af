// Package management serves Auth0's Management API v2 (/api/v2) for the
// request's tenant: the same paths, JSON field names, status codes and error
// bodies, so the auth0 SDKs and tooling work against it
// (https://auth0.com/docs/api/management/v2).
package management

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/authhero-go/authhero/adapters"
)

// apiError is Auth0's Management API error body.
type apiError struct {
	StatusCode int               `json:"statusCode"`
	Err        string            `json:"error"`
	Message    string            `json:"message"`
	ErrorCode  string            `json:"errorCode,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{StatusCode: status, Err: http.StatusText(status), Message: fmt.Sprintf(format, args...), ErrorCode: code}
}

// badBody is a 400 invalid_body (Auth0's payload validation error).
func badBody(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "invalid_body", "Payload validation error: "+format, args...)
}

// badQuery is a 400 invalid_query_string.
func badQuery(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "invalid_query_string", "Query validation error: "+format, args...)
}

// notFound is Auth0's 404 for an entity, e.g. "inexistent_client".
func notFound(entity string) *apiError {
	return newErr(http.StatusNotFound, "inexistent_"+strings.ReplaceAll(entity, " ", "_"), "The %s does not exist.", entity)
}

// conflict is a 409.
func conflict(msg string) *apiError { return newErr(http.StatusConflict, "conflict", "%s", msg) }

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

// storeErr maps an adapter error to the API error for entity.
func storeErr(err error, entity string) *apiError {
	var inv *adapters.InvalidError
	switch {
	case errors.As(err, &inv):
		return badBody("%s", inv.Error())
	case errors.Is(err, adapters.ErrNotFound):
		return notFound(entity)
	case errors.Is(err, adapters.ErrConflict):
		return conflict(conflictMessage(entity, err))
	}
	return nil
}

func conflictMessage(entity string, err error) string {
	switch entity {
	case "user":
		return "The user already exists."
	case "resource server":
		return "A resource server with the same identifier already exists"
	case "client grant":
		return "A client grant for this client and audience already exists"
	case "connection":
		return "A connection with the same name already exists"
	case "role":
		return "A role with the same name already exists"
	}
	return fmt.Sprintf("The %s already exists.", entity)
}
