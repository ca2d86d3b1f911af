package management

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/authhero-go/authhero/adapters"
)

func (s *Server) connectionRoutes() {
	s.handle("GET /api/v2/connections", "read:connections", s.listConnections)
	s.handle("POST /api/v2/connections", "create:connections", s.createConnection)
	s.handle("GET /api/v2/connections/{id}", "read:connections", s.getConnection)
	s.handle("PATCH /api/v2/connections/{id}", "update:connections", s.updateConnection)
	s.handle("DELETE /api/v2/connections/{id}", "delete:connections", s.deleteConnection)
	s.handle("GET /api/v2/connections/{id}/clients", "read:connections", s.connectionClients)
	s.handle("PATCH /api/v2/connections/{id}/clients", "update:connections", s.updateConnectionClients)
}

// connectionReadOnly are connection fields a request may not set; a PATCH
// may not change name or strategy either, as in Auth0.
var connectionReadOnly = []string{"id", "created_at", "updated_at", "is_system"}

// connectionName is Auth0's pattern for connection names.
var connectionName = regexp.MustCompile(`^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$`)

// connectionStrategies are the strategies Auth0's POST /connections accepts.
var connectionStrategies = []string{
	"ad", "adfs", "amazon", "apple", "dropbox", "bitbucket", "aol", "auth0-oidc", "auth0", "baidu", "bitly",
	"box", "custom", "daccount", "dwolla", "email", "evernote-sandbox", "evernote", "exact", "facebook",
	"fitbit", "flickr", "github", "google-apps", "google-oauth2", "instagram", "ip", "line", "linkedin",
	"miicard", "oauth1", "oauth2", "office365", "oidc", "okta", "paypal", "paypal-sandbox", "pingfederate",
	"planningcenter", "renren", "salesforce-community", "salesforce-sandbox", "salesforce", "samlp",
	"sharepoint", "shopify", "sms", "soundcloud", "thecity-sandbox", "thecity", "thirtysevensignals",
	"twitter", "untappd", "vkontakte", "waad", "weibo", "windowslive", "wordpress", "yahoo", "yammer", "yandex",
}

// Connection secrets (options.client_secret) are stored sealed with the
// server's Box, bound to the connection id, and never returned: reads omit
// the field. A PATCH whose options leave client_secret out keeps the stored
// secret (so a GET-modify-PATCH round trip does not lose it); an explicit
// empty string clears it.

func connectionAAD(id string) string { return "connection_secret:" + id }

// sealConnectionSecret encrypts a clear options.client_secret of cn.
func (s *Server) sealConnectionSecret(cn *adapters.Connection) error {
	if cn.Options.ClientSecret == "" {
		return nil
	}
	sealed, err := s.Box.Seal([]byte(cn.Options.ClientSecret), connectionAAD(cn.ID))
	cn.Options.ClientSecret = sealed
	return err
}

// connectionOut is a connection as the API shows it: without its secret.
func connectionOut(cn adapters.Connection) adapters.Connection {
	cn.Options.ClientSecret = ""
	return cn
}

// validateConnection checks the fields of a connection that need no storage.
func validateConnection(cn *adapters.Connection) *apiError {
	if cn.Name == "" || len(cn.Name) > 128 || !connectionName.MatchString(cn.Name) {
		return badBody("'name' must be 1-128 letters, digits or single hyphens, starting and ending with a letter or digit")
	}
	if !slices.Contains(connectionStrategies, cn.Strategy) {
		return badBody("'%s' is not a supported strategy on property strategy.", cn.Strategy)
	}
	return validateConnectionFields(cn)
}

// validateConnectionFields checks what a PATCH may change (name and
// strategy are immutable, so a stored connection is not re-judged on them).
func validateConnectionFields(cn *adapters.Connection) *apiError {
	if e := maxLen("display_name", cn.DisplayName, 128); e != nil {
		return e
	}
	return validateConnectionOptions(&cn.Options)
}

