package management

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/authhero-go/authhero/adapters"
)

func (s *Server) roleRoutes() {
	s.handle("GET /api/v2/roles", "read:roles", s.listRoles)
	s.handle("POST /api/v2/roles", "create:roles", s.createRole)
	s.handle("GET /api/v2/roles/{id}", "read:roles", s.getRole)
	s.handle("PATCH /api/v2/roles/{id}", "update:roles", s.updateRole)
	s.handle("DELETE /api/v2/roles/{id}", "delete:roles", s.deleteRole)
	s.handle("GET /api/v2/roles/{id}/permissions", "read:roles", s.listRolePermissions)
	s.handle("POST /api/v2/roles/{id}/permissions", "update:roles", s.addRolePermissions)
	s.handle("DELETE /api/v2/roles/{id}/permissions", "update:roles", s.removeRolePermissions)
	// Auth0 asks for read:users besides read:roles to list a role's users
	// (read:role_members is accepted in its place).
	s.handle("GET /api/v2/roles/{id}/users", "read:roles", s.listRoleUsers)
	s.handle("POST /api/v2/roles/{id}/users", "create:role_members|update:roles", s.addRoleUsers)
}

// roleReadOnly are role fields a request may not set.
var roleReadOnly = []string{"id", "is_system", "created_at", "updated_at"}

// maxRoleUsers caps the users of one POST /api/v2/roles/{id}/users.
const maxRoleUsers = 1000

// validateRole checks a role's name (required, at most 50 characters) and
// description (at most 140).
func validateRole(ro *adapters.Role) *apiError {
	if ro.Name == "" {
		return badBody("Missing required property: name")
	}
	if e := maxLen("name", ro.Name, 50); e != nil {
		return e
	}
	return maxLen("description", ro.Description, 140)
}

func (s *Server) listRoles(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.Roles.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "role")
	}
	return http.StatusOK, page("roles", p, l), nil
}

func (s *Server) createRole(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r, roleReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "name"); e != nil {
		return 0, nil, e
	}
	var in adapters.Role
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	if e := validateRole(&in); e != nil {
		return 0, nil, e
	}
	created, err := s.Data.Roles.Create(r.Context(), c.tenantID(), in)
	if err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusOK, created, nil
}

func (s *Server) getRole(r *http.Request, c *call) (int, any, *apiError) {
	ro, err := s.Data.Roles.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusOK, ro, nil
}

func (s *Server) updateRole(r *http.Request, c *call) (int, any, *apiError) {
	_, body, e := readBody(r, roleReadOnly...)
	if e != nil {
		return 0, nil, e
	}
	var ae *apiError
	updated, err := s.Data.Roles.Update(r.Context(), c.tenantID(), r.PathValue("id"), func(ro *adapters.Role) error {
		if ae = strictInto(body, ro); ae != nil {
			return ae
		}
		if ae = validateRole(ro); ae != nil {
			return ae
		}
		return nil
	})
	if ae != nil {
		return 0, nil, ae
	}
	if err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusOK, updated, nil
}

func (s *Server) deleteRole(r *http.Request, c *call) (int, any, *apiError) {
	if err := s.Data.Roles.Delete(r.Context(), c.tenantID(), r.PathValue("id")); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusNoContent, nil, nil
}

// ---- permissions ----

func (s *Server) listRolePermissions(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e == nil {
		e = mustBeOffset(p)
	}
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if _, err := s.Data.Roles.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	l, err := s.Data.RolePermissions.List(r.Context(), c.tenantID(), id, p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "role")
	}
	return http.StatusOK, page("permissions", p, l), nil
}

// permissionPairsBody is the body of POST and DELETE /roles/{id}/permissions.
type permissionPairsBody struct {
	Permissions []struct {
		ResourceServerIdentifier string `json:"resource_server_identifier"`
		PermissionName           string `json:"permission_name"`
	} `json:"permissions"`
}

// readPermissionPairs reads a permissions body: 1 to 100 non-empty pairs.
func readPermissionPairs(r *http.Request) ([]adapters.Permission, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if e := require(raw, "permissions"); e != nil {
		return nil, e
	}
	var in permissionPairsBody
	if e := strictInto(body, &in); e != nil {
		return nil, e
	}
	if len(in.Permissions) < 1 || len(in.Permissions) > 100 {
		return nil, badBody("'permissions' must hold 1 to 100 items")
	}
	out := make([]adapters.Permission, 0, len(in.Permissions))
	for _, p := range in.Permissions {
		if p.ResourceServerIdentifier == "" || p.PermissionName == "" {
			return nil, badBody("Missing required property: each permission needs resource_server_identifier and permission_name")
		}
		out = append(out, adapters.Permission{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName})
	}
	return out, nil
}

