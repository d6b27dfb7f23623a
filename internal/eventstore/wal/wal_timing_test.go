package wal

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	benchPayloadSize = 64 << 10
	benchAppenders   = 16
)

// BenchmarkAppend measures 64 KiB appends per policy, from one goroutine and
// from 16 at once. appends/fsync shows how many records group commit puts
// behind each fsync; under SyncAlways the parallel MB/s should be about the
// disk's fsync rate × that × 64 KiB.
func BenchmarkAppend(b *testing.B) {
	for _, policy := range policies {
		for _, appenders := range []int{1, benchAppenders} {
			name := policy.String() + "/sequential"
			if appenders > 1 {
				name = policy.String() + "/parallel16"
			}
			b.Run(name, func(b *testing.B) {
				w := mustOpen(b, b.TempDir(), Options{Sync: policy})
				b.Cleanup(func() { _ = w.Close() })
				runAppenders(b, appenders, func(payload []byte) error {
					_, err := w.Append(context.Background(), payload)
					return err
				})
				reportFsyncs(b, testutil.ToFloat64(w.metrics.fsyncs))
			})
		}
	}
}

// BenchmarkAppendWithoutGroupCommit is the baseline group commit is
// measured against: 16 goroutines that each write and fsync their record
// under a mutex, one fsync per record.
func BenchmarkAppendWithoutGroupCommit(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "baseline.wal"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	var mu sync.Mutex
	var fsyncs int
	var rec []byte
	table := crc32.MakeTable(crc32.Castagnoli)
	runAppenders(b, benchAppenders, func(payload []byte) error {
		mu.Lock()
		defer mu.Unlock()
		rec = binary.LittleEndian.AppendUint32(rec[:0], uint32(len(payload)))
		rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(payload, table))
		rec = append(rec, payload...)
		if _, err := f.Write(rec); err != nil {
			return err
		}
		fsyncs++
		return f.Sync()
	})
	reportFsyncs(b, float64(fsyncs))
}

// runAppenders calls appendFn b.N times with 64 KiB payloads from n
// goroutines and reports MB/s.
func runAppenders(b *testing.B, n int, appendFn func([]byte) error) {
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range n {
		wg.Go(func() {
			payload := make([]byte, benchPayloadSize)
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				binary.LittleEndian.PutUint64(payload, uint64(i))
				if err := appendFn(payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)*benchPayloadSize/1e6/elapsed.Seconds(), "MB/s")
}

func reportFsyncs(b *testing.B, fsyncs float64) {
	if fsyncs > 0 {
		b.ReportMetric(float64(b.N)/fsyncs, "appends/fsync")
	}
}

// BenchmarkReplay measures reading back 64 MiB of 64 KiB records.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	w := mustOpen(b, dir, Options{Sync: SyncNever})
	payload := make([]byte, benchPayloadSize)
	const records = 1024
	for i := range records {
		binary.LittleEndian.PutUint64(payload, uint64(i))
		if _, err := w.Append(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	mustClose(b, w)

	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for b.Loop() {
		w := mustOpen(b, dir, Options{Sync: SyncNever})
		n := 0
		err := w.Replay(func(_ Position, p []byte) error {
			n++
			bytes += int64(len(p))
			return nil
		})
		if err != nil || n != records {
			b.Fatalf("replayed %d of %d records: %v", n, records, err)
		}
		mustClose(b, w)
	}
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
}
