package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// bench is one run of the driver: its options, the server binary, the
// data directory and what it has measured so far.
type bench struct {
	o       options
	bin     string
	tmp     string
	dataDir string
	gen     GeneratorConfig
	hist    *histogram
	needles []needleRecord
	client  *http.Client
	r       *report
	starts  int // servers started, to name their logs
}

func run(ctx context.Context, o options) (err error) {
	tmp, err := os.MkdirTemp("", "mirador-bench-logs-*")
	if err != nil {
		return err
	}
	defer func() {
		if o.Keep {
			slog.Info("kept the temporary directory", "dir", tmp)
			return
		}
		err = errors.Join(err, os.RemoveAll(tmp))
	}()
	b := &bench{o: o, tmp: tmp, dataDir: filepath.Join(tmp, "data"), bin: o.Binary}
	if b.bin == "" {
		slog.Info("building mirador")
		if b.bin, err = benchproc.Build(ctx, tmp); err != nil {
			return err
		}
	}
	b.client = &http.Client{
		Timeout: 10 * time.Minute, // a request the server never answers fails the run instead of hanging it
		Transport: &http.Transport{
			Proxy:               nil, // loopback, always direct
			MaxIdleConnsPerHost: o.Senders + 4,
			DisableCompression:  true,
		},
	}
	defer b.client.CloseIdleConnections()
	b.prepare()
	if err := b.ingestPhases(ctx); err != nil {
		return err
	}
	if err := b.queryPhases(ctx); err != nil {
		return err
	}
	b.r.evaluate()
	return b.r.write(o.ReportPath, o.JSONPath)
}

// prepare fixes the workload: the records end a minute before now, so
// that none is in the future, and span Records / LogRate seconds.
func (b *bench) prepare() {
	o := b.o
	span := time.Duration(float64(o.Records) / o.LogRate * float64(time.Second))
	end := time.Now().Add(-time.Minute).Truncate(time.Second)
	b.gen = GeneratorConfig{Seed: o.Seed, Start: end.Add(-span), Rate: o.LogRate, NeedleEvery: NeedleEvery}
	g := NewGenerator(b.gen)
	first, last := g.TimeOf(0), g.TimeOf(o.Records-1)
	b.hist = newHistogram(first, last)
	var rec Record
	for _, i := range g.NeedleIndexes(0, o.Records) {
		g.Record(i, &rec)
		b.needles = append(b.needles, needleRecord{Index: i, TimeMs: rec.Time / int64(time.Millisecond), Message: rec.Message()})
	}
	// The average NDJSON line, for the memory estimate of pregeneration.
	var line []byte
	var sample int64
	for i := range int64(2000) {
		g.Record(i*(o.Records/2000+1)%o.Records, &rec)
		line = appendNDJSON(line[:0], &rec)
		sample += int64(len(line))
	}
	b.r = &report{
		Date:     time.Now(),
		Revision: benchproc.GitRevision(),
		Command:  "go run ./bench/logs " + strings.Join(os.Args[1:], " "),
		Machine:  benchproc.DescribeMachine(),
		Options:  o,
		Workload: workloadInfo{
			Records:       o.Records,
			OTLPRecords:   int64(float64(o.Records) * o.OTLPFraction),
			Services:      g.Services(),
			Streams:       len(g.Buckets()),
			Templates:     len(templates),
			LogRate:       o.LogRate,
			First:         time.Unix(0, first).UTC(),
			Last:          time.Unix(0, last).UTC(),
			Needles:       len(b.needles),
			NeedleEvery:   NeedleEvery,
			AvgLineBytes:  float64(sample) / 2000,
			Seed:          o.Seed,
			Batch:         o.Batch,
			Senders:       o.Senders,
			Gzip:          o.Gzip,
			Pregeneration: o.Pregenerate,
		},
	}
	b.r.Workload.NDJSONRecords = o.Records - b.r.Workload.OTLPRecords
}

// serverArgs are the flags the driver starts the server with.
func (b *bench) serverArgs() []string {
	return append([]string{
		"--data-dir", b.dataDir,
		"--http-addr", "127.0.0.1:0",
		"--otlp-http-addr", "127.0.0.1:0",
		"--otlp-grpc-addr", "", "--xray-udp-addr", "",
		"--metrics.self-scrape-interval", "0s",
		"--limits.ingest-log-records-per-second", "0",
		"--eventstore.head-max-age", b.o.HeadMaxAge.String(),
		"--log.level", "info", // the listeners' addresses are logged at info
	}, b.o.ServerArgs...)
}

