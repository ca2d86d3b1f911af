package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Policy names a steering policy: how a request's pool is chosen.
type Policy string

// The steering policies.
const (
	// PolicyFailover sends every request to the first pool in the failover
	// order that has a healthy origin.
	PolicyFailover Policy = "failover"
	// PolicyWeighted spreads requests over the pools in proportion to their
	// weights (smooth weighted round robin), skipping pools with no healthy
	// origin.
	PolicyWeighted Policy = "weighted"
	// PolicyGeo sends a request to the first healthy pool of the list its
	// client's location maps to, then to the default pools.
	PolicyGeo Policy = "geo"
)

// Defaults used for the zero values of Config.
const (
	// DefaultHealthPath is the path probed on every origin: authhero's /health.
	DefaultHealthPath = "/health"
	// DefaultInterval is the time between two probes of one origin.
	DefaultInterval = 5 * time.Second
	// DefaultTimeout bounds one probe.
	DefaultTimeout = 2 * time.Second
	// DefaultHealthyThreshold is how many good probes in a row bring an origin back.
	DefaultHealthyThreshold = 2
	// DefaultUnhealthyThreshold is how many failed probes in a row take an origin down.
	DefaultUnhealthyThreshold = 2
	// DefaultPassiveThreshold is how many failed proxied requests in a row take an origin down.
	DefaultPassiveThreshold = 5
	// DefaultExpectedStatus are the probe statuses that count as healthy.
	DefaultExpectedStatus = "2xx"
	// DefaultDialTimeout bounds connecting to an origin.
	DefaultDialTimeout = 2 * time.Second
	// DefaultResponseTimeout bounds the wait for an origin's response headers.
	DefaultResponseTimeout = 15 * time.Second
	// DefaultRetryBodyLimit is the largest request body buffered for a retry.
	DefaultRetryBodyLimit = 64 << 10
)

// DefaultCountryHeaders are the request headers a client's country is read
// from when GeoConfig.CountryHeaders is nil, first non-empty wins: the ones
// Cloudflare, CloudFront, Vercel, Fastly (by convention), Google App Engine
// and many other proxies set.
var DefaultCountryHeaders = []string{"CF-IPCountry", "CloudFront-Viewer-Country", "X-Vercel-IP-Country", "Fastly-Geo-Country", "X-AppEngine-Country", "X-Country-Code"}

// DefaultContinentHeaders are the request headers a client's continent is
// read from when GeoConfig.ContinentHeaders is nil.
var DefaultContinentHeaders = []string{"CF-IPContinent", "X-Vercel-IP-Continent", "Fastly-Geo-Continent"}

// DefaultRegionHeaders are the request headers a client's region
// (subdivision) is read from when GeoConfig.RegionHeaders is nil.
var DefaultRegionHeaders = []string{"CloudFront-Viewer-Country-Region", "X-Vercel-IP-Country-Region", "CF-Region-Code"}

// Config is a routing configuration: pools of origins, how a request picks a
// pool, how origins are health checked and how the proxy forwards.
//
// Its JSON form accepts the Cloudflare-style shapes of the multi-cloud guide:
// a "steering" block, a "geo_steering" block, a top-level "weights" object and
// Cloudflare load balancer fields (steering_policy, default_pools,
// fallback_pool, country_pools, region_pools); they are merged into Steering.
// Unknown fields are ignored so that a file exported from a provider loads as
// is, and // or /* */ comments are allowed.
type Config struct {
	// Pools are the groups of origins traffic is steered between. Required.
	Pools []Pool `json:"pools"`
	// Steering chooses a pool for each request.
	Steering Steering `json:"steering"`
	// HealthCheck configures the active probes and passive ejection.
	HealthCheck HealthCheck `json:"health_check"`
	// Geo configures where a client's location is read from.
	Geo GeoConfig `json:"geo"`
	// Proxy configures the reverse proxy.
	Proxy ProxyConfig `json:"proxy"`
}

// Pool is a group of interchangeable origins, for example one deployment in
// one cloud region.
type Pool struct {
	// ID names the pool in steering rules. Required and unique. In JSON a
	// pool without "id" takes its "name".
	ID string
	// Origins are the pool's servers. Required (at least one enabled).
	Origins []OriginConfig
	// Disabled takes the pool out of rotation; its origins are still probed.
	// In JSON it is the negation of "enabled" (default true).
	Disabled bool

	weight *float64 // "weight" in JSON; moved into Steering.Weights
}

