package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody caps request bodies of the OAuth endpoints (64 KiB).
const maxBody = 64 << 10

// params reads the parameters of a POST: form-encoded (RFC 6749) or JSON
// (Auth0's SDKs send JSON). A parameter given twice, a body over maxBody or
// another content type is an invalid_request.
func params(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	if r.Method != http.MethodPost {
		return nil, errInvalidRequest("use POST")
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: fmt.Sprintf("request body is larger than %d bytes", maxBody)}
		}
		return nil, errInvalidRequest("cannot read the request body")
	}
	var v url.Values
	switch ct {
	case "application/x-www-form-urlencoded":
		if v, err = url.ParseQuery(string(body)); err != nil {
			return nil, errInvalidRequest("malformed form body")
		}
	case "application/json":
		if v, err = jsonParams(body); err != nil {
			return nil, errInvalidRequest(err.Error())
		}
	default:
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	// RFC 6749 §3.1/§3.2: parameters must not be included more than once.
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, errInvalidRequest(fmt.Sprintf("parameter %q is repeated", k))
		}
	}
	// Parameters in the URL of a token request are not honoured.
	for k := range r.URL.Query() {
		if _, dup := v[k]; dup {
			return nil, errInvalidRequest(fmt.Sprintf("parameter %q is repeated", k))
		}
	}
	return v, nil
}

// jsonParams reads a flat JSON object of strings (numbers and booleans are
// turned into strings) into url.Values; a repeated key is kept twice so the
// duplicate check catches it.
func jsonParams(body []byte) (url.Values, error) {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("JSON body must be an object")
	}
	v := url.Values{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed JSON body")
		}
		key, _ := kt.(string)
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("malformed JSON body")
		}
		switch x := raw.(type) {
		case string:
			v.Add(key, x)
		case json.Number:
			v.Add(key, x.String())
		case bool:
			v.Add(key, fmt.Sprint(x))
		case nil:
		default:
			return nil, fmt.Errorf("parameter %q must be a string", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("malformed JSON body")
	}
	if dec.More() {
		return nil, errors.New("malformed JSON body")
	}
	return v, nil
}
