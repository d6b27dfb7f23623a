package sampling

import (
	"fmt"
	"math/bits"
	"sync"
	"time"
)

// TargetInterval is how often clients report statistics and get new
// quotas (the SamplingTargetDocument Interval).
const TargetInterval = 10 * time.Second

// MaxStatisticsDocuments is how many documents one GetSamplingTargets call
// may carry.
const MaxStatisticsDocuments = 25

// MaxClientsPerRule bounds the clients the Allocator tracks for one rule,
// so that made-up client IDs cannot grow its memory without end.
const MaxClientsPerRule = 1000

// maxDemand caps one report's RequestCount so that sums over
// MaxClientsPerRule clients cannot overflow.
const maxDemand = 1 << 40

// ErrorCodes of UnprocessedStatistics. Clients (the X-Ray SDKs) fetch the
// rules again on a code starting with 4 and treat 5xx as a failed batch.
const (
	ErrorCodeUnknownRule  = "400" // no such rule (deleted, or never existed)
	ErrorCodeInvalid      = "400" // a document's field is out of range
	ErrorCodeTooManyUsers = "429" // MaxClientsPerRule reached
)

// StatisticsDocument is one client's report on one rule, X-Ray's
// SamplingStatisticsDocument: what happened since its previous report.
type StatisticsDocument struct {
	RuleName     string
	ClientID     string // hexadecimal, at least 24 digits
	RequestCount int64  // requests that matched the rule
	SampledCount int64  // requests sampled
	BorrowCount  int64  // requests sampled by borrowing from the reservoir
	Timestamp    time.Time
}

// TargetDocument is a client's quota for one rule, X-Ray's
// SamplingTargetDocument.
type TargetDocument struct {
	RuleName          string
	FixedRate         float64
	ReservoirQuota    int64     // traces per second this client may take
	ReservoirQuotaTTL time.Time // when the quota expires
	Interval          time.Duration
}

// UnprocessedStatistics says why a document got no target.
type UnprocessedStatistics struct {
	RuleName  string
	ErrorCode string
	Message   string
}

// Allocator shares each rule's ReservoirSize among the clients that report
// on it (GetSamplingTargets). State is in memory, per tenant; after a
// restart clients borrow until their next report. It is safe for
// concurrent use.
//
// A client is active while its last report is at most one TargetInterval
// old. Each report sets the client's demand (its RequestCount); the
// reporting client gets floor(ReservoirSize × demand / Σ demand of active
// clients), or an equal share when no active client had requests, capped
// so that the quotas not yet expired never add up to more than
// ReservoirSize. Quotas last two intervals, so one late report does not
// drop a client to borrowing. When demand shifts, clients converge to their
// proportional shares within two reports each.
type Allocator struct {
	now func() time.Time

	mu      sync.Mutex
	tenants map[string]map[string]ruleClients // tenant → rule name → clients
}

type ruleClients map[string]*clientState

type clientState struct {
	lastReport  time.Time
	demand      int64
	quota       int64
	quotaExpiry time.Time
}

// NewAllocator returns an allocator reading the time from now (time.Now
// if nil).
func NewAllocator(now func() time.Time) *Allocator {
	if now == nil {
		now = time.Now
	}
	return &Allocator{now: now, tenants: map[string]map[string]ruleClients{}}
}

