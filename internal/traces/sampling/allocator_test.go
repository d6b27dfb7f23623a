package sampling

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func clientID(name string) string { return fmt.Sprintf("%024x", name) }

func TestAllocatorQuotas(t *testing.T) {
	type report struct {
		at     int // seconds after epoch
		client string
		demand int64
		want   int64 // ReservoirQuota
	}
	tests := []struct {
		name    string
		size    int
		reports []report
	}{
		{"one client gets the whole reservoir", 10, []report{{0, "a", 7, 10}, {10, "a", 3, 10}}},
		{"reservoir 0 gives nothing", 0, []report{{0, "a", 7, 0}}},
		{"demand 1:1:2 converges to 2:2:5 and never exceeds 10", 10, []report{
			// The first reporter takes everything; the others wait for it to shrink.
			{0, "a", 1, 10}, {0, "b", 1, 0}, {0, "c", 2, 0},
			{10, "a", 1, 2}, {10, "b", 1, 2}, {10, "c", 2, 5},
			{20, "a", 1, 2}, {20, "b", 1, 2}, {20, "c", 2, 5},
		}},
		{"demand shift moves quota within two reports", 10, []report{
			{0, "a", 1, 10}, {0, "b", 1, 0},
			{10, "a", 1, 5}, {10, "b", 1, 5},
			{20, "a", 9, 5}, {20, "b", 1, 1}, // a wants 9 but b still holds 5
			{30, "a", 9, 9}, {30, "b", 1, 1},
		}},
		{"no requests: equal split", 10, []report{
			{0, "a", 0, 10}, {0, "b", 0, 0},
			{10, "a", 0, 5}, {10, "b", 0, 5},
		}},
		{"client silent for more than an interval drops out", 12, []report{
			{0, "a", 1, 12}, {0, "b", 1, 0}, {0, "c", 1, 0},
			{10, "a", 1, 4}, {10, "b", 1, 4}, {10, "c", 1, 4},
			// a's last report is exactly one interval old: still active.
			{20, "b", 1, 4}, {20, "c", 1, 4},
			// a is no longer active but its quota is held until 30.
			{21, "b", 1, 4}, {21, "c", 1, 4},
			// a's quota expired: b and c share the reservoir.
			{31, "b", 1, 6}, {31, "c", 1, 6},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{epoch}
			a := NewAllocator(clock.now)
			rules := []Rule{{RuleName: "r", FixedRate: 0.25, ReservoirSize: tt.size}, DefaultRule("")}
			type grant struct {
				quota  int64
				expiry time.Time
			}
			held := map[string]grant{}
			for i, rep := range tt.reports {
				clock.t = epoch.Add(time.Duration(rep.at) * time.Second)
				targets, unprocessed := a.Assign("t1", rules, []StatisticsDocument{{
					RuleName: "r", ClientID: clientID(rep.client), RequestCount: rep.demand, SampledCount: rep.demand, Timestamp: clock.t,
				}})
				if len(unprocessed) != 0 || len(targets) != 1 {
					t.Fatalf("report %d: targets %v, unprocessed %v", i, targets, unprocessed)
				}
				got := targets[0]
				if got.ReservoirQuota != rep.want {
					t.Errorf("report %d (%ds, client %s, demand %d): quota %d, want %d", i, rep.at, rep.client, rep.demand, got.ReservoirQuota, rep.want)
				}
				if got.RuleName != "r" || got.FixedRate != 0.25 || got.Interval != 10*time.Second || !got.ReservoirQuotaTTL.Equal(clock.t.Add(20*time.Second)) {
					t.Errorf("report %d: target %+v: want rule r, FixedRate 0.25 echoed, Interval 10s, TTL now+20s", i, got)
				}
				held[rep.client] = grant{got.ReservoirQuota, got.ReservoirQuotaTTL}
				var sum int64
				for _, g := range held {
					if clock.t.Before(g.expiry) {
						sum += g.quota
					}
				}
				if sum > int64(tt.size) {
					t.Errorf("report %d: quotas in force sum to %d > ReservoirSize %d", i, sum, tt.size)
				}
			}
		})
	}
}

