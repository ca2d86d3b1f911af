package bunadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authhero-go/authhero/adapters"
)

func itoa(n int) string { return strconv.Itoa(n) }

func lower(s string) string { return strings.ToLower(s) }

// deleteExpired deletes rows matching cond (whose '?' all take before) in
// batches: it selects up to batch keys, deletes them, and repeats.
func (c *conn) deleteExpired(ctx context.Context, table string, keyCols []string, cond string, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	cut := adapters.Millis(before).UnixMilli()
	args := make([]any, strings.Count(cond, "?"))
	for i := range args {
		args[i] = cut
	}
	total := 0
	for {
		rows, err := c.query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s LIMIT %d", strings.Join(keyCols, ", "), table, cond, batch), args...)
		if err != nil {
			return total, err
		}
		var keys [][]any
		for rows.Next() {
			vals := make([]string, len(keyCols))
			dst := make([]any, len(vals))
			for i := range vals {
				dst[i] = &vals[i]
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return total, err
			}
			k := make([]any, len(vals))
			for i, v := range vals {
				k[i] = v
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		if len(keys) == 0 {
			return total, nil
		}
		parts := make([]string, len(keyCols))
		for i, k := range keyCols {
			parts[i] = k + " = ?"
		}
		del := "DELETE FROM " + table + " WHERE " + strings.Join(parts, " AND ") + " AND (" + cond + ")"
		err = c.within(ctx, func(tc *conn) error {
			for _, k := range keys {
				n, err := rowsAffected(tc.exec(ctx, del, append(append([]any{}, k...), args...)...))
				if err != nil {
					return err
				}
				total += n
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		if len(keys) < batch {
			return total, nil
		}
	}
}

// listIDs pages a single-column id query with offset pagination.
func (c *conn) listIDs(ctx context.Context, base string, args []any, order string, p adapters.ListParams) (*adapters.List[string], error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	offset := 0
	if p.Checkpoint() {
		if p.From != "" {
			n, err := strconv.Atoi(p.From)
			if err != nil || n < 0 {
				return nil, adapters.Invalid("from", "malformed cursor")
			}
			offset = n
		}
	} else if offset, err = p.Offset(); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, base+" ORDER BY "+order+fmt.Sprintf(" LIMIT %d OFFSET %d", limit+1, offset), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &adapters.List[string]{Items: []string{}, Start: offset, Limit: limit}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if len(out.Items) == limit {
			if p.Checkpoint() {
				out.Next = strconv.Itoa(offset + limit)
			}
			break
		}
		out.Items = append(out.Items, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if p.IncludeTotals {
		if err := c.x.QueryRowContext(ctx, c.a.d.rebind("SELECT COUNT(*) FROM ("+base+") t"), args...).Scan(&out.Total); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// permissionRows reads permission rows of a relation table.
func (c *conn) permissions(ctx context.Context, table, cond string, args []any, tail string) ([]adapters.Permission, error) {
	rows, err := c.query(ctx, "SELECT data FROM "+table+" WHERE "+cond+" ORDER BY resource_server_identifier, permission_name"+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []adapters.Permission{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var p adapters.Permission
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func permissionDoc(p adapters.Permission, orgID string) (string, error) {
	if p.ResourceServerIdentifier == "" || p.PermissionName == "" {
		return "", adapters.Invalid("permission", "resource_server_identifier and permission_name are required")
	}
	if err := lengths("permission", idLen, "resource_server_identifier", p.ResourceServerIdentifier, "permission_name", p.PermissionName); err != nil {
		return "", err
	}
	p.OrganizationID = orgID
	if p.CreatedAt.IsZero() {
		p.CreatedAt = adapters.Now()
	}
	p.CreatedAt = adapters.Millis(p.CreatedAt)
	b, err := json.Marshal(p)
	return string(b), err
}

// ---- role permissions ----

type rolePermissions struct{ c *conn }

func (r rolePermissions) Assign(ctx context.Context, t, roleID string, perms []adapters.Permission) error {
	return r.c.within(ctx, func(c *conn) error {
		if _, err := roleSpec.get(ctx, c, t, roleID); err != nil {
			return err
		}
		q := c.a.d.insertIgnore("role_permissions", []string{"tenant_id", "role_id", "resource_server_identifier", "permission_name", "created_at", "data"})
		for _, p := range perms {
			doc, err := permissionDoc(p, "")
			if err != nil {
				return err
			}
			if _, err := c.exec(ctx, q, t, roleID, p.ResourceServerIdentifier, p.PermissionName, adapters.Now().UnixMilli(), doc); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r rolePermissions) Remove(ctx context.Context, t, roleID string, perms []adapters.Permission) error {
	return r.c.within(ctx, func(c *conn) error {
		for _, p := range perms {
			if _, err := c.exec(ctx, "DELETE FROM role_permissions WHERE tenant_id = ? AND role_id = ? AND resource_server_identifier = ? AND permission_name = ?",
				t, roleID, p.ResourceServerIdentifier, p.PermissionName); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r rolePermissions) List(ctx context.Context, t, roleID string, p adapters.ListParams) (*adapters.List[adapters.Permission], error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	offset, err := p.Offset()
	if err != nil {
		return nil, err
	}
	items, err := r.c.permissions(ctx, "role_permissions", "tenant_id = ? AND role_id = ?", []any{t, roleID}, fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset))
	if err != nil {
		return nil, err
	}
	out := &adapters.List[adapters.Permission]{Items: items, Start: offset, Limit: limit}
	if p.IncludeTotals {
		err = r.c.x.QueryRowContext(ctx, r.c.a.d.rebind("SELECT COUNT(*) FROM role_permissions WHERE tenant_id = ? AND role_id = ?"), t, roleID).Scan(&out.Total)
	}
	return out, err
}

// ---- user roles ----

type userRoles struct{ c *conn }

func (r userRoles) Assign(ctx context.Context, t, userID, orgID string, roleIDs []string) error {
	return r.c.within(ctx, func(c *conn) error {
		q := c.a.d.insertIgnore("user_roles", []string{"tenant_id", "user_id", "organization_id", "role_id", "created_at"})
		for _, id := range roleIDs {
			if _, err := roleSpec.get(ctx, c, t, id); err != nil {
				return err
			}
			if err := lengths("user role", idLen, "user_id", userID, "organization_id", orgID); err != nil {
				return err
			}
			if _, err := c.exec(ctx, q, t, userID, orgID, id, adapters.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r userRoles) Remove(ctx context.Context, t, userID, orgID string, roleIDs []string) error {
	return r.c.within(ctx, func(c *conn) error {
		for _, id := range roleIDs {
			if _, err := c.exec(ctx, "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ? AND organization_id = ? AND role_id = ?", t, userID, orgID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r userRoles) List(ctx context.Context, t, userID, orgID string) ([]adapters.Role, error) {
	return roleSpec.all(ctx, r.c, "JOIN user_roles ur ON ur.tenant_id = roles.tenant_id AND ur.role_id = roles.id WHERE ur.tenant_id = ? AND ur.user_id = ? AND ur.organization_id = ? ORDER BY roles.name",
		[]any{t, userID, orgID})
}

func (r userRoles) ListUsers(ctx context.Context, t, roleID string, p adapters.ListParams) (*adapters.List[string], error) {
	return r.c.listIDs(ctx, "SELECT DISTINCT user_id FROM user_roles WHERE tenant_id = ? AND role_id = ?", []any{t, roleID}, "user_id", p)
}

// ---- user permissions ----

type userPermissions struct{ c *conn }

func (r userPermissions) Assign(ctx context.Context, t, userID, orgID string, perms []adapters.Permission) error {
	return r.c.within(ctx, func(c *conn) error {
		q := c.a.d.insertIgnore("user_permissions", []string{"tenant_id", "user_id", "organization_id", "resource_server_identifier", "permission_name", "created_at", "data"})
		for _, p := range perms {
			doc, err := permissionDoc(p, orgID)
			if err != nil {
				return err
			}
			if err := lengths("user permission", idLen, "user_id", userID); err != nil {
				return err
			}
			if err := lengths("user permission", shortLen, "organization_id", orgID); err != nil {
				return err
			}
			if _, err := c.exec(ctx, q, t, userID, orgID, p.ResourceServerIdentifier, p.PermissionName, adapters.Now().UnixMilli(), doc); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r userPermissions) Remove(ctx context.Context, t, userID, orgID string, perms []adapters.Permission) error {
	return r.c.within(ctx, func(c *conn) error {
		for _, p := range perms {
			if _, err := c.exec(ctx, "DELETE FROM user_permissions WHERE tenant_id = ? AND user_id = ? AND organization_id = ? AND resource_server_identifier = ? AND permission_name = ?",
				t, userID, orgID, p.ResourceServerIdentifier, p.PermissionName); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r userPermissions) List(ctx context.Context, t, userID, orgID string) ([]adapters.Permission, error) {
	return r.c.permissions(ctx, "user_permissions", "tenant_id = ? AND user_id = ? AND organization_id = ?", []any{t, userID, orgID}, "")
}