func validateConnectionOptions(o *adapters.ConnectionOptions) *apiError {
	if pc := o.PasswordComplexity; pc != nil && (pc.MinLength < 1 || pc.MinLength > 128) {
		return badBody("'min_length' must be between 1 and 128 on property options.password_complexity_options.")
	}
	if ph := o.PasswordHistory; ph != nil && (ph.Size < 0 || ph.Size > 24) {
		return badBody("'size' must be between 0 and 24 on property options.password_history.")
	}
	switch o.PasswordPolicy {
	case "", "none", "low", "fair", "good", "excellent":
	default:
		return badBody("'passwordPolicy' must be one of none, low, fair, good, excellent on property options.")
	}
	for field, v := range map[string]string{"authorization_endpoint": o.AuthorizationEndpoint, "token_endpoint": o.TokenEndpoint,
		"userinfo_endpoint": o.UserinfoEndpoint, "jwks_uri": o.JWKSURI} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			return badBody("'%s' is not a valid absolute http(s) URL on property options.%s.", v, field)
		}
	}
	return nil
}

// clientsExist reports a 400 naming the first id that is not a client of the
// tenant.
func (s *Server) clientsExist(r *http.Request, tenantID string, ids []string) *apiError {
	for _, id := range ids {
		if _, err := s.Data.Clients.Get(r.Context(), tenantID, id); err != nil {
			if e := storeErr(err, "client"); e != nil {
				return badBody("the client '%s' does not exist", id)
			}
			return s.internal(r, "client", err)
		}
	}
	return nil
}

func (s *Server) listConnections(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	keep := connectionFilter(r.URL.Query())
	var l *adapters.List[adapters.Connection]
	var err error
	switch {
	case keep == nil || p.Checkpoint():
		// Checkpoint pages are filtered page by page, so a filtered page
		// may hold fewer than take items; next still leads on.
		if l, err = s.Data.Connections.List(r.Context(), c.tenantID(), p); err == nil && keep != nil {
			l.Items = slices.DeleteFunc(l.Items, func(cn adapters.Connection) bool { return !keep(&cn) })
		}
	default:
		var all []adapters.Connection
		if all, err = s.allConnections(r.Context(), c.tenantID()); err == nil {
			l, err = pageInMemory(slices.DeleteFunc(all, func(cn adapters.Connection) bool { return !keep(&cn) }), p)
		}
	}
	if err != nil {
		return 0, nil, listErr(s, r, err, "connection")
	}
	return http.StatusOK, page("connections", p, convertPage(l, connectionOut)), nil
}

// connectionFilter returns the strategy/name filter of a list request, or
// nil when there is none. strategy may repeat or hold a comma list.
func connectionFilter(q url.Values) func(*adapters.Connection) bool {
	var strategies []string
	for _, v := range q["strategy"] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				strategies = append(strategies, s)
			}
		}
	}
	name := q.Get("name")
	if len(strategies) == 0 && name == "" {
		return nil
	}
	return func(cn *adapters.Connection) bool {
		return (len(strategies) == 0 || slices.Contains(strategies, cn.Strategy)) && (name == "" || cn.Name == name)
	}
}

