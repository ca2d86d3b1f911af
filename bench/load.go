package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// maxSamplesPerWorker bounds the latency samples a worker keeps; requests
// past it are still counted.
const maxSamplesPerWorker = 1 << 20

// maxErrors stops a load early once this many requests failed: the run is
// invalid anyway.
const maxErrors = 1000

// Config configures Run. Zero fields take the defaults documented on them.
type Config struct {
	// Alg is the tenant's signing algorithm: RS256, ES256 or EdDSA.
	// Zero: RS256.
	Alg string
	// Database is a bunadapter DSN. Zero: a fresh SQLite database in a
	// temporary directory.
	Database string
	// Concurrency is the number of workers, each with at most one request in
	// flight. Zero: 2 × GOMAXPROCS.
	Concurrency int
	// Duration is how long the measured load lasts. Zero: 10s.
	Duration time.Duration
	// Warmup is how long the workers run before the measurement starts
	// (connections open, caches filled). Zero: 1s; negative: none.
	Warmup time.Duration
	// SignDuration is how long the raw sign rate is measured, half before
	// and half after the load. Zero: Duration / 2.
	SignDuration time.Duration
	// Baseline is how long the workers drive EchoURL after the sign rate,
	// to measure the HTTP floor: the same request and response bytes with
	// no token work. Zero: not measured.
	Baseline time.Duration
	// Logger receives the App's logs. Zero: QuietLogger (no access log).
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Alg == "" {
		c.Alg = "RS256"
	}
	if !validAlg(c.Alg) {
		return fmt.Errorf("bench: unknown algorithm %q (use RS256, ES256 or EdDSA)", c.Alg)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2 * runtime.GOMAXPROCS(0)
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("bench: concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Duration < 0 {
		return fmt.Errorf("bench: duration must be positive, got %s", c.Duration)
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	} else if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.SignDuration == 0 {
		c.SignDuration = c.Duration / 2
	}
	if c.SignDuration <= 0 {
		return fmt.Errorf("bench: sign duration must be positive, got %s", c.SignDuration)
	}
	if c.Baseline < 0 {
		return fmt.Errorf("bench: baseline duration must not be negative, got %s", c.Baseline)
	}
	if c.Logger == nil {
		c.Logger = QuietLogger()
	}
	return nil
}

// Load is the outcome of Drive.
type Load struct {
	// Requests is how many token requests completed (successfully or not).
	Requests int64
	// Errors is how many of them failed: transport errors and responses
	// other than 200 with an access_token.
	Errors int64
	// FirstError describes the first failure, if any.
	FirstError string
	// Elapsed is the wall time of the load.
	Elapsed time.Duration
	// PerSecond is successful tokens per second of Elapsed.
	PerSecond float64
	// P50, P90, P99 and Max are latency percentiles of all requests, from
	// before sending to the end of reading the response.
	P50, P90, P99, Max time.Duration
	// CPU is the CPU time (user + system) the whole process, server and
	// driver together, used during the load; zero where unknown.
	CPU time.Duration
	// MachineIdle is the fraction of the whole machine's CPU time that was
	// idle during the load (/proc/stat), or -1 where unknown.
	MachineIdle float64
}

// Drive sends t from concurrency workers through c, each worker in a loop
// bounded by d and ctx (and stopped early after 1000 errors), and returns
// the counts and latencies.
func Drive(ctx context.Context, c *http.Client, t Target, concurrency int, d time.Duration) Load {
	if concurrency < 1 {
		concurrency = 1
	}
	var (
		wg       sync.WaitGroup
		requests atomic.Int64
		errs     atomic.Int64
		errOnce  sync.Once
		first    string
		samples  = make([][]time.Duration, concurrency)
	)
	ticks0, ticksOK := machineTicks()
	cpu0, cpuOK := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for w := range concurrency {
		wg.Go(func() {
			var buf bytes.Buffer
			lat := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && errs.Load() < maxErrors {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				err := Send(ctx, c, t, &buf)
				el := time.Since(t0)
				requests.Add(1)
				if err != nil {
					if ctx.Err() != nil {
						requests.Add(-1) // cancelled, not a server failure
						break
					}
					errs.Add(1)
					errOnce.Do(func() { first = err.Error() })
				}
				if len(lat) < maxSamplesPerWorker {
					lat = append(lat, el)
				}
			}
			samples[w] = lat
		})
	}
	wg.Wait()
	l := Load{Elapsed: time.Since(start), Requests: requests.Load(), Errors: errs.Load(), FirstError: first,
		MachineIdle: idleSince(ticks0, ticksOK)}
	if cpu1, ok := processCPU(); ok && cpuOK {
		l.CPU = cpu1 - cpu0
	}
	if l.Elapsed > 0 {
		l.PerSecond = float64(l.Requests-l.Errors) / l.Elapsed.Seconds()
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	l.P50, l.P90, l.P99 = percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99)
	if len(all) > 0 {
		l.Max = all[len(all)-1]
	}
	return l
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Result is one run of Run, as the loadcc command prints it. Times are in
// milliseconds, rates per second of wall time; "per core" divides by
// GOMAXPROCS.
type Result struct {
	// Alg is the tenant's signing algorithm and Primitive the signature
	// behind it (e.g. "RSA-2048 PKCS#1 v1.5 SHA-256").
	Alg       string `json:"alg"`
	Primitive string `json:"primitive"`
	// Database is the dialect of the database: sqlite, postgres or mysql.
	Database string `json:"database"`
	// GoVersion, CPUModel, NumCPU and GOMAXPROCS describe the machine and
	// runtime the run had.
	GoVersion  string `json:"go_version"`
	CPUModel   string `json:"cpu_model"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// Concurrency is the number of load workers.
	Concurrency int `json:"concurrency"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute
	// averages before and after the run: other work on the machine.
	LoadAvgStart string `json:"loadavg_start,omitempty"`
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`
	// WarmupSec and DurationSec are the warm-up and the measured load, in
	// seconds.
	WarmupSec   float64 `json:"warmup_s"`
	DurationSec float64 `json:"duration_s"`
	// TokenBytes is the length of one access token.
	TokenBytes int `json:"token_bytes"`

	// Requests and Errors count the token requests of the measured load and
	// those that failed; FirstError describes the first failure.
	Requests   int64  `json:"requests"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// TokensPerSec is successful tokens per second; TokensPerSecCore is that
	// ÷ GOMAXPROCS.
	TokensPerSec     float64 `json:"tokens_per_s"`
	TokensPerSecCore float64 `json:"tokens_per_s_per_core"`
	// LatencyP50Ms, LatencyP90Ms, LatencyP99Ms and LatencyMaxMs are request
	// latency percentiles as a client sees them.
	LatencyP50Ms float64 `json:"latency_p50_ms"`
	LatencyP90Ms float64 `json:"latency_p90_ms"`
	LatencyP99Ms float64 `json:"latency_p99_ms"`
	LatencyMaxMs float64 `json:"latency_max_ms"`
	// CPUUtil is the process's CPU time during the load ÷ (wall time ×
	// GOMAXPROCS); 0 where unknown. Compare it with SignCPUUtil: when both
	// are below 1 alike, other processes took the CPU; when only CPUUtil is,
	// the load did not keep every P busy.
	CPUUtil float64 `json:"cpu_util"`
	// CPUMsPerToken is the process's CPU time per token, server and driver
	// together.
	CPUMsPerToken float64 `json:"cpu_ms_per_token"`
	// MachineIdle is the idle fraction of the whole machine's CPUs during
	// the load (-1: unknown). CPUUtil well below 1 with MachineIdle near 0
	// means other processes had the CPU; with MachineIdle well above 0, the
	// load did not keep the Ps busy.
	MachineIdle float64 `json:"machine_idle"`

	// SignPerSec is the raw sign rate on GOMAXPROCS goroutines, over both
	// halves; SignPerSecCore is that ÷ GOMAXPROCS; SignPerSecBefore and
	// SignPerSecAfter are the halves measured before and after the load (far
	// apart: the machine was not steady).
	SignPerSec       float64 `json:"sign_per_s"`
	SignPerSecCore   float64 `json:"sign_per_s_per_core"`
	SignPerSecBefore float64 `json:"sign_per_s_before"`
	SignPerSecAfter  float64 `json:"sign_per_s_after"`
	// SignDurationSec is how long the sign rate was measured in all.
	SignDurationSec float64 `json:"sign_duration_s"`
	// SignCPUUtil and SignMachineIdle are CPUUtil and MachineIdle of the
	// sign measurement.
	SignCPUUtil     float64 `json:"sign_cpu_util"`
	SignMachineIdle float64 `json:"sign_machine_idle"`
	// CPUMsPerSign is the process's CPU time per raw signature.
	CPUMsPerSign float64 `json:"cpu_ms_per_sign"`

	// BaselinePerSec, BaselineP50Ms and BaselineCPUMsPerReq are the rate,
	// median latency and CPU per request of the HTTP floor (EchoURL: same
	// request, same response bytes, no token work), when Config.Baseline
	// asked for it; BaselineErrors must be 0.
	BaselinePerSec      float64 `json:"baseline_per_s,omitempty"`
	BaselineP50Ms       float64 `json:"baseline_p50_ms,omitempty"`
	BaselineCPUMsPerReq float64 `json:"baseline_cpu_ms_per_req,omitempty"`
	BaselineErrors      int64   `json:"baseline_errors,omitempty"`
	// OwnCPUMsPerToken is CPUMsPerToken less CPUMsPerSign and
	// BaselineCPUMsPerReq: the token endpoint's own work (client
	// authentication, lookups, claims, JWS encoding, response JSON, and the
	// garbage they make), when the baseline was measured.
	OwnCPUMsPerToken float64 `json:"own_cpu_ms_per_token,omitempty"`

	// Ratio is TokensPerSec ÷ SignPerSec: the share of the physical limit
	// the server reaches, in wall time.
	Ratio float64 `json:"ratio"`
	// RatioCPU is CPUMsPerSign ÷ CPUMsPerToken: the same ratio in CPU time,
	// which CPU taken by other processes does not skew; 0 where unknown.
	RatioCPU float64 `json:"ratio_cpu"`
}

// Run starts a Server per cfg, checks one token, warms up, measures half the
// sign rate, drives the load, measures the other half of the sign rate,
// optionally drives the HTTP floor (Config.Baseline), stops the server and
// returns the result. A run with errors still returns its
// Result (Errors > 0) and no error; err is for runs that could not be made.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	procs := runtime.GOMAXPROCS(0)
	r := &Result{
		Alg: cfg.Alg, Primitive: AlgDescription(cfg.Alg), GoVersion: runtime.Version(), CPUModel: CPUModel(),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: procs, Concurrency: cfg.Concurrency, LoadAvgStart: LoadAvg(),
		WarmupSec: cfg.Warmup.Seconds(), DurationSec: cfg.Duration.Seconds(), SignDurationSec: cfg.SignDuration.Seconds(),
	}
	s, err := StartServer(ctx, ServerOptions{Alg: cfg.Alg, Database: cfg.Database, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.Database = s.Dialect
	c := NewClient(cfg.Concurrency)
	defer c.CloseIdleConnections()

	tok, err := s.FetchToken(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("bench: first token: %w", err)
	}
	r.TokenBytes = len(tok)
	// The raw signer signs exactly what the server signs.
	sign, err := NewRawSigner(cfg.Alg, SigningInput(tok))
	if err != nil {
		return nil, err
	}
	if cfg.Warmup > 0 {
		if w := Drive(ctx, c, s.TokenTarget(), cfg.Concurrency, cfg.Warmup); w.Errors > 0 {
			return nil, fmt.Errorf("bench: warm-up: %d of %d requests failed, first: %s", w.Errors, w.Requests, w.FirstError)
		}
	}
	before, err := MeasureSignRate(ctx, sign, procs, cfg.SignDuration/2)
	if err != nil {
		return nil, fmt.Errorf("bench: sign rate: %w", err)
	}
	l := Drive(ctx, c, s.TokenTarget(), cfg.Concurrency, cfg.Duration)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after, err := MeasureSignRate(ctx, sign, procs, cfg.SignDuration-cfg.SignDuration/2)
	if err != nil {
		return nil, fmt.Errorf("bench: sign rate: %w", err)
	}
	if cfg.Baseline > 0 {
		b := Drive(ctx, c, s.EchoTarget(), cfg.Concurrency, cfg.Baseline)
		r.BaselinePerSec, r.BaselineP50Ms, r.BaselineErrors = b.PerSecond, ms(b.P50), b.Errors
		if ok := b.Requests - b.Errors; b.CPU > 0 && ok > 0 {
			r.BaselineCPUMsPerReq = ms(b.CPU) / float64(ok)
		}
	}
	r.LoadAvgEnd = LoadAvg()

	r.Requests, r.Errors, r.FirstError = l.Requests, l.Errors, l.FirstError
	r.DurationSec = l.Elapsed.Seconds()
	r.TokensPerSec = l.PerSecond
	r.TokensPerSecCore = l.PerSecond / float64(procs)
	r.LatencyP50Ms, r.LatencyP90Ms, r.LatencyP99Ms, r.LatencyMaxMs = ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)
	if l.CPU > 0 && l.Elapsed > 0 {
		r.CPUUtil = l.CPU.Seconds() / (l.Elapsed.Seconds() * float64(procs))
		if ok := l.Requests - l.Errors; ok > 0 {
			r.CPUMsPerToken = ms(l.CPU) / float64(ok)
		}
	}
	n := before.Signatures + after.Signatures
	el := before.Elapsed + after.Elapsed
	if el > 0 {
		r.SignPerSec = float64(n) / el.Seconds()
	}
	if cpu := before.CPU + after.CPU; cpu > 0 && el > 0 && n > 0 {
		r.SignCPUUtil = cpu.Seconds() / (el.Seconds() * float64(procs))
		r.CPUMsPerSign = ms(cpu) / float64(n)
		if r.CPUMsPerToken > 0 {
			r.RatioCPU = r.CPUMsPerSign / r.CPUMsPerToken
		}
	}
	r.SignPerSecCore = r.SignPerSec / float64(procs)
	r.SignPerSecBefore, r.SignPerSecAfter = before.PerSecond, after.PerSecond
	r.MachineIdle, r.SignMachineIdle = l.MachineIdle, -1
	if before.MachineIdle >= 0 && after.MachineIdle >= 0 {
		r.SignMachineIdle = (before.MachineIdle + after.MachineIdle) / 2
	}
	if r.SignPerSec > 0 {
		r.Ratio = r.TokensPerSec / r.SignPerSec
	}
	if r.BaselineCPUMsPerReq > 0 && r.CPUMsPerSign > 0 && r.CPUMsPerToken > 0 {
		r.OwnCPUMsPerToken = r.CPUMsPerToken - r.CPUMsPerSign - r.BaselineCPUMsPerReq
	}
	return r, nil
}

// idle describes a machine idle fraction for the table.
func idle(f float64) string {
	if f < 0 {
		return ""
	}
	return fmt.Sprintf("; machine %.0f%% idle", 100*f)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Caveat is printed with every table: what the numbers do not separate.
const Caveat = `The load driver runs in the same process as the server and shares its
GOMAXPROCS Ps: every HTTP client cycle (request write, response read) is CPU
the server did not get, so tokens/s and the ratio are lower bounds. The
server cannot be pinned to fewer Ps than the driver in-process; the sign rate
has the whole GOMAXPROCS to itself. Other processes on the machine (see the
load average and machine idle) take CPU from all phases, unevenly; the
ratio in CPU time is the steadier number on a shared machine. With
--baseline, "http floor" is what HTTP and the driver alone cost for the same
bytes, so its CPU per request bounds how close to 1 the ratio can get.`

// WriteTable writes r as a human-readable table with the Caveat.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	p("client_credentials", "%s (%s), database %s", r.Alg, r.Primitive, r.Database)
	p("machine", "%s, %d CPUs, GOMAXPROCS %d, %s", r.CPUModel, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	if r.LoadAvgStart != "" {
		p("load average", "%s at start, %s at end", r.LoadAvgStart, r.LoadAvgEnd)
	}
	p("load", "%d workers for %.1fs after %.1fs warm-up, token %d bytes", r.Concurrency, r.DurationSec, r.WarmupSec, r.TokenBytes)
	p("requests", "%d, errors %d", r.Requests, r.Errors)
	if r.FirstError != "" {
		p("first error", "%s", r.FirstError)
	}
	p("tokens/s", "%.1f (%.1f per core)", r.TokensPerSec, r.TokensPerSecCore)
	p("latency", "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", r.LatencyP50Ms, r.LatencyP90Ms, r.LatencyP99Ms, r.LatencyMaxMs)
	if r.CPUUtil > 0 {
		p("cpu (load)", "%.0f%% of GOMAXPROCS busy, %.3f ms CPU per token (server + driver)%s", 100*r.CPUUtil, r.CPUMsPerToken, idle(r.MachineIdle))
	}
	p("sign/s", "%.1f (%.1f per core; %.1f before, %.1f after the load; %.1fs on %d goroutines)",
		r.SignPerSec, r.SignPerSecCore, r.SignPerSecBefore, r.SignPerSecAfter, r.SignDurationSec, r.GOMAXPROCS)
	if r.SignCPUUtil > 0 {
		p("cpu (sign)", "%.0f%% of GOMAXPROCS busy, %.3f ms CPU per signature%s", 100*r.SignCPUUtil, r.CPUMsPerSign, idle(r.SignMachineIdle))
	}
	if r.BaselinePerSec > 0 {
		p("http floor", "%.1f req/s, p50 %.2f ms, %.3f ms CPU per request (same bytes to %s, no token work), errors %d",
			r.BaselinePerSec, r.BaselineP50Ms, r.BaselineCPUMsPerReq, "/bench/echo", r.BaselineErrors)
	}
	if r.OwnCPUMsPerToken != 0 {
		p("cpu per token", "%.3f ms = %.3f sign + %.3f http floor + %.3f token endpoint's own work",
			r.CPUMsPerToken, r.CPUMsPerSign, r.BaselineCPUMsPerReq, r.OwnCPUMsPerToken)
	}
	p("ratio", "%.3f tokens/s ÷ sign/s", r.Ratio)
	if r.RatioCPU > 0 {
		p("ratio (cpu)", "%.3f CPU per signature ÷ CPU per token", r.RatioCPU)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nnote: %s\n", strings.ReplaceAll(Caveat, "\n", "\n      "))
	return err
}

// ErrRunFailed is returned by Check for a run with errors.
var ErrRunFailed = errors.New("bench: the run had failed requests")

// Check returns an error wrapping ErrRunFailed if r counted any error (load
// or baseline) or made no token: such a run's rate means nothing.
func (r *Result) Check() error {
	if r.Errors > 0 {
		return fmt.Errorf("%w: %d of %d requests failed, first: %s", ErrRunFailed, r.Errors, r.Requests, r.FirstError)
	}
	if r.BaselineErrors > 0 {
		return fmt.Errorf("%w: %d baseline requests failed", ErrRunFailed, r.BaselineErrors)
	}
	if r.Requests == 0 {
		return fmt.Errorf("%w: no request completed", ErrRunFailed)
	}
	return nil
}