func TestAllocatorUnprocessed(t *testing.T) {
	clock := &fakeClock{epoch}
	a := NewAllocator(clock.now)
	rules := []Rule{{RuleName: "r", FixedRate: 0.5, ReservoirSize: 4}}
	ok := StatisticsDocument{RuleName: "r", ClientID: clientID("a"), RequestCount: 3, SampledCount: 1, Timestamp: epoch}
	bad := func(change func(*StatisticsDocument)) StatisticsDocument {
		d := ok
		change(&d)
		return d
	}
	tests := []struct {
		name    string
		doc     StatisticsDocument
		code    string
		message string
	}{
		{"unknown rule", bad(func(d *StatisticsDocument) { d.RuleName = "gone" }), "400", `no sampling rule named "gone"`},
		{"short client id", bad(func(d *StatisticsDocument) { d.ClientID = "abc" }), "400", "ClientID"},
		{"non-hex client id", bad(func(d *StatisticsDocument) { d.ClientID = strings.Repeat("z", 24) }), "400", "not hexadecimal"},
		{"negative count", bad(func(d *StatisticsDocument) { d.BorrowCount = -1 }), "400", "BorrowCount is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, unprocessed := a.Assign("t1", rules, []StatisticsDocument{tt.doc, ok})
			if len(targets) != 1 || targets[0].RuleName != "r" {
				t.Errorf("the valid document got no target: %+v", targets)
			}
			if len(unprocessed) != 1 {
				t.Fatalf("unprocessed = %+v", unprocessed)
			}
			u := unprocessed[0]
			if u.RuleName != tt.doc.RuleName || u.ErrorCode != tt.code || !strings.Contains(u.Message, tt.message) {
				t.Errorf("unprocessed = %+v, want code %s and a message containing %q", u, tt.code, tt.message)
			}
		})
	}
}

func TestAllocatorForgetsDeletedRules(t *testing.T) {
	clock := &fakeClock{epoch}
	a := NewAllocator(clock.now)
	r := Rule{RuleName: "r", ReservoirSize: 10}
	doc := func(client string) []StatisticsDocument {
		return []StatisticsDocument{{RuleName: "r", ClientID: clientID(client), RequestCount: 1, Timestamp: clock.t}}
	}
	if got, _ := a.Assign("t1", []Rule{r}, doc("a")); got[0].ReservoirQuota != 10 {
		t.Fatalf("a: %+v", got)
	}
	// Another tenant's rule of the same name is independent.
	if got, _ := a.Assign("t2", []Rule{r}, doc("b")); got[0].ReservoirQuota != 10 {
		t.Fatalf("t2 b: %+v", got)
	}
	clock.t = clock.t.Add(time.Second)
	if _, un := a.Assign("t1", nil, doc("a")); len(un) != 1 || un[0].ErrorCode != "400" {
		t.Fatalf("deleted rule: %+v", un)
	}
	// Recreated: a's old quota no longer counts.
	if got, _ := a.Assign("t1", []Rule{r}, doc("b")); got[0].ReservoirQuota != 10 {
		t.Fatalf("recreated rule: %+v", got)
	}
}

func TestAllocatorBoundsClientsPerRule(t *testing.T) {
	a := NewAllocator(func() time.Time { return epoch })
	rules := []Rule{{RuleName: "r", ReservoirSize: 1}}
	docs := make([]StatisticsDocument, 0, MaxClientsPerRule+1)
	for i := range MaxClientsPerRule + 1 {
		docs = append(docs, StatisticsDocument{RuleName: "r", ClientID: fmt.Sprintf("%024x", i), RequestCount: 1, Timestamp: epoch})
	}
	targets, unprocessed := a.Assign("t", rules, docs)
	if len(targets) != MaxClientsPerRule || len(unprocessed) != 1 || unprocessed[0].ErrorCode != "429" {
		t.Fatalf("%d targets, unprocessed %+v", len(targets), unprocessed)
	}
	var sum int64
	for _, tg := range targets {
		sum += tg.ReservoirQuota
	}
	if sum > 1 {
		t.Errorf("quotas sum to %d > 1", sum)
	}
}
