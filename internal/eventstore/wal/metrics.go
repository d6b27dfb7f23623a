package wal

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// walMetrics are the WAL's self-monitoring series. They exist even without a
// Registerer, so the code that updates them has no nil checks.
type walMetrics struct {
	reg        prometheus.Registerer
	registered []prometheus.Collector

	appends, bytes, fsyncs, corrupt prometheus.Counter
	fsyncSeconds, batchRecords      prometheus.Histogram
	segments, failed                prometheus.Gauge
}

func newMetrics() walMetrics {
	return walMetrics{
		appends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mirador_eventstore_wal_appends_total",
			Help: "Records acknowledged by the event store WAL.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mirador_eventstore_wal_written_bytes_total",
			Help: "Bytes written to event store WAL segments, record headers included.",
		}),
		fsyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mirador_eventstore_wal_fsyncs_total",
			Help: "fsync calls on event store WAL segments.",
		}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mirador_eventstore_wal_corrupt_records_total",
			Help: "Torn or corrupt records found by WAL replay; each ends the replay of its segment.",
		}),
		fsyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mirador_eventstore_wal_fsync_duration_seconds",
			Help:    "Duration of fsync calls on event store WAL segments.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs … 3.3s
		}),
		batchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mirador_eventstore_wal_group_commit_records",
			Help:    "Records written by one group commit (one write and, with fsync=always, one fsync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 … 2048
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mirador_eventstore_wal_segments",
			Help: "Event store WAL segment files on disk.",
		}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mirador_eventstore_wal_failed",
			Help: "1 once a write or fsync of the event store WAL failed and it refuses appends; the process must restart.",
		}),
	}
}

// register adds the metrics to reg. A nil reg registers nothing.
func (m *walMetrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	m.reg = reg
	for _, c := range []prometheus.Collector{m.appends, m.bytes, m.fsyncs, m.corrupt, m.fsyncSeconds, m.batchRecords, m.segments, m.failed} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return fmt.Errorf("register WAL metrics (is another WAL open with the same Registerer? close it or give each WAL its own): %w", err)
		}
		m.registered = append(m.registered, c)
	}
	return nil
}

// unregister removes what register added, so a WAL can be reopened with the
// same Registerer after Close.
func (m *walMetrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
