package eventstore

import (
	"github.com/prometheus/client_golang/prometheus"
)

type storeMetrics struct {
	reg                             prometheus.Registerer
	collectors                      []prometheus.Collector
	appended, flushes, compactions  prometheus.Counter
	retentionDeleted, scans         prometheus.Counter
	scannedRecords, scannedBytes    prometheus.Counter
	rowGroupsPruned                 prometheus.Counter
	flushSeconds, compactionSeconds prometheus.Histogram
}

func newStoreMetrics(reg prometheus.Registerer, s *Store) *storeMetrics {
	m := &storeMetrics{reg: reg}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		m.collectors = append(m.collectors, c)
		return c
	}
	hist := func(name, help string) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)})
		m.collectors = append(m.collectors, h)
		return h
	}
	m.appended = counter("mirador_eventstore_appended_records_total", "Records appended to the event store.")
	m.flushes = counter("mirador_eventstore_flushes_total", "Heads written to parts.")
	m.compactions = counter("mirador_eventstore_compactions_total", "Compactions that merged parts.")
	m.retentionDeleted = counter("mirador_eventstore_retention_deleted_parts_total", "Parts deleted because every record in them expired or was deleted.")
	m.scans = counter("mirador_eventstore_scans_total", "Scans run.")
	m.scannedRecords = counter("mirador_eventstore_scanned_records_total", "Records read by scans.")
	m.scannedBytes = counter("mirador_eventstore_scanned_bytes_total", "Uncompressed bytes of the selected columns read by scans.")
	m.rowGroupsPruned = counter("mirador_eventstore_pruned_row_groups_total", "Row groups skipped by time, group, stream, bloom or trace-id pruning.")
	m.flushSeconds = hist("mirador_eventstore_flush_duration_seconds", "Duration of head flushes.")
	m.compactionSeconds = hist("mirador_eventstore_compaction_duration_seconds", "Duration of compactions.")
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mirador_eventstore_head_bytes", Help: "Estimated memory held by the heads."}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return float64(s.total)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mirador_eventstore_parts", Help: "Registered parts."}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return float64(len(s.man.Parts))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mirador_eventstore_part_bytes", Help: "Bytes of registered part files."}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			var n int64
			for _, p := range s.man.Parts {
				n += p.Size
			}
			return float64(n)
		}),
	)
	for _, c := range m.collectors {
		_ = reg.Register(c)
	}
	return m
}

func (m *storeMetrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