// Assign records docs, reports of the tenant's clients, and returns each
// one's target, or why it has none. rules are the tenant's current rules;
// state about rules no longer among them is dropped. Documents are
// processed in order, so a client reporting twice on a rule in one call
// gets two targets, the second one current.
func (a *Allocator) Assign(tenant string, rules []Rule, docs []StatisticsDocument) ([]TargetDocument, []UnprocessedStatistics) {
	now := a.now()
	byName := make(map[string]*Rule, len(rules))
	for i := range rules {
		byName[rules[i].RuleName] = &rules[i]
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	state := a.tenants[tenant]
	if state == nil {
		state = map[string]ruleClients{}
		a.tenants[tenant] = state
	}
	for name := range state {
		if byName[name] == nil {
			delete(state, name)
		}
	}
	var (
		targets     []TargetDocument
		unprocessed []UnprocessedStatistics
	)
	for _, d := range docs {
		rule := byName[d.RuleName]
		if rule == nil {
			unprocessed = append(unprocessed, UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: ErrorCodeUnknownRule,
				Message: fmt.Sprintf("no sampling rule named %q (it may have been deleted); fetch the rules again with GetSamplingRules", truncate(d.RuleName, 40))})
			continue
		}
		if msg := checkStatistics(d); msg != "" {
			unprocessed = append(unprocessed, UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: ErrorCodeInvalid, Message: msg})
			continue
		}
		clients := state[d.RuleName]
		if clients == nil {
			clients = ruleClients{}
			state[d.RuleName] = clients
		}
		t, ok := clients.assign(now, *rule, d)
		if !ok {
			unprocessed = append(unprocessed, UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: ErrorCodeTooManyUsers,
				Message: fmt.Sprintf("rule %q already has %d clients reporting; this client samples at the rule's FixedRate", truncate(d.RuleName, 40), MaxClientsPerRule)})
			continue
		}
		targets = append(targets, t)
	}
	return targets, unprocessed
}

func checkStatistics(d StatisticsDocument) string {
	if n := len(d.ClientID); n < 24 || n > 128 {
		return fmt.Sprintf("ClientID %q has %d characters; use 24 to 128 hexadecimal digits", truncate(d.ClientID, 40), n)
	}
	for i := 0; i < len(d.ClientID); i++ {
		if c := d.ClientID[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Sprintf("ClientID %q is not hexadecimal (byte %d)", truncate(d.ClientID, 40), i)
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"RequestCount", d.RequestCount}, {"SampledCount", d.SampledCount}, {"BorrowCount", d.BorrowCount}} {
		if f.v < 0 {
			return fmt.Sprintf("%s is %d; counts cannot be negative", f.name, f.v)
		}
	}
	return ""
}

// assign updates the reporting client and computes its quota. It returns
// false when the rule has MaxClientsPerRule other clients.
func (clients ruleClients) assign(now time.Time, rule Rule, d StatisticsDocument) (TargetDocument, bool) {
	// Forget clients that are neither active nor holding a quota.
	for id, c := range clients {
		if !c.active(now) && !c.holds(now) {
			delete(clients, id)
		}
	}
	me := clients[d.ClientID]
	if me == nil {
		if len(clients) >= MaxClientsPerRule {
			return TargetDocument{}, false
		}
		me = &clientState{}
		clients[d.ClientID] = me
	}
	me.lastReport, me.demand = now, min(d.RequestCount, maxDemand)

	size := int64(rule.ReservoirSize)
	var totalDemand, active, reserved int64
	for id, c := range clients {
		if c.active(now) {
			totalDemand += c.demand
			active++
		}
		if id != d.ClientID && c.holds(now) {
			reserved += c.quota
		}
	}
	var share int64
	if totalDemand > 0 {
		// size × demand / total without overflow; the quotient is ≤ size.
		hi, lo := bits.Mul64(uint64(size), uint64(me.demand))
		q, _ := bits.Div64(hi, lo, uint64(totalDemand))
		share = int64(q)
	} else {
		share = size / active
	}
	me.quota = max(0, min(share, size-reserved))
	me.quotaExpiry = now.Add(2 * TargetInterval)
	return TargetDocument{
		RuleName:          rule.RuleName,
		FixedRate:         rule.FixedRate,
		ReservoirQuota:    me.quota,
		ReservoirQuotaTTL: me.quotaExpiry,
		Interval:          TargetInterval,
	}, true
}

func (c *clientState) active(now time.Time) bool { return now.Sub(c.lastReport) <= TargetInterval }
func (c *clientState) holds(now time.Time) bool  { return now.Before(c.quotaExpiry) }