// startServer starts a server on the data directory and says how long it
// took to become ready.
func (b *bench) startServer(ctx context.Context) (*benchproc.Server, time.Duration, error) {
	b.starts++
	t0 := time.Now()
	srv, err := benchproc.StartServer(ctx, benchproc.ServerConfig{
		Binary:       b.bin,
		Args:         b.serverArgs(),
		LogFile:      filepath.Join(b.tmp, fmt.Sprintf("server-%d.log", b.starts)),
		Listeners:    []string{"http", "otlp_http"},
		StartTimeout: 10 * time.Minute, // a restart replays the WAL
	})
	if err != nil {
		return nil, 0, err
	}
	took := time.Since(t0)
	slog.Info("server ready", "url", srv.URL(), "otlp", srv.Addr("otlp_http"), "pid", srv.PID(), "after", took.Round(time.Millisecond))
	return srv, took, nil
}

// stopServer stops srv gracefully, giving it two minutes.
func stopServer(srv *benchproc.Server) error {
	slog.Info("stopping the server")
	return srv.Stop(2 * time.Minute)
}

// ingestPhases runs phases 1 to 3: NDJSON, then OTLP, then the wait for
// the heads to reach parts and the disk measurement with the server
// stopped.
func (b *bench) ingestPhases(ctx context.Context) (err error) {
	srv, _, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			err = errors.Join(err, stopServer(srv))
		}
	}()
	b.r.ServerArgs = b.serverArgs()
	w := b.r.Workload
	phases := []struct {
		proto    protocol
		from, to int64
	}{
		{protoNDJSON, 0, w.NDJSONRecords},
		{protoOTLP, w.NDJSONRecords, w.Records},
	}
	var accepted int64
	for _, p := range phases {
		if p.to == p.from {
			continue
		}
		res, err := b.ingest(ctx, srv, p.proto, p.from, p.to)
		if err != nil {
			return fmt.Errorf("%s ingest: %w", p.proto, err)
		}
		accepted += res.Accepted
		b.r.Ingest = append(b.r.Ingest, res)
	}
	if accepted != w.Records {
		b.r.note("the server accepted %d of the %d records sent; the query checks below expect all of them", accepted, w.Records)
	}

	slog.Info("waiting for the heads to reach parts", "records", accepted, "settle", b.o.Settle)
	if err := benchproc.ResetPeakRSS(srv.PID()); err != nil {
		b.r.note("%v; peak RSS figures are since the server started", err)
	}
	b.r.Flush, err = waitFlushed(ctx, b.client, srv, accepted, b.o.Settle, b.o.FlushTimeout)
	if err != nil {
		return fmt.Errorf("wait for the heads to flush: %w", err)
	}
	if b.r.Flush.Memory, err = srv.Memory(); err != nil {
		return err
	}
	if !b.r.Flush.Settled {
		b.r.note("the store did not settle before the disk was measured: %s", b.r.Flush.Reason)
	}
	err = stopServer(srv)
	srv = nil
	if err != nil {
		return err
	}
	du, err := measureDisk(filepath.Join(b.dataDir, "events"))
	if err != nil {
		return err
	}
	b.r.Disk = newDiskResult(du, b.r.Ingest, accepted)
	slog.Info("disk", "bytes", du.TotalBytes, "bytes_per_record", b.r.Disk.BytesPerRecord, "compression", b.r.Disk.Compression)
	return nil
}

// keptProfileEntries is how many functions of a profile the report keeps:
// enough to find the top ones of Mirador's own packages.
const keptProfileEntries = 300

