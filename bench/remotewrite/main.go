// Command remotewrite is Mirador's metrics benchmark driver: it builds and
// starts a real mirador server as a child process, drives it over loopback
// from this separate process, and prints the figures users compare with
// other Prometheus-compatible stores.
//
//	go run ./bench/remotewrite [--series 10000] [--senders 4] [--json out.json]
//
// # Phase 1: backfill, and bytes per sample on disk
//
// A synthetic fleet of --series series (100 per target: 20 metric names ×
// 5 statuses; 10 labels each including __name__, with realistic repetition
// of job, service, region, zone, env and handler) is written with --history
// of samples every --interval ending now, in time order: all series at t,
// then at t+interval, and so on. Counters grow by small random integers,
// gauges take bounded random walks, one metric is constant. Requests are
// remote write 1.0 (snappy protobuf), --batch one-sample series each like
// Prometheus's max_samples_per_send, from --senders concurrent senders;
// each series always goes through the same sender so it stays in order,
// and no sender runs more than 40 scrapes (10 minutes of data at 15 s)
// ahead of another.
//
// Once the head spans more than 3 h the TSDB compacts its oldest 2 h range
// into a block by itself. After the backfill the driver waits until the
// blocks hold every sample the head compacts, then reports
//
//   - bytes per sample on disk after head compaction: the size of all block
//     directories (chunks, index, meta.json, tombstones) divided by the sum
//     of their meta.json stats.numSamples, and the same for chunks and index
//     alone;
//   - chunk data bytes per sample by metric and by kind of metric (counter,
//     gauge, constant), read from the blocks with Prometheus's block reader;
//   - the WAL's size, at the checkpoint (below: no truncation yet, so per
//     sample written) and after compaction has truncated it.
//
// # Phase 2: ingest throughput per core
//
// The backfill is timed in two windows split by a checkpoint at which every
// sender waits until all earlier samples are stored: "head only", the first
// 3 h of data, before the head can compact, so the server does nothing but
// receive (HTTP, snappy, decoding, TSDB append, WAL); and "with compaction",
// the rest, while the head compactions run alongside. For each window and
// for the whole backfill it reports samples per second of wall-clock time
// and samples per second per server CPU core: samples divided by the CPU
// time (utime + stime from /proc/<pid>/stat) the server consumed. The driver
// competes with the server for the machine's cores, so the per-core figure
// is the comparable one; the driver's own CPU time is reported beside it,
// with the p50/p99/max latency of the write requests. The driver pre-encodes
// every series' labels once and reuses its buffers, so it spends its CPU
// mostly on snappy and HTTP. With --cpuprofile FILE the server's Go CPU
// profile is fetched from its /debug/pprof for the first
// --cpuprofile-duration of the backfill and the report shows where the
// server's CPU time went, by package and by function.
//
// # Phase 3: query latency
//
// --query (by default sum by (job) (rate({__name__=~"bench_.+"}[5m])),
// which touches every series of the fleet; rate over the gauges and the
// constant is meaningless as a number but costs the engine the same per
// sample as over counters) runs as a range query over the whole history at
// --query-step, --warmup times untimed and then --queries times in
// sequence, timed from request to last response byte. The report gives
// p50, p90, p99 (nearest rank: of 50 runs, the slowest) and max latency,
// the series the query's selectors match, the engine's
// totalQueryableSamples, the server CPU per query, and the server's RSS
// (VmRSS, and peak VmHWM) after the queries.
//
// The driver only measures; it asserts nothing about the figures. It
// removes its temporary directory and stops the server on exit, on error
// and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// options are the driver's flags.
type options struct {
	series            int
	history           time.Duration
	interval          time.Duration
	batch             int
	senders           int
	seed              uint64
	binary            string
	serverArgs        stringList
	keepData          bool
	compactionTimeout time.Duration
	query             string
	queryStep         time.Duration
	queries           int
	warmup            int
	jsonPath          string
	profilePath       string
	profileFor        time.Duration
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("remotewrite", flag.ContinueOnError)
	fs.IntVar(&o.series, "series", 10_000, "series to write (100 per target)")
	fs.DurationVar(&o.history, "history", 6*time.Hour, "history to backfill, ending now; more than 3h so that the head compacts")
	fs.DurationVar(&o.interval, "interval", 15*time.Second, "scrape interval of the written samples")
	fs.IntVar(&o.batch, "batch", 2000, "samples per remote-write request (Prometheus's max_samples_per_send)")
	fs.IntVar(&o.senders, "senders", 4, "concurrent senders")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated values")
	fs.StringVar(&o.binary, "binary", "", "mirador binary to run (default: build ./cmd/mirador into the temporary directory)")
	fs.Var(&o.serverArgs, "server-arg", "extra flag for the server (repeatable), e.g. --server-arg=--metrics.out-of-order-window=10m (the driver needs --log.level info)")
	fs.BoolVar(&o.keepData, "keep-data", false, "keep the temporary directory with the server's data")
	fs.DurationVar(&o.compactionTimeout, "compaction-timeout", 10*time.Minute, "how long to wait for head compaction after the backfill")
	fs.StringVar(&o.query, "query", `sum by (job) (rate(`+benchSelector+`[5m]))`, "PromQL range query of phase 3")
	fs.DurationVar(&o.queryStep, "query-step", time.Minute, "step of the range query")
	fs.IntVar(&o.queries, "queries", 50, "timed runs of the query")
	fs.IntVar(&o.warmup, "warmup", 5, "untimed runs of the query before the timed ones")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.profilePath, "cpuprofile", "", "write the server's CPU profile during the backfill to this file (from its /debug/pprof)")
	fs.DurationVar(&o.profileFor, "cpuprofile-duration", 10*time.Second, "how long to profile, from the start of the backfill (whole seconds)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.series < 1:
		return o, fmt.Errorf("--series %d: need at least 1", o.series)
	case o.batch < 1:
		return o, fmt.Errorf("--batch %d: need at least 1", o.batch)
	case o.senders < 1:
		return o, fmt.Errorf("--senders %d: need at least 1", o.senders)
	case o.interval < time.Millisecond:
		return o, fmt.Errorf("--interval %s: need at least 1ms", o.interval)
	case o.history <= blockRange*3/2+o.interval:
		return o, fmt.Errorf("--history %s: must exceed %s, or the head never compacts into a block", o.history, blockRange*3/2+o.interval)
	case o.profileFor < time.Second:
		return o, fmt.Errorf("--cpuprofile-duration %s: need at least 1s", o.profileFor)
	case o.queryStep <= 0 || o.queries < 0 || o.warmup < 0:
		return o, errors.New("--query-step must be positive, --queries and --warmup not negative")
	}
	if _, err := selectors(o.query); err != nil {
		return o, err
	}
	return o, nil
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "remotewrite:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "remotewrite:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (err error) {
	f := newFleet(o.series, o.seed)
	if err := checkEncoding(f); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mirador-bench-*")
	if err != nil {
		return err
	}
	defer func() {
		if o.keepData {
			slog.Info("kept the data directory", "dir", tmp)
			return
		}
		err = errors.Join(err, os.RemoveAll(tmp))
	}()

	bin := o.binary
	if bin == "" {
		slog.Info("building mirador")
		if bin, err = benchproc.Build(ctx, tmp); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(tmp, "data")
	srv, err := startServer(ctx, bin, dataDir, filepath.Join(tmp, "server.log"), o.serverArgs)
	if err != nil {
		return err
	}
	defer func() {
		slog.Info("stopping the server")
		err = errors.Join(err, srv.Stop(time.Minute))
	}()
	slog.Info("server ready", "url", srv.URL(), "pid", srv.PID())

	r := &report{Date: time.Now(), Machine: benchproc.DescribeMachine(), Revision: benchproc.GitRevision(), Command: "go run ./bench/remotewrite " + strings.Join(os.Args[1:], " ")}
	steps := int(o.history / o.interval)
	w := &r.Workload
	w.Series, w.LabelsPerSeries = o.series, seriesLabels(0).Len()
	w.MetricNames = (min(o.series, seriesPerTarget) + len(statuses) - 1) / len(statuses)
	w.HistorySeconds, w.IntervalSeconds, w.Scrapes = o.history.Seconds(), o.interval.Seconds(), steps
	w.Samples, w.BatchSamples, w.Senders = int64(steps)*int64(o.series), o.batch, o.senders

	client := &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback, always direct
		MaxIdleConnsPerHost: o.senders + 2,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	tsdbDir := filepath.Join(dataDir, "metrics", "default")

	// Phases 1 and 2: backfill.
	last := time.Now().Truncate(o.interval).UnixMilli()
	first := last - int64(steps-1)*o.interval.Milliseconds()
	checkpoint := int(blockRange * 3 / 2 / o.interval)
	var atStart, atCheckpoint, atEnd benchproc.Snapshot
	var walAtCheckpoint int64
	var snapErr error
	bf := &backfill{
		fleet: f, url: srv.URL() + "/prometheus/api/v1/write", client: client,
		senders: o.senders, batch: o.batch, seed: o.seed, start: first, interval: o.interval.Milliseconds(), steps: steps,
		checkpoint: checkpoint,
		onCheckpoint: func() {
			atCheckpoint, snapErr = srv.Snapshot()
			walAtCheckpoint, _ = benchproc.DirSize(filepath.Join(tsdbDir, "wal"))
			slog.Info("checkpoint: the head holds 3h of data and may compact from now on")
		},
	}
	var profiled chan error
	if o.profilePath != "" {
		profiled = make(chan error, 1)
		go func() { profiled <- benchproc.FetchCPUProfile(ctx, srv.URL(), o.profileFor, o.profilePath) }()
	}
	slog.Info("backfill", "series", o.series, "samples", w.Samples, "from", time.UnixMilli(first).UTC(), "to", time.UnixMilli(last).UTC())
	if atStart, err = srv.Snapshot(); err != nil {
		return err
	}
	if err := bf.run(ctx); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	if atEnd, err = srv.Snapshot(); err != nil {
		return err
	}
	if snapErr != nil {
		return snapErr
	}
	before, after := bf.latencySplit()
	headOnly := int64(checkpoint) * int64(o.series)
	r.Ingest = []ingestWindow{
		newWindow("head only (first 3h of data)", atStart, atCheckpoint, headOnly, before),
		newWindow("with compaction (rest)", atCheckpoint, atEnd, w.Samples-headOnly, after),
		newWindow("whole backfill", atStart, atEnd, w.Samples, append(before, after...)),
	}
	if r.ServerMemoryIngest, err = srv.Memory(); err != nil {
		return err
	}
	slog.Info("backfill done", "seconds", atEnd.Wall.Sub(atStart.Wall).Seconds())

	// Phase 1's disk figures, once the head has compacted.
	want := expectedBlockSamples(o.series, first, last, o.interval.Milliseconds())
	slog.Info("waiting for head compaction", "block_samples", want)
	disk, waitErr := waitForBlocks(ctx, tsdbDir, want, o.compactionTimeout)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	atBlocks, err := srv.Snapshot()
	if err != nil {
		return err
	}
	r.Disk = newDiskResult(disk)
	r.Disk.Complete = waitErr == nil
	r.Disk.WaitSeconds = atBlocks.Wall.Sub(atEnd.Wall).Seconds()
	r.Disk.WaitServerCPUSeconds = (atBlocks.ServerCPU - atEnd.ServerCPU).Seconds()
	r.Disk.WALBytesAtCheckpoint = walAtCheckpoint
	r.Disk.WALBytesPerSampleWritten = float64(walAtCheckpoint) / float64(headOnly)
	r.Disk.CompactionLog = srv.Retained(`msg="write block completed"`, `msg="compact blocks"`, `msg="WAL checkpoint complete"`, `msg="Head GC completed"`)
	if waitErr != nil {
		r.Notes = append(r.Notes, "head compaction did not finish: "+waitErr.Error())
	}
	if r.Disk.ByMetric, err = chunksByMetric(ctx, tsdbDir, disk.Blocks); err != nil {
		r.Notes = append(r.Notes, err.Error())
	}

	if profiled != nil { // before the queries, which it must not see
		slog.Info("waiting for the CPU profile")
		if err := <-profiled; err != nil {
			r.Notes = append(r.Notes, err.Error())
		} else if r.Profile, err = benchproc.ReadProfile(ctx, o.profilePath, 25); err != nil {
			r.Notes = append(r.Notes, err.Error())
		} else {
			r.Profile.Seconds = o.profileFor.Seconds()
		}
	}

	pc := &promClient{base: srv.URL() + "/prometheus/api/v1", client: &http.Client{Timeout: 10 * time.Minute}}
	end := time.UnixMilli(last)
	if r.StoredSamples, err = readBack(ctx, pc, o.history, end); err != nil {
		r.Notes = append(r.Notes, "could not read the stored samples back: "+err.Error())
	} else if r.StoredSamples != w.Samples {
		r.Notes = append(r.Notes, fmt.Sprintf("the server holds %d samples of the %d written", r.StoredSamples, w.Samples))
	}

	// Phase 3: queries.
	slog.Info("querying", "query", o.query, "runs", o.queries)
	q, err := runQueries(ctx, pc, srv, o.query, end.Add(-o.history), end, o.queryStep, o.warmup, o.queries)
	if err != nil {
		return fmt.Errorf("query phase: %w", err)
	}
	r.Query = &q

	r.writeText(os.Stdout)
	if o.jsonPath != "" {
		return r.writeJSON(o.jsonPath)
	}
	return nil
}

// readBack counts the samples the server returns for every series written.
func readBack(ctx context.Context, pc *promClient, history time.Duration, end time.Time) (int64, error) {
	q := fmt.Sprintf("sum(count_over_time(%s[%ds]))", benchSelector, int(history.Seconds()))
	v, err := pc.instantScalar(ctx, q, end)
	return int64(v), err
}

// startServer starts bin on a free loopback port with its data in dataDir,
// the OTLP listeners and self-scrape off and no ingest rate limit, and
// waits until /-/ready answers 200. Its log goes to logFile; extra flags
// are appended. The TSDB's log lines are kept for the report.
func startServer(ctx context.Context, bin, dataDir, logFile string, extra []string) (*benchproc.Server, error) {
	args := append([]string{
		"--data-dir", dataDir,
		"--http-addr", "127.0.0.1:0",
		"--otlp-http-addr", "", "--otlp-grpc-addr", "", "--xray-udp-addr", "",
		"--metrics.self-scrape-interval", "0s",
		"--limits.ingest-samples-per-second", "0",
		"--log.level", "info", // the listener's address is logged at info
	}, extra...)
	return benchproc.StartServer(ctx, benchproc.ServerConfig{
		Binary:  bin,
		Args:    args,
		LogFile: logFile,
		Retain:  func(line string) bool { return strings.Contains(line, "component=tsdb") },
	})
}
