package adaptertest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// newRole stores a role with a random name in tenant tn.
func (s *suite) newRole(t *testing.T, tn string) *adapters.Role {
	t.Helper()
	r, err := s.d.Roles.Create(t.Context(), tn, adapters.Role{Name: "role-" + adapters.NewID(""), Description: "a role"})
	require.NoError(t, err)
	require.NotEmpty(t, r.ID, "Create must fill the id")
	return r
}

// permKey identifies a permission.
func permKey(p adapters.Permission) string {
	return p.ResourceServerIdentifier + " " + p.PermissionName
}

// perms returns permissions of one API.
func perms(api string, names ...string) []adapters.Permission {
	out := make([]adapters.Permission, len(names))
	for i, n := range names {
		out[i] = adapters.Permission{ResourceServerIdentifier: api, PermissionName: n}
	}
	return out
}

func permKeys(ps []adapters.Permission) []string { return keysOf(ps, permKey) }

func roleIDs(rs []adapters.Role) []string {
	return keysOf(rs, func(r adapters.Role) string { return r.ID })
}

func testRoles(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, r adapters.Role) *adapters.Role {
		t.Helper()
		got, err := d.Roles.Create(t.Context(), tenant, r)
		require.NoError(t, err)
		return got
	}
	full := func() adapters.Role {
		return adapters.Role{Name: "admin-" + adapters.NewID(""), Description: "Administrators — 管理者", IsSystem: true}
	}

	t.Run("create_get", func(t *testing.T) {
		in := full()
		before := time.Now()
		got, err := d.Roles.Create(t.Context(), tn, in)
		after := time.Now()
		require.NoError(t, err)
		require.NotEmpty(t, got.ID, "Create must fill the id")
		requireRecent(t, got.CreatedAt, before, after, "created_at")
		requireRecent(t, got.UpdatedAt, before, after, "updated_at")
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
		requireCreated(t, want, got, func() (*adapters.Role, error) { return d.Roles.Get(t.Context(), tn, got.ID) })
	})
	t.Run("duplicate_name", func(t *testing.T) {
		first := create(t, tn, full())
		_, err := d.Roles.Create(t.Context(), tn, adapters.Role{Name: first.Name})
		require.ErrorIs(t, err, adapters.ErrConflict, "same role name in a tenant")
		_, err = d.Roles.Create(t.Context(), tn, adapters.Role{ID: first.ID, Name: "other-" + adapters.NewID("")})
		require.ErrorIs(t, err, adapters.ErrConflict, "same role id in a tenant")
		create(t, s.tenant(t), adapters.Role{Name: first.Name})
		second := create(t, tn, full())
		_, err = d.Roles.Update(t.Context(), tn, second.ID, func(r *adapters.Role) error {
			r.Name = first.Name
			return nil
		})
		require.ErrorIs(t, err, adapters.ErrConflict, "renaming onto another role's name")
		got, err := d.Roles.Get(t.Context(), tn, second.ID)
		require.NoError(t, err)
		require.Equal(t, *second, *got, "a refused update changed the role")
	})

	lt := s.tenant(t)
	var items []item
	for i, at := range tieTimes(ms(0), 15) {
		r := create(t, lt, adapters.Role{ID: adapters.NewID("rol_"), Name: fmt.Sprintf("role %02d", i), CreatedAt: at, UpdatedAt: at})
		require.Equal(t, at, r.CreatedAt, "a caller-provided created_at must be kept")
		items = append(items, item{r.ID, at})
	}
	runPaging(t, paging[adapters.Role]{
		list: func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Role], error) {
			return d.Roles.List(ctx, lt, p)
		},
		id:    func(r adapters.Role) string { return r.ID },
		items: items, checkpointDesc: ptr(false),
	})

	runEntity(t, entity[adapters.Role]{
		create: func(t *testing.T) *adapters.Role { return create(t, tn, full()) },
		get:    func(ctx contextT, k string) (*adapters.Role, error) { return d.Roles.Get(ctx, tn, k) },
		update: func(ctx contextT, k string, m func(*adapters.Role) error) (*adapters.Role, error) {
			return d.Roles.Update(ctx, tn, k, m)
		},
		del:       func(ctx contextT, k string) error { return d.Roles.Delete(ctx, tn, k) },
		key:       func(x *adapters.Role) string { return x.ID },
		setKey:    func(x *adapters.Role, k string) { x.ID = k },
		createdAt: func(x *adapters.Role) *time.Time { return &x.CreatedAt },
		updatedAt: func(x *adapters.Role) *time.Time { return &x.UpdatedAt },
		change:    func(x *adapters.Role) { x.Description = "changed" },
		newKey:    func() string { return adapters.NewID("rol_") },
	})
}

