package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoHealthyOrigin is returned by Router.Pick when no pool the request may
// go to has a healthy origin.
var ErrNoHealthyOrigin = errors.New("routing: no healthy origin")

// Origin is a routing decision: the origin a request should go to.
type Origin struct {
	// Pool is the id of the pool the origin was chosen from.
	Pool string
	// Name is the origin's name, or its URL when it has none.
	Name string
	// URL is the origin's base URL (a copy; changing it changes nothing).
	URL *url.URL
}

// Option customizes a Router or Proxy.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	geo       GeoResolver
	transport http.RoundTripper
}

// WithLogger sends state changes and proxy errors to l. Default:
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithGeoResolver locates clients with g instead of the headers of
// Config.Geo. Wrap a HeaderResolver to combine both.
func WithGeoResolver(g GeoResolver) Option { return func(o *options) { o.geo = g } }

// WithTransport sends probes and proxied requests through rt (for example
// one trusting a private CA). Default: an http.Transport with the dial and
// response-header timeouts of Config.Proxy and no HTTP proxy.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// Router makes routing decisions: it keeps the pools, the health of every
// origin (probing them on a ticker) and the steering state. It is safe for
// concurrent use. Use it alone to answer DNS or to route in your own server;
// Proxy wraps one.
type Router struct {
	cfg       *Config
	logger    *slog.Logger
	geo       GeoResolver
	policy    Policy
	transport http.RoundTripper
	ownTrans  *http.Transport

	origins    []*originState
	pools      []*poolState
	byID       map[string]*poolState
	order      []*poolState // failover order
	defaults   []*poolState // geo default pools
	fallback   *poolState
	countries  map[string][]*poolState
	regions    map[string][]*poolState
	continents map[string][]*poolState

	mu      sync.Mutex // guards weights and current
	weights []float64  // by pool index
	current []float64

	health    *health
	changes   atomic.Uint64
	closed    atomic.Bool
	closeOnce sync.Once
}

// poolState is a pool with its smooth weighted round robin over origins.
type poolState struct {
	id      string
	idx     int
	enabled atomic.Bool
	origins []*originState
	weights []float64

	mu      sync.Mutex
	current []float64
}

// NewRouter validates cfg, builds a Router and starts probing every origin.
// Close stops the probes.
func NewRouter(cfg *Config, opts ...Option) (*Router, error) {
	return newRouter(cfg, buildOptions(opts))
}

func buildOptions(opts []Option) *options {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

func newRouter(c *Config, o *options) (*Router, error) {
	if c == nil {
		return nil, errors.New("routing: nil Config")
	}
	cfg := c.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, logger: o.logger, geo: o.geo, policy: cfg.Steering.Policy, transport: o.transport,
		byID: make(map[string]*poolState, len(cfg.Pools))}
	if r.geo == nil {
		r.geo = NewHeaderResolver(cfg.Geo)
	}
	if r.transport == nil {
		r.ownTrans = newTransport(cfg.Proxy)
		r.transport = r.ownTrans
	}
	now := time.Now()
	byURL := map[string]*originState{}
	for i, p := range cfg.Pools {
		ps := &poolState{id: p.ID, idx: i}
		ps.enabled.Store(!p.Disabled)
		for _, oc := range p.Origins {
			if oc.Disabled {
				continue
			}
			u, _ := parseOrigin(oc.Address) // checked
			key := u.String()
			org := byURL[key]
			if org == nil {
				org = &originState{url: key, name: oc.Name, base: u, probeURL: key + cfg.HealthCheck.Path, since: now}
				if org.name == "" {
					org.name = key
				}
				org.healthy.Store(true)
				byURL[key] = org
				r.origins = append(r.origins, org)
			}
			if !slices.Contains(org.pools, p.ID) {
				org.pools = append(org.pools, p.ID)
			}
			w := oc.Weight
			if w == 0 {
				w = 1
			}
			ps.origins = append(ps.origins, org)
			ps.weights = append(ps.weights, w)
		}
		ps.current = make([]float64, len(ps.origins))
		r.pools = append(r.pools, ps)
		r.byID[p.ID] = ps
	}
	s := cfg.Steering
	r.order, r.defaults = r.lookup(s.Order), r.lookup(s.Default)
	r.fallback = r.byID[s.Fallback]
	r.countries, r.regions, r.continents = r.lookupMap(s.Countries), r.lookupMap(s.Regions), r.lookupMap(s.Continents)
	r.weights = make([]float64, len(r.pools))
	r.current = make([]float64, len(r.pools))
	for i, p := range r.pools {
		r.weights[i] = s.Weights[p.id]
	}

	h := cfg.HealthCheck
	expect, _ := h.ExpectedStatus.parse() // checked
	r.health = &health{
		r: r,
		client: &http.Client{Transport: r.transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, judged by its status
		}},
		path: h.Path, interval: time.Duration(h.Interval), timeout: time.Duration(h.Timeout),
		upAfter: h.HealthyThreshold, downAft: h.UnhealthyThreshold, passive: int64(h.PassiveThreshold), expect: expect,
	}
	r.health.start(r.origins)
	return r, nil
}

