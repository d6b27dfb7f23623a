package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var policies = []Policy{SyncAlways, SyncInterval, SyncNever}

func TestAppendReplayRoundTripAcrossSegments(t *testing.T) {
	for _, policy := range policies {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{SegmentSize: 256, Sync: policy, SyncInterval: time.Millisecond})
			var want []replayed
			for i := range 40 {
				p := fmt.Sprintf("record-%02d-%s", i, strings.Repeat("x", i*3))
				want = append(want, replayed{mustAppend(t, w, p), p})
			}
			huge := strings.Repeat("H", 1000) // larger than a segment
			want = append(want, replayed{mustAppend(t, w, huge), huge})
			after := "after the huge one"
			want = append(want, replayed{mustAppend(t, w, after), after})
			mustClose(t, w)

			for i := 1; i < len(want); i++ {
				if !want[i-1].pos.Less(want[i].pos) {
					t.Fatalf("position %v of record %d is not after %v", want[i].pos, i, want[i-1].pos)
				}
			}
			hugePos, afterPos := want[len(want)-2].pos, want[len(want)-1].pos
			if hugePos.Offset != 0 || afterPos.Segment != hugePos.Segment+1 || afterPos.Offset != 0 {
				t.Errorf("oversized record at %v followed by %v: want a segment of its own", hugePos, afterPos)
			}
			if n := len(segmentFiles(t, dir)); n < 10 {
				t.Errorf("%d segment files for ~2 KiB in 256-byte segments", n)
			}
			if got := reopenAndReplay(t, dir); !slices.Equal(got, want) {
				t.Fatalf("replayed %d records, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
		})
	}
}

func TestSegmentsStayNearSegmentSize(t *testing.T) {
	dir := t.TempDir()
	const segSize = 1000
	w := mustOpen(t, dir, Options{SegmentSize: segSize, Sync: SyncNever})
	for i := range 200 {
		mustAppend(t, w, fmt.Sprintf("%03d-%s", i, strings.Repeat("y", 40)))
	}
	mustClose(t, w)
	segs := segmentFiles(t, dir)
	for _, s := range segs[:len(segs)-1] {
		if size := fileSize(t, segmentPath(dir, s)); size > segSize || size < segSize-60 {
			t.Errorf("segment %d holds %d bytes; want at most %d and no room left for another 51-byte record", s, size, segSize)
		}
	}
}

func TestConcurrentAppendersReplayEveryAcknowledgedRecordOnceInOrder(t *testing.T) {
	for _, policy := range policies {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{SegmentSize: 8 << 10, Sync: policy, SyncInterval: time.Millisecond})
			const goroutines, perGoroutine = 16, 100
			acked := make([][]Position, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perGoroutine {
						pos, err := w.Append(context.Background(), []byte(fmt.Sprintf("%d:%d:%s", g, i, strings.Repeat("z", g*10))))
						if err != nil {
							t.Errorf("goroutine %d append %d: %v", g, i, err)
							return
						}
						acked[g] = append(acked[g], pos)
					}
				})
			}
			stopCuts := make(chan struct{})
			var cuts sync.WaitGroup
			cuts.Go(func() { // cuts racing appends must not lose or reorder records
				for {
					select {
					case <-stopCuts:
						return
					case <-time.After(2 * time.Millisecond):
					}
					if _, err := w.Cut(); err != nil {
						t.Errorf("Cut: %v", err)
						return
					}
				}
			})
			wg.Wait()
			close(stopCuts)
			cuts.Wait()
			mustClose(t, w)

			got := reopenAndReplay(t, dir)
			next := make([]int, goroutines)
			for i, r := range got {
				if i > 0 && !got[i-1].pos.Less(r.pos) {
					t.Fatalf("replay order: %v after %v", r.pos, got[i-1].pos)
				}
				parts := strings.SplitN(r.payload, ":", 3)
				g, _ := strconv.Atoi(parts[0])
				seq, _ := strconv.Atoi(parts[1])
				if seq != next[g] {
					t.Fatalf("goroutine %d: replayed record %d, want %d (lost, duplicated or reordered)", g, seq, next[g])
				}
				if acked[g][seq] != r.pos {
					t.Fatalf("goroutine %d record %d acknowledged at %v, replayed at %v", g, seq, acked[g][seq], r.pos)
				}
				next[g]++
			}
			for g, n := range next {
				if n != perGoroutine {
					t.Errorf("goroutine %d: %d of %d records replayed", g, n, perGoroutine)
				}
			}
		})
	}
}

