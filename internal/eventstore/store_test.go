package eventstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// collector is a Visitor that keeps copies of what it sees.
type collector struct {
	mu   *sync.Mutex
	recs *[]Record
}

func (c collector) Visit(b *Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.recs = append(*c.recs, b.Records...)
	return nil
}

func scanAll(t *testing.T, s *Store, q Query) ([]Record, ScanStats) {
	t.Helper()
	var mu sync.Mutex
	var out []Record
	if q.Tenant == "" {
		q.Tenant = "t1"
	}
	if q.Dataset == "" {
		q.Dataset = DatasetLogs
	}
	if q.Columns == 0 {
		q.Columns = ColAll
	}
	stats, err := s.Scan(context.Background(), q, func() Visitor { return collector{&mu, &out} })
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b Record) int { return int(a.Time - b.Time) })
	return out, stats
}

func openStore(t *testing.T, dir string, mod ...func(*Options)) *Store {
	t.Helper()
	opts := Options{Dir: dir, CompactionInterval: -1}
	for _, m := range mod {
		m(&opts)
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func genRecords(n int, start time.Time, group string) []Record {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Time: start.Add(time.Duration(i) * time.Millisecond).UnixNano(), ObservedTime: start.UnixNano(),
			Group: group, Stream: fmt.Sprintf("host-%d", i%3),
			SeverityText: []string{"INFO", "WARN", "ERROR"}[i%3], SeverityNumber: int32(9 + 4*(i%3)),
			Body:       fmt.Sprintf("GET /api/items/%d took %dms req=%08x", i, rng.IntN(900), rng.Uint32()),
			Attributes: []Attr{{Key: "http.status", Value: IntValue(int64(200 + i%5))}, {Key: "seq", Value: IntValue(int64(i))}, {Key: "ratio", Value: FloatValue(0.5)}},
			Resource:   []Attr{{Key: "service.name", Value: StringValue(group)}},
		}
		if i%100 == 0 {
			recs[i].TraceID = [16]byte{byte(i), byte(i >> 8), 1}
			recs[i].SpanID = [8]byte{byte(i), 2}
		}
	}
	return recs
}

func TestRoundTripHeadPartsAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	want := genRecords(20000, t0, "api")
	if err := s.Append(context.Background(), "t1", DatasetLogs, slices.Clone(want)); err != nil {
		t.Fatal(err)
	}
	check := func(when string, s *Store) {
		t.Helper()
		got, _ := scanAll(t, s, Query{})
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", when, len(got), len(want))
		}
		for i := range want {
			if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
				t.Fatalf("%s: record %d\n got %+v\nwant %+v", when, i, got[i], want[i])
			}
		}
	}
	check("in the head", s)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("in a part", s)
	s.Close()
	s2 := openStore(t, dir)
	check("after reopen", s2)
	if segs := s2.wal.Segments(); len(segs) > 1 {
		t.Errorf("WAL not truncated after flush: %v", segs)
	}
}

func TestCrashRecoveryIsExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	s.Append(ctx, "t1", DatasetLogs, genRecords(1000, t0, "a"))
	s.Append(ctx, "t2", DatasetLogs, genRecords(500, t0, "b"))
	// Flush only t1's head, then keep writing both.
	if err := s.flush(ctx, func(hs []*head) []*head {
		return slices.DeleteFunc(hs, func(h *head) bool { return h.tenant != "t1" })
	}); err != nil {
		t.Fatal(err)
	}
	s.Append(ctx, "t1", DatasetLogs, genRecords(300, t0.Add(time.Hour), "a"))
	s.Append(ctx, "t2", DatasetLogs, genRecords(200, t0.Add(time.Hour), "b"))

	// "Crash": copy the directory while the store is open.
	crash := t.TempDir()
	copyDir(t, dir, crash)
	s2 := openStore(t, crash)
	if got, _ := scanAll(t, s2, Query{Tenant: "t1"}); len(got) != 1300 {
		t.Errorf("t1: %d records after crash, want 1300", len(got))
	}
	if got, _ := scanAll(t, s2, Query{Tenant: "t2"}); len(got) != 700 {
		t.Errorf("t2: %d records after crash, want 700", len(got))
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOrphanPartsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.Append(context.Background(), "t1", DatasetLogs, genRecords(10, t0, "a"))
	s.Flush(context.Background())
	s.Close()
	orphan := filepath.Join(dir, "parts", "t1", DatasetLogs, "deadbeef.parquet")
	os.WriteFile(orphan, []byte("half a part"), 0o640)
	s2 := openStore(t, dir)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan part still there: %v", err)
	}
	if got, _ := scanAll(t, s2, Query{}); len(got) != 10 {
		t.Fatalf("%d records", len(got))
	}
}

