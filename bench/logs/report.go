package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// The aims the figures are held against.
const (
	aimRecordsPerCore = 250_000
	aimCompression    = 12.0
	aimNeedleMs       = 300.0
	aimStatsMs        = 1000.0
	aimRSSBytes       = 1 << 30
)

// report is everything one run measured.
type report struct {
	Date        time.Time         `json:"date"`
	Revision    string            `json:"revision,omitempty"`
	Command     string            `json:"command"`
	Machine     benchproc.Machine `json:"machine"`
	Options     options           `json:"options"`
	ServerArgs  []string          `json:"server_args"`
	Workload    workloadInfo      `json:"workload"`
	Ingest      []phaseResult     `json:"ingest"`
	Flush       flushWait         `json:"flush"`
	Disk        diskResult        `json:"disk"`
	QueryRange  [2]time.Time      `json:"query_range"`
	QueryGroups []string          `json:"query_log_groups"`
	Queries     []querySeries     `json:"queries"`
	Aims        []aim             `json:"aims"`
	Notes       []string          `json:"notes,omitempty"`
}

func (r *report) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// workloadInfo describes the generated records and how they were sent.
type workloadInfo struct {
	Records       int64     `json:"records"`
	NDJSONRecords int64     `json:"ndjson_records"`
	OTLPRecords   int64     `json:"otlp_records"`
	Services      []string  `json:"services"`
	Streams       int       `json:"streams"`
	Templates     int       `json:"templates"`
	LogRate       float64   `json:"log_rate"`
	First         time.Time `json:"first"`
	Last          time.Time `json:"last"`
	Needles       int       `json:"needles"`
	NeedleEvery   int64     `json:"needle_every"`
	AvgLineBytes  float64   `json:"avg_ndjson_line_bytes"`
	Seed          uint64    `json:"seed"`
	Batch         int       `json:"batch"`
	Senders       int       `json:"senders"`
	Gzip          bool      `json:"gzip"`
	Pregeneration string    `json:"pregeneration"`
}

// phaseResult is one ingest phase's figures.
type phaseResult struct {
	Name        string `json:"name"`
	Protocol    string `json:"protocol"`
	FirstRecord int64  `json:"first_record"`
	Records     int64  `json:"records"`
	ingestOutcome
	Pregenerated         bool                     `json:"pregenerated"`
	GenerationSeconds    float64                  `json:"generation_seconds,omitempty"`
	GenerationCPUSeconds float64                  `json:"generation_driver_cpu_seconds,omitempty"`
	WallSeconds          float64                  `json:"wall_seconds"`
	ServerCPUSeconds     float64                  `json:"server_cpu_seconds"`
	DriverCPUSeconds     float64                  `json:"driver_cpu_seconds"`
	RecordsPerSecond     float64                  `json:"records_per_second"`
	RecordsPerCoreSecond float64                  `json:"records_per_server_cpu_second"`
	RawBytesPerCoreSec   float64                  `json:"raw_bytes_per_server_cpu_second"`
	ServerCores          float64                  `json:"server_cores_busy"`
	Latency              benchproc.LatencySummary `json:"request_latency"`
	Memory               benchproc.Memory         `json:"server_memory"`
	PeakIsPhase          bool                     `json:"peak_is_phase"` // else since the server started
	Profile              *benchproc.Profile       `json:"profile,omitempty"`
}

// finish computes the rates from the clocks at the start and end.
func (p *phaseResult) finish(start, end benchproc.Snapshot) {
	wall, srv, drv := end.Since(start)
	p.WallSeconds, p.ServerCPUSeconds, p.DriverCPUSeconds = wall.Seconds(), srv.Seconds(), drv.Seconds()
	p.Latency = benchproc.Summarize(p.latencies)
	if p.WallSeconds > 0 {
		p.RecordsPerSecond = float64(p.Records) / p.WallSeconds
		p.ServerCores = p.ServerCPUSeconds / p.WallSeconds
	}
	if p.ServerCPUSeconds > 0 {
		p.RecordsPerCoreSecond = float64(p.Records) / p.ServerCPUSeconds
		p.RawBytesPerCoreSec = float64(p.RawBytes) / p.ServerCPUSeconds
	}
}

