package management

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// unverifiedKid reads the kid of a compact JWS header without verifying
// anything; it is only used to find which tenant's key to verify with.
func unverifiedKid(raw string) string {
	head, _, ok := strings.Cut(raw, ".")
	if !ok || len(head) > 2048 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil || len(h.Kid) > 256 {
		return ""
	}
	return h.Kid
}