func TestConcurrentAppendsShareOneFsync(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := mustOpen(t, t.TempDir(), Options{Registerer: reg})
	fs := &faults{syncGate: make(chan struct{})}
	injectFaults(w, fs)

	first := make(chan error, 1)
	go func() { _, err := w.Append(context.Background(), []byte("first")); first <- err }()
	waitSyncing(t, fs) // the first batch is now stuck in fsync
	const followers = 8
	errs := make(chan error, followers)
	for i := range followers {
		go func() { _, err := w.Append(context.Background(), []byte("follower "+strconv.Itoa(i))); errs <- err }()
	}
	waitQueued(t, w, followers)
	close(fs.syncGate)
	for range followers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if got := fs.syncs.Load(); got != 2 {
		t.Errorf("%d fsyncs for 1+%d appends, want 2: one for the first, one shared by the followers", got, followers)
	}
	if got := testutil.ToFloat64(w.metrics.appends); got != 1+followers {
		t.Errorf("mirador_eventstore_wal_appends_total = %v, want %d", got, 1+followers)
	}
}

func TestCutStartsANewSegment(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{})
	first, err := w.Cut() // before any append: creates the first segment
	if err != nil {
		t.Fatal(err)
	}
	p1 := mustAppend(t, w, "one")
	second, err := w.Cut()
	if err != nil {
		t.Fatal(err)
	}
	p2 := mustAppend(t, w, "two")
	third, err := w.Cut() // Cut of an empty segment still starts another
	if err != nil {
		t.Fatal(err)
	}
	p3 := mustAppend(t, w, "three")

	if p1.Segment != first || second <= first || p2.Segment < second || third <= second || p3.Segment < third {
		t.Errorf("cuts %d, %d, %d; records at %v, %v, %v: each record must be at or after the cut before it", first, second, third, p1, p2, p3)
	}
	if p2.Offset != 0 || p3.Offset != 0 {
		t.Errorf("records after Cut at %v and %v, want offset 0 of a fresh segment", p2, p3)
	}
	if got, want := w.Segments(), []int{first, second, third}; !slices.Equal(got, want) {
		t.Errorf("Segments() = %v, want %v", got, want)
	}
	mustClose(t, w)
	if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("replayed %q", got)
	}
}

func TestTruncateDeletesOlderSegmentsButNeverTheCurrentOne(t *testing.T) {
	tests := []struct {
		name   string
		before func(cuts []int) int
		want   func(cuts []int) []int
	}{
		{"nothing below the first", func(c []int) int { return c[0] }, func(c []int) []int { return c }},
		{"the oldest two", func(c []int) int { return c[2] }, func(c []int) []int { return c[2:] }},
		{"everything but the current", func(c []int) int { return c[3] }, func(c []int) []int { return c[3:] }},
		{"beyond the current", func(c []int) int { return c[3] + 100 }, func(c []int) []int { return c[3:] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{Sync: SyncNever})
			var cuts []int
			for i := range 4 {
				seg, err := w.Cut()
				if err != nil {
					t.Fatal(err)
				}
				cuts = append(cuts, seg)
				mustAppend(t, w, "record "+strconv.Itoa(i))
			}
			if err := w.Truncate(tt.before(cuts)); err != nil {
				t.Fatal(err)
			}
			want := tt.want(cuts)
			if got := w.Segments(); !slices.Equal(got, want) {
				t.Errorf("Segments() = %v, want %v", got, want)
			}
			if got := segmentFiles(t, dir); !slices.Equal(got, want) {
				t.Errorf("files on disk %v, want %v", got, want)
			}
			mustAppend(t, w, "after truncate")
			mustClose(t, w)
			got := payloads(reopenAndReplay(t, dir))
			if len(got) != len(want)+1 || got[len(got)-1] != "after truncate" {
				t.Errorf("replayed %q after keeping %d segments", got, len(want))
			}
		})
	}
}

