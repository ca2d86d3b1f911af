package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/testdb"
)

// openMigrated opens and migrates dsn for the test.
func openMigrated(t *testing.T, dsn string) *bunadapter.Adapter {
	t.Helper()
	a, err := bunadapter.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(context.Background()))
	return a
}

// seedRich fills a tenant with one or more rows of every entity.
func seedRich(t *testing.T, d *adapters.DataAdapters, tn string) {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
	}
	must(d.Tenants.Create(ctx, adapters.Tenant{ID: tn, FriendlyName: "Acme <&>", Flags: map[string]any{"ratio": 0.25, "n": 1e6}}))
	con, err := d.Connections.Create(ctx, tn, adapters.Connection{Name: "db", Strategy: "auth0", Options: adapters.ConnectionOptions{ClientSecret: "sealed:v1:connsecret"}})
	require.NoError(t, err)
	cl, err := d.Clients.Create(ctx, tn, adapters.Client{Name: "app", ClientSecret: "sealed:v1:clientsecret", Callbacks: []string{"https://app/cb"}})
	require.NoError(t, err)
	rs, err := d.ResourceServers.Create(ctx, tn, adapters.ResourceServer{Name: "api", Identifier: "https://api." + tn, Scopes: []adapters.ResourceServerScope{{Value: "read"}}})
	require.NoError(t, err)
	must(d.ClientGrants.Create(ctx, tn, adapters.ClientGrant{ClientID: cl.ClientID, Audience: rs.Identifier, Scope: []string{"read"}}))
	role, err := d.Roles.Create(ctx, tn, adapters.Role{Name: "admin"})
	require.NoError(t, err)
	perm := []adapters.Permission{{ResourceServerIdentifier: rs.Identifier, PermissionName: "read"}}
	require.NoError(t, d.RolePermissions.Assign(ctx, tn, role.ID, perm))
	org, err := d.Organizations.Create(ctx, tn, adapters.Organization{Name: "org", Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	for i := range 3 {
		u, err := d.Users.Create(ctx, tn, adapters.User{Email: fmt.Sprintf("u%d@%s.example", i, tn), Connection: con.Name, UserMetadata: adapters.Metadata{"i": i}})
		require.NoError(t, err)
		for _, h := range []string{"old", "new"} {
			must(d.Passwords.Create(ctx, tn, adapters.Password{UserID: u.UserID, Hash: h + "-hash", Algorithm: "bcrypt"}))
		}
		require.NoError(t, d.UserRoles.Assign(ctx, tn, u.UserID, "", []string{role.ID}))
		require.NoError(t, d.UserPermissions.Assign(ctx, tn, u.UserID, org.ID, perm))
		require.NoError(t, d.Organizations.AddMembers(ctx, tn, org.ID, []string{u.UserID}))
		s, err := d.Sessions.Create(ctx, tn, adapters.Session{UserID: u.UserID})
		require.NoError(t, err)
		must(d.RefreshTokens.Create(ctx, tn, adapters.RefreshToken{UserID: u.UserID, ClientID: cl.ClientID, LoginID: s.ID, TokenLookup: fmt.Sprintf("lk-%s-%d", tn, i), TokenHash: "hash"}))
	}
	must(d.CustomDomains.Create(ctx, tn, adapters.CustomDomain{Domain: "login." + tn + ".example", Type: "auth0_managed_certs", Status: "ready"}))
	must(d.Keys.Create(ctx, adapters.SigningKey{Kid: "kid-" + tn, TenantID: tn, Alg: "RS256", PrivateKeyEncrypted: "sealed:v1:privatekey", Current: true}))
	must(d.Logs.Create(ctx, tn, adapters.Log{Type: "s", Description: "login"}))
	must(d.Codes.Create(ctx, tn, adapters.Code{CodeType: adapters.CodeAuthorization, ExpiresAt: time.Now().Add(time.Hour)}))
	must(d.LoginSessions.Create(ctx, tn, adapters.LoginSession{ExpiresAt: time.Now().Add(time.Hour)}))
}

func runExport(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), append([]string{"export"}, args...), &out, &errb), errb.String())
	return out.String()
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

// byEntity groups snapshot rows of one tenant by entity.
func byEntity(t *testing.T, a *bunadapter.Adapter, tn string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	require.NoError(t, a.Changes().Snapshot(context.Background(), bunadapter.SnapshotOptions{TenantID: tn, Transient: true}, func(ev bunadapter.ChangeEvent) error {
		if out[ev.Entity] == nil {
			out[ev.Entity] = map[string]string{}
		}
		out[ev.Entity][strings.Join(ev.Key, "/")] = string(ev.Data)
		return nil
	}))
	return out
}