// createConnection is POST /api/v2/connections.
func (s *Server) createConnection(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, connectionReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "name", "strategy"); e != nil {
		return 0, nil, e
	}
	var in adapters.Connection
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	if e := validateConnection(&in); e != nil {
		return 0, nil, e
	}
	in.EnabledClients = withoutDuplicates(in.EnabledClients)
	if e := s.clientsExist(r, c.tenantID(), in.EnabledClients); e != nil {
		return 0, nil, e
	}
	in.ID = adapters.NewID("con_")
	if err := s.sealConnectionSecret(&in); err != nil {
		return 0, nil, s.internal(r, "seal connection secret", err)
	}
	created, err := s.Data.Connections.Create(r.Context(), c.tenantID(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	return http.StatusCreated, connectionOut(*created), nil
}

func (s *Server) getConnection(r *http.Request, c *call) (int, any, *apiError) {
	cn, err := s.Data.Connections.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	return http.StatusOK, connectionOut(*cn), nil
}

// updateConnection is PATCH /api/v2/connections/{id}: present fields
// replace the stored ones; options, when present, replace the whole options
// object (as in Auth0), except a client_secret left out.
func (s *Server) updateConnection(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, slices.Concat(connectionReadOnly, []string{"name", "strategy"})...)
	if e != nil {
		return 0, nil, e
	}
	var probe adapters.Connection
	if e := strictInto(body, &probe); e != nil {
		return 0, nil, e
	}
	if hasField(raw, "enabled_clients") {
		if e := s.clientsExist(r, c.tenantID(), probe.EnabledClients); e != nil {
			return 0, nil, e
		}
	}
	secretSet := optionSet(raw, "client_secret")
	var ae *apiError
	updated, err := s.Data.Connections.Update(r.Context(), c.tenantID(), r.PathValue("id"), func(cn *adapters.Connection) error {
		old := cn.Options.ClientSecret
		if hasField(raw, "options") {
			cn.Options = adapters.ConnectionOptions{}
		}
		if ae = strictInto(body, cn); ae != nil {
			return ae
		}
		cn.EnabledClients = withoutDuplicates(cn.EnabledClients)
		if ae = validateConnectionFields(cn); ae != nil {
			return ae
		}
		if !secretSet {
			cn.Options.ClientSecret = old
			return nil
		}
		return s.sealConnectionSecret(cn)
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	return http.StatusOK, connectionOut(*updated), nil
}

// optionSet reports whether the body's options object names field.
func optionSet(raw map[string]json.RawMessage, field string) bool {
	var opts map[string]json.RawMessage
	if json.Unmarshal(raw["options"], &opts) != nil {
		return false
	}
	return hasField(opts, field)
}

func (s *Server) deleteConnection(r *http.Request, c *call) (int, any, *apiError) {
	id := r.PathValue("id")
	cn, err := s.Data.Connections.Get(r.Context(), c.tenantID(), id)
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	if cn.IsSystem {
		return 0, nil, newErr(http.StatusForbidden, "", "A system connection cannot be deleted")
	}
	if err := s.Data.Connections.Delete(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	return http.StatusNoContent, nil, nil
}

// connectionClients is GET /api/v2/connections/{id}/clients: the clients the
// connection is enabled for, with checkpoint paging (from is an offset).
func (s *Server) connectionClients(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	limit, err := p.Limit()
	if err != nil {
		return 0, nil, listErr(s, r, err, "connection")
	}
	offset := 0
	if p.From != "" {
		if offset, err = strconv.Atoi(p.From); err != nil || offset < 0 {
			return 0, nil, badQuery("'from' is not a valid cursor")
		}
	}
	cn, err := s.Data.Connections.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	ids := cn.EnabledClients[min(offset, len(cn.EnabledClients)):]
	out := map[string]any{}
	if len(ids) > limit {
		ids = ids[:limit]
		out["next"] = strconv.Itoa(offset + limit)
	}
	clients := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		clients = append(clients, map[string]string{"client_id": id})
	}
	out["clients"] = clients
	return http.StatusOK, out, nil
}

// clientStatus is one item of PATCH /api/v2/connections/{id}/clients.
type clientStatus struct {
	ClientID *string `json:"client_id"`
	Status   *bool   `json:"status"`
}

// updateConnectionClients is PATCH /api/v2/connections/{id}/clients: it
// enables (status true) or disables the connection for up to 50 clients.
func (s *Server) updateConnectionClients(r *http.Request, c *call) (int, any, *apiError) {
	var items []clientStatus
	if e := readArrayBody(r, &items); e != nil {
		return 0, nil, e
	}
	if len(items) < 1 || len(items) > 50 {
		return 0, nil, badBody("the body must be an array of 1 to 50 {client_id, status} items")
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		if it.ClientID == nil || *it.ClientID == "" || it.Status == nil {
			return 0, nil, badBody("Missing required property: each item needs client_id and status")
		}
		ids = append(ids, *it.ClientID)
	}
	if _, err := s.Data.Connections.Get(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	if e := s.clientsExist(r, c.tenantID(), ids); e != nil {
		return 0, nil, e
	}
	_, err := s.Data.Connections.Update(r.Context(), c.tenantID(), r.PathValue("id"), func(cn *adapters.Connection) error {
		for _, it := range items {
			cn.EnabledClients = slices.DeleteFunc(cn.EnabledClients, func(id string) bool { return id == *it.ClientID })
			if *it.Status {
				cn.EnabledClients = append(cn.EnabledClients, *it.ClientID)
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, s.fail(r, err, "connection")
	}
	return http.StatusNoContent, nil, nil
}