// ingest runs one ingest phase: records [from, to) over proto.
func (b *bench) ingest(ctx context.Context, srv *benchproc.Server, proto protocol, from, to int64) (phaseResult, error) {
	o := b.o
	res := phaseResult{Name: proto.String(), Protocol: proto.String(), FirstRecord: from, Records: to - from}
	g := NewGenerator(b.gen)
	wl := &workload{gen: b.gen, proto: proto, from: from, to: to, batch: o.Batch, gzip: o.Gzip, hist: b.hist}
	buckets := len(g.Buckets())

	estimate := int64(float64(to-from) * b.r.Workload.AvgLineBytes)
	res.Pregenerated = o.Pregenerate == "always" || o.Pregenerate == "auto" && estimate < benchproc.MemAvailable()/3
	var reqs chan request
	produced := make(chan error, 1)
	if res.Pregenerated {
		slog.Info("generating the requests", "phase", proto, "records", to-from, "estimated_bytes", estimate)
		reqs = make(chan request, wl.maxRequests(buckets))
		wl.workers = runtime.NumCPU()
		t0, cpu0 := time.Now(), benchproc.SelfCPU()
		if err := wl.produce(ctx, reqs); err != nil {
			return res, err
		}
		close(reqs)
		res.GenerationSeconds = time.Since(t0).Seconds()
		res.GenerationCPUSeconds = (benchproc.SelfCPU() - cpu0).Seconds()
		produced <- nil
	} else {
		// Leave a core to the server and the senders.
		wl.workers = max(runtime.NumCPU()-1, 1)
		reqs = make(chan request, 4*o.Senders)
		go func() {
			err := wl.produce(ctx, reqs)
			close(reqs)
			produced <- err
		}()
	}

	pid := srv.PID()
	peakReset := benchproc.ResetPeakRSS(pid) == nil
	var profiled chan error
	profileFile := filepath.Join(b.tmp, "cpu-"+proto.slug()+".pprof")
	profileFor := b.profileDuration(to - from)
	if profileFor > 0 {
		profiled = make(chan error, 1)
		go func() { profiled <- benchproc.FetchCPUProfile(ctx, srv.URL(), profileFor, profileFile) }()
	}
	in := newIngester(b.client, proto, srv.URL(), "http://"+srv.Addr("otlp_http"), g.Buckets(), o.Gzip, o.Senders)
	var progress atomic.Int64
	logCtx, stopLog := context.WithCancel(ctx)
	go logProgress(logCtx, proto, &progress, to-from)

	slog.Info("ingesting", "phase", proto, "records", to-from, "senders", o.Senders, "pregenerated", res.Pregenerated)
	start, err := srv.Snapshot()
	if err != nil {
		stopLog()
		return res, err
	}
	out, sendErr := in.run(ctx, reqs, &progress)
	end, err := srv.Snapshot()
	stopLog()
	if sendErr != nil {
		return res, sendErr
	}
	if err != nil {
		return res, err
	}
	if err := <-produced; err != nil {
		return res, err
	}
	res.ingestOutcome = out
	res.finish(start, end)
	if res.Memory, err = srv.Memory(); err != nil {
		return res, err
	}
	res.PeakIsPhase = peakReset
	slog.Info("ingested", "phase", proto, "records_per_second", int64(res.RecordsPerSecond), "records_per_core_second", int64(res.RecordsPerCoreSecond))

	if profiled != nil {
		if err := <-profiled; err != nil {
			b.r.note("%s CPU profile: %v", proto, err)
		} else if p, err := benchproc.ReadProfile(ctx, profileFile, keptProfileEntries); err != nil {
			b.r.note("%s CPU profile: %v", proto, err)
		} else {
			p.Seconds = profileFor.Seconds()
			res.Profile = p
			if p.Seconds > res.WallSeconds {
				b.r.note("the %s phase lasted %.1f s, less than its %s CPU profile: the rest of the profile shows the server after the ingest", proto, res.WallSeconds, profileFor)
			}
		}
	}
	// Let go of the phase's requests before the next one generates its own.
	runtime.GC()
	debug.FreeOSMemory()
	return res, nil
}

// profileDuration is how long to profile a phase of records: --cpuprofile-
// duration, but no longer than the phase should last at the rate of the
// phase before, so that the profile shows ingest only. It is 0 when no
// profile is wanted or the phase will be too short for one.
func (b *bench) profileDuration(records int64) time.Duration {
	d := b.o.ProfileFor
	if n := len(b.r.Ingest); n > 0 && b.r.Ingest[n-1].RecordsPerSecond > 0 {
		expected := time.Duration(0.8 * float64(records) / b.r.Ingest[n-1].RecordsPerSecond * float64(time.Second))
		d = min(d, expected.Truncate(time.Second))
	}
	if d < time.Second {
		if b.o.ProfileFor > 0 {
			b.r.note("no CPU profile of a phase of %d records: it would last less than a second", records)
		}
		return 0
	}
	return d
}

func logProgress(ctx context.Context, proto protocol, sent *atomic.Int64, total int64) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n := sent.Load()
			slog.Info("ingest", "phase", proto, "records", n, "of", total, "percent", strconv.FormatFloat(100*float64(n)/float64(total), 'f', 0, 64))
		}
	}
}

