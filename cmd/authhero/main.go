// Command authhero runs and operates an authhero-go identity provider.
//
//	authhero serve                    run the server (embedded SQLite ./authhero.db by default)
//	authhero migrate --database DSN   apply database migrations
//	authhero export --database DSN [--tenant ID] > backup.jsonl
//	authhero import --database DSN < backup.jsonl
//	authhero sync --config sync.json  replicate between independent databases
//	authhero route --config routing.json --listen :8080   failover/weighted/geo proxy
//
// DATABASE_URL selects the database for every command (postgres://, mysql://
// or sqlite://); --database overrides it.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: authhero <command> [flags]

commands:
  serve     run the identity provider (default database: sqlite://./authhero.db)
  migrate   apply the database migrations (--database DSN or DATABASE_URL)
  route     reverse proxy with failover across deployments (--config routing.json)
  export    write every row (--tenant ID: one tenant's) as JSON lines to stdout (--database DSN)
  import    read 'export' JSON lines from stdin into a database, upserting (--database DSN)
  sync      replicate between databases: relay and/or applier (--config sync.json)

Run 'authhero <command> -h' for the flags of a command.
`

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "route":
		err = route(ctx, args[1:], stdout, stderr)
	case "export":
		err = export(ctx, args[1:], stdout, stderr)
	case "import":
		err = importData(ctx, args[1:], os.Stdin, stdout, stderr)
	case "sync":
		err = syncCmd(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "authhero: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "authhero %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
