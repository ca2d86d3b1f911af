package replication

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestCollectorExportsStats(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(Collector{Relay: &Relay{}, Applier: &Applier{}}))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Equal(t, 3+6+3, n)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP authhero_replication_backlog Change events recorded but not yet published.
# TYPE authhero_replication_backlog gauge
authhero_replication_backlog 0
`), "authhero_replication_backlog"))
}
