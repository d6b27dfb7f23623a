package logs

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

func openMeta(t *testing.T) *meta.Store {
	t.Helper()
	store, err := meta.Open(context.Background(), meta.Options{DSN: filepath.Join(t.TempDir(), "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func TestValidateGroupName(t *testing.T) {
	for _, ok := range []string{"a", "/aws/lambda/my-fn_1", "app.prod#1", strings.Repeat("x", 512)} {
		if err := ValidateGroupName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", 513), "has space", "colon:", "é"} {
		if err := ValidateGroupName(bad); !errors.Is(err, ErrInvalidGroupName) {
			t.Errorf("%q: %v, want ErrInvalidGroupName", bad, err)
		}
	}
}

func TestValidateRetention(t *testing.T) {
	for _, d := range []int{0, 1, 7, 1096, 3653} {
		if err := ValidateRetention(d); err != nil {
			t.Errorf("%d: %v", d, err)
		}
	}
	for _, d := range []int{2, 8, -1, 3654} {
		if err := ValidateRetention(d); !errors.Is(err, ErrInvalidRetention) {
			t.Errorf("%d: %v", d, err)
		}
	}
}

func TestGroupsLifecyclePersistsAndIsolatesTenants(t *testing.T) {
	ctx := context.Background()
	store := openMeta(t)
	g := NewGroups(store, nil)
	if _, err := g.Create(ctx, "default", "/aws/lambda/fn", 14); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Create(ctx, "default", "/aws/lambda/fn", 0); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := g.Ensure(ctx, "default", []string{"api", "/aws/lambda/fn"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.SetRetention(ctx, "default", "api", 30); err != nil {
		t.Fatal(err)
	}
	if got := g.Retention("default", "api"); got != 30*24*time.Hour {
		t.Errorf("retention = %s", got)
	}

	// A fresh registry over the same store sees the same groups.
	g2 := NewGroups(store, nil)
	list, err := g2.List(ctx, "default", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "/aws/lambda/fn" || list[0].RetentionDays != 14 || list[1].Name != "api" || list[1].RetentionDays != 30 {
		t.Fatalf("reloaded groups = %+v", list)
	}
	if list, _ := g2.List(ctx, "default", "/aws"); len(list) != 1 {
		t.Errorf("prefix list = %+v", list)
	}
	if _, err := g2.Get(ctx, "other", "api"); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("another tenant sees the group: %v", err)
	}
	if err := g2.Delete(ctx, "default", "api"); err != nil {
		t.Fatal(err)
	}
	if err := g2.Delete(ctx, "default", "api"); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if got := g2.Retention("default", "api"); got != 0 {
		t.Errorf("deleted group keeps retention %s", got)
	}
}

func TestGroupsLimit(t *testing.T) {
	ctx := context.Background()
	g := NewGroups(openMeta(t), func(string) int { return 2 })
	if err := g.Ensure(ctx, "default", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	err := g.Ensure(ctx, "default", []string{"c"})
	if !errors.Is(err, ErrTooManyGroups) || !strings.Contains(err.Error(), "limits.max_log_groups") {
		t.Fatalf("third group: %v", err)
	}
}
