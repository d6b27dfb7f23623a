package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// ingestWindow is the ingest figures over part of the backfill.
type ingestWindow struct {
	Name                 string                   `json:"name"`
	Samples              int64                    `json:"samples"`
	Requests             int                      `json:"requests"`
	WallSeconds          float64                  `json:"wall_seconds"`
	SamplesPerSecond     float64                  `json:"samples_per_second"`
	ServerCPUSeconds     float64                  `json:"server_cpu_seconds"`
	SamplesPerCoreSecond float64                  `json:"samples_per_server_cpu_second"`
	ServerCoresBusy      float64                  `json:"server_cores_busy"`
	DriverCPUSeconds     float64                  `json:"driver_cpu_seconds"`
	Latency              benchproc.LatencySummary `json:"request_latency"`
}

func newWindow(name string, from, to benchproc.Snapshot, samples int64, lat []time.Duration) ingestWindow {
	w := ingestWindow{
		Name: name, Samples: samples, Requests: len(lat),
		WallSeconds:      to.Wall.Sub(from.Wall).Seconds(),
		ServerCPUSeconds: (to.ServerCPU - from.ServerCPU).Seconds(),
		DriverCPUSeconds: (to.DriverCPU - from.DriverCPU).Seconds(),
		Latency:          benchproc.Summarize(lat),
	}
	if w.WallSeconds > 0 {
		w.SamplesPerSecond = float64(samples) / w.WallSeconds
		w.ServerCoresBusy = w.ServerCPUSeconds / w.WallSeconds
	}
	if w.ServerCPUSeconds > 0 {
		w.SamplesPerCoreSecond = float64(samples) / w.ServerCPUSeconds
	}
	return w
}

// diskResult is phase 1's storage figures.
type diskResult struct {
	Blocks              []blockInfo `json:"blocks"`
	BlockBytes          int64       `json:"block_bytes"`
	BlockSamples        int64       `json:"block_samples"`
	BytesPerSample      float64     `json:"bytes_per_sample"`
	ChunkBytesPerSample float64     `json:"chunk_bytes_per_sample"`
	IndexBytesPerSample float64     `json:"index_bytes_per_sample"`
	WALBytes            int64       `json:"wal_bytes"`
	HeadChunkBytes      int64       `json:"chunks_head_bytes"`
	// The WAL at the checkpoint, before any truncation: it then holds every
	// sample written so far.
	WALBytesAtCheckpoint     int64   `json:"wal_bytes_at_checkpoint"`
	WALBytesPerSampleWritten float64 `json:"wal_bytes_per_sample_at_checkpoint"`
	WaitSeconds              float64 `json:"compaction_wait_seconds"`
	WaitServerCPUSeconds     float64 `json:"compaction_wait_server_cpu_seconds"`
	Complete                 bool    `json:"complete"`
	// ByMetric splits the blocks' chunk data by metric name.
	ByMetric []metricChunks `json:"chunks_by_metric,omitempty"`
	// The TSDB's log of its background work: blocks written, WAL
	// checkpoints, head garbage collections, with their durations.
	CompactionLog []string `json:"compaction_log,omitempty"`
}

func newDiskResult(d tsdbDisk) diskResult {
	r := diskResult{Blocks: d.Blocks, WALBytes: d.WALBytes, HeadChunkBytes: d.HeadChunkBytes}
	var chunks, index int64
	for _, b := range d.Blocks {
		r.BlockBytes += b.Bytes
		r.BlockSamples += b.Samples
		chunks += b.ChunkBytes
		index += b.IndexBytes
	}
	if r.BlockSamples > 0 {
		n := float64(r.BlockSamples)
		r.BytesPerSample = float64(r.BlockBytes) / n
		r.ChunkBytesPerSample = float64(chunks) / n
		r.IndexBytesPerSample = float64(index) / n
	}
	return r
}

// report is everything one run measured.
type report struct {
	Date     time.Time         `json:"date"`
	Revision string            `json:"revision,omitempty"`
	Command  string            `json:"command"`
	Machine  benchproc.Machine `json:"machine"`
	Workload struct {
		Series          int     `json:"series"`
		LabelsPerSeries int     `json:"labels_per_series"`
		MetricNames     int     `json:"metric_names"`
		HistorySeconds  float64 `json:"history_seconds"`
		IntervalSeconds float64 `json:"interval_seconds"`
		Scrapes         int     `json:"samples_per_series"`
		Samples         int64   `json:"samples"`
		BatchSamples    int     `json:"samples_per_request"`
		Senders         int     `json:"senders"`
	} `json:"workload"`
	Ingest             []ingestWindow     `json:"ingest"`
	ServerMemoryIngest benchproc.Memory   `json:"server_memory_after_ingest"`
	StoredSamples      int64              `json:"stored_samples_read_back"`
	Disk               diskResult         `json:"disk"`
	Query              *queryResult       `json:"query,omitempty"`
	Profile            *benchproc.Profile `json:"profile,omitempty"`
	Notes              []string           `json:"notes,omitempty"`
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write --json file: %w", err)
	}
	return nil
}

