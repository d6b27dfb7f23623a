package metricfilter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestStorePutGetListDelete(t *testing.T) {
	ctx := context.Background()
	s := NewStore(openMeta(t).DB(), nil)
	s.now = func() time.Time { return time.UnixMilli(1000) }
	count := Transformation{MetricName: "hits", MetricNamespace: "X", MetricValue: "1", DefaultValue: ptr(0.0), Unit: "Count"}
	for _, f := range []Filter{filter("b", "api", "ERROR", count), filter("a", "api", "WARN", count), filter("a", "web", "", count)} {
		if err := s.Put(ctx, "acme", f); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.List(ctx, "acme", "")
	if err != nil || len(all) != 3 || all[0].LogGroup+"/"+all[0].Name != "api/a" || all[2].LogGroup != "web" {
		t.Fatalf("list all: %v %+v", err, all)
	}
	if got := all[1]; got.Pattern != "ERROR" || got.CreationTime != 1000 || *got.Transformations[0].DefaultValue != 0 || got.Transformations[0].Unit != "Count" {
		t.Errorf("stored %+v", got)
	}
	if api, _ := s.List(ctx, "acme", "api"); len(api) != 2 {
		t.Errorf("list api: %+v", api)
	}
	if other, _ := s.List(ctx, "other", ""); len(other) != 0 {
		t.Errorf("tenant other sees %+v", other)
	}

	// Replacing keeps the creation time.
	s.now = func() time.Time { return time.UnixMilli(2000) }
	if err := s.Put(ctx, "acme", filter("b", "api", "FATAL", count)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "acme", "api", "b"); err != nil || got.Pattern != "FATAL" || got.CreationTime != 1000 {
		t.Errorf("after replacing: %v %+v", err, got)
	}
	if _, err := s.Get(ctx, "other", "api", "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of another tenant: %v", err)
	}

	if err := s.Delete(ctx, "acme", "api", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "acme", "api", "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.DeleteGroup(ctx, "acme", "api"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.List(ctx, "acme", ""); len(left) != 1 || left[0].LogGroup != "web" {
		t.Errorf("after deleting group api: %+v", left)
	}
}

func TestStoreLimitsFiltersPerGroup(t *testing.T) {
	ctx := context.Background()
	s := NewStore(openMeta(t).DB(), nil)
	tr := Transformation{MetricName: "m", MetricNamespace: "N", MetricValue: "1"}
	for i := range MaxFiltersPerGroup {
		if err := s.Put(ctx, "acme", filter(fmt.Sprint("f", i), "g", "", tr)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "acme", filter("one-too-many", "g", "", tr)); !errors.Is(err, ErrLimit) {
		t.Errorf("filter %d: %v, want ErrLimit", MaxFiltersPerGroup+1, err)
	}
	if err := s.Put(ctx, "acme", filter("f7", "g", "ERROR", tr)); err != nil {
		t.Errorf("replacing a filter of a full group: %v", err)
	}
	if err := s.Put(ctx, "acme", filter("f0", "other-group", "", tr)); err != nil {
		t.Errorf("another group: %v", err)
	}
	if err := s.Put(ctx, "acme", filter("x", "g", `{ $.a = `, tr)); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid: %v", err)
	}
}

func TestStoreCacheFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s := NewStore(openMeta(t).DB(), nil)
	mk := func(pattern string) Filter {
		return filter("n", "g", pattern, Transformation{MetricName: "hits", MetricNamespace: "X", MetricValue: "1"})
	}
	patterns := func() []string {
		fs, err := s.filters(ctx, "acme", "g")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Pattern)
		}
		return out
	}
	if got := patterns(); len(got) != 0 {
		t.Errorf("before any put: %v", got)
	}
	if err := s.Put(ctx, "acme", mk("alpha")); err != nil {
		t.Fatal(err)
	}
	if got := patterns(); len(got) != 1 || got[0] != "alpha" {
		t.Errorf("after creating: %v", got)
	}
	if err := s.Put(ctx, "acme", mk("beta")); err != nil {
		t.Fatal(err)
	}
	if got := patterns(); len(got) != 1 || got[0] != "beta" {
		t.Errorf("after replacing: %v", got)
	}
	if err := s.Delete(ctx, "acme", "g", "n"); err != nil {
		t.Fatal(err)
	}
	if got := patterns(); len(got) != 0 {
		t.Errorf("after deleting: %v", got)
	}
	// A write to the database behind the Store's back is not seen until
	// the tenant's next write through it: ingest does not read SQLite.
	if _, err := s.db.Exec(`INSERT INTO metric_filters (tenant_id, log_group, name, pattern, transformation, created_at) VALUES ('acme', 'g', 'z', 'gamma', '{"metricName":"m","metricNamespace":"N","metricValue":"1"}', 1)`); err != nil {
		t.Fatal(err)
	}
	if got := patterns(); len(got) != 0 {
		t.Errorf("cache read the database again: %v", got)
	}
}