func testRolePermissions(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	api := "https://api-" + adapters.NewID("") + ".example.com"
	list := func(t *testing.T, roleID string) []string {
		t.Helper()
		res, err := d.RolePermissions.List(t.Context(), tn, roleID, adapters.ListParams{PerPage: adapters.MaxPerPage})
		require.NoError(t, err)
		require.NotNil(t, res.Items)
		return permKeys(res.Items)
	}

	t.Run("assign_idempotent_list_remove", func(t *testing.T) {
		r := s.newRole(t, tn)
		require.Empty(t, list(t, r.ID))
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, r.ID, perms(api, "read:a", "write:a")))
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, r.ID, perms(api, "read:a", "write:a")), "assigning again must not fail")
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, r.ID, perms(api, "write:a", "delete:a")))
		requireExactlyOnce(t, permKeys(perms(api, "read:a", "write:a", "delete:a")), list(t, r.ID))
		res, err := d.RolePermissions.List(t.Context(), tn, r.ID, adapters.ListParams{PerPage: 2, IncludeTotals: true})
		require.NoError(t, err)
		require.Len(t, res.Items, 2)
		require.Equal(t, 3, res.Total)
		for _, p := range res.Items {
			require.Equal(t, api, p.ResourceServerIdentifier)
		}
		require.NoError(t, d.RolePermissions.Remove(t.Context(), tn, r.ID, perms(api, "read:a")))
		requireExactlyOnce(t, permKeys(perms(api, "write:a", "delete:a")), list(t, r.ID))
		require.NoError(t, d.RolePermissions.Remove(t.Context(), tn, r.ID, perms(api, "write:a", "delete:a")))
		require.Empty(t, list(t, r.ID))
	})
	t.Run("per_role", func(t *testing.T) {
		a, b := s.newRole(t, tn), s.newRole(t, tn)
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, a.ID, perms(api, "read:a")))
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, b.ID, perms(api, "read:b")))
		require.Equal(t, permKeys(perms(api, "read:a")), list(t, a.ID))
		require.NoError(t, d.RolePermissions.Remove(t.Context(), tn, b.ID, perms(api, "read:a")))
		require.Equal(t, permKeys(perms(api, "read:a")), list(t, a.ID), "removing from one role changed another")
	})
	t.Run("offset_pages", func(t *testing.T) {
		r := s.newRole(t, tn)
		names := make([]string, 7)
		for i := range names {
			names[i] = fmt.Sprintf("scope:%d", i)
		}
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, r.ID, perms(api, names...)))
		l := func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Permission], error) {
			return d.RolePermissions.List(ctx, tn, r.ID, p)
		}
		full := list(t, r.ID)
		requireExactlyOnce(t, permKeys(perms(api, names...)), full)
		for _, per := range []int{1, 3} {
			require.Equal(t, full, permKeys(walkOffset(t, l, adapters.ListParams{}, per, 7)), "per_page %d", per)
		}
	})
	t.Run("role_delete_removes_permissions", func(t *testing.T) {
		r := s.newRole(t, tn)
		require.NoError(t, d.RolePermissions.Assign(t.Context(), tn, r.ID, perms(api, "read:x")))
		require.NoError(t, d.Roles.Delete(t.Context(), tn, r.ID))
		res, err := d.RolePermissions.List(t.Context(), tn, r.ID, adapters.ListParams{})
		if err == nil {
			require.Empty(t, res.Items, "a deleted role still has permissions")
		} else {
			require.ErrorIs(t, err, adapters.ErrNotFound)
		}
		// A new role under the same id starts without permissions.
		_, err = d.Roles.Create(t.Context(), tn, adapters.Role{ID: r.ID, Name: r.Name})
		require.NoError(t, err)
		require.Empty(t, list(t, r.ID), "permissions of a deleted role survived")
	})
}

