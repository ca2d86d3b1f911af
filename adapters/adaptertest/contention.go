package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// race runs fn n times concurrently, released together, and waits for all
// of them within ctx's deadline (plus a grace period).
func race(t *testing.T, ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(ctx, i)
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	close(start)
	deadline, _ := ctx.Deadline()
	select {
	case <-done:
	case <-time.After(time.Until(deadline) + 10*time.Second):
		t.Fatalf("%d concurrent calls did not return within the deadline", n)
	}
}

// tally counts nil errors and ErrConsumed, and describes any other error.
func tally(errs []error) (ok, consumed int, others []string) {
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, adapters.ErrConsumed):
			consumed++
		default:
			others = append(others, fmt.Sprintf("call %d: %v", i, err))
		}
	}
	return ok, consumed, others
}

func testContention(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)

	t.Run("consume_code", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		c, err := d.Codes.Create(ctx, tn, fullCode())
		require.NoError(t, err)
		const n = 50
		errs := make([]error, n)
		got := make([]*adapters.Code, n)
		now := adapters.Now()
		race(t, ctx, n, func(ctx context.Context, i int) {
			got[i], errs[i] = d.Codes.Consume(ctx, tn, c.CodeType, c.CodeID, now.Add(time.Duration(i)*time.Millisecond))
		})
		ok, consumed, others := tally(errs)
		require.Empty(t, others, "Consume under contention may only succeed or return ErrConsumed")
		require.Equal(t, 1, ok, "exactly one concurrent Consume must succeed")
		require.Equal(t, n-1, consumed, "every other concurrent Consume must get ErrConsumed")
		var winner time.Time
		for i, err := range errs {
			require.NotNil(t, got[i], "call %d returned no code (err %v)", i, err)
			require.Equal(t, c.CodeID, got[i].CodeID)
			if err == nil {
				winner = now.Add(time.Duration(i) * time.Millisecond)
			}
		}
		stored, err := d.Codes.Get(ctx, tn, c.CodeType, c.CodeID)
		require.NoError(t, err)
		require.NotNil(t, stored.UsedAt)
		require.Equal(t, winner, *stored.UsedAt, "used_at must be the winner's time")
	})
	t.Run("rotate_refresh_token", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		old, err := d.RefreshTokens.Create(ctx, tn, fullRefreshToken("auth0|"+adapters.NewID("")))
		require.NoError(t, err)
		const n = 20
		nexts := make([]adapters.RefreshToken, n)
		for i := range nexts {
			nexts[i] = nextToken(old)
		}
		errs := make([]error, n)
		got := make([]*adapters.RefreshToken, n)
		now := adapters.Now()
		race(t, ctx, n, func(ctx context.Context, i int) {
			got[i], errs[i] = d.RefreshTokens.Rotate(ctx, tn, old.ID, nexts[i], now)
		})
		ok, consumed, others := tally(errs)
		require.Empty(t, others, "Rotate under contention may only succeed or return ErrConsumed")
		require.Equal(t, 1, ok, "exactly one concurrent Rotate must succeed")
		require.Equal(t, n-1, consumed, "every other concurrent Rotate must get ErrConsumed")
		winner := -1
		for i, err := range errs {
			if err == nil {
				winner = i
				continue
			}
			require.NotNil(t, got[i], "a losing Rotate must return the old token")
			require.Equal(t, old.ID, got[i].ID)
		}
		var existing []int
		for i, nx := range nexts {
			_, err := d.RefreshTokens.Get(ctx, tn, nx.ID)
			if err == nil {
				existing = append(existing, i)
				continue
			}
			require.ErrorIs(t, err, adapters.ErrNotFound)
			_, err = d.RefreshTokens.GetByLookup(ctx, tn, nx.TokenLookup)
			require.ErrorIs(t, err, adapters.ErrNotFound, "a losing rotation's next token is retrievable by lookup")
		}
		require.Equal(t, []int{winner}, existing, "exactly the winner's next token must exist")
		stored, err := d.RefreshTokens.Get(ctx, tn, old.ID)
		require.NoError(t, err)
		require.Equal(t, nexts[winner].ID, stored.RotatedTo, "rotated_to must name the winner's next token")
	})
}