// definePermissions checks that each permission's API exists in the tenant
// and defines it (400 otherwise), and fills in the API name and description.
func (s *Server) definePermissions(r *http.Request, tenantID string, perms []adapters.Permission) *apiError {
	apis := map[string]*adapters.ResourceServer{}
	for i := range perms {
		p := &perms[i]
		rs, ok := apis[p.ResourceServerIdentifier]
		if !ok {
			var err error
			rs, err = s.Data.ResourceServers.GetByIdentifier(r.Context(), tenantID, p.ResourceServerIdentifier)
			if errors.Is(err, adapters.ErrNotFound) {
				return badBody("no resource server has the identifier '%s'", p.ResourceServerIdentifier)
			}
			if err != nil {
				return s.internal(r, "resource server", err)
			}
			apis[p.ResourceServerIdentifier] = rs
		}
		j := slices.IndexFunc(rs.Scopes, func(sc adapters.ResourceServerScope) bool { return sc.Value == p.PermissionName })
		if j < 0 {
			return badBody("the API '%s' does not define the permission '%s'", p.ResourceServerIdentifier, p.PermissionName)
		}
		p.ResourceServerName, p.Description = rs.Name, rs.Scopes[j].Description
	}
	return nil
}

// addRolePermissions is POST /api/v2/roles/{id}/permissions.
func (s *Server) addRolePermissions(r *http.Request, c *call) (int, any, *apiError) {
	perms, e := readPermissionPairs(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if _, err := s.Data.Roles.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	if e := s.definePermissions(r, c.tenantID(), perms); e != nil {
		return 0, nil, e
	}
	if err := s.Data.RolePermissions.Assign(r.Context(), c.tenantID(), id, perms); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusCreated, nil, nil
}

// removeRolePermissions is DELETE /api/v2/roles/{id}/permissions; removing
// a permission the role does not have is not an error.
func (s *Server) removeRolePermissions(r *http.Request, c *call) (int, any, *apiError) {
	perms, e := readPermissionPairs(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if _, err := s.Data.Roles.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	if err := s.Data.RolePermissions.Remove(r.Context(), c.tenantID(), id, perms); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusOK, nil, nil
}

// ---- users ----

// roleUser is a user as GET /api/v2/roles/{id}/users lists it.
type roleUser struct {
	UserID  string `json:"user_id"`
	Email   string `json:"email,omitempty"`
	Picture string `json:"picture,omitempty"`
	Name    string `json:"name,omitempty"`
}

// listRoleUsers is GET /api/v2/roles/{id}/users, with both paging styles.
func (s *Server) listRoleUsers(r *http.Request, c *call) (int, any, *apiError) {
	if e := requireEvery(c.token, "read:users|read:role_members"); e != nil {
		return 0, nil, e
	}
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if _, err := s.Data.Roles.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	l, err := s.Data.UserRoles.ListUsers(r.Context(), c.tenantID(), id, p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "role")
	}
	var lookupErr error
	users := convertPage(l, func(uid string) roleUser {
		u, err := s.Data.Users.Get(r.Context(), c.tenantID(), uid)
		if err != nil {
			if !errors.Is(err, adapters.ErrNotFound) {
				lookupErr = err
			}
			return roleUser{UserID: uid}
		}
		return roleUser{UserID: u.UserID, Email: u.Email, Picture: u.Picture, Name: u.Name}
	})
	if lookupErr != nil {
		return 0, nil, s.internal(r, "user", lookupErr)
	}
	return http.StatusOK, page("users", p, users), nil
}

// addRoleUsers is POST /api/v2/roles/{id}/users: every user must exist
// (400 otherwise); all are assigned in one transaction.
func (s *Server) addRoleUsers(r *http.Request, c *call) (int, any, *apiError) {
	raw, body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	if e := require(raw, "users"); e != nil {
		return 0, nil, e
	}
	var in struct {
		Users []string `json:"users"`
	}
	if e := strictInto(body, &in); e != nil {
		return 0, nil, e
	}
	in.Users = withoutDuplicates(in.Users)
	if len(in.Users) < 1 || len(in.Users) > maxRoleUsers {
		return 0, nil, badBody("'users' must hold 1 to %d user ids", maxRoleUsers)
	}
	id := r.PathValue("id")
	if _, err := s.Data.Roles.Get(r.Context(), c.tenantID(), id); err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	if e := s.usersExist(r, c.tenantID(), in.Users); e != nil {
		return 0, nil, e
	}
	err := s.Data.InTx(r.Context(), func(ctx context.Context, tx *adapters.DataAdapters) error {
		for _, uid := range in.Users {
			if err := tx.UserRoles.Assign(ctx, c.tenantID(), uid, "", []string{id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, s.fail(r, err, "role")
	}
	return http.StatusOK, nil, nil
}

// usersExist reports a 400 naming the first id that is not a user of the
// tenant.
func (s *Server) usersExist(r *http.Request, tenantID string, ids []string) *apiError {
	for _, uid := range ids {
		if _, err := s.Data.Users.Get(r.Context(), tenantID, uid); err != nil {
			if errors.Is(err, adapters.ErrNotFound) {
				return badBody("the user '%s' does not exist", uid)
			}
			return s.internal(r, "user", err)
		}
	}
	return nil
}
