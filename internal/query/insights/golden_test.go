package insights

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
)

var update = flag.Bool("update", false, "rewrite the golden files with the current output (check them by hand)")

var base = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// dataset is the fixed records every golden query runs over: JSON bodies
// (api), access lines (web) and plain lines with typed attributes (worker),
// ten seconds apart.
func dataset() []eventstore.Record {
	var recs []eventstore.Record
	at := func(i int) int64 { return base.Add(time.Duration(i) * 10 * time.Second).UnixNano() }
	apiLevels := []string{"info", "info", "warn", "error", "info", "info", "error", "info", "warn", "info"}
	for i := range 10 {
		body := fmt.Sprintf(`{"level":%q,"msg":"request done","status":%d,"latency_ms":%d,"user":{"id":"u%d","plan":%q},"path":"/v1/items/%d","tags":["a","b%d"]}`,
			apiLevels[i], []int{200, 200, 429, 500, 200, 201, 503, 200, 404, 200}[i], 5+i*7, i%3, []string{"free", "pro"}[i%2], i, i)
		recs = append(recs, eventstore.Record{Time: at(i), ObservedTime: at(i) + 5e8, Group: "api", Stream: "api/pod-" + fmt.Sprint(i%2),
			SeverityText: strings.ToUpper(apiLevels[i]), SeverityNumber: 9, Body: body,
			Resource: []eventstore.Attr{{Key: "service.name", Value: eventstore.StringValue("api")}}})
	}
	ips := []string{"10.0.0.1", "10.0.0.2", "192.168.1.7", "10.0.0.1", "2001:db8::1", "10.0.0.3", "192.168.1.7", "10.0.0.1", "not-an-ip", "10.0.0.2"}
	for i := range 10 {
		method := []string{"GET", "GET", "POST", "GET", "DELETE"}[i%5]
		status := []int{200, 304, 201, 404, 500, 200, 200, 301, 200, 502}[i]
		body := fmt.Sprintf("%s %s /index.html?page=%d %d %d %dms", ips[i], method, i, status, 1000+i*250, 3+i*11)
		recs = append(recs, eventstore.Record{Time: at(i) + 5e9, ObservedTime: at(i) + 6e9, Group: "web", Stream: "web/nginx", SeverityText: "INFO", SeverityNumber: 9, Body: body})
	}
	for i := range 10 {
		level := []string{"INFO", "DEBUG", "ERROR", "INFO", "WARN"}[i%5]
		recs = append(recs, eventstore.Record{Time: at(i) + 7e9, ObservedTime: at(i) + 8e9, Group: "worker", Stream: "worker/" + []string{"a", "b"}[i%2],
			SeverityText: level, SeverityNumber: 9, Body: fmt.Sprintf("job %s finished attempt=%d", []string{"resize", "email", "report"}[i%3], 1+i%3),
			Attributes: []eventstore.Attr{
				{Key: "job", Value: eventstore.StringValue([]string{"resize", "email", "report"}[i%3])},
				{Key: "attempt", Value: eventstore.IntValue(int64(1 + i%3))},
				{Key: "duration", Value: eventstore.FloatValue(0.25 * float64(i+1))},
				{Key: "ok", Value: eventstore.BoolValue(i%4 != 2)},
			}})
	}
	return recs
}

// memScanner serves the dataset from memory, in several batches to
// parallel visitors, honouring the query's groups and time range.
type memScanner struct{ recs []eventstore.Record }

func (m memScanner) Scan(_ context.Context, q eventstore.Query, newVisitor func() eventstore.Visitor) (eventstore.ScanStats, error) {
	var kept []eventstore.Record
	for _, r := range m.recs {
		if (q.Groups == nil || contains(q.Groups, r.Group)) && r.Time >= q.Start && (q.End == 0 || r.Time < q.End) {
			kept = append(kept, r)
		}
	}
	const workers = 3
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		v := newVisitor()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 4; i < len(kept); i += workers * 4 {
				b := eventstore.Batch{Records: append([]eventstore.Record(nil), kept[i:min(i+4, len(kept))]...)}
				if err := v.Visit(&b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return eventstore.ScanStats{RecordsScanned: int64(len(kept))}, <-errs
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// render prints a result as a table, or the error.
func render(res *query.Result, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	b.WriteString(strings.Join(res.Fields, " | ") + "\n")
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case nil:
				cells[i] = "∅"
			case string:
				cells[i] = fmt.Sprintf("%q", v)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		b.WriteString(strings.Join(cells, " | ") + "\n")
	}
	if res.Partial {
		b.WriteString("partial: " + res.PartialReason + "\n")
	}
	return b.String()
}

func runQuery(t *testing.T, s query.Scanner, src string, groups []string) string {
	t.Helper()
	plan, err := Compile(src, query.Logs)
	if err != nil {
		return render(nil, err)
	}
	return render(query.Run(context.Background(), s, plan, query.Request{
		Tenant: "t", Dataset: eventstore.DatasetLogs, Groups: groups,
		Start: base.Add(-time.Hour).UnixNano(), End: base.Add(time.Hour).UnixNano(), MaxRows: 1000,
	}))
}

// Golden files hold cases separated by lines "=== name [groups]": the
// query, a line "---", and the expected table.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.golden")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	store := realStore(t)
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		for _, c := range strings.Split(string(raw), "=== ")[1:] {
			header, body, _ := strings.Cut(c, "\n")
			src, want, _ := strings.Cut(body, "---\n")
			src = strings.TrimSuffix(src, "\n")
			name, groupList, _ := strings.Cut(header, " ")
			var groups []string
			if groupList != "" {
				groups = strings.Split(strings.Trim(groupList, "[]"), ",")
			}
			got := runQuery(t, memScanner{dataset()}, src, groups)
			if gotStore := runQuery(t, store, src, groups); gotStore != got {
				t.Errorf("%s %s: the event store and the in-memory scan disagree\nstore:\n%s\nmemory:\n%s", file, name, gotStore, got)
			}
			fmt.Fprintf(&out, "=== %s\n%s\n---\n%s\n", header, src, got)
			if !*update && strings.TrimSpace(got) != strings.TrimSpace(want) {
				t.Errorf("%s %s:\n%s\n got:\n%s\nwant:\n%s", file, name, src, got, want)
			}
		}
		if *update {
			if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// realStore holds the dataset in an event store, flushed to parts, so the
// golden queries also run through Parquet and projection.
func realStore(t *testing.T) *eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(context.Background(), eventstore.Options{Dir: t.TempDir(), CompactionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Append(context.Background(), "t", eventstore.DatasetLogs, dataset()); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
