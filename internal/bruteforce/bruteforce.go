// Package bruteforce counts failed logins per (tenant, user, IP) and blocks
// the pair after too many, as Auth0's brute-force protection does: 10
// failures from one IP block that IP for that user, never the user from
// other IPs (https://auth0.com/docs/secure/attack-protection/brute-force-protection).
package bruteforce

import (
	"sync"
	"time"
)

// Defaults: 10 failures within the window block the pair for Block.
const (
	DefaultMax    = 10
	DefaultWindow = time.Hour
	DefaultBlock  = 15 * time.Minute
)

// Limiter is the memory of failed attempts. Implementations must be safe for
// concurrent use; a shared store (e.g. Redis) makes the count cluster-wide.
type Limiter interface {
	// Blocked reports whether key is blocked now, and for how long still.
	Blocked(key string) (bool, time.Duration)
	// Fail records a failure and reports whether key is now blocked.
	Fail(key string) bool
	// Reset forgets key's failures (after a successful login).
	Reset(key string)
}

// Key builds the limiter key of a login attempt.
func Key(tenantID, identifier, ip string) string {
	return tenantID + "\x00" + identifier + "\x00" + ip
}

// Memory is an in-process Limiter.
type Memory struct {
	// Max failures within Window block the key for Block; zero values take
	// the defaults.
	Max    int
	Window time.Duration
	Block  time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	fails        int
	first, until time.Time
}

func (m *Memory) cfg() (int, time.Duration, time.Duration, time.Time) {
	max, win, blk := m.Max, m.Window, m.Block
	if max <= 0 {
		max = DefaultMax
	}
	if win <= 0 {
		win = DefaultWindow
	}
	if blk <= 0 {
		blk = DefaultBlock
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	return max, win, blk, now
}

// Blocked implements Limiter.
func (m *Memory) Blocked(key string) (bool, time.Duration) {
	_, _, _, now := m.cfg()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil || !now.Before(e.until) {
		return false, 0
	}
	return true, e.until.Sub(now)
}

// Fail implements Limiter.
func (m *Memory) Fail(key string) bool {
	max, win, blk, now := m.cfg()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]*entry{}
	}
	if len(m.entries) > 100000 {
		m.sweep(now, win)
	}
	e := m.entries[key]
	if e == nil || now.Sub(e.first) > win && !now.Before(e.until) {
		e = &entry{first: now}
		m.entries[key] = e
	}
	e.fails++
	if e.fails >= max {
		e.until = now.Add(blk)
		e.fails, e.first = 0, now
		return true
	}
	return false
}

// Reset implements Limiter.
func (m *Memory) Reset(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
}

func (m *Memory) sweep(now time.Time, win time.Duration) {
	for k, e := range m.entries {
		if now.Sub(e.first) > win && !now.Before(e.until) {
			delete(m.entries, k)
		}
	}
}
