package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/query"
)

// maxFutureSkew is how far ahead of the server's clock a record may be, as
// in CloudWatch's PutLogEvents.
const maxFutureSkew = 2 * time.Hour

// Limits bound what one tenant may send. Zero means unlimited.
type Limits struct {
	MaxBodyBytes     int64 // request body after decompression
	RecordsPerSecond float64
	BurstRecords     int
	MaxRecordBytes   int64
}

// Options configure a Service.
type Options struct {
	Store  *eventstore.Store
	Groups *Groups
	// GroupAttribute and DefaultGroup choose the group of OTLP records.
	GroupAttribute string
	DefaultGroup   string
	// LokiGroupLabels name the log group of a Loki stream (the first
	// present wins); empty means DefaultLokiGroupLabels.
	LokiGroupLabels []string
	TailBuffer      int
	Limits          func(tenant string) Limits
	Query           query.Limits
	// MetricFilters, if set, sees every record once it is stored.
	MetricFilters RecordObserver
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}

// RecordObserver sees the records of each ingest call after they are
// stored, in order; it must not keep or change them.
type RecordObserver interface {
	Observe(tenant string, recs []eventstore.Record)
}

// Service is the logs pillar: ingest into the event store's logs dataset,
// log groups, queries and live tail. It is safe for concurrent use.
type Service struct {
	opts Options
	tail tailHub

	rate ingest.RateLimiter

	ingested *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// New returns a Service over opts.Store and opts.Groups.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Limits == nil {
		opts.Limits = func(string) Limits { return Limits{} }
	}
	if opts.TailBuffer <= 0 {
		opts.TailBuffer = 1000
	}
	if opts.DefaultGroup == "" {
		opts.DefaultGroup = "default"
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	f := promauto.With(opts.Registerer)
	return &Service{
		opts: opts,
		rate: ingest.RateLimiter{
			Records: "log records", Setting: "limits.ingest_log_records_per_second", BurstSetting: "limits.ingest_burst_log_records",
			Rate: func(t string) ingest.Rate {
				l := opts.Limits(t)
				return ingest.Rate{PerSecond: l.RecordsPerSecond, Burst: l.BurstRecords}
			},
		},
		ingested: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_logs_ingested_records_total",
			Help: "Log records stored, by tenant and protocol (otlp, ndjson, text).",
		}, []string{"tenant", "protocol"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_logs_rejected_records_total",
			Help: "Log records not stored, by tenant and reason.",
		}, []string{"tenant", "reason"}),
	}
}

// Groups returns the log group registry.
func (s *Service) Groups() *Groups { return s.opts.Groups }

// Rejection says why one record of a batch was not stored.
type Rejection struct {
	Index  int    // position in the batch (a line number for NDJSON and text)
	Reason string // machine-readable: invalid_group, record_too_large, too_new, invalid_json
	Error  string
}

// IngestResult is what an ingest call stored and refused.
type IngestResult struct {
	Accepted int
	Rejected []Rejection
}

// Ingest validates and stores records of one tenant, taking ownership of
// recs (it filters them in place). Each record is checked on its own and
// refused alone; the rest are stored durably, appear in
// queries and go out to live tails. The error is non-nil only when nothing
// was stored for a reason other than bad records (rate limit, storage).
func (s *Service) Ingest(ctx context.Context, tenant, protocol string, recs []eventstore.Record, index []int) (IngestResult, error) {
	var res IngestResult
	limits := s.opts.Limits(tenant)
	maxTime := s.opts.Now().Add(maxFutureSkew).UnixNano()
	reject := func(i int, reason, msg string) {
		at := i
		if index != nil {
			at = index[i]
		}
		res.Rejected = append(res.Rejected, Rejection{Index: at, Reason: reason, Error: msg})
		s.rejected.WithLabelValues(tenant, reason).Inc()
	}
	kept := recs[:0] // filtered in place: recs is ours and heads keep what they get
	groups := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if !groups[r.Group] {
			if err := ValidateGroupName(r.Group); err != nil {
				reject(i, "invalid_group", err.Error())
				continue
			}
		}
		if max := limits.MaxRecordBytes; max > 0 {
			if n := recordBytes(r); n > max {
				reject(i, "record_too_large", fmt.Sprintf("record of %d bytes is larger than limits.max_log_record_bytes (%d)", n, max))
				continue
			}
		}
		if r.Time > maxTime {
			reject(i, "too_new", fmt.Sprintf("timestamp %s is more than %s ahead of the server's clock", time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), maxFutureSkew))
			continue
		}
		groups[r.Group] = true
		kept = append(kept, *r)
	}
	if len(kept) == 0 {
		return res, nil
	}
	if err := s.rate.Admit(tenant, len(kept)); err != nil {
		return IngestResult{}, err
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	if err := s.opts.Groups.Ensure(ctx, tenant, names); err != nil {
		if errors.Is(err, ErrTooManyGroups) {
			return IngestResult{}, err
		}
		return IngestResult{}, fmt.Errorf("log groups: %w", err)
	}
	if err := s.opts.Store.Append(ctx, tenant, eventstore.DatasetLogs, kept); err != nil {
		return IngestResult{}, fmt.Errorf("store log records: %w", err)
	}
	s.tail.publish(tenant, kept)
	if s.opts.MetricFilters != nil {
		s.opts.MetricFilters.Observe(tenant, kept)
	}
	res.Accepted = len(kept)
	s.ingested.WithLabelValues(tenant, protocol).Add(float64(len(kept)))
	return res, nil
}

