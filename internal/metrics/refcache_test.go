package metrics

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

func TestKnownSeriesAreAppendedByReference(t *testing.T) {
	e := openTestEngine(t, nil)
	db, _ := e.tenant("default")
	now := time.Now().UnixMilli()
	for i := int64(0); i < 3; i++ {
		w := postWrite(e, "default", contentTypeV1, encodeV1(t,
			series("a", []string{"job", "x"}, prompb.Sample{Timestamp: now + i*1000, Value: float64(i)}),
			// the same series with its labels in another order: another key
			prompb.TimeSeries{Labels: []prompb.Label{{Name: "job", Value: "y"}, {Name: "__name__", Value: "a"}}, Samples: []prompb.Sample{{Timestamp: now + i*1000, Value: 10 + float64(i)}}},
		))
		if w.Code != http.StatusNoContent {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if n := db.refs.len(); n != 2 {
		t.Errorf("cache has %d entries, want 2", n)
	}
	got := instant(t, e, "default", "count_over_time(a[1m])", time.UnixMilli(now+2000))
	if got[`{job="x"}`] != 3 || got[`{job="y"}`] != 3 {
		t.Errorf("samples stored: %v", got)
	}
}

func TestStaleReferenceFallsBackToLabels(t *testing.T) {
	e := openTestEngine(t, nil)
	db, _ := e.tenant("default")
	now := time.Now().UnixMilli()
	body := encodeV1(t, series("stale", []string{"job", "x"}, prompb.Sample{Timestamp: now, Value: 1}))
	if w := postWrite(e, "default", contentTypeV1, body); w.Code != http.StatusNoContent {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// Point the cached key at a reference the head never had, as if the
	// series had been garbage-collected since.
	var key []byte
	_ = forEachSeriesV1(body, func(msg []byte) error {
		key, _, _, _ = (&v1Series{}).scan(msg)
		return nil
	})
	db.refs.put(key, storage.SeriesRef(1<<40))
	w := postWrite(e, "default", contentTypeV1, encodeV1(t, series("stale", []string{"job", "x"}, prompb.Sample{Timestamp: now + 1000, Value: 2})))
	if w.Code != http.StatusNoContent {
		t.Fatalf("after a stale reference: %d %s", w.Code, w.Body)
	}
	if got := instant(t, e, "default", "stale", time.UnixMilli(now+1000)); got[`{__name__="stale", job="x"}`] != 2 {
		t.Errorf("stored %v", got)
	}
	if ref := db.refs.get(key); ref == 1<<40 || ref == 0 {
		t.Errorf("cache still holds %d, want the real reference", ref)
	}
}

func TestRefCacheDropsDeletedSeries(t *testing.T) {
	c := newRefCache()
	c.put([]byte("a"), 1)
	c.put([]byte("b"), 2)
	c.put([]byte("b-again"), 2)
	c.drop(map[chunks.HeadSeriesRef]labels.Labels{2: labels.EmptyLabels()})
	if c.get([]byte("a")) != 1 || c.get([]byte("b")) != 0 || c.get([]byte("b-again")) != 0 || c.len() != 1 {
		t.Errorf("after drop: a=%d b=%d len=%d", c.get([]byte("a")), c.get([]byte("b")), c.len())
	}
}

func TestRejectionOfKnownSeriesNamesIt(t *testing.T) {
	e := openTestEngine(t, nil)
	now := time.Now().UnixMilli()
	if w := postWrite(e, "default", contentTypeV1, encodeV1(t, series("known", []string{"job", "x"}, prompb.Sample{Timestamp: now, Value: 1}))); w.Code != http.StatusNoContent {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w := postWrite(e, "default", contentTypeV1, encodeV1(t, series("known", []string{"job", "x"}, prompb.Sample{Timestamp: now - 60_000, Value: 0})))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `e.g. {__name__="known", job="x"}`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
