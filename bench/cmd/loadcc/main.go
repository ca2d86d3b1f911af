// Command loadcc measures the client_credentials grant of authhero-go against
// the physical limit, the raw sign rate of the tenant's algorithm, in one
// process:
//
//	go run ./bench/cmd/loadcc --alg RS256 --duration 20s
//
// It starts an App on a loopback listener with a fresh SQLite database (or
// --database DSN), provisions a tenant and a management client, drives
// POST /oauth/token from --concurrency workers for --duration after
// --warmup, measures the bare sign rate on GOMAXPROCS goroutines (and with
// --baseline the HTTP floor: the same bytes from a handler that does no token
// work), and prints
// tokens/s, latency percentiles, errors, sign/s and their ratio as a table or,
// with --json, one JSON object per run. It exits 1 if any request failed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/authhero-go/authhero/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcc:", err)
		os.Exit(1)
	}
}

// run parses args, runs --count measurements and writes them to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadcc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "RS256", "tenant signing algorithm: RS256, ES256 or EdDSA")
	database := fs.String("database", "", "database DSN (sqlite:///path, postgres://..., mysql://...); default a fresh SQLite database in a temp dir")
	procs := fs.Int("gomaxprocs", 0, "runtime.GOMAXPROCS for server and driver together (0: leave it as is)")
	concurrency := fs.Int("concurrency", 0, "concurrent workers, each with one request in flight (0: 2 × GOMAXPROCS)")
	duration := fs.Duration("duration", 10*time.Second, "how long the measured load lasts")
	warmup := fs.Duration("warmup", time.Second, "load before the measurement starts (0: none)")
	signDuration := fs.Duration("sign-duration", 0, "how long the raw sign rate is measured, half before and half after the load (0: duration/2)")
	baseline := fs.Duration("baseline", 0, "after the sign rate, drive the HTTP floor (same bytes, no token work) this long (0: skip)")
	count := fs.Int("count", 1, "number of runs, each with a fresh server and database")
	asJSON := fs.Bool("json", false, "print one JSON object per run instead of a table")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (setup included) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *procs < 0 || *concurrency < 0 || *count < 1 || *count > 100 || *duration <= 0 || *signDuration < 0 || *baseline < 0 {
		return errors.New("--gomaxprocs and --concurrency must be ≥ 0, --count 1..100, --duration > 0, --sign-duration and --baseline ≥ 0")
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	w := *warmup
	if w == 0 {
		w = -1 // bench.Config: negative means none
	}
	cfg := bench.Config{Alg: *alg, Database: *database, Concurrency: *concurrency, Duration: *duration,
		Warmup: w, SignDuration: *signDuration, Baseline: *baseline}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var failed error
	for i := range *count {
		r, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(r); err != nil {
				return err
			}
		} else {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			if err := r.WriteTable(stdout); err != nil {
				return err
			}
		}
		if err := r.Check(); err != nil && failed == nil {
			failed = err
		}
	}
	return failed
}
