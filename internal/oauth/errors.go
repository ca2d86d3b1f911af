// Package oauth serves the OAuth 2.0 and OpenID Connect endpoints of one
// tenant: /oauth/token, /userinfo, /oauth/revoke, discovery and JWKS, with
// Auth0's parameters and RFC 6749's error shapes.
package oauth

import (
	"encoding/json"
	"net/http"
)

// Error is an OAuth error response (RFC 6749 §5.2).
type Error struct {
	// Status is the HTTP status.
	Status int `json:"-"`
	// Code is the OAuth error code, e.g. "invalid_client".
	Code string `json:"error"`
	// Description is the human-readable error_description.
	Description string `json:"error_description,omitempty"`
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header.
	WWWAuthenticate string `json:"-"`
}

// Error returns "code: description".
func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oerr(status int, code, desc string) *Error {
	return &Error{Status: status, Code: code, Description: desc}
}

// errInvalidRequest and friends build the RFC 6749 errors.
func errInvalidRequest(desc string) *Error { return oerr(400, "invalid_request", desc) }

func errUnsupportedGrant(desc string) *Error { return oerr(400, "unsupported_grant_type", desc) }

// errInvalidClient is 401 with a WWW-Authenticate challenge (RFC 6749 §5.2).
// The description is the same for an unknown client and a wrong secret so
// that client ids cannot be enumerated.
func errInvalidClient() *Error {
	return &Error{Status: 401, Code: "invalid_client", Description: "Client authentication failed",
		WWWAuthenticate: `Basic realm="oauth", charset="UTF-8"`}
}

// statusFor returns Auth0's 403 or RFC 6749's 400 for the errors where the
// two disagree, by the client's auth0_conformant flag.
func statusFor(auth0 bool) int {
	if auth0 {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// writeJSON writes v with no-store caching, as token responses require
// (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes e in RFC 6749 shape.
func writeError(w http.ResponseWriter, e *Error) {
	if e.WWWAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", e.WWWAuthenticate)
	}
	writeJSON(w, e.Status, e)
}