// IngestNDJSON stores newline-delimited JSON (or, with text, one plain line
// per record) into group and stream. Rejections carry 1-based line numbers.
func (s *Service) IngestNDJSON(ctx context.Context, tenant, group, stream, body string, text bool) (IngestResult, error) {
	now := s.opts.Now()
	if text {
		recs, lines := decodeText(body, group, stream, now)
		return s.Ingest(ctx, tenant, "text", recs, lines)
	}
	recs, lines, lineErrs := decodeNDJSON(body, group, stream, now)
	res, err := s.Ingest(ctx, tenant, "ndjson", recs, lines)
	if err != nil {
		return res, err
	}
	for _, le := range lineErrs {
		res.Rejected = append(res.Rejected, Rejection{Index: le.Line, Reason: "invalid_json", Error: le.Error})
		s.rejected.WithLabelValues(tenant, "invalid_json").Inc()
	}
	sortRejections(res.Rejected)
	return res, nil
}

// IngestOTLP stores OTLP log records; groupOverride, if set, is the group
// of every record (header X-Mirador-Log-Group).
func (s *Service) IngestOTLP(ctx context.Context, tenant, groupOverride string, ld plog.Logs) (IngestResult, error) {
	rule := GroupRule{Override: groupOverride, Attribute: s.opts.GroupAttribute, Default: s.opts.DefaultGroup}
	return s.Ingest(ctx, tenant, "otlp", recordsFromOTLP(ld, rule, s.opts.Now()), nil)
}

// MaxBodyBytes is the largest request body the tenant may send (0: no limit).
func (s *Service) MaxBodyBytes(tenant string) int64 { return s.opts.Limits(tenant).MaxBodyBytes }

// GroupStats is what the event store holds of one group.
type GroupStats struct {
	Records     int64
	StoredBytes int64
}

// Stats returns the stored records and bytes of each of the tenant's groups.
func (s *Service) Stats(tenant string) map[string]GroupStats {
	out := map[string]GroupStats{}
	for _, g := range s.opts.Store.Groups(tenant, eventstore.DatasetLogs) {
		out[g.Name] = GroupStats{Records: g.Records, StoredBytes: g.StoredBytes}
	}
	return out
}

// DeleteGroup removes a group and all its records.
func (s *Service) DeleteGroup(ctx context.Context, tenant, name string) error {
	if err := s.opts.Groups.Delete(ctx, tenant, name); err != nil {
		return err
	}
	return s.opts.Store.DeleteGroup(ctx, tenant, eventstore.DatasetLogs, name)
}

// recordBytes is a record's size as limits count it: body and attributes.
func recordBytes(r *eventstore.Record) int64 {
	n := len(r.Body) + len(r.SeverityText)
	for _, a := range r.Attributes {
		n += len(a.Key) + len(a.Value.Str) + 8
	}
	return int64(n)
}

func sortRejections(rs []Rejection) {
	slices.SortStableFunc(rs, func(a, b Rejection) int { return cmp.Compare(a.Index, b.Index) })
}