func TestPruningByNeedleTimeAndTraceID(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	recs := genRecords(50000, t0, "api")
	recs[31337].Body = "payment failed needle7f3c9a1e for order 9"
	s.Append(ctx, "t1", DatasetLogs, recs)
	s.Flush(ctx)

	got, st := scanAll(t, s, Query{Needles: []string{"needle7f3c9a1e"}, Columns: ColBody})
	if !slices.ContainsFunc(got, func(r Record) bool { return strings.Contains(r.Body, "needle7f3c9a1e") }) {
		t.Fatal("needle record not visited")
	}
	if st.BlocksPruned < len(recs)/rowGroupRows-1 {
		t.Errorf("needle pruned %d row groups of %d", st.BlocksPruned, len(recs)/rowGroupRows+1)
	}
	got, st = scanAll(t, s, Query{Start: t0.Add(10 * time.Second).UnixNano(), End: t0.Add(11 * time.Second).UnixNano()})
	if len(got) != 1000 || st.BlocksPruned == 0 {
		t.Errorf("time range: %d records, %d row groups pruned", len(got), st.BlocksPruned)
	}
	got, st = scanAll(t, s, Query{TraceIDs: [][16]byte{recs[4200].TraceID, {9, 9, 9}}, Columns: ColAll})
	if len(got) != 1 || got[0].SpanID != recs[4200].SpanID || st.BlocksPruned == 0 {
		t.Fatalf("trace id: %d records, %d pruned", len(got), st.BlocksPruned)
	}
	// Only the trace's rows are decoded, and they are decoded whole.
	if got[0].Body != recs[4200].Body || !slices.Equal(got[0].Attributes, recs[4200].Attributes) || got[0].Stream != recs[4200].Stream {
		t.Errorf("trace id lookup returned %+v, want %+v", got[0], recs[4200])
	}
	// Detail: only the records it accepts get their body and attributes.
	got, _ = scanAll(t, s, Query{Columns: ColSeverity | ColBody | ColAttributes, Detail: func(r *Record) bool { return r.SeverityText == "ERROR" }})
	for _, r := range got {
		if whole := r.Body != "" && len(r.Attributes) == 3; whole != (r.SeverityText == "ERROR") {
			t.Fatalf("Detail: %s record with body %q and %d attributes", r.SeverityText, r.Body, len(r.Attributes))
		}
	}
	if len(got) != len(recs) {
		t.Errorf("Detail dropped records: %d of %d visited", len(got), len(recs))
	}
	got, _ = scanAll(t, s, Query{AttrEquals: []Attr{{Key: "seq", Value: IntValue(777)}}})
	if !slices.ContainsFunc(got, func(r Record) bool { return r.Attributes[1].Value.Int == 777 }) {
		t.Error("attribute equality pruned the matching record")
	}
	got, _ = scanAll(t, s, Query{Columns: ColTime | ColSeverity, Streams: []string{"host-1"}})
	if len(got) != 16667 || got[0].Body != "" || got[0].SeverityText != "WARN" {
		t.Errorf("projection and stream filter: %d records, first %+v", len(got), got[0])
	}
}

