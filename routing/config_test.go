package routing_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/routing"
)

// routeJSON is the file `authhero route` must accept as written.
const routeJSON = `{"pools":[{"id":"primary","origins":["http://127.0.0.1:3001"],"enabled":true},
          {"id":"standby","origins":["http://127.0.0.1:3002"],"enabled":true}],
 "steering":{"policy":"failover","order":["primary","standby"]},
 "health_check":{"path":"/health","interval":"1s","timeout":"1s","unhealthy_threshold":2,"healthy_threshold":2}}`

// TestParseConfigRouteShape reads the steering + health_check shape and
// fills the defaults.
func TestParseConfigRouteShape(t *testing.T) {
	c, err := routing.ParseConfig([]byte(routeJSON))
	require.NoError(t, err)
	require.Len(t, c.Pools, 2)
	require.Equal(t, "primary", c.Pools[0].ID)
	require.Equal(t, "http://127.0.0.1:3001", c.Pools[0].Origins[0].Address)
	require.False(t, c.Pools[1].Disabled)
	require.Equal(t, routing.PolicyFailover, c.Steering.Policy)
	require.Equal(t, []string{"primary", "standby"}, c.Steering.Order)
	h := c.HealthCheck
	require.Equal(t, "/health", h.Path)
	require.Equal(t, time.Second, time.Duration(h.Interval))
	require.Equal(t, time.Second, time.Duration(h.Timeout))
	require.Equal(t, 2, h.HealthyThreshold)
	require.Equal(t, 2, h.UnhealthyThreshold)
	require.Equal(t, routing.StatusCodes("2xx"), h.ExpectedStatus)
	require.Equal(t, routing.DefaultPassiveThreshold, h.PassiveThreshold)
	require.Equal(t, "client", c.Proxy.HostHeader)
	require.Equal(t, 2*time.Second, time.Duration(c.Proxy.RetryAfter)) // interval × healthy_threshold
	require.Equal(t, routing.DefaultCountryHeaders, c.Geo.CountryHeaders)

	// The parsed config survives a JSON round trip.
	b, err := json.Marshal(c)
	require.NoError(t, err)
	c2, err := routing.ParseConfig(b)
	require.NoError(t, err, string(b))
	require.Equal(t, c, c2)
}

// TestParseConfigGuideGeoShape reads the guide's Cloudflare pools +
// geo_steering block as published: bare host names become https origins, and
// with no geo maps everyone goes to the pools in listed order.
func TestParseConfigGuideGeoShape(t *testing.T) {
	guide := `{
  "pools": [
    {
      "id": "cloudflare-edge",
      "origins": ["workers.cloudflare.com"],
      "enabled": true
    },
    {
      "id": "aws-us-east",
      "origins": ["auth-us.example.com"],
      "enabled": true
    },
    {
      "id": "aws-eu-west",
      "origins": ["auth-eu.example.com"],
      "enabled": true
    }
  ],
  "geo_steering": {
    "policy": "geo"
  }
}`
	c, err := routing.ParseConfig([]byte(guide))
	require.NoError(t, err)
	require.Equal(t, routing.PolicyGeo, c.Steering.Policy)
	require.Equal(t, []string{"cloudflare-edge", "aws-us-east", "aws-eu-west"}, c.Steering.Default)
	require.NoError(t, c.Validate())

	// The same block with maps, as a user fills it in.
	withMaps := strings.Replace(guide, `"policy": "geo"`, `"policy": "geo",
    "country_pools": {"de": ["aws-eu-west"]},
    "continent_pools": {"EU": ["aws-eu-west", "cloudflare-edge"], "NA": ["aws-us-east"]},
    "region_pools": {"US-CA": ["cloudflare-edge"]},
    "default_pools": ["cloudflare-edge"],
    "fallback_pool": "aws-us-east"`, 1)
	c, err = routing.ParseConfig([]byte(withMaps))
	require.NoError(t, err)
	require.Equal(t, []string{"aws-eu-west"}, c.Steering.Countries["DE"], "keys are upper-cased")
	require.Equal(t, []string{"aws-eu-west", "cloudflare-edge"}, c.Steering.Continents["EU"])
	require.Equal(t, []string{"cloudflare-edge"}, c.Steering.Default)
	require.Equal(t, "aws-us-east", c.Steering.Fallback)
}

// TestParseConfigGuideWeightsShape reads the guide's weights block, comments
// and all, next to the pools it names; alone it is a clear error.
func TestParseConfigGuideWeightsShape(t *testing.T) {
	weights := `{
  "weights": {
    "cloudflare": 50,  // 50% of traffic
    "aws-us": 30,      // 30% of traffic
    "aws-eu": 20       // 20% of traffic
  }
}`
	_, err := routing.ParseConfig([]byte(weights))
	require.ErrorContains(t, err, "no pools")
	require.ErrorContains(t, err, `weights names unknown pool "aws-eu"`)

	full := `{
  /* the deployments */
  "pools": [
    {"id": "cloudflare", "origins": ["https://auth.example.workers.dev"]},
    {"id": "aws-us", "origins": ["https://auth-us.example.com"]},
    {"id": "aws-eu", "origins": ["https://auth-eu.example.com"]}
  ],
` + strings.TrimPrefix(weights, "{")
	c, err := routing.ParseConfig([]byte(full))
	require.NoError(t, err)
	require.Equal(t, routing.PolicyWeighted, c.Steering.Policy)
	require.Equal(t, map[string]float64{"cloudflare": 50, "aws-us": 30, "aws-eu": 20}, c.Steering.Weights)
}

