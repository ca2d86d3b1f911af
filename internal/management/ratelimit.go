package management

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per tenant: Auth0 rate-limits the Management
// API per tenant and answers 429 with X-RateLimit-* headers
// (https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/management-api-endpoint-rate-limits).
// The count is per instance.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	mu    sync.Mutex
	b     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one token of tenantID's bucket. It reports whether the request
// may proceed, the tokens left and when the bucket is full again.
func (l *limiter) take(tenantID string, now time.Time) (ok bool, left int, reset time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b == nil {
		l.b = map[string]*bucket{}
	}
	b := l.b[tenantID]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.b[tenantID] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	reset = now.Add(time.Duration((l.burst - b.tokens) / l.rate * float64(time.Second)))
	return ok, int(b.tokens), reset
}

// rateLimit applies the tenant's bucket, setting Auth0's headers; it returns
// the 429 error when the bucket is empty.
func (s *Server) rateLimit(w http.ResponseWriter, tenantID string) *apiError {
	if s.limits == nil {
		return nil
	}
	ok, left, reset := s.limits.take(tenantID, s.now())
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(s.limits.burst)))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if ok {
		return nil
	}
	h.Set("Retry-After", strconv.Itoa(max(1, int(time.Until(reset).Seconds()))))
	return newErr(http.StatusTooManyRequests, "too_many_requests", "Global limit has been reached")
}