func TestTruncateKeepsTheSegmentReplayResumed(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{})
	mustAppend(t, w, "old")
	mustClose(t, w)

	w = mustOpen(t, dir, Options{})
	replayAll(t, w)
	if err := w.Truncate(1000); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, "new")
	mustClose(t, w)
	if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"old", "new"}) {
		t.Errorf("replayed %q: Truncate deleted the segment appends continue in", got)
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name string
		use  func(w *WAL) error
		want error
	}{
		{"Append returns ErrClosed", func(w *WAL) error { _, err := w.Append(context.Background(), []byte("x")); return err }, ErrClosed},
		{"Cut returns ErrClosed", func(w *WAL) error { _, err := w.Cut(); return err }, ErrClosed},
		{"Truncate returns ErrClosed", func(w *WAL) error { return w.Truncate(10) }, ErrClosed},
		{"Replay returns ErrClosed", func(w *WAL) error { return w.Replay(func(Position, []byte) error { return nil }) }, ErrClosed},
		{"a second Close succeeds", func(w *WAL) error { return w.Close() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustOpen(t, t.TempDir(), Options{})
			mustAppend(t, w, "before close")
			mustClose(t, w)
			if err := tt.use(w); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCloseWritesAndSyncsUnderEveryPolicy(t *testing.T) {
	for _, policy := range policies {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{Sync: policy, SyncInterval: time.Hour})
			fs := &faults{}
			injectFaults(w, fs)
			mustAppend(t, w, "a")
			mustAppend(t, w, "b")
			mustClose(t, w)
			if fs.syncs.Load() == 0 {
				t.Error("Close did not fsync the segment")
			}
			if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("replayed %q", got)
			}
		})
	}
}

func TestAppendsRacingCloseAreWrittenOrRefused(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{Sync: SyncNever})
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("%d-%d", g, i)
				_, err := w.Append(context.Background(), []byte(p))
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, p)
				mu.Unlock()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	mustClose(t, w)
	wg.Wait()
	got := payloads(reopenAndReplay(t, dir))
	slices.Sort(got)
	slices.Sort(acked)
	if !slices.Equal(got, acked) {
		t.Errorf("replayed %d records, %d were acknowledged", len(got), len(acked))
	}
}

func TestWriteFailurePoisonsTheWAL(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{Registerer: reg})
	fs := &faults{}
	injectFaults(w, fs)
	mustAppend(t, w, "good")
	diskFull := error(syscall.ENOSPC)
	fs.writeErr.Store(&diskFull)

	_, err := w.Append(context.Background(), []byte("lost"))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append during a failing write: %v, want ErrFailed wrapping ENOSPC", err)
	}
	fs.writeErr.Store(nil) // the disk recovers, but the WAL must not trust it
	writes := fs.writes.Load()
	if _, err := w.Append(context.Background(), []byte("later")); !errors.Is(err, ErrFailed) {
		t.Errorf("append after the failure: %v, want ErrFailed", err)
	}
	if _, err := w.Cut(); !errors.Is(err, ErrFailed) {
		t.Errorf("Cut after the failure: %v, want ErrFailed", err)
	}
	if fs.writes.Load() != writes {
		t.Error("the WAL wrote again after a failed write")
	}
	if got := testutil.ToFloat64(w.metrics.failed); got != 1 {
		t.Errorf("mirador_eventstore_wal_failed = %v, want 1", got)
	}
	if err := w.Close(); !errors.Is(err, ErrFailed) {
		t.Errorf("Close: %v, want ErrFailed", err)
	}
	// The half-written record is a torn tail: the next run replays the rest.
	if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"good"}) {
		t.Errorf("replayed %q", got)
	}
}

func TestFsyncFailureIsNeverRetried(t *testing.T) {
	for _, policy := range policies {
		t.Run(policy.String(), func(t *testing.T) {
			w := mustOpen(t, t.TempDir(), Options{Sync: policy, SyncInterval: time.Millisecond})
			fs := &faults{}
			injectFaults(w, fs)
			eio := error(syscall.EIO)
			fs.syncErr.Store(&eio)
			_, err := w.Append(context.Background(), []byte("x"))
			if policy == SyncAlways && !errors.Is(err, syscall.EIO) {
				t.Fatalf("append with failing fsync: %v, want EIO", err)
			}
			_, _ = w.Cut() // closing a segment fsyncs it under every policy
			syncs := fs.syncs.Load()
			if syncs == 0 {
				t.Fatal("no fsync was attempted")
			}
			for range 3 {
				if _, err := w.Append(context.Background(), []byte("y")); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
					t.Fatalf("append after a failed fsync: %v, want ErrFailed wrapping EIO", err)
				}
			}
			if err := w.Close(); !errors.Is(err, syscall.EIO) {
				t.Errorf("Close: %v, want the fsync error", err)
			}
			if got := fs.syncs.Load(); got != syncs {
				t.Errorf("%d fsyncs after the failed one; a failed fsync must not be retried", got-syncs)
			}
		})
	}
}