type poolJSON struct {
	ID      string         `json:"id"`
	Name    string         `json:"name,omitempty"`
	Origins []OriginConfig `json:"origins"`
	Enabled *bool          `json:"enabled,omitempty"`
	Weight  *float64       `json:"weight,omitempty"`
}

// UnmarshalJSON reads {"id","origins","enabled","weight"}.
func (p *Pool) UnmarshalJSON(b []byte) error {
	var j poolJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Pool{ID: j.ID, Origins: j.Origins, weight: j.Weight}
	if p.ID == "" {
		p.ID = j.Name
	}
	if j.Enabled != nil {
		p.Disabled = !*j.Enabled
	}
	return nil
}

// MarshalJSON writes {"id","origins","enabled"}.
func (p Pool) MarshalJSON() ([]byte, error) {
	enabled := !p.Disabled
	return json.Marshal(poolJSON{ID: p.ID, Origins: p.Origins, Enabled: &enabled})
}

// OriginConfig is one server of a pool. In JSON it is either a string (the
// address) or an object {"address","name","weight","enabled"} as in a
// Cloudflare pool.
type OriginConfig struct {
	// Address is the origin's base URL ("http://10.0.0.5:3000",
	// "https://auth-eu.example.com/base"). Without a scheme, https:// is
	// assumed, so "auth-us.example.com" works.
	Address string
	// Name is a label for logs. Zero: the address.
	Name string
	// Weight is the origin's share within its pool. Zero: 1.
	Weight float64
	// Disabled leaves the origin out of the pool. In JSON it is the negation
	// of "enabled".
	Disabled bool
}

