package management

import (
	"net/http/httptest"
	"testing"
	"time"

	tr "github.com/stretchr/testify/require"
)

func TestLimiterPerTenant(t *testing.T) {
	now := time.Unix(1000, 0)
	l := &limiter{rate: 1, burst: 3}
	for i := 0; i < 3; i++ {
		ok, _, _ := l.take("a", now)
		tr.True(t, ok)
	}
	ok, left, reset := l.take("a", now)
	tr.False(t, ok)
	tr.Equal(t, 0, left)
	tr.Equal(t, now.Add(3*time.Second), reset)
	ok, _, _ = l.take("b", now)
	tr.True(t, ok, "another tenant has its own bucket")
	ok, _, _ = l.take("a", now.Add(time.Second))
	tr.True(t, ok, "the bucket refills")
}

func TestRateLimitAnswers429(t *testing.T) {
	now := time.Unix(1000, 0)
	s := &Server{limits: &limiter{rate: 1, burst: 1}, Now: func() time.Time { return now }}
	w := httptest.NewRecorder()
	tr.Nil(t, s.rateLimit(w, "a"))
	tr.Equal(t, "1", w.Header().Get("X-RateLimit-Limit"))
	w = httptest.NewRecorder()
	e := s.rateLimit(w, "a")
	tr.NotNil(t, e)
	tr.Equal(t, 429, e.StatusCode)
	tr.Equal(t, "too_many_requests", e.ErrorCode)
	tr.Equal(t, "0", w.Header().Get("X-RateLimit-Remaining"))
	tr.NotEmpty(t, w.Header().Get("Retry-After"))
}
