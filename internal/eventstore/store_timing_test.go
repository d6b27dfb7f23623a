package eventstore_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/loggen"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/query/insights"
)

// benchRecords is the data set size of the scan benchmarks; set
// MIRADOR_BENCH_RECORDS=10000000 for the 10M figures.
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("MIRADOR_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkAppend measures ingest through the WAL (fsync before ack,
// group commit) into the head, with 8 concurrent appenders of 1,000-record
// batches, as an HTTP server would see them.
func BenchmarkAppend(b *testing.B) {
	g := loggen.New(1, benchStart, time.Millisecond)
	batches := make([][]eventstore.Record, 64)
	for i := range batches {
		for range 1000 {
			batches[i] = append(batches[i], g.Next())
		}
	}
	s, err := eventstore.Open(context.Background(), eventstore.Options{Dir: b.TempDir(), CompactionInterval: -1, HeadMaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(4) // 4 × GOMAXPROCS appenders
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			batch := batches[next.Add(1)%int64(len(batches))]
			if err := s.Append(context.Background(), "t", eventstore.DatasetLogs, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*1000)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(b.N*1000)/elapsed.Seconds()/float64(runtime.GOMAXPROCS(0)), "records/s/core")
}

// dataset builds a store of n generated records, flushed and compacted,
// and reports its size against the same records as NDJSON.
func dataset(b *testing.B, n int) (*eventstore.Store, float64, float64) {
	b.Helper()
	// The data set outlives one benchmark run: it lives until the process
	// exits, in a directory removed by TestMain.
	dir, err := os.MkdirTemp(benchDir, "dataset")
	if err != nil {
		b.Fatal(err)
	}
	s, err := eventstore.Open(context.Background(), eventstore.Options{Dir: dir, CompactionInterval: -1, HeadMaxBytes: 512 << 20})
	if err != nil {
		b.Fatal(err)
	}
	g := loggen.New(7, benchStart, 10*time.Millisecond)
	var ndjson int64
	var line []byte
	batch := make([]eventstore.Record, 0, 10000)
	for i := 0; i < n; i++ {
		r := g.Next()
		line = loggen.NDJSON(line[:0], &r)
		ndjson += int64(len(line)) + 1
		batch = append(batch, r)
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.Append(context.Background(), "t", eventstore.DatasetLogs, batch); err != nil {
				b.Fatal(err)
			}
			batch = make([]eventstore.Record, 0, 10000)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	for range 8 {
		if err := s.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	var disk int64
	filepath.Walk(filepath.Join(dir, "parts"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			disk += fi.Size()
		}
		return nil
	})
	return s, float64(disk) / float64(n), float64(ndjson) / float64(disk)
}

var (
	benchDir    string
	sharedOnce  sync.Once
	shared      *eventstore.Store
	sharedBPR   float64
	sharedRatio float64
)

func TestMain(m *testing.M) {
	var err error
	if benchDir, err = os.MkdirTemp("", "eventstore-bench"); err != nil {
		panic(err)
	}
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.RemoveAll(benchDir)
	os.Exit(code)
}

func sharedDataset(b *testing.B) *eventstore.Store {
	sharedOnce.Do(func() {
		shared, sharedBPR, sharedRatio = dataset(b, benchRecords())
	})
	return shared
}

func benchQuery(b *testing.B, src string, check func(*query.Result)) {
	s := sharedDataset(b)
	plan, err := insights.Compile(src, query.Logs)
	if err != nil {
		b.Fatal(err)
	}
	req := query.Request{Tenant: "t", Dataset: eventstore.DatasetLogs, Start: benchStart.UnixNano(), End: benchStart.Add(365 * 24 * time.Hour).UnixNano(), MaxRows: 1_000_000}
	b.ResetTimer()
	var lat []time.Duration
	for range b.N {
		t0 := time.Now()
		res, err := query.Run(context.Background(), s, plan, req)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		check(res)
	}
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	b.ReportMetric(sharedBPR, "disk-bytes/record")
	b.ReportMetric(sharedRatio, "x-vs-ndjson")
	b.ReportMetric(float64(total.Microseconds())/1000/float64(len(lat)), "ms/query")
	b.ReportMetric(float64(benchRecords())/(total.Seconds()/float64(len(lat))), "records/s")
}

// BenchmarkNeedleSearch finds a token that occurs once per million records.
func BenchmarkNeedleSearch(b *testing.B) {
	want := (benchRecords() + loggen.NeedleEvery/2) / loggen.NeedleEvery
	benchQuery(b, `filter @message like /\b`+loggen.Needle+`\b/ | fields @timestamp, @message`, func(r *query.Result) {
		if len(r.Rows) != want {
			b.Fatalf("%d needles found, want %d", len(r.Rows), want)
		}
	})
}

// BenchmarkStatsByMinuteAndLevel counts every record by minute and level.
func BenchmarkStatsByMinuteAndLevel(b *testing.B) {
	benchQuery(b, `stats count() by bin(1m), level`, func(r *query.Result) {
		var n int64
		for _, row := range r.Rows {
			n += row[2].(int64)
		}
		if n != int64(benchRecords()) {
			b.Fatalf("counted %d records, want %d", n, benchRecords())
		}
	})
}
