package management

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/authhero-go/authhero/adapters"
)

// userRoleRoutes registers a user's roles and permissions
// (https://auth0.com/docs/api/management/v2/users/get-user-roles and
// siblings). They are the user's global assignments (organization "").
func (s *Server) userRoleRoutes() {
	s.handle("GET /api/v2/users/{id}/roles", "read:users|read:roles|read:role_members", s.listUserRoles)
	s.handle("POST /api/v2/users/{id}/roles", "create:role_members", s.assignUserRoles)
	s.handle("DELETE /api/v2/users/{id}/roles", "delete:role_members", s.removeUserRoles)
	s.handle("GET /api/v2/users/{id}/permissions", "read:users", s.listUserPermissions)
	s.handle("POST /api/v2/users/{id}/permissions", "update:users", s.assignUserPermissions)
	s.handle("DELETE /api/v2/users/{id}/permissions", "update:users", s.removeUserPermissions)
}

// userPage renders items held in memory with offset paging (page, per_page,
// include_totals), the only paging Auth0 offers on these lists.
func userPage[T any](key string, items []T, p adapters.ListParams) (any, *apiError) {
	if p.Checkpoint() {
		return nil, badQuery("this list supports page and per_page only, not from and take")
	}
	limit, err := p.Limit()
	if err != nil {
		return nil, badQuery("%s", err.Error())
	}
	offset := p.Page * limit
	l := &adapters.List[T]{Items: []T{}, Start: offset, Limit: limit, Total: len(items)}
	if offset < len(items) {
		l.Items = items[offset:min(offset+limit, len(items))]
	}
	return page(key, p, l), nil
}

// withUser runs fn in one transaction after checking that the tenant has the
// user; a missing user is a 404 inexistent_user.
func (s *Server) withUser(r *http.Request, tenantID, id string, fn func(ctx context.Context, tx *adapters.DataAdapters) error) *apiError {
	err := s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
		if _, err := tx.Users.Get(ctx, tenantID, id); err != nil {
			if errors.Is(err, adapters.ErrNotFound) {
				return notFound("user")
			}
			return err
		}
		return fn(ctx, tx)
	})
	if err != nil {
		return s.fail(r, err, "user")
	}
	return nil
}

// ---- roles ----

// userRolesBody is the body of POST and DELETE /api/v2/users/{id}/roles.
type userRolesBody struct {
	Roles []string `json:"roles"`
}

func readUserRoles(r *http.Request) ([]string, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if !userFieldSent(raw, "roles") {
		return nil, badBody("Missing required property: roles")
	}
	var in userRolesBody
	if e := strictInto(body, &in); e != nil {
		return nil, e
	}
	if len(in.Roles) == 0 {
		return nil, badBody("'Array is too short (0), minimum 1' on property roles.")
	}
	for _, id := range in.Roles {
		if id == "" {
			return nil, badBody("'String is too short (0 chars), minimum 1' on property roles.")
		}
	}
	return in.Roles, nil
}

// listUserRoles is GET /api/v2/users/{id}/roles.
func (s *Server) listUserRoles(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if e := s.userMustExist(r, c.tenantID(), id); e != nil {
		return 0, nil, e
	}
	roles, err := s.Data.UserRoles.List(r.Context(), c.tenantID(), id, "")
	if err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	out, e := userPage("roles", roles, p)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, out, nil
}

// assignUserRoles is POST /api/v2/users/{id}/roles {"roles": [ids]}. Every
// role must exist (404 inexistent_role), or none is assigned.
func (s *Server) assignUserRoles(r *http.Request, c *call) (int, any, *apiError) {
	roles, e := readUserRoles(r)
	if e != nil {
		return 0, nil, e
	}
	t, id := c.tenantID(), r.PathValue("id")
	e = s.withUser(r, t, id, func(ctx context.Context, tx *adapters.DataAdapters) error {
		for _, roleID := range roles {
			if _, err := tx.Roles.Get(ctx, t, roleID); err != nil {
				if errors.Is(err, adapters.ErrNotFound) {
					return notFound("role")
				}
				return err
			}
		}
		return tx.UserRoles.Assign(ctx, t, id, "", roles)
	})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusNoContent, nil, nil
}

