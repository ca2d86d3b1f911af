package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// errUsage reports bad flags; flag has already printed why.
var errUsage = errors.New("usage")

// defaultDatabase is the embedded SQLite file used when nothing is configured.
const defaultDatabase = "sqlite://./authhero.db"

// databaseFlag registers --database with DATABASE_URL as its default.
func databaseFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("DATABASE_URL")
	if def == "" {
		def = defaultDatabase
	}
	return fs.String("database", def, "database URL: postgres://..., mysql://... or sqlite:///path/file.db (env DATABASE_URL)")
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := databaseFlag(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	a, err := bunadapter.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s database\n", a.Dialect())
	return nil
}
