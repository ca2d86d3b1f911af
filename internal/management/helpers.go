package management

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/authhero-go/authhero/adapters"
)

// readArrayBody decodes a JSON body that is not a plain object (Auth0 has array
// bodies, e.g. PATCH /api/v2/connections/{id}/clients) into dst, with the
// size limit, Content-Type check and strict decoding of readBody.
func readArrayBody(r *http.Request, dst any) *apiError {
	body, e := readRaw(r)
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(body)) == 0 || !json.Valid(body) {
		return badBody("the body must be valid JSON")
	}
	return strictInto(body, dst)
}

// pageInMemory pages a list held in memory (a filtered list) the way the adapters
// page offset lists: page, per_page, include_totals.
func pageInMemory[T any](items []T, p adapters.ListParams) (*adapters.List[T], error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	offset, err := p.Offset()
	if err != nil {
		return nil, err
	}
	out := &adapters.List[T]{Items: []T{}, Start: offset, Limit: limit, Total: len(items)}
	if offset < len(items) {
		out.Items = items[offset:min(offset+limit, len(items))]
	}
	return out, nil
}

// convertPage converts the items of a page, keeping its paging fields.
func convertPage[T, U any](l *adapters.List[T], f func(T) U) *adapters.List[U] {
	out := &adapters.List[U]{Items: make([]U, 0, len(l.Items)), Start: l.Start, Limit: l.Limit, Total: l.Total, Next: l.Next}
	for _, v := range l.Items {
		out.Items = append(out.Items, f(v))
	}
	return out
}

// mustBeOffset refuses checkpoint pagination on a list that only pages by
// offset, as Auth0 does for it.
func mustBeOffset(p adapters.ListParams) *apiError {
	if p.Checkpoint() {
		return badQuery("this list supports page and per_page only, not from and take")
	}
	return nil
}

// requireEvery checks that the token has every one of scopes (routes that
// Auth0 guards with more than one scope); each entry may list alternatives
// separated by "|".
func requireEvery(tok *token, scopes ...string) *apiError {
	for _, s := range scopes {
		if e := tok.require(s); e != nil {
			return e
		}
	}
	return nil
}

// maxLen refuses a string field longer than limit characters.
func maxLen(field, v string, limit int) *apiError {
	if n := len([]rune(v)); n > limit {
		return badBody("'String is too long (%d chars), maximum %d' on property %s.", n, limit, field)
	}
	return nil
}

// hasField reports whether a raw body names field.
func hasField(raw map[string]json.RawMessage, field string) bool {
	_, ok := raw[field]
	return ok
}

// withoutDuplicates drops repeated values, keeping the first of each.
func withoutDuplicates(v []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(v, func(s string) bool {
		if seen[s] {
			return true
		}
		seen[s] = true
		return false
	})
}