// diskResult is phase 3's figures: the event store's directory against
// the NDJSON the records make.
type diskResult struct {
	diskUsage
	Records            int64   `json:"records"`
	RawBytes           int64   `json:"raw_ndjson_bytes"`
	BytesPerRecord     float64 `json:"bytes_per_record"`
	Compression        float64 `json:"compression_ratio"`
	PartBytesPerRecord float64 `json:"part_bytes_per_record"`
	PartCompression    float64 `json:"part_compression_ratio"`
}

func newDiskResult(d diskUsage, phases []phaseResult, records int64) diskResult {
	r := diskResult{diskUsage: d, Records: records}
	var raw, sent int64
	for _, p := range phases {
		raw += p.RawBytes
		sent += p.Records
	}
	// Rejected records are not on disk; count their share out.
	if sent > 0 {
		r.RawBytes = int64(float64(raw) * float64(records) / float64(sent))
	}
	if records > 0 {
		r.BytesPerRecord = float64(d.TotalBytes) / float64(records)
		r.PartBytesPerRecord = float64(d.PartBytes) / float64(records)
	}
	if d.TotalBytes > 0 {
		r.Compression = float64(r.RawBytes) / float64(d.TotalBytes)
	}
	if d.PartBytes > 0 {
		r.PartCompression = float64(r.RawBytes) / float64(d.PartBytes)
	}
	return r
}

// querySeries is one query's cold run and warm runs.
type querySeries struct {
	Name                  string                   `json:"name"`
	Query                 string                   `json:"query"`
	Start                 coldStart                `json:"cold_start"`
	Cold                  queryRun                 `json:"cold"`
	ColdMemory            benchproc.Memory         `json:"cold_server_memory"`
	Warm                  []queryRun               `json:"warm"`
	WarmLatency           benchproc.LatencySummary `json:"warm_latency"`
	WarmOK                bool                     `json:"warm_all_correct"`
	WarmServerCPUPerQuery float64                  `json:"warm_server_cpu_seconds_per_query"`
	WarmMemory            benchproc.Memory         `json:"warm_server_memory"`
	check                 func(queryResponse) checkResult
}

// coldStart is how a server started for a cold query.
type coldStart struct {
	DataBytes        int64            `json:"data_bytes"`
	ResidentBefore   int64            `json:"page_cache_before_eviction"`
	ResidentAfter    int64            `json:"page_cache_after_eviction"`
	EvictError       string           `json:"evict_error,omitempty"`
	ReadySeconds     float64          `json:"ready_seconds"`
	ServerCPUAtReady float64          `json:"server_cpu_seconds_at_ready"`
	MemoryAtReady    benchproc.Memory `json:"server_memory_at_ready"`
}

// queryRun is one run of a query.
type queryRun struct {
	LatencyMs      float64     `json:"latency_ms"`
	ServerMs       int64       `json:"server_duration_ms"`
	RecordsScanned int64       `json:"records_scanned"`
	BytesScanned   int64       `json:"bytes_scanned"`
	Rows           int         `json:"rows"`
	Status         string      `json:"status"`
	Check          checkResult `json:"check"`
}

func newQueryRun(r queryResponse, took time.Duration, c checkResult) queryRun {
	return queryRun{
		LatencyMs: benchproc.Ms(took), ServerMs: r.Stats.DurationMs, RecordsScanned: r.Stats.RecordsScanned,
		BytesScanned: r.Stats.BytesScanned, Rows: len(r.Rows), Status: r.Status, Check: c,
	}
}