type originJSON struct {
	Address string  `json:"address"`
	Name    string  `json:"name,omitempty"`
	Weight  float64 `json:"weight,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
	URL     string  `json:"url,omitempty"`
}

// UnmarshalJSON reads a string or an {"address","name","weight","enabled"}
// object.
func (o *OriginConfig) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*o = OriginConfig{}
		return json.Unmarshal(b, &o.Address)
	}
	var j originJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*o = OriginConfig{Address: j.Address, Name: j.Name, Weight: j.Weight}
	if o.Address == "" {
		o.Address = j.URL
	}
	if j.Enabled != nil {
		o.Disabled = !*j.Enabled
	}
	return nil
}

// MarshalJSON writes the address alone when that says everything, else an
// object.
func (o OriginConfig) MarshalJSON() ([]byte, error) {
	if o.Name == "" && o.Weight == 0 && !o.Disabled {
		return json.Marshal(o.Address)
	}
	enabled := !o.Disabled
	return json.Marshal(originJSON{Address: o.Address, Name: o.Name, Weight: o.Weight, Enabled: &enabled})
}

// Steering chooses a pool for each request.
//
// Geo lookups go from most to least specific: the "CC-RR" subdivision key
// (country and region) in Regions, the country in Countries, the region as
// reported in Regions (for example a Cloudflare region such as "WNAM"), then
// the continent in Continents. The matched list is tried in order, then
// Default, then Fallback. Keys are case-insensitive.
type Steering struct {
	// Policy is failover, weighted or geo ("off" and "random", Cloudflare's
	// names, mean failover and weighted). Zero: weighted when Weights is set,
	// geo when a geo map is set, else failover.
	Policy Policy `json:"policy,omitempty"`
	// Order is the failover order of pool ids. Zero: Default, else the pools
	// in the order they are listed. Pools not in it get no failover traffic.
	Order []string `json:"order,omitempty"`
	// Weights are the pools' shares of traffic under the weighted policy;
	// they need not add up to 100. A pool not named gets none. Zero: every
	// pool gets an equal share.
	Weights map[string]float64 `json:"weights,omitempty"`
	// Countries maps ISO 3166-1 alpha-2 country codes to pool lists.
	Countries map[string][]string `json:"country_pools,omitempty"`
	// Regions maps regions to pool lists: a subdivision with its country
	// ("US-CA") or whatever a GeoResolver reports as the region.
	Regions map[string][]string `json:"region_pools,omitempty"`
	// Continents maps continent codes (AF, AN, AS, EU, NA, OC, SA) to pool
	// lists.
	Continents map[string][]string `json:"continent_pools,omitempty"`
	// Default are the pools for clients no geo rule matches, and after a
	// matched list. Zero: Order, else every pool in listed order.
	Default []string `json:"default_pools,omitempty"`
	// Fallback is the pool of last resort, tried after every other rule
	// (still only while it has a healthy origin).
	Fallback string `json:"fallback_pool,omitempty"`
}

// HealthCheck configures how origins are judged healthy.
//
// An origin starts healthy and is probed at once; the first probe's result
// is taken as is. After that it takes UnhealthyThreshold failed probes in a
// row to mark it down and HealthyThreshold good ones to bring it back, so a
// dead origin is noticed within Interval×UnhealthyThreshold+Timeout.
// PassiveThreshold connection errors or 5xx answers in a row from proxied
// traffic also mark it down; probes bring it back.
type HealthCheck struct {
	// Path is probed with GET on every origin. Zero: /health.
	Path string `json:"path,omitempty"`
	// Interval is the time between probes of one origin. Zero: 5s. In JSON,
	// a duration string ("500ms", "1s") or a number of seconds.
	Interval Duration `json:"interval,omitempty"`
	// Timeout bounds one probe; it may not exceed Interval. Zero: 2s, or
	// Interval if that is shorter.
	Timeout Duration `json:"timeout,omitempty"`
	// HealthyThreshold is how many good probes in a row bring a down origin
	// back. Zero: 2.
	HealthyThreshold int `json:"healthy_threshold,omitempty"`
	// UnhealthyThreshold is how many failed probes in a row mark an origin
	// down. Zero: 2.
	UnhealthyThreshold int `json:"unhealthy_threshold,omitempty"`
	// ExpectedStatus lists the probe statuses that count as healthy: "2xx",
	// "200", "200-299", "200,204". In JSON also a number or an array, and
	// Cloudflare's "expected_codes" is accepted. Zero: 2xx.
	ExpectedStatus StatusCodes `json:"expected_status,omitempty"`
	// PassiveThreshold is how many connection errors or 5xx answers in a row
	// from proxied traffic mark an origin down. Zero: 5; negative: never.
	PassiveThreshold int `json:"passive_threshold,omitempty"`
}

// UnmarshalJSON also accepts Cloudflare's "expected_codes".
func (h *HealthCheck) UnmarshalJSON(b []byte) error {
	type plain HealthCheck
	var j struct {
		plain
		ExpectedCodes StatusCodes `json:"expected_codes"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = HealthCheck(j.plain)
	if h.ExpectedStatus == "" {
		h.ExpectedStatus = j.ExpectedCodes
	}
	return nil
}

// GeoConfig says which request headers carry the client's location, as set
// by the CDN or load balancer in front of the proxy. The first non-empty
// header of each list wins; an empty non-nil list turns that lookup off.
// These headers are steering hints, not security: a client that reaches the
// proxy directly can set them to pick its pool.
type GeoConfig struct {
	// CountryHeaders carry an ISO 3166-1 alpha-2 country. Nil:
	// DefaultCountryHeaders.
	CountryHeaders []string `json:"country_headers,omitempty"`
	// ContinentHeaders carry a continent code. Nil: DefaultContinentHeaders.
	// Without one, the continent is derived from the country.
	ContinentHeaders []string `json:"continent_headers,omitempty"`
	// RegionHeaders carry a region or subdivision. Nil: DefaultRegionHeaders.
	RegionHeaders []string `json:"region_headers,omitempty"`
}

