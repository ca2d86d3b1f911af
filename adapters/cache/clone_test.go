package cache

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

var timeType = reflect.TypeFor[time.Time]()

// fill sets every exported field reachable from v to a non-zero value, with
// two elements in every slice and one entry in every map.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.UnixMilli(1_700_000_000_000).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{
			"list":    []any{"a", map[string]any{"n": 1.5}},
			"strings": []string{"s"},
			"custom":  &struct{ A []int }{A: []int{1}},
		}))
	}
}

// requireNoAlias fails when a and b share any pointer, slice array or map.
func requireNoAlias(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return
		}
		require.NotEqual(t, a.Pointer(), b.Pointer(), "%s: pointer shared", path)
		requireNoAlias(t, a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 {
			require.NotEqual(t, a.Pointer(), b.Pointer(), "%s: slice shared", path)
		}
		for i := range a.Len() {
			requireNoAlias(t, a.Index(i), b.Index(i), path+"[]")
		}
	case reflect.Map:
		if a.IsNil() {
			return
		}
		require.NotEqual(t, a.Pointer(), b.Pointer(), "%s: map shared", path)
		for _, k := range a.MapKeys() {
			requireNoAlias(t, a.MapIndex(k), b.MapIndex(k), path+"["+k.String()+"]")
		}
	case reflect.Interface:
		if !a.IsNil() {
			requireNoAlias(t, a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				requireNoAlias(t, a.Field(i), b.Field(i), path+"."+f.Name)
			}
		}
	}
}

// checkClone fills a T, clones it and checks the copy is equal but shares
// nothing.
func checkClone[T any](t *testing.T, clone func(T) T) {
	t.Helper()
	var in T
	fill(reflect.ValueOf(&in).Elem())
	out := clone(in)
	require.Equal(t, in, out)
	requireNoAlias(t, reflect.ValueOf(in), reflect.ValueOf(out), reflect.TypeFor[T]().String())
}

// TestCloneCoversEveryField guards the hand-written clone functions against
// new reference-typed entity fields.
func TestCloneCoversEveryField(t *testing.T) {
	checkClone(t, cloneTenant)
	checkClone(t, cloneClient)
	checkClone(t, cloneGrantList)
	checkClone(t, cloneConnection)
	checkClone(t, cloneResourceServer)
	checkClone(t, cloneKey)
	checkClone(t, cloneKeys)
	checkClone(t, cloneDomain)
}

// TestCloneKeepsNilAndEmpty checks that nil and empty slices and maps stay
// apart and that json:"-" fields survive.
func TestCloneKeepsNilAndEmpty(t *testing.T) {
	c := cloneClient(&adapters.Client{Callbacks: []string{}, JWTConfiguration: map[string]any{"a": []any{}}, ClientMetadata: map[string]string{}})
	require.NotNil(t, c.Callbacks)
	require.Empty(t, c.Callbacks)
	require.Nil(t, c.GrantTypes)
	require.NotNil(t, c.ClientMetadata)
	require.Equal(t, []any{}, c.JWTConfiguration["a"])
	require.Nil(t, cloneClient(nil))
	require.Nil(t, cloneKeys(nil))
	require.Equal(t, []adapters.SigningKey{}, cloneKeys([]adapters.SigningKey{}))
	l := cloneGrantList(&adapters.List[adapters.ClientGrant]{Items: []adapters.ClientGrant{}})
	require.NotNil(t, l.Items)

	k := cloneKey(&adapters.SigningKey{Kid: "k", PrivateKeyEncrypted: "enc:secret"})
	require.Equal(t, "enc:secret", k.PrivateKeyEncrypted)
}
