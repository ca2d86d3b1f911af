package adaptertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// testUserLists runs the pagination and sort contract on 15 users of a fresh
// tenant, three of them per creation time.
func testUserLists(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	times := tieTimes(ms(0), 15)
	var items []item
	var emails []string
	for i, at := range times {
		id := adapters.NewID("")
		email := fmt.Sprintf("%c-%s@example.com", 'a'+(i*7)%15, id)
		u, err := d.Users.Create(t.Context(), tn, adapters.User{
			UserID: "auth0|" + id, Email: email, Name: fmt.Sprintf("List User %02d", i),
			Provider: "auth0", Connection: dbConn, LoginsCount: i, CreatedAt: at, UpdatedAt: at,
		})
		require.NoError(t, err)
		require.Equal(t, at, u.CreatedAt, "a caller-provided created_at must be kept")
		items = append(items, item{u.UserID, at})
		emails = append(emails, email)
	}
	list := func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.User], error) {
		return d.Users.List(ctx, tn, p)
	}
	uid := func(u adapters.User) string { return u.UserID }

	runPaging(t, paging[adapters.User]{
		list: list, id: uid, items: items,
		checkpointDesc: ptr(false), timeSort: "created_at",
	})

	t.Run("offset_sort_created_at", func(t *testing.T) {
		for _, c := range []struct {
			sort string
			desc bool
		}{{"created_at:1", false}, {"created_at:-1", true}, {"created_at", false}} {
			res, err := list(t.Context(), adapters.ListParams{Sort: c.sort, PerPage: adapters.MaxPerPage})
			require.NoError(t, err, c.sort)
			require.Len(t, res.Items, len(items))
			for i := 1; i < len(res.Items); i++ {
				a, b := res.Items[i-1].CreatedAt, res.Items[i].CreatedAt
				if c.desc {
					require.False(t, a.Before(b), "sort %s: %v before %v", c.sort, a, b)
				} else {
					require.False(t, a.After(b), "sort %s: %v after %v", c.sort, a, b)
				}
			}
			full := keysOf(res.Items, uid)
			got := keysOf(walkOffset(t, list, adapters.ListParams{Sort: c.sort}, 4, len(items)), uid)
			require.Equal(t, full, got, "sort %s: pages of 4 differ from one page", c.sort)
		}
	})
	t.Run("sort_email", func(t *testing.T) {
		asc := slices.Clone(emails)
		slices.Sort(asc)
		desc := slices.Clone(asc)
		slices.Reverse(desc)
		email := func(u adapters.User) string { return u.Email }
		for _, c := range []struct {
			sort string
			want []string
		}{{"email:1", asc}, {"email:-1", desc}, {"email", asc}} {
			res, err := list(t.Context(), adapters.ListParams{Sort: c.sort, PerPage: adapters.MaxPerPage})
			require.NoError(t, err, c.sort)
			require.Equal(t, c.want, keysOf(res.Items, email), "sort %s", c.sort)
			got := keysOf(walkOffset(t, list, adapters.ListParams{Sort: c.sort}, 4, len(items)), email)
			require.Equal(t, c.want, got, "sort %s, pages of 4", c.sort)
		}
	})
	t.Run("sort_logins_count", func(t *testing.T) {
		res, err := list(t.Context(), adapters.ListParams{Sort: "logins_count:-1", PerPage: 5})
		require.NoError(t, err)
		require.Equal(t, []int{14, 13, 12, 11, 10}, keysOfInt(res.Items, func(u adapters.User) int { return u.LoginsCount }))
	})
	t.Run("sort_invalid", func(t *testing.T) {
		for _, sort := range []string{"password:1", "tenant_id:1", "app_metadata:1", "email:2", "email:asc", "nope", "email;DROP TABLE users:1"} {
			res, err := list(t.Context(), adapters.ListParams{Sort: sort})
			require.ErrorIs(t, err, adapters.ErrInvalid, "sort %q must be ErrInvalid (got %v)", sort, res)
		}
		_, err := list(t.Context(), adapters.ListParams{Sort: "email:1", Take: 5})
		require.ErrorIs(t, err, adapters.ErrInvalid, "checkpoint pagination sorts by created_at only")
	})
	t.Run("date_range", func(t *testing.T) {
		from, to := ms(1500*time.Millisecond), ms(3500*time.Millisecond)
		var want []string
		for _, it := range items {
			if it.at.After(from) && it.at.Before(to) {
				want = append(want, it.id)
			}
		}
		require.Len(t, want, 6)
		res, err := list(t.Context(), adapters.ListParams{FromDate: from, ToDate: to, PerPage: adapters.MaxPerPage, IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, uid), "FromDate/ToDate")
		require.Equal(t, 6, res.Total)
		got := keysOf(walkCheckpoint(t, list, adapters.ListParams{FromDate: from, ToDate: to}, 4, 6), uid)
		require.Equal(t, checkpointOrder(filterItems(items, want), false), got, "FromDate/ToDate with checkpoint pages")
	})
	t.Run("empty_tenant", func(t *testing.T) {
		empty := s.tenant(t)
		res, err := d.Users.List(t.Context(), empty, adapters.ListParams{IncludeTotals: true})
		require.NoError(t, err)
		require.NotNil(t, res.Items, "Items must be non-nil when empty")
		require.Empty(t, res.Items)
		require.Equal(t, 0, res.Total)
		res, err = d.Users.List(t.Context(), empty, adapters.ListParams{Take: 10})
		require.NoError(t, err)
		require.NotNil(t, res.Items)
		require.Empty(t, res.Items)
		require.Empty(t, res.Next)
	})
}

// keysOfInt maps items to an int field.
func keysOfInt[T any](items []T, key func(T) int) []int {
	out := make([]int, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

// filterItems keeps the items whose id is in ids.
func filterItems(items []item, ids []string) []item {
	var out []item
	for _, it := range items {
		if slices.Contains(ids, it.id) {
			out = append(out, it)
		}
	}
	return out
}
