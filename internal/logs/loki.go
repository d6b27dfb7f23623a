package logs

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/logs/loki"
)

// DefaultLokiGroupLabels name the log group of a pushed stream: the first
// of these labels the stream has (Grafana's service_name, then job).
var DefaultLokiGroupLabels = []string{"service_name", "job"}

// levelLabels carry a line's level in Loki's conventions.
var levelLabels = []string{"level", "detected_level", "severity"}

// IngestLoki stores pushed streams. A stream's labels become the records'
// resource attributes and stream identity (so any number of streams is
// fine: no "max active streams" limit applies below the tenant's record
// rate); structured metadata become attributes; the level comes from a
// level label or metadata. Rejections carry the entry's position across
// the whole push, counting from 0.
func (s *Service) IngestLoki(ctx context.Context, tenant string, streams []loki.Stream) (IngestResult, error) {
	groupLabels := s.opts.LokiGroupLabels
	if len(groupLabels) == 0 {
		groupLabels = DefaultLokiGroupLabels
	}
	now := s.opts.Now().UnixNano()
	n := 0
	for _, st := range streams {
		n += len(st.Entries)
	}
	recs := make([]eventstore.Record, 0, n)
	for _, st := range streams {
		group := s.opts.DefaultGroup
		for _, l := range groupLabels {
			if v := st.Labels.Get(l); v != "" {
				group = v
				break
			}
		}
		resource := attrsOf(st.Labels)
		stream := st.Labels.String()
		level := levelOf(st.Labels)
		for _, e := range st.Entries {
			r := eventstore.Record{
				Time: e.Time.UnixNano(), ObservedTime: now, Group: group, Stream: stream,
				Body: e.Line, Resource: resource, Attributes: attrsOf(e.Metadata), SeverityText: level,
			}
			if l := levelOf(e.Metadata); l != "" {
				r.SeverityText = l
			}
			if r.Time <= 0 || e.Time.IsZero() {
				r.Time = now
			}
			r.SeverityNumber = severityNumber(r.SeverityText)
			recs = append(recs, r)
		}
	}
	return s.Ingest(ctx, tenant, "loki", recs, nil)
}

func attrsOf(ls labels.Labels) []eventstore.Attr {
	if ls.Len() == 0 {
		return nil
	}
	out := make([]eventstore.Attr, 0, ls.Len())
	ls.Range(func(l labels.Label) {
		out = append(out, eventstore.Attr{Key: l.Name, Value: eventstore.StringValue(l.Value)})
	})
	return out
}

func levelOf(ls labels.Labels) string {
	for _, name := range levelLabels {
		if v := ls.Get(name); v != "" {
			return v
		}
	}
	return ""
}
