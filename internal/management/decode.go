package management

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
)

// maxBody caps Management API request bodies (1 MiB, as the storage caps a
// document).
const maxBody = 1 << 20

// readBody reads a JSON object body into raw fields, refusing a body that is
// too large, not an object, or names a read-only field.
func readBody(r *http.Request, readOnly ...string) (map[string]json.RawMessage, []byte, *apiError) {
	body, e := readRaw(r)
	if e != nil {
		return nil, nil, e
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, nil, badBody("the body must be a JSON object")
	}
	ro := map[string]bool{}
	for _, f := range readOnly {
		ro[f] = true
	}
	var bad []string
	for k := range raw {
		if ro[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, nil, badBody("'Additional properties not allowed: %s'.", strings.Join(bad, ","))
	}
	return raw, body, nil
}

// readRaw reads a JSON request body of at most maxBody bytes.
func readRaw(r *http.Request) ([]byte, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, badBody("Content-Type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newErr(http.StatusRequestEntityTooLarge, "payload_too_large", "Payload too large: the limit is %d bytes", maxBody)
		}
		return nil, badBody("cannot read the body")
	}
	return body, nil
}

// strictInto decodes body into dst, refusing unknown fields and wrong types
// with Auth0's payload validation messages.
func strictInto(body []byte, dst any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonErr(err)
	}
	return nil
}

func jsonErr(err error) *apiError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return badBody("'Expected type %s but found type %s' on property %s.", jsonType(te.Type.Kind().String()), te.Value, te.Field)
	}
	if msg := err.Error(); strings.Contains(msg, "unknown field") {
		_, f, _ := strings.Cut(msg, "unknown field ")
		return badBody("'Additional properties not allowed: %s'.", strings.Trim(f, `"`))
	}
	return badBody("%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	default:
		return "number"
	}
}

// require checks that the named fields are present and non-empty strings.
func require(raw map[string]json.RawMessage, fields ...string) *apiError {
	for _, f := range fields {
		v, ok := raw[f]
		if !ok {
			return badBody("Missing required property: %s", f)
		}
		var s string
		if json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) == "" {
			return badBody("'String is too short (0 chars), minimum 1' on property %s.", f)
		}
	}
	return nil
}