func TestEveryAppenderOfAFailedBatchGetsTheError(t *testing.T) {
	w := mustOpen(t, t.TempDir(), Options{})
	fs := &faults{syncGate: make(chan struct{})}
	injectFaults(w, fs)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { _, err := w.Append(context.Background(), []byte(strconv.Itoa(i))); errs <- err }()
	}
	waitSyncing(t, fs)
	eio := error(syscall.EIO)
	fs.syncErr.Store(&eio)
	close(fs.syncGate)
	for range n {
		if err := <-errs; !errors.Is(err, ErrFailed) {
			t.Errorf("appender got %v, want ErrFailed", err)
		}
	}
	_ = w.Close()
}

func TestAppendStopsWaitingWhenTheContextEnds(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{})
	fs := &faults{syncGate: make(chan struct{})}
	injectFaults(w, fs)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := w.Append(ctx, []byte("slow")); errc <- err }()
	waitSyncing(t, fs)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Append kept waiting for the fsync after its context ended")
	}
	if _, err := w.Append(ctx, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("append with an ended context: %v, want context.Canceled", err)
	}
	close(fs.syncGate)
	mustClose(t, w)
	// The abandoned record was still written; the one refused up front was not.
	if got := payloads(reopenAndReplay(t, dir)); !slices.Equal(got, []string{"slow"}) {
		t.Errorf("replayed %q", got)
	}
}

func TestAppendRejectsAnEmptyPayload(t *testing.T) {
	w := mustOpen(t, t.TempDir(), Options{})
	defer mustClose(t, w)
	if _, err := w.Append(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "empty payload") {
		t.Errorf("Append(nil) = %v, want an empty-payload error", err)
	}
}

func TestSyncIntervalFsyncsInTheBackground(t *testing.T) {
	w := mustOpen(t, t.TempDir(), Options{Sync: SyncInterval, SyncInterval: 5 * time.Millisecond})
	defer mustClose(t, w)
	fs := &faults{}
	injectFaults(w, fs)
	mustAppend(t, w, "x")
	if fs.syncs.Load() != 0 {
		t.Error("SyncInterval fsynced before Append returned")
	}
	waitSyncing(t, fs)
}

func TestSyncNeverDoesNotFsyncAppends(t *testing.T) {
	w := mustOpen(t, t.TempDir(), Options{Sync: SyncNever})
	fs := &faults{}
	injectFaults(w, fs)
	for range 20 {
		mustAppend(t, w, "x")
	}
	if n := fs.syncs.Load(); n != 0 {
		t.Errorf("%d fsyncs for appends under SyncNever", n)
	}
	mustClose(t, w)
}

func TestMetricsAreRegisteredAndReleased(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{Registerer: reg, SegmentSize: 64})
	for range 10 {
		mustAppend(t, w, strings.Repeat("m", 40))
	}
	if _, err := Open(t.TempDir(), Options{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "same Registerer") {
		t.Errorf("second WAL on one Registerer: %v, want an error explaining the clash", err)
	}
	checks := map[string]float64{
		"mirador_eventstore_wal_appends_total":       10,
		"mirador_eventstore_wal_written_bytes_total": 10 * 48,
		"mirador_eventstore_wal_segments":            10,
		"mirador_eventstore_wal_failed":              0,
	}
	for name, want := range checks {
		if got := gatherValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := gatherValue(t, reg, "mirador_eventstore_wal_fsyncs_total"); got < 10 {
		t.Errorf("mirador_eventstore_wal_fsyncs_total = %v, want at least one per sequential append", got)
	}
	mustClose(t, w)
	w = mustOpen(t, dir, Options{Registerer: reg}) // Close unregistered them
	mustClose(t, w)
}

func gatherValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("metric %s not gathered", name)
	return 0
}

func TestOpenRejectsAnUnknownPolicy(t *testing.T) {
	_, err := Open(t.TempDir(), Options{Sync: Policy(7)})
	if err == nil || !strings.Contains(err.Error(), "unknown sync policy 7") {
		t.Errorf("Open with Policy(7): %v", err)
	}
}

func TestOpenIgnoresForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"notes.txt", "abc.wal", "-1.wal"} {
		if err := os.WriteFile(dir+"/"+name, []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(dir+"/0000000007.wal", 0o700); err != nil {
		t.Fatal(err)
	}
	w := mustOpen(t, dir, Options{})
	if segs := w.Segments(); len(segs) != 0 {
		t.Errorf("Segments() = %v, want none", segs)
	}
	mustAppend(t, w, "x")
	mustClose(t, w)
}
