// Package health serves the health endpoints that load balancers, DNS
// failover and orchestrators probe, as AuthHero's multi-cloud guide describes
// ("Configure health checks", Active-Passive failover:
// https://github.com/markusahlstrand/authhero/blob/main/apps/docs/deployment/multi-cloud.md):
//
//	GET /health        {"status":"ok"} 200, or {"status":"error"} 503 when a check fails
//	GET /health/live   {"status":"ok"} 200 while the process serves HTTP (liveness)
//	GET /health/ready  every check with its own status and latency; 503 when one fails
//
// /health and /health/ready answer from the same run of the checks. A run is
// shared by concurrent probes and reused for CacheTTL, so a storm of probes
// from several load balancers costs one round of checks per second. Liveness
// never runs a check: an orchestrator must not restart a process only because
// its database is down.
//
// A readiness body looks like:
//
//	{"status":"error","checks":{
//	  "database":{"status":"ok","latency_ms":1.2},
//	  "session_store":{"status":"error","latency_ms":1000,"error":"timed out after 1s"}}}
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults.
const (
	// DefaultTimeout bounds a Check whose Timeout is zero.
	DefaultTimeout = time.Second
	// DefaultCacheTTL is how long a run of the checks answers probes.
	DefaultCacheTTL = time.Second
)

// Status values of a Report and of each Result.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// Check is one dependency probe, e.g. a database ping.
type Check struct {
	// Name is the key of the check in the readiness body ("database").
	Name string
	// Timeout bounds Run; zero means DefaultTimeout. A check that has not
	// returned by then fails with "timed out after ...".
	Timeout time.Duration
	// Run returns nil when the dependency answers. Its error text is shown in
	// the /health/ready body, which anyone who can reach the port may read:
	// return a message without DSNs, hosts or secrets.
	Run func(ctx context.Context) error
}

// Result is the outcome of one Check.
type Result struct {
	// Status is StatusOK or StatusError.
	Status string `json:"status"`
	// LatencyMS is how long the check took, in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// Error says why the check failed; empty when it passed.
	Error string `json:"error,omitempty"`
}

// Report is the outcome of one run of every check: the /health/ready body.
type Report struct {
	// Status is StatusOK when every check passed, StatusError otherwise.
	Status string `json:"status"`
	// Checks maps each check's Name to its Result.
	Checks map[string]Result `json:"checks"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Status == StatusOK }

// Checker runs checks and serves the health endpoints. Its zero value is not
// usable; build one with New.
type Checker struct {
	checks []Check
	// CacheTTL is how long a run answers probes; zero means DefaultCacheTTL,
	// negative disables the cache (every probe runs the checks). Set it
	// before serving.
	CacheTTL time.Duration

	mu      sync.Mutex
	last    *Report
	lastAt  time.Time
	running chan struct{} // closed when the run in flight ends; nil when none
}

// New returns a Checker of checks. Checks run concurrently, each under its
// own timeout.
func New(checks ...Check) *Checker {
	return &Checker{checks: checks}
}

// Handler returns an http.Handler serving /health, /health/live and
// /health/ready for checks; see Checker.ServeHTTP.
func Handler(checks ...Check) http.Handler { return New(checks...) }

// Run returns the result of the checks: a run at most CacheTTL old, or a
// fresh one (shared with concurrent callers). It returns when the run ends or
// ctx is done, whichever is first; in the latter case the report says so.
func (c *Checker) Run(ctx context.Context) *Report {
	ttl := c.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	c.mu.Lock()
	if c.last != nil && ttl > 0 && time.Since(c.lastAt) < ttl {
		r := c.last
		c.mu.Unlock()
		return r
	}
	wait := c.running
	if wait == nil {
		wait = make(chan struct{})
		c.running = wait
		// The run is shared, so it must outlive the probe that started it.
		go c.runAll(context.WithoutCancel(ctx), wait)
	}
	c.mu.Unlock()
	select {
	case <-wait:
		c.mu.Lock()
		r := c.last
		c.mu.Unlock()
		return r
	case <-ctx.Done():
		return &Report{Status: StatusError, Checks: map[string]Result{}}
	}
}

// runAll runs every check concurrently, stores the report and closes done.
func (c *Checker) runAll(ctx context.Context, done chan struct{}) {
	results := make([]Result, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runOne(ctx, ch)
		}()
	}
	wg.Wait()
	r := &Report{Status: StatusOK, Checks: make(map[string]Result, len(c.checks))}
	for i, ch := range c.checks {
		r.Checks[ch.Name] = results[i]
		if results[i].Status != StatusOK {
			r.Status = StatusError
		}
	}
	c.mu.Lock()
	c.last, c.lastAt, c.running = r, time.Now(), nil
	c.mu.Unlock()
	close(done)
}

// runOne runs a check under its timeout. A check that ignores its context is
// abandoned at the timeout (its goroutine ends when Run returns).
func runOne(ctx context.Context, ch Check) Result {
	timeout := ch.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		if ch.Run == nil {
			errc <- nil
			return
		}
		errc <- ch.Run(ctx)
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	res := Result{Status: StatusOK, LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		res.Status = StatusError
		res.Error = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			res.Error = "timed out after " + timeout.String()
		}
	}
	return res
}

// ServeHTTP serves the endpoint named by the end of the path: ".../live" is
// liveness, ".../ready" readiness, anything else the /health summary. Mount
// it on "GET /health", "GET /health/live" and "GET /health/ready" (or under
// any prefix). Responses are JSON and never cached.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := strings.TrimSuffix(r.URL.Path, "/"); {
	case strings.HasSuffix(path, "/live"):
		write(w, http.StatusOK, map[string]string{"status": StatusOK})
	case strings.HasSuffix(path, "/ready"):
		rep := c.Run(r.Context())
		write(w, statusCode(rep), rep)
	default:
		rep := c.Run(r.Context())
		write(w, statusCode(rep), map[string]string{"status": rep.Status})
	}
}

func statusCode(r *Report) int {
	if r.OK() {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

func write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