// removeUserRoles is DELETE /api/v2/users/{id}/roles {"roles": [ids]};
// removing a role the user does not have is not an error.
func (s *Server) removeUserRoles(r *http.Request, c *call) (int, any, *apiError) {
	roles, e := readUserRoles(r)
	if e != nil {
		return 0, nil, e
	}
	t, id := c.tenantID(), r.PathValue("id")
	e = s.withUser(r, t, id, func(ctx context.Context, tx *adapters.DataAdapters) error {
		return tx.UserRoles.Remove(ctx, t, id, "", roles)
	})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusNoContent, nil, nil
}

// ---- permissions ----

// userPermissionSource says where a user's permission comes from: assigned
// directly, or through a role.
type userPermissionSource struct {
	SourceID   string `json:"source_id"`
	SourceName string `json:"source_name"`
	SourceType string `json:"source_type"` // DIRECT or ROLE
}

// userPermissionOut is one permission of GET /api/v2/users/{id}/permissions.
type userPermissionOut struct {
	ResourceServerIdentifier string                 `json:"resource_server_identifier"`
	PermissionName           string                 `json:"permission_name"`
	ResourceServerName       string                 `json:"resource_server_name,omitempty"`
	Description              string                 `json:"description,omitempty"`
	Sources                  []userPermissionSource `json:"sources"`
}

// userPermissionsBody is the body of POST and DELETE
// /api/v2/users/{id}/permissions.
type userPermissionsBody struct {
	Permissions []userPermissionIn `json:"permissions"`
}

type userPermissionIn struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
}

func readUserPermissions(r *http.Request) ([]userPermissionIn, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if !userFieldSent(raw, "permissions") {
		return nil, badBody("Missing required property: permissions")
	}
	var in userPermissionsBody
	if e := strictInto(body, &in); e != nil {
		return nil, e
	}
	if len(in.Permissions) == 0 {
		return nil, badBody("'Array is too short (0), minimum 1' on property permissions.")
	}
	for _, p := range in.Permissions {
		if p.ResourceServerIdentifier == "" {
			return nil, badBody("Missing required property: resource_server_identifier")
		}
		if p.PermissionName == "" {
			return nil, badBody("Missing required property: permission_name")
		}
	}
	return in.Permissions, nil
}

// listUserPermissions is GET /api/v2/users/{id}/permissions: the
// permissions assigned directly and through the user's roles, each with its
// sources, ordered by API and name.
func (s *Server) listUserPermissions(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if e := s.userMustExist(r, c.tenantID(), id); e != nil {
		return 0, nil, e
	}
	perms, err := s.userPermissions(r.Context(), c.tenantID(), id)
	if err != nil {
		return 0, nil, s.fail(r, err, "user")
	}
	out, e := userPage("permissions", perms, p)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, out, nil
}

