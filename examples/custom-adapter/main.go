// Command custom-adapter shows how to plug a storage adapter of your own into
// authhero-go: it opens the SQLite bun adapter, replaces its Users field with
// MemoryUsers (users kept in a Go map, see memory_users.go), migrates the
// database, creates a tenant and a user, finds the user again with a q search
// and prints both.
//
//	go run ./examples/custom-adapter            # temporary database
//	go run ./examples/custom-adapter -db x.db   # keep the SQLite file
//
// main_test.go runs the adapter conformance suite (package adaptertest)
// against the result.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
)

func main() {
	db := flag.String("db", "", "SQLite database file (default: a temporary file, removed on exit)")
	flag.Parse()
	if err := run(context.Background(), *db, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "custom-adapter:", err)
		os.Exit(1)
	}
}

// run does the work of main on the SQLite file at path (a temporary one when
// path is empty) and prints to w.
func run(ctx context.Context, path string, w io.Writer) error {
	if path == "" {
		dir, err := os.MkdirTemp("", "custom-adapter-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "authhero.db")
	}

	a, err := bunadapter.Open(ctx, "sqlite://"+path)
	if err != nil {
		return err
	}
	defer a.Close()

	// Everything but users stays in SQLite; users live in MemoryUsers.
	d := WithMemoryUsers(a.DataAdapters)
	if err := a.Migrate(ctx); err != nil {
		return err
	}

	tenant, err := d.Tenants.Create(ctx, adapters.Tenant{FriendlyName: "Custom adapter example"})
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	user, err := d.Users.Create(ctx, tenant.ID, adapters.User{
		Email:      "Jane.Doe@Example.com", // stored lower-cased
		Name:       "Jane Doe",
		Connection: "Username-Password-Authentication",
	})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	found, err := d.Users.List(ctx, tenant.ID, adapters.ListParams{Q: `email:"jane.doe@example.com"`, IncludeTotals: true})
	if err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	if found.Total != 1 || found.Items[0].UserID != user.UserID {
		return fmt.Errorf("search users: found %d users, want %s", found.Total, user.UserID)
	}

	for _, v := range []struct {
		label string
		value any
	}{{"tenant (SQLite)", tenant}, {"user (MemoryUsers)", user}} {
		b, err := json.MarshalIndent(v.value, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s:\n%s\n", v.label, b); err != nil {
			return err
		}
	}
	return nil
}
