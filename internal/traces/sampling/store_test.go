package sampling

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

// openMeta opens a fresh meta store with tenants "default" (created by the
// first migration) and "acme" (created at acmeCreated).
func openMeta(t testing.TB) *meta.Store {
	t.Helper()
	store, err := meta.Open(context.Background(), meta.Options{DSN: filepath.Join(t.TempDir(), "meta.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.DB().Exec(`INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, "acme", acmeCreated.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return store
}

var acmeCreated = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func names(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Rule.RuleName
	}
	return out
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openMeta(t)
	clock := &fakeClock{epoch}
	s := NewStore(db, Options{Region: "eu-west-1", AccountID: "123456789012", Now: clock.now})

	// A fresh tenant has the built-in Default, dated from the tenant's creation.
	recs, err := s.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Rule.RuleName != "Default" || !recs[0].CreatedAt.Equal(acmeCreated) {
		t.Fatalf("fresh tenant: %+v", recs)
	}
	if want := "arn:aws:xray:eu-west-1:123456789012:sampling-rule/Default"; recs[0].Rule.RuleARN != want {
		t.Errorf("Default ARN = %s, want %s", recs[0].Rule.RuleARN, want)
	}
	if last, err := s.LastModification(ctx, "acme"); err != nil || !last.IsZero() {
		t.Fatalf("LastModification before any change = %v, %v", last, err)
	}

	r := validRule()
	created, err := s.Create(ctx, "acme", r)
	if err != nil {
		t.Fatal(err)
	}
	if created.Rule.RuleARN != "arn:aws:xray:eu-west-1:123456789012:sampling-rule/checkout" || !created.CreatedAt.Equal(epoch) {
		t.Errorf("created %+v", created)
	}
	if _, err := s.Create(ctx, "acme", r); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	def := DefaultRule("")
	def.Priority = 5
	if _, err := s.Create(ctx, "acme", def); !errors.Is(err, ErrExists) {
		t.Errorf("create Default: %v, want ErrExists", err)
	}
	bad := validRule()
	bad.RuleName, bad.FixedRate = "bad", 2
	var ve *ValidationError
	if _, err := s.Create(ctx, "acme", bad); !errors.As(err, &ve) || ve.Field != "FixedRate" {
		t.Errorf("invalid create: %v, want a ValidationError on FixedRate", err)
	}
	byARN := validRule()
	byARN.RuleName, byARN.RuleARN, byARN.Priority = "", "arn:aws:xray:eu-west-1:123456789012:sampling-rule/by-arn", 100
	if rec, err := s.Create(ctx, "acme", byARN); err != nil || rec.Rule.RuleName != "by-arn" {
		t.Errorf("create by ARN: %+v, %v", rec, err)
	}
	early := validRule()
	early.RuleName, early.Priority = "early", 1
	if _, err := s.Create(ctx, "acme", early); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastModification(ctx, "acme"); !last.Equal(epoch) {
		t.Errorf("LastModification after create = %v, want %v", last, epoch)
	}

	// Evaluation order: priority, then name; Default last.
	recs, err = s.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(recs); len(got) != 4 || got[0] != "early" || got[1] != "by-arn" || got[2] != "checkout" || got[3] != "Default" {
		t.Errorf("List order = %v", got)
	}
	got, err := s.Get(ctx, "acme", "checkout")
	if err != nil || got.Rule.Attributes["env"] != "prod" || got.Rule.URLPath != "/api/*" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "acme", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	// Tenants are isolated.
	if recs, _ := s.List(ctx, "default"); len(recs) != 1 {
		t.Errorf("tenant default sees %v", names(recs))
	}

	// Partial update, by name and by ARN.
	clock.t = epoch.Add(time.Minute)
	upd, err := s.Update(ctx, "acme", "checkout", RuleUpdate{FixedRate: ptr(0.75), Priority: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Rule.FixedRate != 0.75 || upd.Rule.Priority != 2 || upd.Rule.HTTPMethod != "POST" || !upd.CreatedAt.Equal(epoch) || !upd.ModifiedAt.Equal(clock.t) {
		t.Errorf("updated %+v", upd)
	}
	if last, _ := s.LastModification(ctx, "acme"); !last.Equal(clock.t) {
		t.Errorf("LastModification after update = %v", last)
	}
	arn := s.RuleARN("checkout")
	if upd, err := s.Update(ctx, "acme", "", RuleUpdate{RuleARN: &arn, Host: ptr("shop.*")}); err != nil || upd.Rule.Host != "shop.*" || upd.Rule.FixedRate != 0.75 {
		t.Errorf("update by ARN: %+v, %v", upd, err)
	}
	if _, err := s.Update(ctx, "acme", "checkout", RuleUpdate{RuleName: ptr("early")}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("update naming two rules: %v", err)
	}
	if _, err := s.Update(ctx, "acme", "", RuleUpdate{RuleName: ptr("nope"), FixedRate: ptr(0.1)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
	if _, err := s.Update(ctx, "acme", "", RuleUpdate{FixedRate: ptr(0.1)}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("update without a name: %v", err)
	}
	if _, err := s.Update(ctx, "acme", "checkout", RuleUpdate{ReservoirSize: ptr(-1)}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("invalid update: %v", err)
	}

	// Default: updatable in rate and reservoir only, never deletable.
	if _, err := s.Update(ctx, "acme", "Default", RuleUpdate{URLPath: ptr("/x")}); !errors.Is(err, ErrDefaultRule) {
		t.Errorf("Default URLPath update: %v, want ErrDefaultRule", err)
	}
	if upd, err := s.Update(ctx, "acme", "Default", RuleUpdate{FixedRate: ptr(0.0), ReservoirSize: ptr(0)}); err != nil ||
		upd.Rule.FixedRate != 0 || upd.Rule.ReservoirSize != 0 || !upd.CreatedAt.Equal(acmeCreated) {
		t.Errorf("Default update: %+v, %v", upd, err)
	}
	if _, err := s.Delete(ctx, "acme", "Default"); !errors.Is(err, ErrDefaultRule) || !errors.As(err, &ve) {
		t.Errorf("Default delete: %v, want a ValidationError wrapping ErrDefaultRule", err)
	}

	// A new Store over the same database sees everything.
	s2 := NewStore(db, Options{Region: "eu-west-1", AccountID: "123456789012"})
	recs, err = s2.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(recs); len(got) != 4 || got[0] != "early" || got[1] != "checkout" || got[3] != "Default" {
		t.Errorf("reloaded order = %v", got)
	}
	if d := recs[3].Rule; d.ReservoirSize != 0 || d.FixedRate != 0 || d.Priority != 10000 || d.Host != "*" {
		t.Errorf("reloaded Default = %+v", d)
	}

	clock.t = epoch.Add(2 * time.Minute)
	del, err := s.Delete(ctx, "acme", "checkout")
	if err != nil || del.Rule.RuleName != "checkout" || del.Rule.Host != "shop.*" {
		t.Errorf("Delete = %+v, %v", del, err)
	}
	if _, err := s.Delete(ctx, "acme", "checkout"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if last, _ := s.LastModification(ctx, "acme"); !last.Equal(clock.t) {
		t.Errorf("LastModification after delete = %v", last)
	}
}

func TestStoreRuleLimit(t *testing.T) {
	ctx := context.Background()
	s := NewStore(openMeta(t), Options{MaxRules: 2})
	// Updating Default stores a row that must not count.
	if _, err := s.Update(ctx, "acme", "Default", RuleUpdate{FixedRate: ptr(0.1)}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b", "c"} {
		r := validRule()
		r.RuleName = name
		_, err := s.Create(ctx, "acme", r)
		if i < 2 && err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if i == 2 && !errors.Is(err, ErrRuleLimit) {
			t.Fatalf("create %s: %v, want ErrRuleLimit", name, err)
		}
	}
}

func TestStoreUnknownTenantFails(t *testing.T) {
	s := NewStore(openMeta(t), Options{})
	_, err := s.Create(context.Background(), "ghost", validRule())
	if err == nil || errors.Is(err, ErrExists) || errors.Is(err, ErrInvalidRule) {
		t.Fatalf("create for a tenant without a row: %v, want a storage error", err)
	}
}

func TestServiceTargetsReportLastRuleModification(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{epoch}
	svc := NewService(openMeta(t), Options{Now: clock.now})
	r := validRule()
	r.ReservoirSize, r.FixedRate = 6, 0.3
	if _, err := svc.Store().Create(ctx, "acme", r); err != nil {
		t.Fatal(err)
	}
	docs := []StatisticsDocument{
		{RuleName: "checkout", ClientID: clientID("a"), RequestCount: 4, Timestamp: epoch},
		{RuleName: "Default", ClientID: clientID("a"), RequestCount: 4, Timestamp: epoch},
		{RuleName: "gone", ClientID: clientID("a"), RequestCount: 4, Timestamp: epoch},
	}
	got, err := svc.Targets(ctx, "acme", docs)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastRuleModification.Equal(epoch) || len(got.Documents) != 2 || len(got.Unprocessed) != 1 {
		t.Fatalf("targets %+v", got)
	}
	if d := got.Documents[0]; d.RuleName != "checkout" || d.ReservoirQuota != 6 || d.FixedRate != 0.3 {
		t.Errorf("checkout target %+v", d)
	}
	if d := got.Documents[1]; d.RuleName != "Default" || d.ReservoirQuota != 1 || d.FixedRate != 0.05 {
		t.Errorf("Default target %+v", d)
	}

	clock.t = epoch.Add(90 * time.Second)
	if _, err := svc.Store().Update(ctx, "acme", "checkout", RuleUpdate{FixedRate: ptr(0.9)}); err != nil {
		t.Fatal(err)
	}
	got, err = svc.Targets(ctx, "acme", docs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastRuleModification.Equal(clock.t) || got.Documents[0].FixedRate != 0.9 {
		t.Errorf("after update: LastRuleModification %v (want %v), target %+v", got.LastRuleModification, clock.t, got.Documents)
	}
}