// queryPhases runs phase 4: each query once right after a restart with
// the data evicted from the page cache, then warm.
func (b *bench) queryPhases(ctx context.Context) error {
	g := NewGenerator(b.gen)
	w := b.r.Workload
	ic := &insightsClient{
		client: &http.Client{Timeout: 10 * time.Minute},
		groups: g.Services(),
		start:  w.First.Truncate(time.Minute),
		end:    w.Last.Truncate(time.Minute).Add(time.Minute),
	}
	want := b.hist.cells()
	queries := []*querySeries{
		{Name: "needle search", Query: needleQuery, check: func(r queryResponse) checkResult { return checkNeedles(r, b.needles) }},
		{Name: "stats by minute and level", Query: statsQuery, check: func(r queryResponse) checkResult { return checkStats(r, want) }},
	}
	b.r.QueryRange = [2]time.Time{ic.start, ic.end}
	b.r.QueryGroups = ic.groups

	// Cold: a fresh server per query.
	var srv *benchproc.Server
	defer func() {
		if srv != nil {
			_ = stopServer(srv)
		}
	}()
	for _, q := range queries {
		if srv != nil {
			if err := stopServer(srv); err != nil {
				return err
			}
			srv = nil
		}
		cold, err := b.coldStart(ctx)
		if err != nil {
			return err
		}
		srv = cold.srv
		q.Start = cold.info
		if err := benchproc.ResetPeakRSS(srv.PID()); err != nil {
			b.r.note("%v", err)
		}
		slog.Info("cold query", "query", q.Query)
		resp, took, err := ic.run(ctx, srv.URL(), q.Query)
		if err != nil {
			return fmt.Errorf("cold %s: %w", q.Name, err)
		}
		q.Cold = newQueryRun(resp, took, q.check(resp))
		if q.ColdMemory, err = srv.Memory(); err != nil {
			return err
		}
	}

	// Warm: on the last server, one untimed run of each query, then the
	// timed runs.
	for _, q := range queries {
		if _, _, err := ic.run(ctx, srv.URL(), q.Query); err != nil {
			return fmt.Errorf("warm-up %s: %w", q.Name, err)
		}
	}
	for _, q := range queries {
		slog.Info("warm queries", "query", q.Query, "runs", b.o.QueryRuns)
		if err := benchproc.ResetPeakRSS(srv.PID()); err != nil {
			b.r.note("%v", err)
		}
		cpu0, err := srv.CPU()
		if err != nil {
			return err
		}
		var lat []time.Duration
		q.WarmOK = true
		for range b.o.QueryRuns {
			resp, took, err := ic.run(ctx, srv.URL(), q.Query)
			if err != nil {
				return fmt.Errorf("warm %s: %w", q.Name, err)
			}
			run := newQueryRun(resp, took, q.check(resp))
			q.Warm = append(q.Warm, run)
			q.WarmOK = q.WarmOK && run.Check.OK
			lat = append(lat, took)
		}
		cpu1, err := srv.CPU()
		if err != nil {
			return err
		}
		q.WarmLatency = benchproc.Summarize(lat)
		q.WarmServerCPUPerQuery = (cpu1 - cpu0).Seconds() / float64(b.o.QueryRuns)
		if q.WarmMemory, err = srv.Memory(); err != nil {
			return err
		}
		b.r.Queries = append(b.r.Queries, *q)
	}
	err := stopServer(srv)
	srv = nil
	return err
}

// coldServer is a server started for a cold query.
type coldServer struct {
	srv  *benchproc.Server
	info coldStart
}

// coldStart evicts the data files from the page cache (without root, see
// benchproc.EvictPageCache) and starts a server on them.
func (b *bench) coldStart(ctx context.Context) (coldServer, error) {
	var c coldServer
	dir := filepath.Join(b.dataDir, "events")
	before, err := benchproc.PageCacheOf(dir)
	if err != nil {
		c.info.EvictError = err.Error()
	}
	if err := benchproc.EvictPageCache(dir); err != nil {
		c.info.EvictError = err.Error()
	}
	after, err := benchproc.PageCacheOf(dir)
	if err != nil {
		c.info.EvictError = err.Error()
	}
	c.info.DataBytes, c.info.ResidentBefore, c.info.ResidentAfter = after.Bytes, before.ResidentBytes, after.ResidentBytes
	srv, took, err := b.startServer(ctx)
	if err != nil {
		return c, err
	}
	c.srv = srv
	c.info.ReadySeconds = took.Seconds()
	cpu, err := srv.CPU()
	if err != nil {
		return c, err
	}
	c.info.ServerCPUAtReady = cpu.Seconds()
	if c.info.MemoryAtReady, err = srv.Memory(); err != nil {
		return c, err
	}
	return c, nil
}
