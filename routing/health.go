package routing

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// originState is one origin server, shared by every pool that lists it.
type originState struct {
	url      string   // normalized base URL, the origin's identity
	name     string   // for logs
	base     *url.URL // scheme, host and base path
	probeURL string
	pools    []string

	healthy atomic.Bool
	passive atomic.Int64 // consecutive failures of proxied traffic

	requests, failures, probesOK, probesFailed, downs, ups, ejections atomic.Uint64

	mu         sync.Mutex
	probed     bool
	okStreak   int
	failStreak int
	since      time.Time
	lastErr    string
}

// OriginStats are the counters of one origin.
type OriginStats struct {
	// URL is the origin's base URL.
	URL string
	// Pools are the ids of the pools that list the origin.
	Pools []string
	// Healthy is the origin's current state.
	Healthy bool
	// Since is when the state last changed (or the router started).
	Since time.Time
	// LastError is the reason of the last failure seen, probe or traffic.
	LastError string
	// Requests are proxied requests sent to the origin.
	Requests uint64
	// Failures are proxied requests that ended in a connection error or a 5xx.
	Failures uint64
	// ProbesOK and ProbesFailed count active health probes.
	ProbesOK, ProbesFailed uint64
	// Downs and Ups count changes of state; Ejections are the Downs caused
	// by proxied traffic rather than by probes.
	Downs, Ups, Ejections uint64
}

// Stats are counters of a Router or Proxy since it started.
type Stats struct {
	// Requests is every request the proxy handled; Retries those sent to a
	// second origin after a connection failure; Unavailable those answered
	// 503 because no origin was healthy; BadGateway those answered 502
	// because the origin could not be reached. Zero for a bare Router.
	Requests, Retries, Unavailable, BadGateway uint64
	// StateChanges counts every origin going down or coming back.
	StateChanges uint64
	// Origins has one entry per distinct origin, in configuration order.
	Origins []OriginStats
}

func (o *originState) stats() OriginStats {
	o.mu.Lock()
	since, lastErr := o.since, o.lastErr
	o.mu.Unlock()
	return OriginStats{
		URL: o.url, Pools: append([]string(nil), o.pools...), Healthy: o.healthy.Load(), Since: since, LastError: lastErr,
		Requests: o.requests.Load(), Failures: o.failures.Load(), ProbesOK: o.probesOK.Load(), ProbesFailed: o.probesFailed.Load(),
		Downs: o.downs.Load(), Ups: o.ups.Load(), Ejections: o.ejections.Load(),
	}
}

// health runs the probes of a Router and applies their results.
type health struct {
	r        *Router
	client   *http.Client
	path     string
	interval time.Duration
	timeout  time.Duration
	upAfter  int
	downAft  int
	passive  int64
	expect   []statusRange

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (h *health) start(origins []*originState) {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	for _, o := range origins {
		h.wg.Add(1)
		go h.loop(ctx, o)
	}
}

func (h *health) stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *health) loop(ctx context.Context, o *originState) {
	defer h.wg.Done()
	h.probe(ctx, o)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.probe(ctx, o)
		}
	}
}

// probe sends one GET to the origin's health path, bounded by the timeout.
func (h *health) probe(ctx context.Context, o *originState) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.probeURL, nil)
	if err != nil {
		h.r.probeResult(o, false, err.Error())
		return
	}
	req.Close = true // a fresh connection each time, as a DNS health checker would make
	req.Header.Set("User-Agent", "authhero-routing-health-check")
	resp, err := h.client.Do(req)
	if ctx.Err() != nil && h.r.closed.Load() {
		return // stopping: not the origin's fault
	}
	if err != nil {
		h.r.probeResult(o, false, err.Error())
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	ok := h.expected(resp.StatusCode)
	reason := ""
	if !ok {
		reason = "health check answered " + strconv.Itoa(resp.StatusCode)
	}
	h.r.probeResult(o, ok, reason)
}

func (h *health) expected(code int) bool {
	for _, r := range h.expect {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// probeResult applies the hysteresis: the first probe is taken as is, then
// UnhealthyThreshold failures in a row take a healthy origin down and
// HealthyThreshold successes in a row bring a down origin back.
func (r *Router) probeResult(o *originState, ok bool, reason string) {
	if ok {
		o.probesOK.Add(1)
	} else {
		o.probesFailed.Add(1)
	}
	h := r.health
	o.mu.Lock()
	if !ok {
		o.lastErr = reason
	}
	first := !o.probed
	o.probed = true
	var change, up bool
	var streak int
	if ok {
		o.failStreak = 0
		if !o.healthy.Load() {
			o.okStreak++
			streak = o.okStreak
			change, up = first || o.okStreak >= h.upAfter, true
		}
	} else {
		o.okStreak = 0
		if o.healthy.Load() {
			o.failStreak++
			streak = o.failStreak
			change, up = first || o.failStreak >= h.downAft, false
		}
	}
	if change {
		r.setStateLocked(o, up)
	}
	o.mu.Unlock()
	if change {
		r.logChange(o, up, "probe", reason, streak)
	}
}

// trafficResult records the outcome of a proxied request: a connection
// error or 5xx counts toward passive ejection, anything else resets it.
func (r *Router) trafficResult(o *originState, ok bool, reason string) {
	if ok {
		if o.passive.Load() != 0 {
			o.passive.Store(0)
		}
		return
	}
	o.failures.Add(1)
	n := o.passive.Add(1)
	h := r.health
	if h.passive <= 0 || n < h.passive {
		o.mu.Lock()
		o.lastErr = reason
		o.mu.Unlock()
		return
	}
	o.mu.Lock()
	o.lastErr = reason
	change := o.healthy.Load()
	if change {
		r.setStateLocked(o, false)
		o.ejections.Add(1)
	}
	o.mu.Unlock()
	if change {
		r.logChange(o, false, "traffic", reason, int(n))
	}
}

// setStateLocked changes o's state; o.mu is held.
func (r *Router) setStateLocked(o *originState, up bool) {
	o.healthy.Store(up)
	o.probed = true // the optimistic start is over: thresholds apply from now on
	o.okStreak, o.failStreak = 0, 0
	o.passive.Store(0)
	o.since = time.Now()
	if up {
		o.ups.Add(1)
	} else {
		o.downs.Add(1)
	}
	r.changes.Add(1)
}

func (r *Router) logChange(o *originState, up bool, by, reason string, streak int) {
	if up {
		r.logger.Info("routing: origin is healthy again", "origin", o.name, "pools", o.pools, "by", by, "successes", streak)
		return
	}
	r.logger.Warn("routing: origin is down", "origin", o.name, "pools", o.pools, "by", by, "reason", reason, "failures", streak)
}