// aim is one target and whether the run met it.
type aim struct {
	What     string `json:"what"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// evaluate holds the figures against the aims and the correctness checks.
func (r *report) evaluate() {
	r.Aims = nil
	for _, p := range r.Ingest {
		r.Aims = append(r.Aims, aim{
			What:     "ingest over " + p.Protocol + ", records/s per server core",
			Target:   "≥ " + benchproc.CountText(aimRecordsPerCore),
			Measured: benchproc.CountText(int64(p.RecordsPerCoreSecond)),
			Met:      p.RecordsPerCoreSecond >= aimRecordsPerCore,
		})
	}
	r.Aims = append(r.Aims, aim{
		What:     "compression against the raw NDJSON (all of events/ after flush)",
		Target:   fmt.Sprintf("≥ %.0f×", aimCompression),
		Measured: fmt.Sprintf("%.1f× (%.1f bytes/record)", r.Disk.Compression, r.Disk.BytesPerRecord),
		Met:      r.Disk.Compression >= aimCompression,
	})
	limits := map[string]float64{needleQuery: aimNeedleMs, statsQuery: aimStatsMs}
	for _, q := range r.Queries {
		limit := limits[q.Query]
		for _, x := range []struct {
			name string
			ms   float64
		}{{"median", q.WarmLatency.P50ms}, {"p99", q.WarmLatency.P99ms}} {
			r.Aims = append(r.Aims, aim{
				What:     fmt.Sprintf("%s, warm %s latency", q.Name, x.name),
				Target:   fmt.Sprintf("< %s", msText(limit)),
				Measured: msText(x.ms),
				Met:      x.ms < limit,
			})
		}
		correct := q.Cold.Check.OK && q.WarmOK
		r.Aims = append(r.Aims, aim{
			What:     q.Name + " returns exactly what was ingested",
			Target:   "every run",
			Measured: q.Cold.Check.Summary,
			Met:      correct,
		})
	}
	peak := r.peakRSS()
	r.Aims = append(r.Aims, aim{
		What:     "server peak RSS, all phases",
		Target:   "< " + benchproc.BytesText(aimRSSBytes),
		Measured: benchproc.BytesText(peak),
		Met:      peak < aimRSSBytes,
	})
}

// peakRSS is the highest peak RSS any phase saw.
func (r *report) peakRSS() int64 {
	var peak int64
	for _, p := range r.Ingest {
		peak = max(peak, p.Memory.PeakRSSBytes)
	}
	peak = max(peak, r.Flush.Memory.PeakRSSBytes)
	for _, q := range r.Queries {
		peak = max(peak, q.Start.MemoryAtReady.PeakRSSBytes, q.ColdMemory.PeakRSSBytes, q.WarmMemory.PeakRSSBytes)
	}
	return peak
}

func msText(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// write prints the report to stdout, saves it as Markdown to path and,
// if jsonPath is set, as JSON.
func (r *report) write(path, jsonPath string) error {
	var b bytes.Buffer
	r.writeMarkdown(&b)
	if _, err := os.Stdout.Write(b.Bytes()); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	fmt.Fprintf(os.Stderr, "report written to %s\n", path)
	if jsonPath == "" {
		return nil
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath, append(j, '\n'), 0o644); err != nil {
		return fmt.Errorf("write --json file: %w", err)
	}
	return nil
}

// writeMarkdown renders the report for people: stdout and REPORT.md.
func (r *report) writeMarkdown(out io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format, a...) }
	count := benchproc.CountText
	size := benchproc.BytesText
	w := r.Workload
	m := r.Machine

	p("# Mirador logs benchmark\n\n")
	p("Measured %s", r.Date.UTC().Format("2006-01-02 15:04 MST"))
	if r.Revision != "" {
		p(" at revision `%s`", r.Revision)
	}
	p(" with `%s`, on %d CPUs (%s), %s memory, Linux %s, %s. ", strings.TrimSpace(r.Command), m.CPUs, m.CPUModel, size(m.MemoryBytes), m.Kernel, m.GoVersion)
	if r.Options.Binary != "" {
		p("The server is the binary given with `--binary`, not necessarily built at that revision. ")
	} else {
		p("The server was built from the checkout. ")
	}
	p("The driver (`bench/logs`) runs the server as a child process and talks to it over loopback; it shares the machine's cores with it.\n\n")

	p("## Aims\n\n| aim | target | measured | |\n| --- | --- | --- | --- |\n")
	for _, a := range r.Aims {
		verdict := "**not met**"
		if a.Met {
			verdict = "met"
		}
		p("| %s | %s | %s | %s |\n", a.What, a.Target, a.Measured, verdict)
	}
	p("\n")

	p("## Workload\n\n")
	p("- %s records: %s over NDJSON (phase 1), then %s over OTLP/HTTP protobuf (phase 2), all into one store.\n", count(w.Records), count(w.NDJSONRecords), count(w.OTLPRecords))
	p("- Generated by `bench/logs/generator.go`, seed %d: %d services (log groups: %s) in %d pods (streams), %d message templates (HTTP access lines, request summaries, slow and plain SQL queries, logins and failed logins, tokens, cache misses, pool exhaustion, Java stack traces, Go panics, upstream errors, JSON domain events, payments, Kafka commits, searches, e-mails, rate limits, GC pauses, health checks, feature flags, stock alerts, retries) with request ids, user ids, IPs, paths, status codes and durations; 5–15 typed attributes per record, trace context on most; no line repeats.\n",
		w.Seed, len(w.Services), strings.Join(w.Services, ", "), w.Streams, w.Templates)
	p("- Log time %s to %s (%s records/s of log time). Average NDJSON line %.0f bytes (with `service.name` and `host.name` as a shipper adds them).\n",
		w.First.Format(time.RFC3339), w.Last.Format(time.RFC3339), count(int64(w.LogRate)), w.AvgLineBytes)
	p("- Needle `%s` planted as a whole word in %d records (one in every %s).\n", Needle, w.Needles, count(w.NeedleEvery))
	enc := "uncompressed"
	if w.Gzip {
		enc = "gzip-compressed"
	}
	p("- %d concurrent senders, %s bodies; NDJSON requests carry one (group, stream) each, %d lines on average; OTLP requests %d records of mixed services. Request generation: %s.\n",
		w.Senders, enc, w.Batch, w.Batch, w.Pregeneration)
	p("- Driver flags in effect: `%s`.\n", r.Options.commandLine())
	p("- Server flags: `%s`.\n\n", strings.Join(quoteArgs(r.ServerArgs), " "))

	p("## Ingest\n\n")
	p("Records per server core = records ÷ the server's CPU seconds (utime + stime of `/proc/<pid>/stat`) over the phase; the driver's own CPU is not counted and is shown beside it. Raw MB/s per core is the records' NDJSON size over the same CPU time.\n\n")
	p("| phase | records | requests | wall s | records/s | server CPU s | **records/s per core** | raw MB/s per core | server cores busy | driver CPU s | request p50 / p99 / max ms | peak RSS | accepted | rejected | throttled |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.Ingest {
		peak := size(x.Memory.PeakRSSBytes)
		if !x.PeakIsPhase {
			peak += " (since start)"
		}
		p("| %s | %s | %d | %.1f | %s | %.1f | **%s** | %.1f | %.2f | %.1f | %.1f / %.1f / %.1f | %s | %s | %s | %d |\n",
			x.Name, count(x.Records), x.Requests, x.WallSeconds, count(int64(x.RecordsPerSecond)), x.ServerCPUSeconds,
			count(int64(x.RecordsPerCoreSecond)), x.RawBytesPerCoreSec/1e6, x.ServerCores, x.DriverCPUSeconds,
			x.Latency.P50ms, x.Latency.P99ms, x.Latency.MaxMs, peak, count(x.Accepted), count(x.Rejected), x.Throttled)
	}
	p("\n")
	var records int64
	cpu := r.Flush.ServerCPUSeconds
	for _, x := range r.Ingest {
		records += x.Records
		cpu += x.ServerCPUSeconds
	}
	if cpu > 0 && len(r.Ingest) > 0 {
		p("- All ingest work, the phases above plus flushing the last heads after them (%.1f server CPU s): %s records/s per server core.\n",
			r.Flush.ServerCPUSeconds, count(int64(float64(records)/cpu)))
	}
	for _, x := range r.Ingest {
		if x.Pregenerated {
			p("- %s: the %d requests (%s of bodies, %s of raw NDJSON) were generated before the phase, in %.1f s (%.1f driver CPU s), so the driver only sent during it.\n",
				x.Name, x.Requests, size(x.BodyBytes), size(x.RawBytes), x.GenerationSeconds, x.GenerationCPUSeconds)
		} else {
			p("- %s: requests were generated while sending, on the driver's side of the machine; the driver CPU above includes generation.\n", x.Name)
		}
		for _, rj := range x.Rejections {
			p("  - server: %s\n", rj)
		}
	}
	p("\n")

	d := r.Disk
	p("## Disk\n\n")
	p("After the ingest the driver waited until the heads were flushed and the parts stayed unchanged for %s (", benchproc.SecondsText(r.Options.Settle.Seconds()))
	if r.Flush.Settled {
		p("settled after %.0f s, %.1f server CPU s", r.Flush.Seconds, r.Flush.ServerCPUSeconds)
	} else {
		p("**did not settle**: %s", r.Flush.Reason)
	}
	p("; %.0f flushes, %.0f compactions in all), then stopped the server with SIGTERM and measured `<data-dir>/events/`.\n\n", r.Flush.Final.Flushes, r.Flush.Final.Compactions)
	p("| | bytes | bytes/record | compression vs raw NDJSON |\n| --- | ---: | ---: | ---: |\n")
	p("| raw NDJSON of the %s records stored | %s | %.1f | 1× |\n", count(d.Records), size(d.RawBytes), float64(d.RawBytes)/float64(max(d.Records, 1)))
	p("| **events/ in all** | **%s** | **%.1f** | **%.1f×** |\n", size(d.TotalBytes), d.BytesPerRecord, d.Compression)
	p("| parts/ (%d parts", d.Parts)
	if len(d.PartsByLevel) > 0 {
		levels := make([]int, 0, len(d.PartsByLevel))
		for l := range d.PartsByLevel {
			levels = append(levels, l)
		}
		slices.Sort(levels)
		var s []string
		for _, l := range levels {
			s = append(s, fmt.Sprintf("%d at level %d", d.PartsByLevel[l], l))
		}
		p(": %s", strings.Join(s, ", "))
	}
	p("; %s rows) | %s | %.1f | %.1f× |\n", count(d.PartRows), size(d.PartBytes), d.PartBytesPerRecord, d.PartCompression)
	p("| wal/ | %s | %.2f | |\n", size(d.WALBytes), float64(d.WALBytes)/float64(max(d.Records, 1)))
	p("| other (manifest) | %s | | |\n\n", size(d.OtherBytes))
	if d.ManifestError != "" {
		p("The manifest could not be read: %s\n\n", d.ManifestError)
	}
	if d.PartRows > 0 && d.PartRows != d.Records {
		p("The parts hold %s rows of the %s records accepted; the rest are in the WAL (a restart replays them).\n\n", count(d.PartRows), count(d.Records))
	}

	p("## Queries\n\n")
	p("Over all %d log groups, %s to %s (the whole ingest). Each query ran once cold, then %d times warm after one untimed run; latency is from sending the request to reading the last byte of the answer, server time is the answer's `stats.durationMs`. Percentiles are nearest rank.\n\n",
		len(r.QueryGroups), r.QueryRange[0].Format(time.RFC3339), r.QueryRange[1].Format(time.RFC3339), r.Options.QueryRuns)
	p("**Cold** means right after a server restart on the stopped store, with the store's files first evicted from the OS page cache by `posix_fadvise(POSIX_FADV_DONTNEED)` on each file (no root needed; `/proc/sys/vm/drop_caches` would need root and was not used). Eviction is advice; the table shows what was resident before and after. Caches below the page cache (the virtual disk's host) may still be warm.\n\n")
	p("| query | run | latency | server ms | records scanned | bytes scanned | rows | correct |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, q := range r.Queries {
		c := q.Cold
		p("| `%s` | cold | %s | %d | %s | %s | %d | %s |\n", cellText(q.Query), msText(c.LatencyMs), c.ServerMs, count(c.RecordsScanned), size(c.BytesScanned), c.Rows, yesNo(c.Check.OK))
		last := q.Warm[len(q.Warm)-1]
		p("| | warm, %d runs: median / p99 / max | %s / %s / %s | %d (last) | %s | %s | %d | %s |\n",
			len(q.Warm), msText(q.WarmLatency.P50ms), msText(q.WarmLatency.P99ms), msText(q.WarmLatency.MaxMs), last.ServerMs,
			count(last.RecordsScanned), size(last.BytesScanned), last.Rows, yesNo(q.WarmOK))
	}
	p("\n")
	for _, q := range r.Queries {
		s := q.Start
		p("- %s: cold start after evicting %s of %s resident (of %s of files)", q.Name, size(s.ResidentBefore-s.ResidentAfter), size(s.ResidentBefore), size(s.DataBytes))
		if s.EvictError != "" {
			p(" (eviction: %s)", s.EvictError)
		}
		p("; server ready after %.2f s (%.2f CPU s, RSS %s, peak %s). Check: %s. Warm: %.3f server CPU s per query.\n",
			s.ReadySeconds, s.ServerCPUAtReady, size(s.MemoryAtReady.RSSBytes), size(s.MemoryAtReady.PeakRSSBytes), q.Cold.Check.Summary, q.WarmServerCPUPerQuery)
		problems := q.Cold.Check.Problems
		for _, w := range q.Warm {
			if !w.Check.OK && len(problems) == 0 {
				problems = w.Check.Problems
			}
		}
		for _, pr := range problems {
			p("  - %s\n", pr)
		}
	}
	p("\n")

	p("## Server memory\n\n| phase | RSS at its end | peak RSS during it |\n| --- | ---: | ---: |\n")
	for _, x := range r.Ingest {
		p("| ingest over %s | %s | %s |\n", x.Protocol, size(x.Memory.RSSBytes), size(x.Memory.PeakRSSBytes))
	}
	p("| flush and compaction | %s | %s |\n", size(r.Flush.Memory.RSSBytes), size(r.Flush.Memory.PeakRSSBytes))
	for _, q := range r.Queries {
		p("| restart for the cold %s (WAL replay, loading parts) | %s | %s |\n", q.Name, size(q.Start.MemoryAtReady.RSSBytes), size(q.Start.MemoryAtReady.PeakRSSBytes))
		p("| cold %s | %s | %s |\n", q.Name, size(q.ColdMemory.RSSBytes), size(q.ColdMemory.PeakRSSBytes))
	}
	for _, q := range r.Queries {
		p("| warm %s | %s | %s |\n", q.Name, size(q.WarmMemory.RSSBytes), size(q.WarmMemory.PeakRSSBytes))
	}
	p("\nPeaks are VmHWM of `/proc/<pid>/status`, reset at the start of each phase through `/proc/<pid>/clear_refs`.\n\n")

	for _, x := range r.Ingest {
		if x.Profile == nil {
			continue
		}
		pr := x.Profile
		p("## Where the server's CPU goes: %s ingest\n\n", x.Protocol)
		p("From the server's `/debug/pprof/profile` over the first %s of the phase. Shares are of the server's CPU time; the cumulative column lists only Mirador's own functions (`internal/…`), to show which component the time goes to. `go tool pprof` on the kept profile (`--keep`) shows more.\n\n", benchproc.SecondsText(pr.Seconds))
		p("| flat, by package | | flat, by function | | cumulative, Mirador's functions | |\n| ---: | --- | ---: | --- | ---: | --- |\n")
		var own []benchproc.ProfileEntry
		for _, e := range pr.Cumulative {
			if strings.Contains(e.Name, "miradorhq/mirador/internal/") {
				own = append(own, e)
			}
		}
		for i := range min(15, max(len(pr.Packages), len(pr.Flat), len(own))) {
			cell := func(es []benchproc.ProfileEntry) string {
				if i >= len(es) {
					return " | "
				}
				return fmt.Sprintf("%.1f %% | `%s`", es[i].Percent, es[i].Name)
			}
			p("| %s | %s | %s |\n", cell(pr.Packages), cell(pr.Flat), cell(own))
		}
		p("\n")
	}

	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// quoteArgs quotes the empty argument, so that the command line reads
// as typed.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" {
			a = `""`
		}
		out[i] = a
	}
	return out
}

// cellText escapes the pipes of text for a Markdown table cell.
func cellText(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