func testUserRoles(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	list := func(t *testing.T, userID, org string) []string {
		t.Helper()
		rs, err := d.UserRoles.List(t.Context(), tn, userID, org)
		require.NoError(t, err)
		return roleIDs(rs)
	}

	t.Run("assign_list_remove", func(t *testing.T) {
		u := s.newUser(t, tn)
		r1, r2, r3 := s.newRole(t, tn), s.newRole(t, tn), s.newRole(t, tn)
		require.Empty(t, list(t, u, ""))
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r1.ID, r2.ID}))
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r1.ID, r2.ID}), "assigning again must not fail")
		rs, err := d.UserRoles.List(t.Context(), tn, u, "")
		require.NoError(t, err)
		requireExactlyOnce(t, []string{r1.ID, r2.ID}, roleIDs(rs))
		for _, r := range rs {
			want := map[string]string{r1.ID: r1.Name, r2.ID: r2.Name}[r.ID]
			require.Equal(t, want, r.Name, "List must return the roles themselves")
		}
		require.NoError(t, d.UserRoles.Remove(t.Context(), tn, u, "", []string{r1.ID}))
		require.Equal(t, []string{r2.ID}, list(t, u, ""))
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r3.ID}))
		requireExactlyOnce(t, []string{r2.ID, r3.ID}, list(t, u, ""))
	})
	t.Run("organization_scope", func(t *testing.T) {
		u := s.newUser(t, tn)
		r1, r2, r3 := s.newRole(t, tn), s.newRole(t, tn), s.newRole(t, tn)
		orgX, orgY := adapters.NewID("org_"), adapters.NewID("org_")
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r1.ID}))
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, orgX, []string{r2.ID, r1.ID}))
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, orgY, []string{r3.ID}))
		require.Equal(t, []string{r1.ID}, list(t, u, ""), "global roles must not include organization roles")
		requireExactlyOnce(t, []string{r1.ID, r2.ID}, list(t, u, orgX))
		require.Equal(t, []string{r3.ID}, list(t, u, orgY))
		require.NoError(t, d.UserRoles.Remove(t.Context(), tn, u, orgX, []string{r1.ID}))
		require.Equal(t, []string{r1.ID}, list(t, u, ""), "removing an organization role removed the global one")
		require.Equal(t, []string{r2.ID}, list(t, u, orgX))
		require.NoError(t, d.UserRoles.Remove(t.Context(), tn, u, "", []string{r1.ID}))
		require.Empty(t, list(t, u, ""))
		require.Equal(t, []string{r2.ID}, list(t, u, orgX), "removing a global role removed the organization one")
	})
	t.Run("list_users_pages", func(t *testing.T) {
		r, other := s.newRole(t, tn), s.newRole(t, tn)
		var users []string
		for range 5 {
			u := s.newUser(t, tn)
			users = append(users, u)
			require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r.ID}))
		}
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, s.newUser(t, tn), "", []string{other.ID}))
		l := func(ctx contextT, p adapters.ListParams) (*adapters.List[string], error) {
			return d.UserRoles.ListUsers(ctx, tn, r.ID, p)
		}
		id := func(s string) string { return s }
		res, err := l(t.Context(), adapters.ListParams{PerPage: adapters.MaxPerPage, IncludeTotals: true})
		require.NoError(t, err)
		require.Equal(t, 5, res.Total)
		requireExactlyOnce(t, users, res.Items)
		for _, per := range []int{1, 2} {
			require.Equal(t, res.Items, keysOf(walkOffset(t, l, adapters.ListParams{}, per, 5), id), "per_page %d", per)
		}
		res, err = l(t.Context(), adapters.ListParams{PerPage: 2, Page: 1, IncludeTotals: true})
		require.NoError(t, err)
		require.Equal(t, 5, res.Total)
		require.Equal(t, 2, res.Start)
	})
	t.Run("role_delete_removes_assignments", func(t *testing.T) {
		u := s.newUser(t, tn)
		r, keep := s.newRole(t, tn), s.newRole(t, tn)
		require.NoError(t, d.UserRoles.Assign(t.Context(), tn, u, "", []string{r.ID, keep.ID}))
		require.NoError(t, d.Roles.Delete(t.Context(), tn, r.ID))
		require.Equal(t, []string{keep.ID}, list(t, u, ""), "a deleted role is still assigned")
		res, err := d.UserRoles.ListUsers(t.Context(), tn, r.ID, adapters.ListParams{})
		if err == nil {
			require.Empty(t, res.Items, "a deleted role still lists users")
		} else {
			require.True(t, errors.Is(err, adapters.ErrNotFound), "ListUsers of a deleted role: %v", err)
		}
	})
}