// ProxyConfig configures the reverse proxy.
type ProxyConfig struct {
	// HostHeader is the Host sent to origins: "client" (zero) keeps the Host
	// the client sent, so tenant subdomains and custom domains still resolve
	// on the origin; "origin" sends the origin's own host; anything else is
	// sent literally.
	HostHeader string `json:"host_header,omitempty"`
	// DialTimeout bounds connecting to an origin. Zero: 2s.
	DialTimeout Duration `json:"dial_timeout,omitempty"`
	// ResponseHeaderTimeout bounds the wait for an origin's response
	// headers once the request is sent. Zero: 15s.
	ResponseHeaderTimeout Duration `json:"response_header_timeout,omitempty"`
	// RetryBodyLimit is the largest request body buffered so that the
	// request can be retried on another origin; larger bodies stream and are
	// never retried. Zero: 64 KiB; negative: never buffer.
	RetryBodyLimit int64 `json:"retry_body_limit,omitempty"`
	// RetryAfter is the Retry-After sent with a 503 when no origin is
	// healthy. Zero: Interval×HealthyThreshold, at least one second.
	RetryAfter Duration `json:"retry_after,omitempty"`
	// TrustedProxies are CIDRs or addresses of the proxies in front of this
	// one (a TLS-terminating load balancer): from them, X-Forwarded-Proto and
	// X-Forwarded-Host are passed on rather than replaced.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
}

// Duration is a time.Duration that reads from JSON as a duration string
// ("1s", "250ms") or a number of seconds, and writes as a string.
type Duration time.Duration

// UnmarshalJSON reads "1s" or 1 (seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q (want e.g. \"500ms\", \"2s\" or a number of seconds)", s)
		}
		*d = Duration(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("invalid duration %s (want e.g. \"500ms\", \"2s\" or a number of seconds)", b)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// StatusCodes is a list of HTTP statuses: comma-separated codes ("200"),
// classes ("2xx") and ranges ("200-399").
type StatusCodes string

// UnmarshalJSON reads a string, a number or an array of either.
func (s *StatusCodes) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = StatusCodes(v)
	case len(b) > 0 && b[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			var one StatusCodes
			if err := one.UnmarshalJSON(it); err != nil {
				return err
			}
			parts = append(parts, string(one))
		}
		*s = StatusCodes(strings.Join(parts, ","))
	default:
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("invalid status %s", b)
		}
		*s = StatusCodes(strconv.Itoa(n))
	}
	return nil
}

type statusRange struct{ lo, hi int }

// parse returns the ranges of s.
func (s StatusCodes) parse() ([]statusRange, error) {
	var out []statusRange
	for _, part := range strings.Split(string(s), ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		var r statusRange
		var err error
		switch {
		case len(part) == 3 && strings.HasSuffix(part, "xx") && part[0] >= '1' && part[0] <= '5':
			r.lo = int(part[0]-'0') * 100
			r.hi = r.lo + 99
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			r.lo, err = strconv.Atoi(strings.TrimSpace(a))
			if err == nil {
				r.hi, err = strconv.Atoi(strings.TrimSpace(b))
			}
		default:
			r.lo, err = strconv.Atoi(part)
			r.hi = r.lo
		}
		if err != nil || r.lo < 100 || r.hi > 599 || r.lo > r.hi {
			return nil, fmt.Errorf("health_check.expected_status: %q is not a status, class (2xx) or range (200-299)", part)
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseConfig reads a JSON routing configuration (comments allowed), fills in
// the defaults and validates it. The error names the line and column of a
// syntax error, or every setting that cannot work.
func ParseConfig(data []byte) (*Config, error) {
	data = stripComments(data)
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, jsonError(data, err)
	}
	d := c.withDefaults()
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read, the offending one included.
		off := min(max(se.Offset-1, 0), int64(len(data)))
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := int(off) - bytes.LastIndexByte(data[:off], '\n')
		return fmt.Errorf("routing config: line %d, column %d: %w", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("routing config: %s: a JSON %s cannot be a %s", te.Field, te.Value, te.Type)
	}
	return fmt.Errorf("routing config: %w", err)
}

// stripComments blanks out // and /* */ comments outside strings, keeping
// every offset (and so every line and column) where it was.
func stripComments(b []byte) []byte {
	if !bytes.Contains(b, []byte("/")) {
		return b
	}
	out := bytes.Clone(b)
	inStr := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			out[i], out[i+1] = ' ', ' '
			j := i + 2
			for j < len(out) && !(out[j] == '*' && j+1 < len(out) && out[j+1] == '/') {
				if out[j] != '\n' {
					out[j] = ' '
				}
				j++
			}
			if j < len(out) {
				out[j], out[j+1] = ' ', ' '
				j++
			}
			i = j
		}
	}
	return out
}

