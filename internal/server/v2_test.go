package server

import (
	"time"

	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// writeV2Request is a one-sample remote-write 2.0 message.
type writeV2Request struct {
	symbols []string
	refs    []uint32
	value   float64
	ts      int64
}

func (r *writeV2Request) marshal() ([]byte, error) {
	return (&writev2.Request{Symbols: r.symbols, Timeseries: []writev2.TimeSeries{{
		LabelsRefs: r.refs,
		Samples:    []writev2.Sample{{Value: r.value, Timestamp: r.ts}},
		Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE},
	}}}).Marshal()
}

func pmetricTimestamp(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }
