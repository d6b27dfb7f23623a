package alarms

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/miradorhq/mirador/internal/alarms/composite"
	"github.com/miradorhq/mirador/internal/alarms/eval"
	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/query"
)

// Metrics is what alarms need of the metrics engine.
type Metrics interface {
	CheckExpr(expr string) error
	QueryRange(ctx context.Context, tenant, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error)
	// Appender writes the anomaly bands as series.
	Appender(ctx context.Context, tenant string) (storage.AppenderV2, error)
}

// HistoryStore keeps the alarm history: the event store.
type HistoryStore interface {
	query.Scanner
	Append(ctx context.Context, tenant, dataset string, recs []eventstore.Record) error
}

// Options configure a Service.
type Options struct {
	DB      *sql.DB // the meta store
	Notify  *notify.Service
	Metrics Metrics
	History HistoryStore

	PublicURL string // for links in notifications
	Region    string
	AccountID string

	Workers int // concurrent evaluations; default 8
	Now     func() time.Time

	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Service manages alarms and evaluates them. It is safe for concurrent use.
type Service struct {
	opts Options
	db   *sql.DB

	// mu guards the map of alarms; an entry's own mu guards the entry.
	// Lock order: mu before an entry's mu, never the other way round.
	mu     sync.Mutex
	alarms map[string]map[string]*entry // tenant → name → alarm
	loaded bool

	muteMu  sync.Mutex
	mutes   map[string][]MuteWindow // tenant → active and future windows
	changed chan struct{}

	evaluations *prometheus.CounterVec
	transitions *prometheus.CounterVec
	roundTime   prometheus.Histogram
}

// entry is one alarm in memory. mu serialises its evaluations, state
// changes and configuration updates, and guards every field.
type entry struct {
	mu      sync.Mutex
	tenant  string
	rec     *record
	rule    *composite.Rule // composite alarms
	next    time.Time       // when the evaluator runs it next
	evalErr string          // why the last evaluation failed, if it did
	band    *bandModel      // anomaly-band alarms
	deleted atomic.Bool     // set under mu; read without it by entryFor
}

// New returns a Service. Load (or Run) reads the alarms.
func New(opts Options) *Service {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	f := promauto.With(opts.Registerer)
	return &Service{
		opts: opts, db: opts.DB,
		alarms:  map[string]map[string]*entry{},
		mutes:   map[string][]MuteWindow{},
		changed: make(chan struct{}, 1),
		evaluations: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_alarm_evaluations_total",
			Help: "Alarm evaluations by outcome (ok, error).",
		}, []string{"outcome"}),
		transitions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_alarm_state_transitions_total",
			Help: "Alarm state changes by the state entered.",
		}, []string{"state"}),
		roundTime: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "mirador_alarm_evaluation_round_seconds",
			Help:    "Wall time of one evaluation round (every alarm due at one tick).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
}

// Load reads every alarm and mute window from the meta store. Run calls
// it; API calls made before it see an empty set.
func (s *Service) Load(ctx context.Context) error {
	all, err := loadAll(ctx, s.db)
	if err != nil {
		return fmt.Errorf("load alarms: %w", err)
	}
	mutes, err := loadMutes(ctx, s.db)
	if err != nil {
		return fmt.Errorf("load mute windows: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for tenant, recs := range all {
		m := map[string]*entry{}
		for _, r := range recs {
			e := &entry{tenant: tenant, rec: r}
			if r.cfg.Kind == KindComposite {
				e.rule, _ = composite.Parse(r.cfg.Rule)
			}
			e.next = s.firstDue(e, now)
			m[r.cfg.Name] = e
		}
		s.alarms[tenant] = m
	}
	s.loaded = true
	s.muteMu.Lock()
	s.mutes = mutes
	s.muteMu.Unlock()
	return nil
}

// offset spreads alarms over their interval (the jitter of the schedule)
// and waits for late data: a second after a short period ends; ten after
// a minute ends, by when log metric filters have written that minute (5 s
// of grace plus their 5 s tick).
func offset(tenant, name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(tenant + "\x00" + name))
	spread := interval / 10
	base := time.Second
	if interval >= time.Minute {
		base = 10 * time.Second
	}
	return base + time.Duration(h.Sum64()%uint64(spread))
}

// firstDue is an alarm's first evaluation after now: the next interval
// boundary, plus its offset. Only the current state is evaluated after
// downtime, never the missed rounds, so a restart causes no storm.
func (s *Service) firstDue(e *entry, now time.Time) time.Time {
	iv := e.rec.cfg.Interval()
	t := now.Truncate(iv).Add(offset(e.tenant, e.rec.cfg.Name, iv))
	if !t.After(now) {
		t = t.Add(iv)
	}
	return t
}

// Status is an alarm with its state, as the API describes it.
type Status struct {
	Alarm
	ARN                    string          `json:"arn"`
	State                  eval.State      `json:"state"`
	StateReason            string          `json:"stateReason"`
	StateReasonData        json.RawMessage `json:"stateReasonData,omitempty"`
	StateUpdatedAt         time.Time       `json:"stateUpdatedAt"`
	StateTransitionedAt    time.Time       `json:"stateTransitionedAt"`
	LastEvaluatedAt        time.Time       `json:"lastEvaluatedAt,omitzero"`
	EvaluationError        string          `json:"evaluationError,omitempty"`
	Flapping               bool            `json:"flapping,omitempty"`
	Muted                  string          `json:"mutedBy,omitempty"`
	ConfigurationUpdatedAt time.Time       `json:"configurationUpdatedAt"`
	Expr                   string          `json:"expr,omitempty"` // the PromQL evaluated
}

func (s *Service) status(e *entry) Status {
	r := e.rec
	st := Status{
		Alarm: r.cfg, ARN: s.ARN(r.cfg.Name), State: r.st.Value, StateReason: r.st.Reason, StateReasonData: r.st.ReasonData,
		StateUpdatedAt: r.st.UpdatedAt, StateTransitionedAt: r.st.TransitionedAt, LastEvaluatedAt: r.st.EvaluatedAt,
		EvaluationError: e.evalErr, Flapping: r.st.Fatigue.Flapping, ConfigurationUpdatedAt: r.updatedAt,
	}
	if r.cfg.Kind == KindMetric {
		st.Expr = r.cfg.Expr()
	}
	if m := s.activeMute(e.tenant, &r.cfg, s.opts.Now()); m != nil {
		st.Muted = m.ID
	}
	return st
}

// schedule reads what the evaluator needs of e (s.mu may be held).
func (e *entry) schedule() (kind string, next time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rec.cfg.Kind, e.next
}

func (s *Service) lookup(tenant, name string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.alarms[tenant][name]
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return e, nil
}

