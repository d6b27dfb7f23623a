package logs

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/eventstore/wal"
	"github.com/miradorhq/mirador/internal/loggen"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/query/logql"
)

// BenchmarkLogQLCountOverTime runs
//
//	sum by (level) (count_over_time({service_name="x"} |= "needle" [1m]))
//
// over MIRADOR_BENCH_LINES lines (default 10,000,000) of realistic logs
// spread over one hour, as pushed to Loki with a level label, 1 % of them
// carrying the needle; 60 one-minute steps, so every line is read. It
// reports p50 and p99 latency and lines scanned per second.
//
//	go test ./internal/logs -run '^$' -bench LogQLCountOverTime -benchtime 5x -timeout 60m
func BenchmarkLogQLCountOverTime(b *testing.B) {
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("MIRADOR_BENCH_LINES")); err == nil {
		n = v
	}
	ctx := context.Background()
	dir := b.TempDir()
	store, err := eventstore.Open(ctx, eventstore.Options{Dir: filepath.Join(dir, "events"), Sync: wal.SyncNever, CompactionInterval: -1, HeadMaxBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	m, err := meta.Open(ctx, meta.Options{DSN: filepath.Join(dir, "meta.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	svc := New(Options{Store: store, Groups: NewGroups(m, nil)})
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-time.Hour)
	g := loggen.New(1, start, time.Hour/time.Duration(n))
	batch := make([]eventstore.Record, 0, 10000)
	for i := range n {
		r := g.Next()
		r.Group = "x"
		if i%100 == 0 {
			r.Body += " needle"
		}
		r.Resource = []eventstore.Attr{{Key: "level", Value: eventstore.StringValue(r.SeverityText)}, {Key: "service_name", Value: eventstore.StringValue("x")}}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			if err := store.Append(ctx, "default", eventstore.DatasetLogs, batch); err != nil {
				b.Fatal(err)
			}
			batch = make([]eventstore.Record, 0, 10000)
		}
	}
	if len(batch) > 0 {
		_ = store.Append(ctx, "default", eventstore.DatasetLogs, batch)
	}
	if err := store.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	expr, err := logql.Parse(`sum by (level) (count_over_time({service_name="x"} |= "needle" [1m]))`)
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	var scanned int64
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		res, err := svc.QueryLokiMetric(ctx, "default", LokiMetricRequest{Expr: expr, Start: start.Add(time.Minute), End: end, Step: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(began))
		scanned += res.Stats.RecordsScanned
		if len(res.Series) == 0 {
			b.Fatal("no series")
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	b.ReportMetric(lat[len(lat)/2].Seconds(), "p50-s")
	b.ReportMetric(lat[len(lat)*99/100].Seconds(), "p99-s")
	b.ReportMetric(float64(scanned)/total.Seconds(), "lines-scanned/s")
}