// TestExportImport exports one tenant from SQLite, imports it into an empty
// Postgres database, and finds the same tenant there: entity by entity,
// through the adapter, and as an identical export. Secrets stay sealed.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	srcDSN := testdb.Fresh(t, "sqlite")
	src := openMigrated(t, srcDSN)
	seedRich(t, src.DataAdapters, "acme")
	seedRich(t, src.DataAdapters, "other")

	dump := runExport(t, "--database", srcDSN, "--tenant", "acme")
	lines := strings.Split(strings.TrimSuffix(dump, "\n"), "\n")
	entities := map[string]bool{}
	for _, l := range lines {
		var r exportRow
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		require.Equal(t, "acme", r.Tenant)
		c, err := canonical([]byte(l))
		require.NoError(t, err)
		require.Equal(t, l, string(c), "keys are sorted")
		entities[r.Entity] = true
	}
	for _, e := range bunadapter.Entities(true) {
		require.True(t, entities[e], "export has no %s", e)
	}
	require.Contains(t, dump, `"private_key":"sealed:v1:privatekey"`, "the private key is exported sealed")
	require.Contains(t, dump, `"client_secret":"sealed:v1:clientsecret"`)

	dstDSN := testdb.Fresh(t, "postgres")
	for i := 0; i < 2; i++ { // importing twice is harmless
		var out, errb bytes.Buffer
		require.NoError(t, importData(ctx, []string{"--database", dstDSN, "--batch", "7"}, strings.NewReader(dump), &out, &errb))
		require.Contains(t, out.String(), fmt.Sprintf("imported %d rows", len(lines)))
	}
	dst := openMigrated(t, dstDSN)

	require.Equal(t, byEntity(t, src, "acme"), byEntity(t, dst, "acme"))
	require.Empty(t, byEntity(t, dst, "other"))
	again := runExport(t, "--database", dstDSN, "--tenant", "acme")
	require.Equal(t, sortedLines(dump), sortedLines(again), "an export of the import is byte-identical")

	// Through the adapter.
	k, err := dst.Keys.Get(ctx, "kid-acme")
	require.NoError(t, err)
	require.Equal(t, "sealed:v1:privatekey", k.PrivateKeyEncrypted)
	us, err := src.Users.List(ctx, "acme", adapters.ListParams{PerPage: 50})
	require.NoError(t, err)
	for _, u := range us.Items {
		got, err := dst.Users.Get(ctx, "acme", u.UserID)
		require.NoError(t, err)
		require.Equal(t, u, *got)
		want, err := src.Passwords.List(ctx, "acme", u.UserID, 10)
		require.NoError(t, err)
		have, err := dst.Passwords.List(ctx, "acme", u.UserID, 10)
		require.NoError(t, err)
		require.Equal(t, want, have, "password history and order")
		cur, err := dst.Passwords.GetCurrent(ctx, "acme", u.UserID)
		require.NoError(t, err)
		require.Equal(t, "new-hash", cur.Hash)
	}
	tok, err := dst.RefreshTokens.GetByLookup(ctx, "acme", "lk-acme-0")
	require.NoError(t, err)
	require.Equal(t, "hash", tok.TokenHash)

	// All tenants; and nothing was recorded as change events on either side.
	all := runExport(t, "--database", srcDSN)
	require.Contains(t, all, `"tenant":"other"`)
	require.Empty(t, runExport(t, "--database", srcDSN, "--tenant", "nobody"))
	var n int
	require.NoError(t, dst.DB().DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM change_events").Scan(&n))
	require.Zero(t, n)
}

// TestImportRejectsGarbage names the bad line.
func TestImportRejectsGarbage(t *testing.T) {
	dsn := testdb.Fresh(t, "sqlite")
	var out, errb bytes.Buffer
	in := strings.NewReader("\n{\"entity\":\"tenant\",\"tenant\":\"t\",\"key\":[\"t\"],\"data\":{\"doc\":{\"id\":\"t\"}}}\nnot json\n")
	require.ErrorContains(t, importData(context.Background(), []string{"--database", dsn}, in, &out, &errb), "line 3")
	in = strings.NewReader(`{"entity":"martian","tenant":"t","key":["t"],"data":{}}` + "\n")
	require.ErrorContains(t, importData(context.Background(), []string{"--database", dsn}, in, &out, &errb), "unknown replicated entity")
}