func newTransport(p ProxyConfig) *http.Transport {
	dial := time.Duration(p.DialTimeout)
	if dial <= 0 {
		dial = DefaultDialTimeout
	}
	rht := time.Duration(p.ResponseHeaderTimeout)
	if rht <= 0 {
		rht = DefaultResponseTimeout
	}
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   dial + 3*time.Second,
		ResponseHeaderTimeout: rht,
		ExpectContinueTimeout: time.Second,
	}
}

func (r *Router) lookup(ids []string) []*poolState {
	out := make([]*poolState, 0, len(ids))
	for _, id := range ids {
		if p := r.byID[id]; p != nil && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (r *Router) lookupMap(m map[string][]string) map[string][]*poolState {
	out := make(map[string][]*poolState, len(m))
	for k, ids := range m {
		out[k] = r.lookup(ids)
	}
	return out
}

// Pick returns the origin r should go to under the steering policy, or
// ErrNoHealthyOrigin. r may be nil (no client location). Under the weighted
// policy every call advances the round robin, so call it once per request.
func (r *Router) Pick(req *http.Request) (Origin, error) {
	p, o, err := r.pick(req, nil)
	if err != nil {
		return Origin{}, err
	}
	u := *o.base
	return Origin{Pool: p.id, Name: o.name, URL: &u}, nil
}

// pick chooses a pool and a healthy origin in it other than exclude.
func (r *Router) pick(req *http.Request, exclude *originState) (*poolState, *originState, error) {
	switch r.policy {
	case PolicyWeighted:
		if p, o := r.pickWeighted(exclude); o != nil {
			return p, o, nil
		}
	case PolicyGeo:
		if req != nil {
			if p, o := firstHealthy(r.geoList(req), exclude); o != nil {
				return p, o, nil
			}
		}
		if p, o := firstHealthy(r.defaults, exclude); o != nil {
			return p, o, nil
		}
	default:
		if p, o := firstHealthy(r.order, exclude); o != nil {
			return p, o, nil
		}
	}
	if p := r.fallback; p != nil && p.enabled.Load() {
		if o := p.pick(exclude); o != nil {
			return p, o, nil
		}
	}
	return nil, nil, ErrNoHealthyOrigin
}

func firstHealthy(pools []*poolState, exclude *originState) (*poolState, *originState) {
	for _, p := range pools {
		if !p.enabled.Load() {
			continue
		}
		if o := p.pick(exclude); o != nil {
			return p, o
		}
	}
	return nil, nil
}

// pickWeighted is nginx's smooth weighted round robin over the enabled pools
// with a positive weight and a healthy origin: every candidate's current
// weight grows by its weight, the largest wins and loses the total. Over any
// run of picks each pool's share is exact to within one pick.
func (r *Router) pickWeighted(exclude *originState) (*poolState, *originState) {
	for range 3 { // an origin may go down between the two steps
		r.mu.Lock()
		best := -1
		var total float64
		for i, p := range r.pools {
			w := r.weights[i]
			if w <= 0 || !p.enabled.Load() || !p.hasHealthy(exclude) {
				continue
			}
			r.current[i] += w
			total += w
			if best < 0 || r.current[i] > r.current[best] {
				best = i
			}
		}
		if best >= 0 {
			r.current[best] -= total
		}
		r.mu.Unlock()
		if best < 0 {
			return nil, nil
		}
		if o := r.pools[best].pick(exclude); o != nil {
			return r.pools[best], o
		}
	}
	return nil, nil
}

func (p *poolState) hasHealthy(exclude *originState) bool {
	for _, o := range p.origins {
		if o != exclude && o.healthy.Load() {
			return true
		}
	}
	return false
}

// pick is the smooth weighted round robin over the pool's healthy origins.
func (p *poolState) pick(exclude *originState) *originState {
	if len(p.origins) == 1 {
		if o := p.origins[0]; o != exclude && o.healthy.Load() {
			return o
		}
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	var total float64
	for i, o := range p.origins {
		if o == exclude || !o.healthy.Load() {
			continue
		}
		p.current[i] += p.weights[i]
		total += p.weights[i]
		if best < 0 || p.current[i] > p.current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	p.current[best] -= total
	return p.origins[best]
}

// geoList returns the pool list the client's location maps to, most
// specific rule first, or nil.
func (r *Router) geoList(req *http.Request) []*poolState {
	country, continent, region := r.geo.Locate(req)
	country, continent, region = strings.ToUpper(country), strings.ToUpper(continent), strings.ToUpper(region)
	if continent == "" {
		continent = ContinentOf(country)
	}
	if region != "" && country != "" {
		key := region
		if !strings.HasPrefix(region, country+"-") {
			key = country + "-" + region
		}
		if l, ok := r.regions[key]; ok {
			return l
		}
	}
	if l, ok := r.countries[country]; ok && country != "" {
		return l
	}
	if l, ok := r.regions[region]; ok && region != "" {
		return l
	}
	if l, ok := r.continents[continent]; ok && continent != "" {
		return l
	}
	return nil
}

// SetWeights changes pool weights live, for gradual migrations: each named
// pool gets its new weight, the others keep theirs, and the round robin
// starts afresh so the new shares hold from the next pick. It fails, changing
// nothing, for an unknown pool, a negative or non-finite weight, or weights
// that would all be zero over the enabled pools. Weights steer only the
// weighted policy.
func (r *Router) SetWeights(weights map[string]float64) error {
	for _, id := range sortedKeys(weights) {
		w := weights[id]
		if r.byID[id] == nil {
			return fmt.Errorf("routing: SetWeights: unknown pool %q", id)
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("routing: SetWeights: weight of %q is %v; weights must be 0 or more", id, w)
		}
	}
	r.mu.Lock()
	next := slices.Clone(r.weights)
	var total float64
	for i, p := range r.pools {
		if w, ok := weights[p.id]; ok {
			next[i] = w
		}
		if p.enabled.Load() {
			total += next[i]
		}
	}
	if total == 0 {
		r.mu.Unlock()
		return errors.New("routing: SetWeights: weights would all be zero over the enabled pools")
	}
	r.weights = next
	clear(r.current)
	r.mu.Unlock()
	r.logger.Info("routing: weights changed", "weights", weights)
	return nil
}

// Weights returns the current pool weights.
func (r *Router) Weights() map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]float64, len(r.pools))
	for i, p := range r.pools {
		out[p.id] = r.weights[i]
	}
	return out
}

// SetPoolEnabled takes a pool out of rotation or puts it back, like
// disabling a pool in a cloud load balancer (for failover drills). Its
// origins keep being probed.
func (r *Router) SetPoolEnabled(id string, enabled bool) error {
	p := r.byID[id]
	if p == nil {
		return fmt.Errorf("routing: unknown pool %q", id)
	}
	if p.enabled.Swap(enabled) != enabled {
		r.logger.Info("routing: pool enabled changed", "pool", id, "enabled", enabled)
	}
	return nil
}

// Stats returns the router's counters: state changes and, per origin, its
// state, probe results and proxied traffic.
func (r *Router) Stats() Stats {
	s := Stats{StateChanges: r.changes.Load(), Origins: make([]OriginStats, len(r.origins))}
	for i, o := range r.origins {
		s.Origins[i] = o.stats()
	}
	return s
}

// Config returns the router's configuration with its defaults filled in.
// Treat it as read-only.
func (r *Router) Config() *Config { return r.cfg }

// Close stops the health probes and waits for them to finish. Decisions keep
// using the last known health. Close is safe to call more than once.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.health.stop()
		if r.ownTrans != nil {
			r.ownTrans.CloseIdleConnections()
		}
	})
	return nil
}
