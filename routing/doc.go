// Package routing steers traffic between several authhero deployments (clouds,
// regions) the way a Cloudflare load balancer or Route 53 would: pools of
// origins, a steering policy (failover by priority, smooth weighted, or geo
// by country, region and continent), active health probes with hysteresis,
// passive ejection, and a reverse proxy that fails over and retries.
//
// Use a Router for the decision alone (to answer DNS, or inside your own
// server) and a Proxy to run in front of the deployments; `authhero route
// --config routing.json` runs a Proxy.
//
// # Configuration
//
// ParseConfig reads JSON in the shapes of the multi-cloud guide and of a
// Cloudflare load balancer:
//
//	{"pools": [{"id": "primary", "origins": ["http://10.0.0.5:3000"], "enabled": true},
//	           {"id": "standby", "origins": ["https://auth-b.example.com"]}],
//	 "steering": {"policy": "failover", "order": ["primary", "standby"]},
//	 "health_check": {"path": "/health", "interval": "1s", "timeout": "1s",
//	                  "unhealthy_threshold": 2, "healthy_threshold": 2}}
//
//	{"pools": [...], "geo_steering": {"policy": "geo",
//	   "country_pools": {"DE": ["aws-eu-west"]}, "continent_pools": {"NA": ["aws-us-east"]},
//	   "default_pools": ["cloudflare-edge"]}}
//
//	{"pools": [...], "weights": {"cloudflare": 50, "aws-us": 30, "aws-eu": 20}}
//
// A "geo_steering" block with no maps sends everyone to the default pools (the
// pools in listed order), which is failover.
//
// # Health
//
// Every origin is probed with GET on HealthCheck.Path (authhero's /health),
// each probe bounded by Timeout, every Interval. UnhealthyThreshold failed
// probes in a row take an origin down, HealthyThreshold good ones bring it
// back (failback), so a dead origin leaves rotation within
// Interval×UnhealthyThreshold+Timeout. PassiveThreshold connection errors or
// 5xx answers in a row from real traffic take it down at once; the probes
// bring it back. Every change is logged with log/slog and counted in Stats.
//
// # Forwarding
//
// The Proxy streams bodies both ways. It keeps the Host the client sent (so
// tenant subdomains and custom domains resolve on the origin; see
// ProxyConfig.HostHeader) and sets:
//
//   - X-Forwarded-For: the client's own X-Forwarded-For, if any, followed by
//     the address of the peer this proxy saw. The client can write anything
//     into the part it sends, so an origin must read the list from the right
//     and trust only entries added by proxies it knows: configure the
//     address of this proxy as a trusted proxy on the origin (authhero's
//     Options.TrustedProxies) and it takes the last entry as the client.
//   - X-Forwarded-Host: the Host the client sent.
//   - X-Forwarded-Proto: https when the client connected over TLS, else http.
//
// A client's own X-Forwarded-Host and X-Forwarded-Proto are dropped unless
// the peer is one of ProxyConfig.TrustedProxies (a TLS-terminating load
// balancer in front of this proxy). Geo headers such as CF-IPCountry are read
// as sent: they choose a pool, they grant nothing.
//
// # Retries
//
// When the connection to an origin fails, the request is sent once more to
// another healthy origin, chosen by the same policy, before any response
// byte has been written to the client:
//
//   - a failed dial means the origin saw nothing, so any request is retried;
//   - a failure after the request was sent (reset, timeout awaiting headers)
//     is retried only for GET, HEAD, OPTIONS, TRACE or a request without a
//     body;
//   - a request body is retried only if it was at most
//     ProxyConfig.RetryBodyLimit (64 KiB) and so was buffered; larger bodies
//     stream and are never sent twice. A POST with a body is therefore never
//     replayed after an origin may have received it.
//
// An origin that answers, even with a 5xx, has answered: the answer goes to
// the client (and counts toward passive ejection). When no origin is
// healthy the Proxy answers 503 with Retry-After and a JSON body
// {"error":"no_healthy_origin",...}; when the origin cannot be reached and
// no retry is possible, 502 {"error":"bad_gateway",...}. Dials and waits for
// response headers are bounded (ProxyConfig.DialTimeout,
// ResponseHeaderTimeout), so a dead origin never hangs a request.
package routing
