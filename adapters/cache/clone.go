package cache

import (
	"maps"
	"reflect"
	"slices"

	"github.com/authhero-go/authhero/adapters"
)

// The clone functions deep-copy the cached entity types field by field
// (json:"-" fields such as SigningKey.PrivateKeyEncrypted included). They
// keep nil and empty slices and maps apart, so a copy is reflect.DeepEqual to
// its original. TestCloneCoversEveryField fails when a new reference-typed
// field is added to one of these entities but not copied here.

var (
	_ adapters.TenantsAdapter         = (*tenants)(nil)
	_ adapters.ClientsAdapter         = (*clients)(nil)
	_ adapters.ClientGrantsAdapter    = (*clientGrants)(nil)
	_ adapters.ConnectionsAdapter     = (*connections)(nil)
	_ adapters.ResourceServersAdapter = (*resourceServers)(nil)
	_ adapters.KeysAdapter            = (*keys)(nil)
	_ adapters.CustomDomainsAdapter   = (*customDomains)(nil)
)

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func cloneTenant(t *adapters.Tenant) *adapters.Tenant {
	if t == nil {
		return nil
	}
	c := *t
	c.AllowedLogoutURLs = slices.Clone(t.AllowedLogoutURLs)
	c.EnabledLocales = slices.Clone(t.EnabledLocales)
	c.Flags = cloneAnyMap(t.Flags)
	return &c
}

func cloneClient(cl *adapters.Client) *adapters.Client {
	if cl == nil {
		return nil
	}
	c := *cl
	c.Callbacks = slices.Clone(cl.Callbacks)
	c.AllowedOrigins = slices.Clone(cl.AllowedOrigins)
	c.WebOrigins = slices.Clone(cl.WebOrigins)
	c.AllowedLogoutURLs = slices.Clone(cl.AllowedLogoutURLs)
	c.GrantTypes = slices.Clone(cl.GrantTypes)
	c.JWTConfiguration = cloneAnyMap(cl.JWTConfiguration)
	c.Auth0Conformant = clonePtr(cl.Auth0Conformant)
	c.RefreshToken = clonePtr(cl.RefreshToken)
	c.ClientMetadata = maps.Clone(cl.ClientMetadata)
	return &c
}

func cloneGrant(g adapters.ClientGrant) adapters.ClientGrant {
	g.Scope = slices.Clone(g.Scope)
	return g
}

func cloneGrantList(l *adapters.List[adapters.ClientGrant]) *adapters.List[adapters.ClientGrant] {
	if l == nil {
		return nil
	}
	c := *l
	if l.Items != nil {
		c.Items = make([]adapters.ClientGrant, len(l.Items))
		for i, g := range l.Items {
			c.Items[i] = cloneGrant(g)
		}
	}
	return &c
}

func cloneConnection(cn *adapters.Connection) *adapters.Connection {
	if cn == nil {
		return nil
	}
	c := *cn
	c.Options.PasswordComplexity = clonePtr(cn.Options.PasswordComplexity)
	c.Options.PasswordHistory = clonePtr(cn.Options.PasswordHistory)
	c.Options.BruteForceProtection = clonePtr(cn.Options.BruteForceProtection)
	c.EnabledClients = slices.Clone(cn.EnabledClients)
	c.Realms = slices.Clone(cn.Realms)
	c.Metadata = maps.Clone(cn.Metadata)
	return &c
}

func cloneResourceServer(rs *adapters.ResourceServer) *adapters.ResourceServer {
	if rs == nil {
		return nil
	}
	c := *rs
	c.Scopes = slices.Clone(rs.Scopes)
	c.Metadata = maps.Clone(rs.Metadata)
	return &c
}

func cloneKeyValue(k adapters.SigningKey) adapters.SigningKey {
	k.CurrentSince = clonePtr(k.CurrentSince)
	k.CurrentUntil = clonePtr(k.CurrentUntil)
	k.RevokedAt = clonePtr(k.RevokedAt)
	return k
}

func cloneKey(k *adapters.SigningKey) *adapters.SigningKey {
	if k == nil {
		return nil
	}
	c := cloneKeyValue(*k)
	return &c
}

func cloneKeys(ks []adapters.SigningKey) []adapters.SigningKey {
	if ks == nil {
		return nil
	}
	out := make([]adapters.SigningKey, len(ks))
	for i, k := range ks {
		out[i] = cloneKeyValue(k)
	}
	return out
}

func cloneDomain(d *adapters.CustomDomain) *adapters.CustomDomain {
	if d == nil {
		return nil
	}
	c := *d
	c.Verification = cloneAnyMap(d.Verification)
	return &c
}

// cloneAnyMap deep-copies a free-form JSON object.
func cloneAnyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneAny(v)
	}
	return out
}

// cloneAny deep-copies a value of a free-form object: the JSON types directly,
// anything else holding references by reflection.
func cloneAny(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int, int64:
		return v
	case map[string]any:
		return cloneAnyMap(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneAny(e)
		}
		return out
	case map[string]string:
		return maps.Clone(x)
	case []string:
		return slices.Clone(x)
	}
	return deepCopy(reflect.ValueOf(v)).Interface()
}

// deepCopy copies v, following maps, slices, arrays, pointers, interfaces
// and structs whose fields are all exported. Other values (such as
// time.Time) are copied as values.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepCopy(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				return out // shallow: cannot set unexported fields
			}
		}
		for i := range v.NumField() {
			out.Field(i).Set(deepCopy(v.Field(i)))
		}
		return out
	}
	return v
}
