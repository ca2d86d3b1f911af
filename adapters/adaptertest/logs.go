package adaptertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
)

// fullLog returns a log event with every field set.
func fullLog() adapters.Log {
	return adapters.Log{
		LogID: adapters.NewULID(), Type: "s", Date: ms(90 * time.Minute),
		Description: "Successful login ✓", IP: "203.0.113.9", UserAgent: "Mozilla/5.0",
		Details: map[string]any{
			"request":  map[string]any{"method": "POST", "path": "/oauth/token", "query": map[string]any{}, "n": float64(3)},
			"response": map[string]any{"statusCode": float64(200), "body": []any{"a", float64(1), nil, true}},
			"unicode":  "日本語 😀 مرحبا",
		},
		UserID: "auth0|" + adapters.NewID(""), UserName: "alice@example.com", Connection: dbConn,
		ConnectionID: adapters.NewID("con_"), ClientID: adapters.NewID(""), ClientName: "My App",
		Audience: "https://api.example.com", Scope: "openid profile", Strategy: "auth0",
		StrategyType: "database", Hostname: "tenant.example.com",
	}
}

func testLogs(t *testing.T, s *suite) {
	d := s.d
	tn := s.tenant(t)
	create := func(t *testing.T, tenant string, l adapters.Log) *adapters.Log {
		t.Helper()
		got, err := d.Logs.Create(t.Context(), tenant, l)
		require.NoError(t, err)
		return got
	}

	t.Run("create_get", func(t *testing.T) {
		in := fullLog()
		got := create(t, tn, in)
		requireMillisUTC(t, got.Date, "date")
		requireCreated(t, in, got, func() (*adapters.Log, error) { return d.Logs.Get(t.Context(), tn, in.LogID) })
	})
	t.Run("create_fills_id_and_date", func(t *testing.T) {
		in := fullLog()
		in.LogID, in.Date = "", time.Time{}
		before := time.Now()
		got := create(t, tn, in)
		after := time.Now()
		require.NotEmpty(t, got.LogID)
		requireRecent(t, got.Date, before, after, "date")
		fetched, err := d.Logs.Get(t.Context(), tn, got.LogID)
		require.NoError(t, err)
		require.Equal(t, *got, *fetched)
		other := create(t, tn, in)
		require.NotEqual(t, got.LogID, other.LogID)
	})
	t.Run("get_unknown", func(t *testing.T) {
		_, err := d.Logs.Get(t.Context(), tn, adapters.NewULID())
		require.ErrorIs(t, err, adapters.ErrNotFound)
	})
	t.Run("duplicate_id", func(t *testing.T) {
		l := create(t, tn, fullLog())
		dup := fullLog()
		dup.LogID = l.LogID
		_, err := d.Logs.Create(t.Context(), tn, dup)
		require.ErrorIs(t, err, adapters.ErrConflict)
	})

	// 15 logs over eight days, two per date (the same instant).
	lt := s.tenant(t)
	day := 24 * time.Hour
	userA, userB := "auth0|"+adapters.NewID("a"), "auth0|"+adapters.NewID("b")
	var items []item
	var logs []adapters.Log
	for i := range 15 {
		l := adapters.Log{
			LogID: adapters.NewULID(), Type: []string{"s", "f", "ss"}[i%3], Date: ms(time.Duration(i/2) * day),
			Description: fmt.Sprintf("event %02d", i), UserID: []string{userA, userB}[i%2],
			UserName: []string{"Ann Example", "Ben Sample"}[i%2], ClientID: "client-logs",
		}
		got := create(t, lt, l)
		require.Equal(t, l.Date, got.Date)
		logs = append(logs, *got)
		items = append(items, item{got.LogID, got.Date})
	}
	list := func(ctx contextT, p adapters.ListParams) (*adapters.List[adapters.Log], error) {
		return d.Logs.List(ctx, lt, p)
	}
	lid := func(l adapters.Log) string { return l.LogID }
	newestFirst := func(t *testing.T, got []adapters.Log) {
		t.Helper()
		for i := 1; i < len(got); i++ {
			require.False(t, got[i-1].Date.Before(got[i].Date), "logs must list newest first: %v before %v", got[i-1].Date, got[i].Date)
		}
	}
	pick := func(keep func(i int) bool) []string {
		out := []string{}
		for i, l := range logs {
			if keep(i) {
				out = append(out, l.LogID)
			}
		}
		return out
	}

	runPaging(t, paging[adapters.Log]{
		list: list, id: lid, items: items,
		offsetOrder: newestFirst, timeSort: "date",
	})

	t.Run("default_newest_first", func(t *testing.T) {
		res, err := list(t.Context(), adapters.ListParams{})
		require.NoError(t, err)
		require.Len(t, res.Items, 15)
		newestFirst(t, res.Items)
		require.Equal(t, logs[14].Date, res.Items[0].Date)
	})
	t.Run("sort", func(t *testing.T) {
		res, err := list(t.Context(), adapters.ListParams{Sort: "date:1"})
		require.NoError(t, err)
		for i := 1; i < len(res.Items); i++ {
			require.False(t, res.Items[i-1].Date.After(res.Items[i].Date), "sort date:1")
		}
		res, err = list(t.Context(), adapters.ListParams{Sort: "type:1", PerPage: 5})
		require.NoError(t, err)
		for _, l := range res.Items {
			require.Equal(t, "f", l.Type, "sort type:1 puts f first")
		}
		for _, bad := range []string{"description:1", "tenant_id:-1", "date:0"} {
			_, err = list(t.Context(), adapters.ListParams{Sort: bad})
			require.ErrorIs(t, err, adapters.ErrInvalid, "sort %q", bad)
		}
	})
	t.Run("date_range", func(t *testing.T) {
		from, to := time.Date(2021, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2021, 3, 6, 0, 0, 0, 0, time.UTC)
		want := pick(func(i int) bool { return i >= 4 && i <= 9 })
		res, err := list(t.Context(), adapters.ListParams{FromDate: from, ToDate: to, IncludeTotals: true})
		require.NoError(t, err)
		requireExactlyOnce(t, want, keysOf(res.Items, lid), "FromDate/ToDate")
		require.Equal(t, 6, res.Total)
		newestFirst(t, res.Items)
		got := walkCheckpoint(t, list, adapters.ListParams{FromDate: from, ToDate: to}, 4, 6)
		requireExactlyOnce(t, want, keysOf(got, lid), "FromDate/ToDate with checkpoint pages")
		res, err = list(t.Context(), adapters.ListParams{FromDate: from})
		require.NoError(t, err)
		requireExactlyOnce(t, pick(func(i int) bool { return i >= 4 }), keysOf(res.Items, lid), "FromDate only")
		res, err = list(t.Context(), adapters.ListParams{ToDate: to})
		require.NoError(t, err)
		requireExactlyOnce(t, pick(func(i int) bool { return i <= 9 }), keysOf(res.Items, lid), "ToDate only")
	})
	t.Run("search", func(t *testing.T) {
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"type:s", pick(func(i int) bool { return i%3 == 0 })},
			{`user_id:"` + userA + `"`, pick(func(i int) bool { return i%2 == 0 })},
			{`type:s user_id:"` + userA + `"`, pick(func(i int) bool { return i%6 == 0 })},
			{"type:f OR type:ss", pick(func(i int) bool { return i%3 != 0 })},
			{"-type:s", pick(func(i int) bool { return i%3 != 0 })},
			{"date:[2021-03-03 TO 2021-03-06]", pick(func(i int) bool { return i >= 4 && i <= 9 })},
			{"date:>=2021-03-03 date:<2021-03-06", pick(func(i int) bool { return i >= 4 && i <= 9 })},
			{"type:s date:>=2021-03-04", pick(func(i int) bool { return i%3 == 0 && i >= 6 })},
			{"sample", pick(func(i int) bool { return i%2 == 1 })},
			{`"EVENT 0"`, pick(func(i int) bool { return i < 10 })},
			{logs[7].LogID, pick(func(i int) bool { return i == 7 })},
			{"client_id:client-logs", pick(func(int) bool { return true })},
			{"type:nothing", pick(func(int) bool { return false })},
		} {
			res, err := list(t.Context(), adapters.ListParams{Q: c.q, PerPage: adapters.MaxPerPage, IncludeTotals: true})
			require.NoError(t, err, "q %q", c.q)
			requireExactlyOnce(t, c.want, keysOf(res.Items, lid), "q %q", c.q)
			require.Equal(t, len(c.want), res.Total, "q %q: Total must count the matches only", c.q)
		}
		res, err := list(t.Context(), adapters.ListParams{Q: "type:s", PerPage: 2, Page: 1, IncludeTotals: true})
		require.NoError(t, err)
		require.Equal(t, 5, res.Total)
		require.Len(t, res.Items, 2)
		got := walkCheckpoint(t, list, adapters.ListParams{Q: "type:s"}, 2, 5)
		requireExactlyOnce(t, pick(func(i int) bool { return i%3 == 0 }), keysOf(got, lid), "q with checkpoint pages")
	})
	t.Run("search_invalid", func(t *testing.T) {
		for _, c := range []struct{ q, field string }{
			{"tenant_id:" + tn, "tenant_id"},
			{"type:s OR secret:x", "secret"},
			{"_exists_:tenant_id", "tenant_id"},
		} {
			res, err := list(t.Context(), adapters.ListParams{Q: c.q})
			require.ErrorIs(t, err, adapters.ErrInvalid, "q %q", c.q)
			require.Contains(t, err.Error(), c.field, "the error for q %q must name the field", c.q)
			require.Nil(t, res)
		}
	})
}
