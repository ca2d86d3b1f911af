// Command loadlogin measures the browser login and the refresh-token grant
// of authhero-go against their physical limits, in one process:
//
//	go run ./bench/cmd/loadlogin --alg RS256 --duration 10s
//
// It starts an App on a loopback listener with a fresh SQLite database (or
// --database DSN), provisions a tenant, a public single-page application and
// --users users with argon2id-hashed passwords, and measures two loads:
//
//  1. Full logins: --concurrency workers, each login a fresh browser (new
//     cookie jar): GET /authorize (PKCE S256) → the identifier form → the
//     password form → the redirect to the callback → POST /oauth/token
//     (authorization_code). Logins cycle through the users. Around the
//     load, the argon2id Verify rate of the default password hasher on
//     GOMAXPROCS goroutines: a login pays one Verify.
//  2. Refresh grants: each worker exchanges the refresh token of its last
//     login, again and again, keeping the rotated token of each answer.
//     Around the load, the raw sign rate of the tenant's algorithm: a grant
//     signs an access token and an ID token.
//
// It prints logins/s and grants/s, per core, latency percentiles, errors,
// the hash and sign rates and the ratios (wall and CPU time) as a table or,
// with --json, one JSON object per run. It exits 1 if any login or grant
// failed.
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
		fmt.Fprintln(os.Stderr, "loadlogin:", err)
		os.Exit(1)
	}
}

// run parses args, runs --count measurements and writes them to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadlogin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "RS256", "tenant signing algorithm: RS256, ES256 or EdDSA")
	database := fs.String("database", "", "database DSN (sqlite:///path, postgres://..., mysql://...); default a fresh SQLite database in a temp dir")
	procs := fs.Int("gomaxprocs", 0, "runtime.GOMAXPROCS for server and driver together (0: leave it as is)")
	concurrency := fs.Int("concurrency", 0, "concurrent workers, each with one login or grant in flight (0: 2 × GOMAXPROCS)")
	users := fs.Int("users", 200, "users the logins cycle through (each created with one argon2id hash)")
	duration := fs.Duration("duration", 10*time.Second, "how long the measured login load lasts")
	refreshDuration := fs.Duration("refresh-duration", 0, "how long the measured refresh load lasts (0: --duration)")
	warmup := fs.Duration("warmup", time.Second, "load before each measurement (0: none)")
	hashDuration := fs.Duration("hash-duration", 0, "how long the argon2id Verify rate is measured, half before and half after the login load (0: duration/2)")
	signDuration := fs.Duration("sign-duration", 0, "how long the raw sign rate is measured, half before and half after the refresh load (0: refresh-duration/2)")
	count := fs.Int("count", 1, "number of runs, each with a fresh server and database")
	asJSON := fs.Bool("json", false, "print one JSON object per run instead of a table")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (setup included) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *procs < 0 || *concurrency < 0 || *users < 1 || *count < 1 || *count > 100 || *duration <= 0 ||
		*refreshDuration < 0 || *hashDuration < 0 || *signDuration < 0 || *warmup < 0 {
		return errors.New("--gomaxprocs and --concurrency must be ≥ 0, --users ≥ 1, --count 1..100, --duration > 0, the other durations ≥ 0")
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	w := *warmup
	if w == 0 {
		w = -1 // bench.LoginConfig: negative means none
	}
	cfg := bench.LoginConfig{Alg: *alg, Database: *database, Concurrency: *concurrency, Users: *users, Duration: *duration,
		RefreshDuration: *refreshDuration, Warmup: w, HashDuration: *hashDuration, SignDuration: *signDuration}
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
		r, err := bench.RunLogin(ctx, cfg)
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
