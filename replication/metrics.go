package replication

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports a relay's backlog and an applier's outcomes and lag as
// Prometheus metrics. Either may be nil. Register it on a registry of your
// own (authhero sync serves one on METRICS_ADDR).
type Collector struct {
	Relay   *Relay
	Applier *Applier
}

var (
	backlogDesc   = prometheus.NewDesc("authhero_replication_backlog", "Change events recorded but not yet published.", nil, nil)
	publishedDesc = prometheus.NewDesc("authhero_replication_published_total", "Change events published and marked sent.", nil, nil)
	failuresDesc  = prometheus.NewDesc("authhero_replication_publish_failures_total", "Failed publish passes.", nil, nil)
	appliedDesc   = prometheus.NewDesc("authhero_replication_events_total", "Change events received by the applier, by outcome.", []string{"outcome"}, nil)
	lagDesc       = prometheus.NewDesc("authhero_replication_lag_seconds", "Replication lag (apply time minus record time) over the last 4096 events.", []string{"quantile"}, nil)
)

// Describe implements prometheus.Collector.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backlogDesc, publishedDesc, failuresDesc, appliedDesc, lagDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	if c.Relay != nil {
		s := c.Relay.Stats()
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(s.Backlog))
		ch <- prometheus.MustNewConstMetric(publishedDesc, prometheus.CounterValue, float64(s.Published))
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(s.Failures))
	}
	if c.Applier != nil {
		s := c.Applier.Stats()
		for outcome, n := range map[string]uint64{"applied": s.Applied, "duplicate": s.Duplicates, "stale": s.Stale,
			"skipped": s.Skipped, "dead_letter": s.DeadLettered, "failed": s.Failed} {
			ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.CounterValue, float64(n), outcome)
		}
		for q, d := range map[string]float64{"0.5": s.LagP50.Seconds(), "0.99": s.LagP99.Seconds(), "1": s.LagMax.Seconds()} {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, d, q)
		}
	}
}