func TestBudgetsGivePartialResults(t *testing.T) {
	s := openStore(t, t.TempDir())
	s.Append(context.Background(), "t1", DatasetLogs, genRecords(50000, t0, "api"))
	s.Flush(context.Background())
	_, st := scanAll(t, s, Query{MaxRecords: 10000, Workers: 1})
	if !st.Partial || !strings.Contains(st.PartialReason, "record budget") || st.RecordsScanned >= 50000 {
		t.Errorf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	st, err := s.Scan(ctx, Query{Tenant: "t1", Dataset: DatasetLogs}, func() Visitor { return collector{&sync.Mutex{}, new([]Record)} })
	if err != nil || !st.Partial {
		t.Errorf("deadline: %v %+v", err, st)
	}
}

func TestTenantIsolation(t *testing.T) {
	s := openStore(t, t.TempDir())
	s.Append(context.Background(), "t1", DatasetLogs, genRecords(10, t0, "a"))
	s.Append(context.Background(), "t2", DatasetLogs, genRecords(5, t0, "a"))
	s.Flush(context.Background())
	s.Append(context.Background(), "t2", DatasetLogs, genRecords(5, t0, "a"))
	if got, _ := scanAll(t, s, Query{Tenant: "t1"}); len(got) != 10 {
		t.Errorf("t1 sees %d", len(got))
	}
	if got, _ := scanAll(t, s, Query{Tenant: "t2"}); len(got) != 10 {
		t.Errorf("t2 sees %d", len(got))
	}
	if got, _ := scanAll(t, s, Query{Tenant: "t3"}); len(got) != 0 {
		t.Errorf("t3 sees %d", len(got))
	}
}

func TestDeleteGroupHidesOldRecordsOnly(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	s.Append(ctx, "t1", DatasetLogs, genRecords(100, t0, "gone"))
	s.Append(ctx, "t1", DatasetLogs, genRecords(100, t0, "kept"))
	s.Flush(ctx)
	s.Append(ctx, "t1", DatasetLogs, genRecords(50, t0, "gone"))
	if err := s.DeleteGroup(ctx, "t1", DatasetLogs, "gone"); err != nil {
		t.Fatal(err)
	}
	s.Append(ctx, "t1", DatasetLogs, genRecords(7, t0, "gone")) // recreated
	count := func(s *Store) map[string]int {
		got, _ := scanAll(t, s, Query{})
		m := map[string]int{}
		for _, r := range got {
			m[r.Group]++
		}
		return m
	}
	if m := count(s); m["gone"] != 7 || m["kept"] != 100 {
		t.Fatalf("after delete: %v", m)
	}
	crash := t.TempDir()
	copyDir(t, dir, crash)
	if m := count(openStore(t, crash)); m["gone"] != 7 || m["kept"] != 100 {
		t.Fatalf("after delete and crash: %v", m)
	}
	if gs := s.Groups("t1", DatasetLogs); len(gs) != 2 || gs[0].Name != "gone" || gs[0].Records != 7 {
		t.Fatalf("groups %+v", gs)
	}
}

func TestRetentionDropsExpiredGroupsWithoutRewritingOthers(t *testing.T) {
	dir := t.TempDir()
	now := t0.Add(48 * time.Hour)
	s := openStore(t, dir, func(o *Options) {
		o.Now = func() time.Time { return now }
		o.Retention = func(_, _, g string) time.Duration {
			if g == "short" {
				return 24 * time.Hour
			}
			return 0
		}
	})
	ctx := context.Background()
	s.Append(ctx, "t1", DatasetLogs, genRecords(100, t0, "short")) // 48h old: expired
	s.Flush(ctx)
	s.Append(ctx, "t1", DatasetLogs, append(genRecords(100, t0, "long"), genRecords(10, now.Add(-time.Hour), "short")...))
	s.Flush(ctx)
	partsBefore := len(s.man.Parts)
	mixed := s.man.Parts[1].ID
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.man.Parts) != partsBefore-1 || s.man.Parts[0].ID != mixed {
		t.Fatalf("parts after retention: %+v", s.man.Parts)
	}
	got, _ := scanAll(t, s, Query{})
	m := map[string]int{}
	for _, r := range got {
		m[r.Group]++
	}
	if m["short"] != 10 || m["long"] != 100 {
		t.Fatalf("after retention: %v", m)
	}
}

func TestCompactionDuringScansIsCompleteAndDuplicateFree(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	for i := range 6 {
		s.Append(ctx, "t1", DatasetLogs, genRecords(3000, t0.Add(time.Duration(i)*time.Hour), "api"))
		s.Flush(ctx)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				got, _ := scanAll(t, s, Query{Columns: ColTime | ColBody})
				seen := map[string]bool{}
				for _, r := range got {
					k := fmt.Sprint(r.Time, r.Body)
					if seen[k] {
						errs <- "duplicate " + k
						return
					}
					seen[k] = true
				}
				if len(got) != 18000 {
					errs <- fmt.Sprintf("%d records", len(got))
					return
				}
			}
		}()
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(s.man.Parts); n != 1 {
		t.Errorf("%d parts after compaction, want 1", n)
	}
	files, _ := filepath.Glob(filepath.Join(s.opts.Dir, "parts", "t1", DatasetLogs, "*.parquet"))
	if len(files) != 1 {
		t.Errorf("%d part files left, want 1: %v", len(files), files)
	}
	sort.Strings(files)
}

// FuzzDecodeBatch decodes arbitrary WAL payloads: never a panic, and what
// decodes re-encodes to the same bytes.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(nil, "t", DatasetLogs, genRecords(3, t0, "g")))
	f.Add(encodeBatch(nil, "t", DatasetSpans, []Record{{Name: "span", Events: []SpanEvent{{Name: "e"}}, Links: []SpanLink{{TraceState: "x"}}}}))
	f.Add([]byte{1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		tenant, dataset, recs, err := decodeBatch(b)
		if err != nil {
			return
		}
		again := encodeBatch(nil, tenant, dataset, recs)
		_, _, recs2, err := decodeBatch(again)
		if err != nil || fmt.Sprint(recs) != fmt.Sprint(recs2) {
			t.Fatalf("re-encoding changed the batch: %v", err)
		}
	})
}