// TestParseConfigCloudflareLoadBalancer reads a Cloudflare load balancer
// export: top-level steering fields, origin objects, a monitor's
// expected_codes, numeric seconds, and fields we do not use.
func TestParseConfigCloudflareLoadBalancer(t *testing.T) {
	cf := `{
  "name": "auth.example.com", "ttl": 30, "proxied": true,
  "steering_policy": "off",
  "default_pools": ["us", "eu"],
  "fallback_pool": "eu",
  "region_pools": {"WNAM": ["us"]},
  "pools": [
    {"name": "us", "minimum_origins": 1, "origins": [
      {"name": "us-1", "address": "10.0.0.1:3000", "enabled": true, "weight": 0.5},
      {"name": "us-2", "address": "http://10.0.0.2:3000", "enabled": false}]},
    {"id": "eu", "origins": [{"address": "https://auth-eu.example.com"}], "weight": 3}
  ],
  "health_check": {"interval": 10, "timeout": 2.5, "expected_codes": "2xx,301"}
}`
	c, err := routing.ParseConfig([]byte(cf))
	require.NoError(t, err)
	require.Equal(t, routing.PolicyFailover, c.Steering.Policy, `"off" is Cloudflare's failover`)
	require.Equal(t, []string{"us", "eu"}, c.Steering.Order)
	require.Equal(t, "eu", c.Steering.Fallback)
	require.Equal(t, []string{"us"}, c.Steering.Regions["WNAM"])
	require.Equal(t, "us", c.Pools[0].ID, "a pool without id takes its name")
	require.Equal(t, routing.OriginConfig{Name: "us-1", Address: "10.0.0.1:3000", Weight: 0.5}, c.Pools[0].Origins[0])
	require.True(t, c.Pools[0].Origins[1].Disabled)
	require.Equal(t, 3.0, c.Steering.Weights["eu"], "a pool's own weight")
	require.Equal(t, 10*time.Second, time.Duration(c.HealthCheck.Interval))
	require.Equal(t, 2500*time.Millisecond, time.Duration(c.HealthCheck.Timeout))
	require.Equal(t, routing.StatusCodes("2xx,301"), c.HealthCheck.ExpectedStatus)
}