// UnmarshalJSON reads a Config, merging the steering blocks of the
// Cloudflare-style shapes into Steering.
func (c *Config) UnmarshalJSON(b []byte) error {
	var raw struct {
		Pools          []Pool              `json:"pools"`
		Steering       *Steering           `json:"steering"`
		GeoSteering    *Steering           `json:"geo_steering"`
		Weights        map[string]float64  `json:"weights"`
		SteeringPolicy Policy              `json:"steering_policy"`
		Order          []string            `json:"order"`
		DefaultPools   []string            `json:"default_pools"`
		FallbackPool   string              `json:"fallback_pool"`
		CountryPools   map[string][]string `json:"country_pools"`
		RegionPools    map[string][]string `json:"region_pools"`
		ContinentPools map[string][]string `json:"continent_pools"`
		HealthCheck    HealthCheck         `json:"health_check"`
		Geo            GeoConfig           `json:"geo"`
		Proxy          ProxyConfig         `json:"proxy"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = Config{Pools: raw.Pools, HealthCheck: raw.HealthCheck, Geo: raw.Geo, Proxy: raw.Proxy}
	top := Steering{Policy: raw.SteeringPolicy, Order: raw.Order, Weights: raw.Weights, Default: raw.DefaultPools,
		Fallback: raw.FallbackPool, Countries: raw.CountryPools, Regions: raw.RegionPools, Continents: raw.ContinentPools}
	if raw.GeoSteering != nil && raw.GeoSteering.Policy == "" {
		raw.GeoSteering.Policy = PolicyGeo
	}
	var errs []error
	for _, part := range []struct {
		name string
		s    *Steering
	}{{"steering", raw.Steering}, {"geo_steering", raw.GeoSteering}, {"the top level", &top}} {
		if part.s != nil {
			errs = append(errs, mergeSteering(&c.Steering, part.s, part.name))
		}
	}
	// A pool's own "weight" applies unless a weights block names the pool.
	for _, p := range c.Pools {
		if p.weight == nil {
			continue
		}
		if c.Steering.Weights == nil {
			c.Steering.Weights = map[string]float64{}
		}
		if _, ok := c.Steering.Weights[p.ID]; !ok {
			c.Steering.Weights[p.ID] = *p.weight
		}
	}
	return errors.Join(errs...)
}

func mergeSteering(dst, src *Steering, where string) error {
	var errs []error
	dup := func(field string) {
		errs = append(errs, fmt.Errorf("routing config: %s is given more than once (again in %s)", field, where))
	}
	if src.Policy != "" {
		if dst.Policy != "" && !strings.EqualFold(string(dst.Policy), string(src.Policy)) {
			errs = append(errs, fmt.Errorf("routing config: policy %q in %s contradicts policy %q", src.Policy, where, dst.Policy))
		}
		dst.Policy = src.Policy
	}
	if len(src.Order) > 0 {
		if len(dst.Order) > 0 {
			dup("order")
		}
		dst.Order = src.Order
	}
	if len(src.Weights) > 0 {
		if len(dst.Weights) > 0 {
			dup("weights")
		}
		dst.Weights = src.Weights
	}
	if len(src.Countries) > 0 {
		if len(dst.Countries) > 0 {
			dup("country_pools")
		}
		dst.Countries = src.Countries
	}
	if len(src.Regions) > 0 {
		if len(dst.Regions) > 0 {
			dup("region_pools")
		}
		dst.Regions = src.Regions
	}
	if len(src.Continents) > 0 {
		if len(dst.Continents) > 0 {
			dup("continent_pools")
		}
		dst.Continents = src.Continents
	}
	if len(src.Default) > 0 {
		if len(dst.Default) > 0 {
			dup("default_pools")
		}
		dst.Default = src.Default
	}
	if src.Fallback != "" {
		if dst.Fallback != "" {
			dup("fallback_pool")
		}
		dst.Fallback = src.Fallback
	}
	return errors.Join(errs...)
}

// Validate reports every setting of c that cannot work: no pools, a pool
// without origins, a bad origin address, a steering rule naming an unknown
// pool, weights that are negative or all zero, an unknown policy, bad
// health-check or proxy settings. Zero values that have defaults are fine.
func (c *Config) Validate() error {
	return c.withDefaults().check()
}

// withDefaults returns a copy of c with every default filled in and the
// policy and geo keys normalized. Slices and maps that change are copied.
func (c *Config) withDefaults() *Config {
	d := *c
	s := &d.Steering
	switch p := Policy(strings.ToLower(strings.TrimSpace(string(s.Policy)))); p {
	case "":
		switch {
		case len(s.Weights) > 0:
			s.Policy = PolicyWeighted
		case len(s.Countries) > 0 || len(s.Regions) > 0 || len(s.Continents) > 0:
			s.Policy = PolicyGeo
		default:
			s.Policy = PolicyFailover
		}
	case "off", "priority":
		s.Policy = PolicyFailover
	case "random":
		s.Policy = PolicyWeighted
	default:
		s.Policy = p
	}
	if s.Policy == PolicyWeighted && len(s.Weights) == 0 {
		s.Weights = make(map[string]float64, len(d.Pools))
		for _, p := range d.Pools {
			s.Weights[p.ID] = 1
		}
	}
	if len(s.Order) == 0 {
		s.Order = s.Default
	}
	if len(s.Order) == 0 {
		for _, p := range d.Pools {
			s.Order = append(s.Order, p.ID)
		}
	}
	if len(s.Default) == 0 {
		s.Default = s.Order
	}
	s.Countries, s.Regions, s.Continents = upperKeys(s.Countries), upperKeys(s.Regions), upperKeys(s.Continents)

	h := &d.HealthCheck
	if h.Path == "" {
		h.Path = DefaultHealthPath
	}
	if h.Interval == 0 {
		h.Interval = Duration(DefaultInterval)
	}
	if h.Timeout == 0 {
		h.Timeout = min(Duration(DefaultTimeout), h.Interval)
	}
	if h.HealthyThreshold == 0 {
		h.HealthyThreshold = DefaultHealthyThreshold
	}
	if h.UnhealthyThreshold == 0 {
		h.UnhealthyThreshold = DefaultUnhealthyThreshold
	}
	if h.ExpectedStatus == "" {
		h.ExpectedStatus = DefaultExpectedStatus
	}
	if h.PassiveThreshold == 0 {
		h.PassiveThreshold = DefaultPassiveThreshold
	}

	g := &d.Geo
	if g.CountryHeaders == nil {
		g.CountryHeaders = slices.Clone(DefaultCountryHeaders)
	}
	if g.ContinentHeaders == nil {
		g.ContinentHeaders = slices.Clone(DefaultContinentHeaders)
	}
	if g.RegionHeaders == nil {
		g.RegionHeaders = slices.Clone(DefaultRegionHeaders)
	}

	p := &d.Proxy
	if p.HostHeader == "" {
		p.HostHeader = "client"
	}
	if p.DialTimeout == 0 {
		p.DialTimeout = Duration(DefaultDialTimeout)
	}
	if p.ResponseHeaderTimeout == 0 {
		p.ResponseHeaderTimeout = Duration(DefaultResponseTimeout)
	}
	if p.RetryBodyLimit == 0 {
		p.RetryBodyLimit = DefaultRetryBodyLimit
	}
	if p.RetryAfter == 0 && h.Interval > 0 && h.HealthyThreshold > 0 {
		ra := time.Duration(h.Interval) * time.Duration(h.HealthyThreshold)
		p.RetryAfter = Duration(max(time.Second, ra.Round(time.Second)))
	}
	return &d
}

func upperKeys(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[strings.ToUpper(strings.TrimSpace(k))] = v
	}
	return out
}

var continents = map[string]bool{"AF": true, "AN": true, "AS": true, "EU": true, "NA": true, "OC": true, "SA": true}

// check validates a config that has its defaults.
func (c *Config) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("routing config: "+format, args...))
	}
	if len(c.Pools) == 0 {
		bad("no pools: add \"pools\": [{\"id\": ..., \"origins\": [...]}]")
	}
	ids := map[string]bool{}
	enabledPools := 0
	for i, p := range c.Pools {
		switch {
		case p.ID == "":
			bad("pools[%d] has no id", i)
		case ids[p.ID]:
			bad("pool id %q is used twice", p.ID)
		}
		ids[p.ID] = true
		enabled := 0
		for _, o := range p.Origins {
			if _, err := parseOrigin(o.Address); err != nil {
				bad("pool %q: %v", p.ID, err)
			}
			if o.Weight < 0 || math.IsNaN(o.Weight) || math.IsInf(o.Weight, 0) {
				bad("pool %q: origin %q has weight %v; weights must be 0 or more", p.ID, o.Address, o.Weight)
			}
			if !o.Disabled {
				enabled++
			}
		}
		if !p.Disabled {
			enabledPools++
			if enabled == 0 {
				bad("pool %q has no origins: list at least one enabled origin address", p.ID)
			}
		}
	}
	if len(c.Pools) > 0 && enabledPools == 0 {
		bad("every pool is disabled: nothing can serve traffic")
	}
	s := c.Steering
	known := func(where, id string) {
		if !ids[id] {
			bad("%s names unknown pool %q (pools are %s)", where, id, strings.Join(sortedKeys(ids), ", "))
		}
	}
	switch s.Policy {
	case PolicyFailover, PolicyWeighted, PolicyGeo:
	default:
		bad("unknown steering policy %q: use failover, weighted or geo", s.Policy)
	}
	for _, id := range s.Order {
		known("steering.order", id)
	}
	for _, id := range s.Default {
		known("default_pools", id)
	}
	if s.Fallback != "" {
		known("fallback_pool", s.Fallback)
	}
	for _, m := range []struct {
		name string
		m    map[string][]string
	}{{"country_pools", s.Countries}, {"region_pools", s.Regions}, {"continent_pools", s.Continents}} {
		for _, k := range sortedKeys(m.m) {
			if m.name == "continent_pools" && !continents[k] {
				bad("continent_pools: %q is not a continent code (use AF, AN, AS, EU, NA, OC or SA)", k)
			}
			if m.name == "country_pools" && len(k) != 2 {
				bad("country_pools: %q is not a two-letter country code", k)
			}
			if len(m.m[k]) == 0 {
				bad("%s[%q] lists no pools", m.name, k)
			}
			for _, id := range m.m[k] {
				known(fmt.Sprintf("%s[%q]", m.name, k), id)
			}
		}
	}
	var total float64
	for _, id := range sortedKeys(s.Weights) {
		w := s.Weights[id]
		known("weights", id)
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			bad("weights[%q] is %v; weights must be 0 or more", id, w)
			continue
		}
		for _, p := range c.Pools {
			if p.ID == id && !p.Disabled {
				total += w
			}
		}
	}
	if s.Policy == PolicyWeighted && total == 0 && len(c.Pools) > 0 {
		bad("weights are all zero (over the enabled pools): no pool would get traffic")
	}

	h := c.HealthCheck
	if !strings.HasPrefix(h.Path, "/") {
		bad("health_check.path %q must start with /", h.Path)
	}
	if h.Interval < 0 {
		bad("health_check.interval must be positive")
	}
	if h.Timeout < 0 {
		bad("health_check.timeout must be positive")
	}
	if h.Timeout > h.Interval && h.Interval > 0 {
		bad("health_check.timeout (%s) must not exceed interval (%s)", h.Timeout, h.Interval)
	}
	if h.HealthyThreshold < 0 {
		bad("health_check.healthy_threshold must be 1 or more")
	}
	if h.UnhealthyThreshold < 0 {
		bad("health_check.unhealthy_threshold must be 1 or more")
	}
	if _, err := h.ExpectedStatus.parse(); err != nil {
		bad("%v", err)
	}

	p := c.Proxy
	if p.DialTimeout < 0 || p.ResponseHeaderTimeout < 0 || p.RetryAfter < 0 {
		bad("proxy timeouts must be positive")
	}
	if _, err := parsePrefixes(p.TrustedProxies); err != nil {
		bad("proxy.trusted_proxies: %v", err)
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseOrigin turns an origin address into its base URL.
func parseOrigin(addr string) (*url.URL, error) {
	a := strings.TrimSpace(addr)
	if a == "" {
		return nil, errors.New("an origin has no address")
	}
	if !strings.Contains(a, "://") {
		a = "https://" + a
	}
	u, err := url.Parse(a)
	if err != nil {
		return nil, fmt.Errorf("origin %q is not a URL: %v", addr, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("origin %q: scheme must be http or https", addr)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("origin %q has no host", addr)
	case u.User != nil:
		return nil, fmt.Errorf("origin %q: credentials in the URL are not supported", addr)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("origin %q: a query or fragment is not allowed", addr)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("origin %q: bad port", addr)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
