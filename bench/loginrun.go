package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// LoginConfig configures RunLogin. Zero fields take the defaults documented
// on them.
type LoginConfig struct {
	// Alg is the tenant's signing algorithm: RS256, ES256 or EdDSA.
	// Zero: RS256.
	Alg string
	// Database is a bunadapter DSN. Zero: a fresh SQLite database in a
	// temporary directory.
	Database string
	// Concurrency is the number of workers, each with one login (or one
	// refresh grant) in flight. Zero: 2 × GOMAXPROCS.
	Concurrency int
	// Users is how many users the logins cycle through. Zero: 200.
	Users int
	// Duration is how long the measured login load lasts. Zero: 10s.
	Duration time.Duration
	// RefreshDuration is how long the measured refresh load lasts.
	// Zero: Duration.
	RefreshDuration time.Duration
	// Warmup is how long the workers run before each measured load.
	// Zero: 1s; negative: none.
	Warmup time.Duration
	// HashDuration is how long the argon2id Verify rate is measured, half
	// before and half after the login load. Zero: Duration / 2.
	HashDuration time.Duration
	// SignDuration is how long the raw sign rate is measured, half before
	// and half after the refresh load. Zero: RefreshDuration / 2.
	SignDuration time.Duration
	// Logger receives the App's logs. Zero: QuietLogger.
	Logger *slog.Logger
}

func (c *LoginConfig) defaults() error {
	if c.Duration < 0 || c.RefreshDuration < 0 || c.HashDuration < 0 || c.SignDuration < 0 {
		return fmt.Errorf("bench: durations must not be negative")
	}
	// Config's defaults for the fields the two share (its SignDuration is
	// not used here).
	base := Config{Alg: c.Alg, Concurrency: c.Concurrency, Duration: c.Duration, Warmup: c.Warmup, SignDuration: time.Second, Logger: c.Logger}
	if err := base.defaults(); err != nil {
		return err
	}
	c.Alg, c.Concurrency, c.Duration, c.Warmup, c.Logger = base.Alg, base.Concurrency, base.Duration, base.Warmup, base.Logger
	if c.Users == 0 {
		c.Users = 200
	}
	if c.Users < 1 {
		return fmt.Errorf("bench: users must be at least 1, got %d", c.Users)
	}
	if c.RefreshDuration == 0 {
		c.RefreshDuration = c.Duration
	}
	if c.HashDuration == 0 {
		c.HashDuration = c.Duration / 2
	}
	if c.SignDuration == 0 {
		c.SignDuration = c.RefreshDuration / 2
	}
	if c.HashDuration <= 0 || c.SignDuration <= 0 {
		return fmt.Errorf("bench: hash and sign durations must be positive")
	}
	return nil
}

// LoadStats is a measured load as LoginResult reports it. Times are in
// milliseconds, rates per second of wall time; "per core" divides by
// GOMAXPROCS.
type LoadStats struct {
	// DurationSec is the wall time of the load.
	DurationSec float64 `json:"duration_s"`
	// Ops and Errors count the operations (logins or grants) and those that
	// failed; FirstError describes the first failure.
	Ops        int64  `json:"ops"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// PerSec is successful operations per second; PerSecCore that ÷
	// GOMAXPROCS.
	PerSec     float64 `json:"per_s"`
	PerSecCore float64 `json:"per_s_per_core"`
	// P50Ms, P90Ms, P99Ms and MaxMs are latency percentiles of whole
	// operations as the client sees them.
	P50Ms float64 `json:"p50_ms"`
	P90Ms float64 `json:"p90_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// CPUUtil is the process's CPU time ÷ (wall × GOMAXPROCS); CPUMsPerOp
	// the process's CPU time (server and driver) per successful operation.
	CPUUtil    float64 `json:"cpu_util"`
	CPUMsPerOp float64 `json:"cpu_ms_per_op"`
	// MachineIdle is the idle fraction of the whole machine (-1: unknown).
	MachineIdle float64 `json:"machine_idle"`
}

func loadStats(l Load, procs int) LoadStats {
	s := LoadStats{DurationSec: l.Elapsed.Seconds(), Ops: l.Requests, Errors: l.Errors, FirstError: l.FirstError,
		PerSec: l.PerSecond, PerSecCore: l.PerSecond / float64(procs),
		P50Ms: ms(l.P50), P90Ms: ms(l.P90), P99Ms: ms(l.P99), MaxMs: ms(l.Max), MachineIdle: l.MachineIdle}
	if l.CPU > 0 && l.Elapsed > 0 {
		s.CPUUtil = l.CPU.Seconds() / (l.Elapsed.Seconds() * float64(procs))
		if ok := l.Requests - l.Errors; ok > 0 {
			s.CPUMsPerOp = ms(l.CPU) / float64(ok)
		}
	}
	return s
}

