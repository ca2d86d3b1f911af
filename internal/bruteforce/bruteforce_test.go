package bruteforce

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBlocksThePairOnly(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &Memory{Now: func() time.Time { return now }}
	k := Key("t", "ann@x", "1.1.1.1")
	for i := 1; i < DefaultMax; i++ {
		require.False(t, m.Fail(k), "attempt %d", i)
	}
	require.True(t, m.Fail(k))
	b, left := m.Blocked(k)
	require.True(t, b)
	require.Equal(t, DefaultBlock, left)
	other, _ := m.Blocked(Key("t", "ann@x", "2.2.2.2"))
	require.False(t, other, "the real user on another IP is not locked out")
	otherTenant, _ := m.Blocked(Key("u", "ann@x", "1.1.1.1"))
	require.False(t, otherTenant)
	now = now.Add(DefaultBlock)
	b, _ = m.Blocked(k)
	require.False(t, b, "the block ends")
}

func TestResetAndWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &Memory{Max: 3, Window: time.Minute, Now: func() time.Time { return now }}
	k := Key("t", "u", "ip")
	m.Fail(k)
	m.Fail(k)
	m.Reset(k)
	require.False(t, m.Fail(k), "a success resets the count")
	now = now.Add(2 * time.Minute)
	m.Fail(k)
	require.False(t, m.Fail(k), "failures outside the window are forgotten")
	require.True(t, m.Fail(k))
}
