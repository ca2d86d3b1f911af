package adapters

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Pagination defaults and limits, as in Auth0's Management API
// (https://auth0.com/docs/manage-users/user-search/view-search-results-by-page).
const (
	DefaultPerPage = 50
	MaxPerPage     = 100
)

// ListParams selects a page of a list. Two pagination styles exist, as in
// Auth0: offset (Page, PerPage, IncludeTotals) and checkpoint (From, Take).
// Checkpoint pagination is used when From is set or Take is positive; it is
// stable under concurrent inserts and always orders by creation time (date for
// logs) then id.
type ListParams struct {
	// Page is the zero-based page number for offset pagination.
	Page int
	// PerPage is the page size; zero means DefaultPerPage; at most MaxPerPage.
	PerPage int
	// IncludeTotals asks for List.Total to be counted.
	IncludeTotals bool
	// From is the opaque cursor returned as List.Next by the previous page.
	From string
	// Take is the page size for checkpoint pagination (zero: DefaultPerPage).
	Take int
	// Sort orders an offset page, as "field:1" (ascending) or "field:-1".
	// The field must be in the entity's sort allow-list. In checkpoint mode only
	// the creation-time field is accepted, in either direction.
	Sort string
	// Q is a Lucene-like search (see package query); only entities with a
	// search allow-list (users, logs) accept it.
	Q string
	// FromDate and ToDate bound the creation time (the log date for logs);
	// zero values are ignored.
	FromDate, ToDate time.Time
}

// Checkpoint reports whether p asks for checkpoint (from/take) pagination.
func (p ListParams) Checkpoint() bool { return p.From != "" || p.Take > 0 }

// Limit returns the effective page size, or an error for an out-of-range one.
func (p ListParams) Limit() (int, error) {
	n, name := p.PerPage, "per_page"
	if p.Checkpoint() {
		n, name = p.Take, "take"
	}
	switch {
	case n < 0:
		return 0, Invalid(name, "must not be negative")
	case n == 0:
		return DefaultPerPage, nil
	case n > MaxPerPage:
		return 0, Invalid(name, "must be at most %d", MaxPerPage)
	}
	return n, nil
}

// Offset returns the row offset of an offset page.
func (p ListParams) Offset() (int, error) {
	if p.Page < 0 {
		return 0, Invalid("page", "must not be negative")
	}
	n, err := p.Limit()
	if err != nil {
		return 0, err
	}
	return p.Page * n, nil
}

// SortSpec is a parsed sort parameter.
type SortSpec struct {
	Field string
	Desc  bool
}

// ParseSort parses "field:1" / "field:-1" (a bare field sorts ascending) and
// checks the field against allowed. An empty string returns def.
func ParseSort(s string, allowed []string, def SortSpec) (SortSpec, error) {
	if s == "" {
		return def, nil
	}
	field, dir, hasDir := strings.Cut(s, ":")
	spec := SortSpec{Field: field}
	if hasDir {
		switch dir {
		case "1":
		case "-1":
			spec.Desc = true
		default:
			return SortSpec{}, Invalid("sort", "direction must be 1 or -1, got %q", dir)
		}
	}
	for _, a := range allowed {
		if a == field {
			return spec, nil
		}
	}
	return SortSpec{}, Invalid("sort", "cannot sort by %q", field)
}

// List is one page of entities with Auth0's paging totals.
type List[T any] struct {
	// Items holds the page, never nil.
	Items []T
	// Start is the offset of the first item (offset pagination).
	Start int
	// Limit is the page size that was applied.
	Limit int
	// Total is the number of matching entities when IncludeTotals was asked.
	Total int
	// Next is the cursor of the next page in checkpoint mode; empty at the end.
	Next string
}

// Cursor is the decoded position of a checkpoint page: the sort key (creation
// time in Unix milliseconds) and id of the last item returned.
type Cursor struct {
	Time int64  `json:"t"`
	ID   string `json:"i"`
	Desc bool   `json:"d,omitempty"`
}

// EncodeCursor returns the opaque form of c.
func EncodeCursor(c Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by EncodeCursor; anything else is
// ErrInvalid.
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	if len(s) > 1024 {
		return c, Invalid("from", "malformed cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, Invalid("from", "malformed cursor")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.ID == "" {
		return Cursor{}, Invalid("from", "malformed cursor")
	}
	return c, nil
}