// Get describes one alarm.
func (s *Service) Get(ctx context.Context, tenant, name string) (Status, error) {
	e, err := s.lookup(tenant, name)
	if err != nil {
		return Status{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return s.status(e), nil
}

// ListFilter narrows List.
type ListFilter struct {
	Prefix string
	State  eval.State
	Kind   string
}

// List describes a tenant's alarms by name.
func (s *Service) List(ctx context.Context, tenant string, f ListFilter) []Status {
	s.mu.Lock()
	es := make([]*entry, 0, len(s.alarms[tenant]))
	for _, e := range s.alarms[tenant] {
		es = append(es, e)
	}
	s.mu.Unlock()
	out := []Status{}
	for _, e := range es {
		e.mu.Lock()
		st := s.status(e)
		e.mu.Unlock()
		if strings.HasPrefix(st.Name, f.Prefix) && (f.State == "" || st.State == f.State) && (f.Kind == "" || st.Kind == f.Kind) {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Put creates or replaces an alarm. A new alarm starts in
// INSUFFICIENT_DATA; an updated one keeps its state (as CloudWatch's
// PutMetricAlarm). A composite alarm whose rule would close a cycle is
// refused.
func (s *Service) Put(ctx context.Context, tenant string, a Alarm) (Status, bool, error) {
	if err := a.Normalize(s.opts.Metrics.CheckExpr); err != nil {
		return Status{}, false, err
	}
	var rule *composite.Rule
	if a.Kind == KindComposite {
		rule, _ = composite.Parse(a.Rule)
		if cycle := s.cycle(tenant, a.Name, rule.Children()); cycle != nil {
			return Status{}, false, fmt.Errorf("%w: rule: it would make a cycle: %s", ErrInvalid, strings.Join(cycle, " → "))
		}
	}
	now := s.opts.Now()
	var created bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = insertOrUpdate(ctx, tx, tenant, &a, now)
		return err
	})
	if err != nil {
		return Status{}, false, fmt.Errorf("put alarm %s: %w", a.Name, err)
	}
	rec, err := getRecord(ctx, s.db, tenant, a.Name)
	if err != nil {
		return Status{}, false, err
	}
	e := s.entryFor(tenant, rec)
	e.mu.Lock()
	for e.deleted.Load() { // deleted meanwhile: this Put recreated it
		e.mu.Unlock()
		e = s.entryFor(tenant, rec)
		e.mu.Lock()
	}
	e.rec, e.rule, e.band, e.evalErr = rec, rule, nil, ""
	e.next = now // evaluate at once, with the history the metric already has
	st := s.status(e)
	e.mu.Unlock()
	kind := "ConfigurationUpdate"
	summary := fmt.Sprintf("Alarm %q updated", a.Name)
	if created {
		summary = fmt.Sprintf("Alarm %q created", a.Name)
	}
	cfg, _ := json.Marshal(a)
	s.recordHistory(ctx, tenant, []HistoryItem{{AlarmName: a.Name, AlarmType: a.Kind, Timestamp: now, HistoryItemType: kind, HistorySummary: summary, HistoryData: cfg}})
	s.kick()
	return st, created, nil
}

// entryFor returns the alarm's entry, adding one holding rec if there is
// none (or only a deleted one).
func (s *Service) entryFor(tenant string, rec *record) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alarms[tenant] == nil {
		s.alarms[tenant] = map[string]*entry{}
	}
	e := s.alarms[tenant][rec.cfg.Name]
	if e == nil || e.deleted.Load() {
		e = &entry{tenant: tenant, rec: rec}
		s.alarms[tenant][rec.cfg.Name] = e
	}
	return e
}

// cycle returns the cycle a composite rule would close, or nil.
func (s *Service) cycle(tenant, name string, children []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return composite.Cycle(name, children, func(alarm string) []string {
		if e := s.alarms[tenant][alarmName(alarm)]; e != nil {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.rule != nil {
				return e.rule.Children()
			}
		}
		return nil
	})
}

// Delete deletes an alarm. Its history stays.
func (s *Service) Delete(ctx context.Context, tenant, name string) error {
	e, err := s.lookup(tenant, name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if err := deleteAlarm(ctx, s.db, tenant, name); err != nil {
		e.mu.Unlock()
		return err
	}
	e.deleted.Store(true)
	kind := e.rec.cfg.Kind
	e.mu.Unlock()
	s.mu.Lock()
	if s.alarms[tenant][name] == e {
		delete(s.alarms[tenant], name)
	}
	s.mu.Unlock()
	s.recordHistory(ctx, tenant, []HistoryItem{{AlarmName: name, AlarmType: kind, Timestamp: s.opts.Now(), HistoryItemType: "ConfigurationUpdate", HistorySummary: fmt.Sprintf("Alarm %q deleted", name)}})
	return nil
}

// SetActionsEnabled turns an alarm's actions on or off.
func (s *Service) SetActionsEnabled(ctx context.Context, tenant, name string, enabled bool) (Status, error) {
	e, err := s.lookup(tenant, name)
	if err != nil {
		return Status{}, err
	}
	e.mu.Lock()
	a := e.rec.cfg
	e.mu.Unlock()
	a.ActionsEnabled = &enabled
	st, _, err := s.Put(ctx, tenant, a)
	return st, err
}

// SetState forces an alarm's state, for testing actions: actions fire if
// the state changes. A metric alarm returns to its computed state at its
// next evaluation; a composite alarm when a child changes.
func (s *Service) SetState(ctx context.Context, tenant, name string, state eval.State, reason string, reasonData json.RawMessage) (Status, error) {
	switch state {
	case eval.OK, eval.Alarm, eval.InsufficientData:
	default:
		return Status{}, fmt.Errorf("%w: state %q: want OK, ALARM or INSUFFICIENT_DATA", ErrInvalid, state)
	}
	if reason == "" {
		return Status{}, fmt.Errorf("%w: reason: required", ErrInvalid)
	}
	if len(reasonData) > 0 && !json.Valid(reasonData) {
		return Status{}, fmt.Errorf("%w: reasonData: must be JSON", ErrInvalid)
	}
	e, err := s.lookup(tenant, name)
	if err != nil {
		return Status{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := s.transition(ctx, e, state, reason, reasonData, s.opts.Now()); err != nil {
		return Status{}, err
	}
	s.kick()
	return s.status(e), nil
}

// kick makes the evaluator look at once (composites after a change).
func (s *Service) kick() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return meta.InTx(ctx, s.db, fn)
}