// userPermissions gathers a user's direct and role permissions.
func (s *Server) userPermissions(ctx context.Context, tenantID, id string) ([]userPermissionOut, error) {
	direct, err := s.Data.UserPermissions.List(ctx, tenantID, id, "")
	if err != nil {
		return nil, err
	}
	roles, err := s.Data.UserRoles.List(ctx, tenantID, id, "")
	if err != nil {
		return nil, err
	}
	out := []userPermissionOut{}
	at := map[[2]string]int{}
	add := func(p adapters.Permission, src userPermissionSource) {
		k := [2]string{p.ResourceServerIdentifier, p.PermissionName}
		i, ok := at[k]
		if !ok {
			i, at[k] = len(out), len(out)
			out = append(out, userPermissionOut{ResourceServerIdentifier: k[0], PermissionName: k[1],
				ResourceServerName: p.ResourceServerName, Description: p.Description})
		}
		out[i].Sources = append(out[i].Sources, src)
	}
	for _, p := range direct {
		add(p, userPermissionSource{SourceType: "DIRECT"})
	}
	for _, role := range roles {
		perms, err := s.rolePermissionsOf(ctx, tenantID, role.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range perms {
			add(p, userPermissionSource{SourceID: role.ID, SourceName: role.Name, SourceType: "ROLE"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ResourceServerIdentifier != out[j].ResourceServerIdentifier {
			return out[i].ResourceServerIdentifier < out[j].ResourceServerIdentifier
		}
		return out[i].PermissionName < out[j].PermissionName
	})
	return out, nil
}

// rolePermissionsOf returns every permission of a role.
func (s *Server) rolePermissionsOf(ctx context.Context, tenantID, roleID string) ([]adapters.Permission, error) {
	var out []adapters.Permission
	for pg := 0; ; pg++ {
		l, err := s.Data.RolePermissions.List(ctx, tenantID, roleID, adapters.ListParams{Page: pg, PerPage: adapters.MaxPerPage})
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if len(l.Items) < adapters.MaxPerPage {
			return out, nil
		}
	}
}

// resolveUserPermissions checks that each permission names an API of the
// tenant and a scope it defines, and fills in their names.
func (s *Server) resolveUserPermissions(r *http.Request, tenantID string, in []userPermissionIn) ([]adapters.Permission, *apiError) {
	apis := map[string]*adapters.ResourceServer{}
	out := make([]adapters.Permission, 0, len(in))
	for _, p := range in {
		rs, ok := apis[p.ResourceServerIdentifier]
		if !ok {
			var err error
			rs, err = s.Data.ResourceServers.GetByIdentifier(r.Context(), tenantID, p.ResourceServerIdentifier)
			if errors.Is(err, adapters.ErrNotFound) {
				return nil, newErr(http.StatusBadRequest, "invalid_body", "Resource server %q does not exist", p.ResourceServerIdentifier)
			}
			if err != nil {
				return nil, s.fail(r, err, "resource server")
			}
			apis[p.ResourceServerIdentifier] = rs
		}
		scope := -1
		for i, sc := range rs.Scopes {
			if sc.Value == p.PermissionName {
				scope = i
				break
			}
		}
		if scope < 0 {
			return nil, newErr(http.StatusBadRequest, "invalid_body", "Permission %q is not defined by resource server %q", p.PermissionName, p.ResourceServerIdentifier)
		}
		out = append(out, adapters.Permission{ResourceServerIdentifier: rs.Identifier, PermissionName: p.PermissionName,
			ResourceServerName: rs.Name, Description: rs.Scopes[scope].Description})
	}
	return out, nil
}

// assignUserPermissions is POST /api/v2/users/{id}/permissions.
func (s *Server) assignUserPermissions(r *http.Request, c *call) (int, any, *apiError) {
	in, e := readUserPermissions(r)
	if e != nil {
		return 0, nil, e
	}
	t, id := c.tenantID(), r.PathValue("id")
	if e := s.userMustExist(r, t, id); e != nil {
		return 0, nil, e
	}
	perms, e := s.resolveUserPermissions(r, t, in)
	if e != nil {
		return 0, nil, e
	}
	e = s.withUser(r, t, id, func(ctx context.Context, tx *adapters.DataAdapters) error {
		return tx.UserPermissions.Assign(ctx, t, id, "", perms)
	})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusCreated, nil, nil
}

// removeUserPermissions is DELETE /api/v2/users/{id}/permissions; removing
// a permission the user does not have directly is not an error.
func (s *Server) removeUserPermissions(r *http.Request, c *call) (int, any, *apiError) {
	in, e := readUserPermissions(r)
	if e != nil {
		return 0, nil, e
	}
	perms := make([]adapters.Permission, len(in))
	for i, p := range in {
		perms[i] = adapters.Permission{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName}
	}
	t, id := c.tenantID(), r.PathValue("id")
	e = s.withUser(r, t, id, func(ctx context.Context, tx *adapters.DataAdapters) error {
		return tx.UserPermissions.Remove(ctx, t, id, "", perms)
	})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusNoContent, nil, nil
}
