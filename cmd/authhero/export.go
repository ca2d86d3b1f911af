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

// exportRow is one line of `authhero export`: one stored row. Data is
// {"doc": the entity document, "cols": the stored columns the document does
// not carry}; secrets in it are sealed as stored.
type exportRow struct {
	Data   json.RawMessage `json:"data"`
	Entity string          `json:"entity"`
	Key    []string        `json:"key"`
	Tenant string          `json:"tenant"`
}

// export writes every row of the database (or of one tenant) to stdout as
// JSON lines in a stable form: object keys sorted at every level, numbers as
// stored, so an export of an import of an export is byte-identical (after
// sorting the lines; rows come entity by entity, parents first, in key
// order).
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := databaseFlag(fs)
	tenant := fs.String("tenant", "", "export only this tenant (default: all)")
	durable := fs.Bool("durable-only", false, "leave out transient state: codes, login sessions, sessions, refresh tokens, logs")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	a, err := bunadapter.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer a.Close()
	w := bufio.NewWriterSize(stdout, 1<<16)
	n := 0
	err = a.Changes().Snapshot(ctx, bunadapter.SnapshotOptions{TenantID: *tenant, Transient: !*durable}, func(ev bunadapter.ChangeEvent) error {
		line, err := json.Marshal(exportRow{Data: ev.Data, Entity: ev.Entity, Key: ev.Key, Tenant: ev.TenantID})
		if err != nil {
			return err
		}
		if line, err = canonical(line); err != nil {
			return err
		}
		w.Write(line)
		n++
		return w.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d rows\n", n)
	return nil
}

// canonical re-encodes JSON with sorted object keys and numbers kept as
// written.
func canonical(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