// TestParseConfigErrors: every configuration that cannot work is refused
// with an error naming the problem.
func TestParseConfigErrors(t *testing.T) {
	pools := `"pools":[{"id":"a","origins":["http://127.0.0.1:1"]},{"id":"b","origins":["http://127.0.0.1:2"]}]`
	cases := []struct{ name, json, want string }{
		{"syntax", "{\n  \"pools\": [,]\n}", "line 2, column 13"},
		{"type", `{"pools": {"id": "a"}}`, "pools: a JSON object cannot be a []routing.Pool"},
		{"nested type", `{"pools": [{"id": "a", "origins": 5}]}`, "origins"},
		{"empty", `{}`, "no pools"},
		{"pool without id", `{"pools":[{"origins":["http://x"]}]}`, "pools[0] has no id"},
		{"duplicate pool", `{"pools":[{"id":"a","origins":["http://x"]},{"id":"a","origins":["http://y"]}]}`, `pool id "a" is used twice`},
		{"no origins", `{"pools":[{"id":"a","origins":[]}]}`, `pool "a" has no origins`},
		{"only disabled origins", `{"pools":[{"id":"a","origins":[{"address":"http://x","enabled":false}]}]}`, `pool "a" has no origins`},
		{"bad scheme", `{"pools":[{"id":"a","origins":["ftp://x"]}]}`, "scheme must be http or https"},
		{"no host", `{"pools":[{"id":"a","origins":["http://"]}]}`, "has no host"},
		{"bad port", `{"pools":[{"id":"a","origins":["http://x:99999"]}]}`, "bad port"},
		{"query", `{"pools":[{"id":"a","origins":["http://x/?a=b"]}]}`, "query or fragment"},
		{"all disabled", `{"pools":[{"id":"a","origins":["http://x"],"enabled":false}]}`, "every pool is disabled"},
		{"unknown policy", `{` + pools + `,"steering":{"policy":"roundrobin"}}`, `unknown steering policy "roundrobin"`},
		{"unknown pool in order", `{` + pools + `,"steering":{"order":["a","c"]}}`, `steering.order names unknown pool "c"`},
		{"unknown pool in weights", `{` + pools + `,"weights":{"a":1,"z":1}}`, `weights names unknown pool "z"`},
		{"weights all zero", `{` + pools + `,"weights":{"a":0,"b":0}}`, "weights are all zero"},
		{"weights zero on enabled pools", `{"pools":[{"id":"a","origins":["http://x"]},{"id":"b","origins":["http://y"],"enabled":false}],"weights":{"a":0,"b":5}}`, "weights are all zero"},
		{"negative weight", `{` + pools + `,"weights":{"a":-1,"b":1}}`, `weights["a"] is -1`},
		{"negative origin weight", `{"pools":[{"id":"a","origins":[{"address":"http://x","weight":-2}]}]}`, "has weight -2"},
		{"unknown pool in country_pools", `{` + pools + `,"geo_steering":{"country_pools":{"DE":["eu"]}}}`, `country_pools["DE"] names unknown pool "eu"`},
		{"bad country", `{` + pools + `,"geo_steering":{"country_pools":{"Germany":["a"]}}}`, `"GERMANY" is not a two-letter country code`},
		{"unknown pool in continent_pools", `{` + pools + `,"geo_steering":{"continent_pools":{"EU":["eu"]}}}`, `continent_pools["EU"] names unknown pool "eu"`},
		{"bad continent", `{` + pools + `,"geo_steering":{"continent_pools":{"Europe":["a"]}}}`, `"EUROPE" is not a continent code`},
		{"unknown pool in region_pools", `{` + pools + `,"region_pools":{"WNAM":["x"]}}`, `region_pools["WNAM"] names unknown pool "x"`},
		{"empty geo list", `{` + pools + `,"geo_steering":{"country_pools":{"DE":[]}}}`, `country_pools["DE"] lists no pools`},
		{"unknown default pool", `{` + pools + `,"default_pools":["c"]}`, `default_pools names unknown pool "c"`},
		{"unknown fallback", `{` + pools + `,"fallback_pool":"c"}`, `fallback_pool names unknown pool "c"`},
		{"contradicting policies", `{` + pools + `,"steering":{"policy":"failover"},"geo_steering":{"policy":"geo"}}`, `contradicts policy "failover"`},
		{"order twice", `{` + pools + `,"steering":{"order":["a"]},"order":["b"]}`, "order is given more than once"},
		{"bad duration", `{` + pools + `,"health_check":{"interval":"soon"}}`, `invalid duration "soon"`},
		{"negative interval", `{` + pools + `,"health_check":{"interval":"-1s"}}`, "interval must be positive"},
		{"timeout over interval", `{` + pools + `,"health_check":{"interval":"1s","timeout":"2s"}}`, "timeout (2s) must not exceed interval (1s)"},
		{"negative threshold", `{` + pools + `,"health_check":{"healthy_threshold":-1}}`, "healthy_threshold must be 1 or more"},
		{"bad path", `{` + pools + `,"health_check":{"path":"health"}}`, "must start with /"},
		{"bad expected status", `{` + pools + `,"health_check":{"expected_status":"9xx"}}`, `"9xx" is not a status`},
		{"bad expected range", `{` + pools + `,"health_check":{"expected_status":"299-200"}}`, `"299-200" is not a status`},
		{"bad trusted proxy", `{` + pools + `,"proxy":{"trusted_proxies":["10.0.0.0/33"]}}`, `"10.0.0.0/33" is not an address or CIDR`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routing.ParseConfig([]byte(tc.json))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestValidateReportsEverything: a Config built in Go is checked the same
// way, and every problem is reported at once.
func TestValidateReportsEverything(t *testing.T) {
	var zero routing.Config
	require.ErrorContains(t, zero.Validate(), "no pools")

	c := routing.Config{
		Pools:    []routing.Pool{{ID: "a", Origins: []routing.OriginConfig{{Address: "http://127.0.0.1:1"}}}, {ID: "b"}},
		Steering: routing.Steering{Policy: routing.PolicyWeighted, Weights: map[string]float64{"a": 0, "c": 1}},
	}
	err := c.Validate()
	require.Error(t, err)
	for _, want := range []string{`pool "b" has no origins`, `weights names unknown pool "c"`, "weights are all zero"} {
		require.Contains(t, err.Error(), want)
	}
	c.Pools[1].Origins = []routing.OriginConfig{{Address: "127.0.0.1:2"}}
	c.Steering.Weights = map[string]float64{"a": 1}
	require.NoError(t, c.Validate())
	require.Empty(t, c.HealthCheck.Path, "Validate leaves the config as it was")

	_, err = routing.NewProxy(&routing.Config{})
	require.ErrorContains(t, err, "no pools")
	_, err = routing.NewRouter(nil)
	require.Error(t, err)
}

// TestContinentOf covers the built-in table.
func TestContinentOf(t *testing.T) {
	for c, want := range map[string]string{"de": "EU", "US": "NA", "BR": "SA", "JP": "AS", "AU": "OC", "ZA": "AF", "AQ": "AN", "GB": "EU", "XX": ""} {
		require.Equal(t, want, routing.ContinentOf(c), c)
	}
}