// writeText prints the report as tables.
func (r *report) writeText(out io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format, a...) }
	w := r.Workload
	p("Mirador remote-write benchmark, %s", r.Date.UTC().Format("2006-01-02 15:04 MST"))
	if r.Revision != "" {
		p(", revision %s", r.Revision)
	}
	p("\nmachine: %d CPUs (%s), %s memory, Linux %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, benchproc.BytesText(r.Machine.MemoryBytes), r.Machine.Kernel, r.Machine.GoVersion)
	p("workload: %d series × %d labels (%d metric names), %s of history at %s = %d samples/series, %s samples;\n          %d samples per request, %d concurrent senders, loopback\n\n",
		w.Series, w.LabelsPerSeries, w.MetricNames, benchproc.SecondsText(w.HistorySeconds), benchproc.SecondsText(w.IntervalSeconds), w.Scrapes, benchproc.CountText(w.Samples), w.BatchSamples, w.Senders)

	p("Ingest (remote write 1.0, backfill in time order)\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\tsamples\twall s\tsamples/s\tserver CPU s\tsamples/s/core\tserver cores\tdriver CPU s\treq p50 ms\treq p99 ms\treq max ms\t")
	for _, x := range r.Ingest {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%.1f\t%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", x.Name, benchproc.CountText(x.Samples), x.WallSeconds,
			benchproc.CountText(int64(x.SamplesPerSecond)), x.ServerCPUSeconds, benchproc.CountText(int64(x.SamplesPerCoreSecond)), x.ServerCoresBusy,
			x.DriverCPUSeconds, x.Latency.P50ms, x.Latency.P99ms, x.Latency.MaxMs)
	}
	tw.Flush()
	p("server memory after ingest: RSS %s (peak %s); samples read back: %s of %s\n\n",
		benchproc.BytesText(r.ServerMemoryIngest.RSSBytes), benchproc.BytesText(r.ServerMemoryIngest.PeakRSSBytes), benchproc.CountText(r.StoredSamples), benchproc.CountText(w.Samples))

	d := r.Disk
	p("Disk after head compaction")
	if !d.Complete {
		p(" (INCOMPLETE: compaction did not finish in time)")
	}
	p(": waited %.1f s, server CPU %.1f s\n", d.WaitSeconds, d.WaitServerCPUSeconds)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "block\tfrom\tto\tlevel\tseries\tsamples\tchunks\tsize\tbytes/sample\tchunks B/sample\tindex B/sample\t")
	for _, b := range d.Blocks {
		n := float64(max(b.Samples, 1))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%.3f\t%.3f\t%.3f\t\n", b.ULID, msTime(b.MinTimeMs), msTime(b.MaxTimeMs), b.Level, b.Series,
			benchproc.CountText(b.Samples), b.Chunks, benchproc.BytesText(b.Bytes), float64(b.Bytes)/n, float64(b.ChunkBytes)/n, float64(b.IndexBytes)/n)
	}
	fmt.Fprintf(tw, "all blocks\t\t\t\t\t%s\t\t%s\t%.3f\t%.3f\t%.3f\t\n", benchproc.CountText(d.BlockSamples), benchproc.BytesText(d.BlockBytes), d.BytesPerSample, d.ChunkBytesPerSample, d.IndexBytesPerSample)
	tw.Flush()
	if len(d.ByMetric) > 0 {
		kinds := map[string][2]int64{}
		for _, m := range d.ByMetric {
			k := kinds[m.Kind]
			kinds[m.Kind] = [2]int64{k[0] + m.ChunkBytes, k[1] + m.Samples}
		}
		p("chunk data bytes/sample by kind (XOR-encoded chunks only):")
		for _, k := range []string{"counter", "gauge", "constant"} {
			if v, ok := kinds[k]; ok {
				p(" %ss %.3f", k, float64(v[0])/float64(max(v[1], 1)))
			}
		}
		p("\n  by metric:")
		for i, m := range d.ByMetric {
			if i%4 == 0 {
				p("\n  ")
			}
			p(" %-30s %.2f", strings.TrimPrefix(m.Metric, "bench_"), m.BytesPerSample)
		}
		p("\n")
	}
	for _, l := range d.CompactionLog {
		if i := strings.Index(l, "msg="); i >= 0 {
			l = l[i:]
		}
		p("  server log: %s\n", l)
	}
	p("WAL: %s now (after truncation), %s at the checkpoint = %.3f bytes per sample written; chunks_head: %s\n\n",
		benchproc.BytesText(d.WALBytes), benchproc.BytesText(d.WALBytesAtCheckpoint), d.WALBytesPerSampleWritten, benchproc.BytesText(d.HeadChunkBytes))

	if q := r.Query; q != nil {
		p("Query: %s\n  range %s to %s, step %s; %d series touched, %s samples read (totalQueryableSamples), peak %s;\n  %d result series × %d points\n",
			q.Query, q.Start.UTC().Format(time.TimeOnly), q.End.UTC().Format(time.TimeOnly), benchproc.SecondsText(q.StepSeconds), q.SeriesTouched,
			benchproc.CountText(q.QueryableSamples), benchproc.CountText(q.PeakSamples), q.ResultSeries, q.PointsPerSeries)
		p("  %d runs after %d warm-up: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, mean %.1f ms; server CPU %.3f s per query\n",
			q.Latency.Count, q.Warmup, q.Latency.P50ms, q.Latency.P90ms, q.Latency.P99ms, q.Latency.MaxMs, q.Latency.Mean, q.ServerCPUPerQuery)
		p("  server memory after queries: RSS %s (peak %s)\n\n", benchproc.BytesText(q.ServerMemoryAfter.RSSBytes), benchproc.BytesText(q.ServerMemoryAfter.PeakRSSBytes))
	}
	if r.Profile != nil {
		r.Profile.WriteText(out, "first "+benchproc.SecondsText(r.Profile.Seconds)+" of the backfill")
	}
	for _, n := range r.Notes {
		p("note: %s\n", n)
	}
}

func msTime(t int64) string { return time.UnixMilli(t).UTC().Format("15:04:05") }