// RateStats is a primitive's rate on GOMAXPROCS goroutines (MeasureSignRate),
// measured in two halves around a load.
type RateStats struct {
	// PerSec is over both halves; PerSecCore that ÷ GOMAXPROCS;
	// PerSecBefore and PerSecAfter the halves before and after the load.
	PerSec       float64 `json:"per_s"`
	PerSecCore   float64 `json:"per_s_per_core"`
	PerSecBefore float64 `json:"per_s_before"`
	PerSecAfter  float64 `json:"per_s_after"`
	// DurationSec is the wall time of both halves.
	DurationSec float64 `json:"duration_s"`
	// CPUUtil, CPUMsPerOp and MachineIdle are as in LoadStats.
	CPUUtil     float64 `json:"cpu_util"`
	CPUMsPerOp  float64 `json:"cpu_ms_per_op"`
	MachineIdle float64 `json:"machine_idle"`
}

func rateStats(before, after SignRate, procs int) RateStats {
	r := RateStats{PerSecBefore: before.PerSecond, PerSecAfter: after.PerSecond, MachineIdle: -1}
	n, el := before.Signatures+after.Signatures, before.Elapsed+after.Elapsed
	r.DurationSec = el.Seconds()
	if el > 0 {
		r.PerSec = float64(n) / el.Seconds()
	}
	r.PerSecCore = r.PerSec / float64(procs)
	if cpu := before.CPU + after.CPU; cpu > 0 && el > 0 && n > 0 {
		r.CPUUtil = cpu.Seconds() / (el.Seconds() * float64(procs))
		r.CPUMsPerOp = ms(cpu) / float64(n)
	}
	if before.MachineIdle >= 0 && after.MachineIdle >= 0 {
		r.MachineIdle = (before.MachineIdle + after.MachineIdle) / 2
	}
	return r
}

// measureHalves measures f's rate for d in two halves around load.
func measureHalves(ctx context.Context, f func() error, procs int, d time.Duration, load func()) (SignRate, SignRate, error) {
	before, err := MeasureSignRate(ctx, f, procs, d/2)
	if err != nil {
		return before, before, err
	}
	load()
	if err := ctx.Err(); err != nil {
		return before, before, err
	}
	after, err := MeasureSignRate(ctx, f, procs, d-d/2)
	return before, after, err
}

// LoginResult is one run of RunLogin, as the loadlogin command prints it.
type LoginResult struct {
	// Alg and Primitive are the tenant's signing algorithm and the
	// signature behind it; Database the database dialect.
	Alg       string `json:"alg"`
	Primitive string `json:"primitive"`
	Database  string `json:"database"`
	// GoVersion, CPUModel, NumCPU and GOMAXPROCS describe the machine.
	GoVersion  string `json:"go_version"`
	CPUModel   string `json:"cpu_model"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// Concurrency is the number of workers; Users the number of users the
	// logins cycle through.
	Concurrency int `json:"concurrency"`
	Users       int `json:"users"`
	// LoadAvgStart, LoadAvgMid (between the login and the refresh phase)
	// and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute averages.
	LoadAvgStart string `json:"loadavg_start,omitempty"`
	LoadAvgMid   string `json:"loadavg_mid,omitempty"`
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`
	// SetupSec is the time to start the server and create the users (one
	// argon2id hash each); WarmupSec the warm-up before each load.
	SetupSec  float64 `json:"setup_s"`
	WarmupSec float64 `json:"warmup_s"`
	// HashParams describes the password hash (e.g. "argon2id m=19456,t=2,p=1").
	HashParams string `json:"hash_params"`
	// AccessTokenBytes and IDTokenBytes are the lengths of the tokens a
	// refresh grant returns.
	AccessTokenBytes int `json:"access_token_bytes"`
	IDTokenBytes     int `json:"id_token_bytes"`

	// Login is the full-login load: authorize → identifier → password →
	// callback → code exchange, one fresh cookie jar per login.
	Login LoadStats `json:"login"`
	// LoginStepMs is the mean wall time of each step of a successful login
	// (LoginStepNames).
	LoginStepMs map[string]float64 `json:"login_step_mean_ms"`
	// Hash is the argon2id Verify rate (default password.Hasher).
	Hash RateStats `json:"hash"`
	// LoginRatio is Login.PerSec ÷ Hash.PerSec: a login costs one Verify,
	// so 1.0 would mean it costs nothing else.
	LoginRatio float64 `json:"login_ratio"`
	// LoginRatioCPU is Hash.CPUMsPerOp ÷ Login.CPUMsPerOp, the same ratio
	// in CPU time.
	LoginRatioCPU float64 `json:"login_ratio_cpu"`
	// LoginRatioCPUWithSigns is (Hash.CPUMsPerOp + 2 × Sign.CPUMsPerOp) ÷
	// Login.CPUMsPerOp: the code exchange also signs an access token and an
	// ID token, so this is the share of a login's CPU that is the
	// unavoidable cryptography.
	LoginRatioCPUWithSigns float64 `json:"login_ratio_cpu_with_signs"`
	// LoginsBeforeRefresh is how many logins were made before the refresh
	// load (checks, warm-up, load): each left a refresh-token family.
	LoginsBeforeRefresh int64 `json:"logins_before_refresh"`

	// Refresh is the refresh-token load: each worker exchanges its refresh
	// token and keeps the rotated one for the next grant.
	Refresh LoadStats `json:"refresh"`
	// Sign is the raw sign rate of the tenant's algorithm, on the signing
	// inputs of the access and ID tokens of a refresh response, in turn.
	Sign RateStats `json:"sign"`
	// RefreshRatio is Refresh.PerSec ÷ Sign.PerSec.
	RefreshRatio float64 `json:"refresh_ratio"`
	// RefreshRatioPair is Refresh.PerSec ÷ (Sign.PerSec / 2): a grant signs
	// two JWTs, so this is the ratio to the physical limit.
	RefreshRatioPair float64 `json:"refresh_ratio_pair"`
	// RefreshRatioCPU and RefreshRatioPairCPU are the same in CPU time:
	// Sign.CPUMsPerOp (× 2) ÷ Refresh.CPUMsPerOp.
	RefreshRatioCPU     float64 `json:"refresh_ratio_cpu"`
	RefreshRatioPairCPU float64 `json:"refresh_ratio_pair_cpu"`
}

