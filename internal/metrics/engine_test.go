package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/miradorhq/mirador/internal/tenant"
)

// openTestEngine opens an engine in a temp dir: no scraping, limits from fn.
func openTestEngine(t testing.TB, limits func(string) Limits) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{
		Dir:                 t.TempDir(),
		RetentionTime:       24 * time.Hour,
		QueryTimeout:        time.Minute,
		QueryMaxSamples:     1_000_000,
		QueryMaxConcurrency: 4,
		LookbackDelta:       5 * time.Minute,
		Limits:              limits,
		ScrapeTenant:        tenant.Default,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// instant evaluates expr at ts for tenant id and returns value by series.
func instant(t testing.TB, e *Engine, id, expr string, ts time.Time) map[string]float64 {
	t.Helper()
	db, err := e.tenant(id)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.query.NewInstantQuery(context.Background(), db.db, nil, expr, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", expr, res.Err)
	}
	out := map[string]float64{}
	vec, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	for _, s := range vec {
		out[s.Metric.String()] = s.F
	}
	return out
}

func withTenant(r *http.Request, id string) *http.Request {
	return r.WithContext(tenant.WithID(r.Context(), id))
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestTenantsAreSeparateDatabases(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now()
	for _, id := range []string{"a", "b"} {
		db, err := e.tenant(id)
		if err != nil {
			t.Fatal(err)
		}
		app := db.db.Appender(context.Background())
		if _, err := app.Append(0, labels.FromStrings("__name__", "only_in_"+id), now.UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if got := instant(t, e, "a", `{__name__=~"only_in_.*"}`, now); len(got) != 1 || got[`{__name__="only_in_a"}`] != 1 {
		t.Errorf("tenant a sees %v", got)
	}
	if got := instant(t, e, "b", `only_in_a`, now); len(got) != 0 {
		t.Errorf("tenant b sees tenant a's series: %v", got)
	}
}

func TestTenantsReopenedFromDisk(t *testing.T) {
	dir := t.TempDir()
	open := func() *Engine {
		e, err := Open(context.Background(), Options{Dir: dir, RetentionTime: time.Hour, QueryTimeout: time.Minute, QueryMaxSamples: 1000, QueryMaxConcurrency: 1, LookbackDelta: 5 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := open()
	db, _ := e.tenant("acme")
	app := db.db.Appender(context.Background())
	now := time.Now()
	if _, err := app.Append(0, labels.FromStrings("__name__", "kept"), now.UnixMilli(), 7); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open()
	defer e.Close()
	e.mu.Lock()
	_, opened := e.tenants["acme"]
	e.mu.Unlock()
	if !opened {
		t.Fatal("tenant TSDB on disk was not opened at start-up")
	}
	if got := instant(t, e, "acme", "kept", now); got[`{__name__="kept"}`] != 7 {
		t.Errorf("after reopen: %v", got)
	}
}

func TestInvalidTenantRefused(t *testing.T) {
	e := openTestEngine(t, nil)
	if _, err := e.tenant("../etc"); err == nil {
		t.Fatal("opened a TSDB for an invalid tenant id")
	}
}
