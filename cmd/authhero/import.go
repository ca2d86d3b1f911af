package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/authhero-go/authhero/adapters/bunadapter"
)

// maxImportLine bounds one line of an import (a document is at most 1 MiB).
const maxImportLine = 8 << 20

// importData reads the JSON lines of `authhero export` from stdin into the
// database, streaming, in transactions of --batch rows. Rows are upserted:
// importing twice, or over a database that has some of the rows, is
// harmless. Secrets are copied sealed, so the importing deployment needs the
// exporting one's ENCRYPTION_KEY. Nothing is recorded in the change feed.
func importData(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := databaseFlag(fs)
	batch := fs.Int("batch", 500, "rows per transaction")
	if err := fs.Parse(args); err != nil || *batch <= 0 {
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
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<16), maxImportLine)
	rows := make([]bunadapter.ChangeEvent, 0, *batch)
	n, line, first := 0, 0, 0
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := a.Changes().Write(ctx, rows); err != nil {
			return fmt.Errorf("lines %d-%d: %w", first, line, err)
		}
		n += len(rows)
		rows = rows[:0]
		return nil
	}
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r exportRow
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if r.Entity == "" || r.Tenant == "" || len(r.Data) == 0 {
			return fmt.Errorf("line %d: not an export row (entity, tenant, key and data are required)", line)
		}
		if len(rows) == 0 {
			first = line
		}
		rows = append(rows, bunadapter.ChangeEvent{Entity: r.Entity, Op: bunadapter.OpUpsert, TenantID: r.Tenant, Key: r.Key, Data: r.Data})
		if len(rows) == *batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d rows into the %s database\n", n, a.Dialect())
	fmt.Fprintln(stdout, "secrets were copied sealed: run this deployment with the exporting one's ENCRYPTION_KEY")
	return nil
}