// RunLogin starts a LoginServer per cfg, checks one login and one refresh,
// then measures: the login load (after a warm-up) between two halves of the
// argon2id Verify rate, and the refresh load (after a warm-up) between two
// halves of the raw sign rate. A run with errors still returns its result;
// err is for runs that could not be made.
func RunLogin(ctx context.Context, cfg LoginConfig) (*LoginResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	procs := runtime.GOMAXPROCS(0)
	r := &LoginResult{Alg: cfg.Alg, Primitive: AlgDescription(cfg.Alg), GoVersion: runtime.Version(), CPUModel: CPUModel(),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: procs, Concurrency: cfg.Concurrency, Users: cfg.Users,
		LoadAvgStart: LoadAvg(), WarmupSec: cfg.Warmup.Seconds()}
	t0 := time.Now()
	s, err := StartLoginServer(ctx, LoginServerOptions{Alg: cfg.Alg, Database: cfg.Database, Logger: cfg.Logger, Users: cfg.Users})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.Database = s.Dialect
	c := NewClient(cfg.Concurrency)
	defer c.CloseIdleConnections()
	tr := c.Transport

	// One login and one refresh, checked.
	var logins atomic.Int64
	first, err := s.Login(ctx, tr, s.NextUser(), nil)
	if err != nil {
		return nil, fmt.Errorf("bench: first login: %w", err)
	}
	logins.Add(1)
	var buf bytes.Buffer
	next, err := s.Refresh(ctx, c, first.RefreshToken, &buf)
	if err != nil {
		return nil, fmt.Errorf("bench: first refresh: %w", err)
	}
	if next.RefreshToken == first.RefreshToken {
		return nil, fmt.Errorf("bench: the refresh token did not rotate")
	}
	for _, tok := range []string{first.AccessToken, first.IDToken, next.AccessToken, next.IDToken} {
		if alg, err := TokenAlg(tok); err != nil || alg != cfg.Alg {
			return nil, fmt.Errorf("bench: token signed with %q (%v), want %s", alg, err, cfg.Alg)
		}
	}
	r.AccessTokenBytes, r.IDTokenBytes = len(next.AccessToken), len(next.IDToken)
	sign, err := newPairSigner(cfg.Alg, SigningInput(next.AccessToken), SigningInput(next.IDToken))
	if err != nil {
		return nil, err
	}
	verify, params, err := NewHashVerifier("bench-" + randomString(12))
	if err != nil {
		return nil, err
	}
	r.HashParams = params
	r.SetupSec = time.Since(t0).Seconds()

	// Logins.
	rts := make([]string, cfg.Concurrency)
	steps := make([]LoginSteps, cfg.Concurrency)
	counts := make([]int64, cfg.Concurrency)
	login := func(ctx context.Context, w int) error {
		var st LoginSteps
		ts, err := s.Login(ctx, tr, s.NextUser(), &st)
		if err != nil {
			return err
		}
		logins.Add(1)
		rts[w] = ts.RefreshToken
		for i := range st {
			steps[w][i] += st[i]
		}
		counts[w]++
		return nil
	}
	if cfg.Warmup > 0 {
		if w := DriveFunc(ctx, cfg.Concurrency, cfg.Warmup, login); w.Errors > 0 {
			return nil, fmt.Errorf("bench: login warm-up: %d of %d logins failed, first: %s", w.Errors, w.Requests, w.FirstError)
		}
	}
	clear(steps)
	clear(counts)
	var l Load
	hb, ha, err := measureHalves(ctx, verify, procs, cfg.HashDuration, func() {
		l = DriveFunc(ctx, cfg.Concurrency, cfg.Duration, login)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: hash rate: %w", err)
	}
	r.LoadAvgMid = LoadAvg()
	r.Login, r.Hash = loadStats(l, procs), rateStats(hb, ha, procs)
	var sum LoginSteps
	var n int64
	for w := range steps {
		for i := range sum {
			sum[i] += steps[w][i]
		}
		n += counts[w]
	}
	r.LoginStepMs = map[string]float64{}
	for i, name := range LoginStepNames {
		if n > 0 {
			r.LoginStepMs[name] = ms(sum[i]) / float64(n)
		}
	}

	// Refresh grants: each worker rotates its own refresh token.
	for w := range rts {
		if rts[w] == "" {
			ts, err := s.Login(ctx, tr, s.NextUser(), nil)
			if err != nil {
				return nil, fmt.Errorf("bench: login: %w", err)
			}
			logins.Add(1)
			rts[w] = ts.RefreshToken
		}
	}
	r.LoginsBeforeRefresh = logins.Load()
	bufs := make([]bytes.Buffer, cfg.Concurrency)
	refresh := func(ctx context.Context, w int) error {
		ts, err := s.Refresh(ctx, c, rts[w], &bufs[w])
		if err != nil {
			return err
		}
		rts[w] = ts.RefreshToken
		return nil
	}
	if cfg.Warmup > 0 {
		if w := DriveFunc(ctx, cfg.Concurrency, cfg.Warmup, refresh); w.Errors > 0 {
			return nil, fmt.Errorf("bench: refresh warm-up: %d of %d grants failed, first: %s", w.Errors, w.Requests, w.FirstError)
		}
	}
	sb, sa, err := measureHalves(ctx, sign, procs, cfg.SignDuration, func() {
		l = DriveFunc(ctx, cfg.Concurrency, cfg.RefreshDuration, refresh)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: sign rate: %w", err)
	}
	r.LoadAvgEnd = LoadAvg()
	r.Refresh, r.Sign = loadStats(l, procs), rateStats(sb, sa, procs)

	if r.Hash.PerSec > 0 {
		r.LoginRatio = r.Login.PerSec / r.Hash.PerSec
	}
	if r.Login.CPUMsPerOp > 0 {
		r.LoginRatioCPU = r.Hash.CPUMsPerOp / r.Login.CPUMsPerOp
		if r.Sign.CPUMsPerOp > 0 {
			r.LoginRatioCPUWithSigns = (r.Hash.CPUMsPerOp + 2*r.Sign.CPUMsPerOp) / r.Login.CPUMsPerOp
		}
	}
	if r.Sign.PerSec > 0 {
		r.RefreshRatio = r.Refresh.PerSec / r.Sign.PerSec
		r.RefreshRatioPair = 2 * r.RefreshRatio
	}
	if r.Refresh.CPUMsPerOp > 0 {
		r.RefreshRatioCPU = r.Sign.CPUMsPerOp / r.Refresh.CPUMsPerOp
		r.RefreshRatioPairCPU = 2 * r.RefreshRatioCPU
	}
	return r, nil
}

// newPairSigner signs a and b in turn, each with its own new key of alg
// (NewRawSigner): the two JWTs a refresh grant signs.
func newPairSigner(alg string, a, b []byte) (func() error, error) {
	sa, err := NewRawSigner(alg, a)
	if err != nil {
		return nil, err
	}
	sb, err := NewRawSigner(alg, b)
	if err != nil {
		return nil, err
	}
	var n atomic.Uint64
	return func() error {
		if n.Add(1)&1 == 0 {
			return sa()
		}
		return sb()
	}, nil
}

// LoginCaveat is printed with every login table.
const LoginCaveat = `The driver runs in the same process as the server and shares its GOMAXPROCS
Ps: its HTTP client work (6 requests per login, 1 per refresh grant, and
parsing the login pages) is CPU the server did not get, so the rates and
ratios are lower bounds. The hash and sign rates have the whole GOMAXPROCS
to themselves. On a shared machine (see the load averages and machine idle)
the CPU ratios are the steadier numbers.`

// WriteTable writes r as a human-readable table with the LoginCaveat.
func (r *LoginResult) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	load := func(name, unit string, s LoadStats) {
		p(name, "%d, errors %d", s.Ops, s.Errors)
		if s.FirstError != "" {
			p("first error", "%s", s.FirstError)
		}
		p(unit+"/s", "%.1f (%.1f per core) over %.1fs", s.PerSec, s.PerSecCore, s.DurationSec)
		p("latency", "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs)
		if s.CPUUtil > 0 {
			p("cpu", "%.0f%% of GOMAXPROCS busy, %.3f ms CPU per %s (server + driver)%s", 100*s.CPUUtil, s.CPUMsPerOp, unit, idle(s.MachineIdle))
		}
	}
	rate := func(name, unit string, s RateStats) {
		p(name+"/s", "%.1f (%.1f per core; %.1f before, %.1f after the load; %.1fs on %d goroutines)",
			s.PerSec, s.PerSecCore, s.PerSecBefore, s.PerSecAfter, s.DurationSec, r.GOMAXPROCS)
		if s.CPUUtil > 0 {
			p("cpu", "%.0f%% of GOMAXPROCS busy, %.3f ms CPU per %s%s", 100*s.CPUUtil, s.CPUMsPerOp, unit, idle(s.MachineIdle))
		}
	}
	p("login + refresh", "%s (%s), database %s", r.Alg, r.Primitive, r.Database)
	p("machine", "%s, %d CPUs, GOMAXPROCS %d, %s", r.CPUModel, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	if r.LoadAvgStart != "" {
		p("load average", "%s at start, %s between logins and refresh, %s at end", r.LoadAvgStart, r.LoadAvgMid, r.LoadAvgEnd)
	}
	p("setup", "%.1fs (%d users, %s), %d workers, %.1fs warm-up before each load", r.SetupSec, r.Users, r.HashParams, r.Concurrency, r.WarmupSec)
	load("logins", "login", r.Login)
	steps := make([]string, 0, len(LoginStepNames))
	for _, name := range LoginStepNames {
		steps = append(steps, fmt.Sprintf("%s %.2f", name, r.LoginStepMs[name]))
	}
	p("login steps", "mean ms: %s", strings.Join(steps, ", "))
	rate("hash", "verify", r.Hash)
	p("login ratio", "%.3f logins/s ÷ verify/s; cpu %.3f (CPU per verify ÷ CPU per login); with the code exchange's 2 signatures %.3f",
		r.LoginRatio, r.LoginRatioCPU, r.LoginRatioCPUWithSigns)
	p("refresh tokens", "%d logins before the refresh load; access token %d bytes, ID token %d bytes", r.LoginsBeforeRefresh, r.AccessTokenBytes, r.IDTokenBytes)
	load("grants", "grant", r.Refresh)
	rate("sign", "signature", r.Sign)
	p("refresh ratio", "%.3f grants/s ÷ sign/s; %.3f ÷ (sign/s ÷ 2), the limit: a grant signs 2 JWTs", r.RefreshRatio, r.RefreshRatioPair)
	p("refresh ratio (cpu)", "%.3f CPU per signature ÷ CPU per grant; %.3f for 2 signatures", r.RefreshRatioCPU, r.RefreshRatioPairCPU)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nnote: %s\n", strings.ReplaceAll(LoginCaveat, "\n", "\n      "))
	return err
}

// Check returns an error wrapping ErrRunFailed if a login or a refresh grant
// failed, or if either load made none.
func (r *LoginResult) Check() error {
	for _, x := range []struct {
		name string
		s    LoadStats
	}{{"logins", r.Login}, {"refresh grants", r.Refresh}} {
		if x.s.Errors > 0 {
			return fmt.Errorf("%w: %d of %d %s failed, first: %s", ErrRunFailed, x.s.Errors, x.s.Ops, x.name, x.s.FirstError)
		}
		if x.s.Ops == 0 {
			return fmt.Errorf("%w: no %s completed", ErrRunFailed, x.name)
		}
	}
	return nil
}
