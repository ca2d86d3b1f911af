package adapters

import (
	"errors"

	"github.com/authhero-go/authhero/adapters/query"
)

// UserSearch is the allow-list of fields a users `q` may name, as in Auth0's
// user search (https://auth0.com/docs/manage-users/user-search/user-search-query-syntax).
// Anything else, tenant_id included, is refused.
var UserSearch = query.Schema{
	Fields: map[string]query.Type{
		"user_id": query.String, "email": query.String, "email_verified": query.Bool,
		"username": query.String, "phone_number": query.String, "phone_verified": query.Bool,
		"name": query.String, "given_name": query.String, "family_name": query.String,
		"nickname": query.String, "picture": query.String, "locale": query.String,
		"linked_to": query.String, "provider": query.String, "connection": query.String,
		"is_social": query.Bool, "blocked": query.Bool, "last_ip": query.String,
		"last_login": query.Date, "logins_count": query.Number,
		"created_at": query.Date, "updated_at": query.Date,
	},
	Aliases:  map[string]string{"login_count": "logins_count", "identities.connection": "connection", "identities.provider": "provider"},
	Contains: []string{"email", "name", "phone_number"},
	Exact:    []string{"user_id"},
}

// UserSort lists the fields users can be sorted by.
var UserSort = []string{"created_at", "updated_at", "email", "name", "username", "last_login", "logins_count", "user_id"}

// LogSearch is the allow-list of fields a logs `q` may name
// (https://auth0.com/docs/deploy-monitor/logs/log-search-query-syntax).
var LogSearch = query.Schema{
	Fields: map[string]query.Type{
		"log_id": query.String, "type": query.String, "date": query.Date,
		"description": query.String, "ip": query.String, "user_agent": query.String,
		"user_id": query.String, "user_name": query.String, "connection": query.String,
		"connection_id": query.String, "client_id": query.String, "client_name": query.String,
		"audience": query.String, "scope": query.String, "strategy": query.String,
		"strategy_type": query.String, "hostname": query.String,
	},
	Contains: []string{"description", "user_name", "client_name"},
	Exact:    []string{"log_id", "user_id"},
}

// LogSort lists the fields logs can be sorted by.
var LogSort = []string{"date", "type", "user_id", "client_id"}

// ParseQuery parses q against schema; a syntax error or a field outside the
// allow-list is an *InvalidError for field "q". An empty q returns nil.
func ParseQuery(q string, schema query.Schema) (query.Expr, error) {
	if q == "" {
		return nil, nil
	}
	e, err := query.Parse(q, schema)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return nil, &InvalidError{Field: "q", Message: qe.Error()}
		}
		return nil, &InvalidError{Field: "q", Message: err.Error()}
	}
	return e, nil
}