func testUserPermissions(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	api := "https://api-" + adapters.NewID("") + ".example.com"
	list := func(t *testing.T, userID, org string) []string {
		t.Helper()
		ps, err := d.UserPermissions.List(t.Context(), tn, userID, org)
		require.NoError(t, err)
		return permKeys(ps)
	}

	t.Run("assign_idempotent_list_remove", func(t *testing.T) {
		u := s.newUser(t, tn)
		require.Empty(t, list(t, u, ""))
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, u, "", perms(api, "read:a", "write:a")))
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, u, "", perms(api, "read:a", "write:a")), "assigning again must not fail")
		requireExactlyOnce(t, permKeys(perms(api, "read:a", "write:a")), list(t, u, ""))
		require.NoError(t, d.UserPermissions.Remove(t.Context(), tn, u, "", perms(api, "read:a")))
		require.Equal(t, permKeys(perms(api, "write:a")), list(t, u, ""))
	})
	t.Run("organization_scope", func(t *testing.T) {
		u := s.newUser(t, tn)
		org := adapters.NewID("org_")
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, u, "", perms(api, "global")))
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, u, org, perms(api, "scoped", "global")))
		require.Equal(t, permKeys(perms(api, "global")), list(t, u, ""), "global permissions must not include organization ones")
		requireExactlyOnce(t, permKeys(perms(api, "scoped", "global")), list(t, u, org))
		require.NoError(t, d.UserPermissions.Remove(t.Context(), tn, u, org, perms(api, "global")))
		require.Equal(t, permKeys(perms(api, "global")), list(t, u, ""), "removing an organization permission removed the global one")
		require.Equal(t, permKeys(perms(api, "scoped")), list(t, u, org))
	})
	t.Run("per_user", func(t *testing.T) {
		a, b := s.newUser(t, tn), s.newUser(t, tn)
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, a, "", perms(api, "a")))
		require.NoError(t, d.UserPermissions.Assign(t.Context(), tn, b, "", perms(api, "b")))
		require.NoError(t, d.UserPermissions.Remove(t.Context(), tn, b, "", perms(api, "a")))
		require.Equal(t, permKeys(perms(api, "a")), list(t, a, ""))
		require.Equal(t, permKeys(perms(api, "b")), list(t, b, ""))
	})
}
