package logs

import (
	"context"
	"sort"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// AppendLog stores one record that Mirador writes itself (a notification
// to a log subscription) into a tenant's group, through the same checks
// and limits as any ingest.
func (s *Service) AppendLog(ctx context.Context, tenant, group string, t time.Time, body string, attrs map[string]string) error {
	rec := eventstore.Record{Time: t.UnixNano(), ObservedTime: s.opts.Now().UnixNano(), Group: group, Stream: "mirador", Body: body}
	for k, v := range attrs {
		rec.Attributes = append(rec.Attributes, eventstore.Attr{Key: k, Value: eventstore.Value{Str: v}})
	}
	sort.Slice(rec.Attributes, func(i, j int) bool { return rec.Attributes[i].Key < rec.Attributes[j].Key })
	res, err := s.Ingest(ctx, tenant, "notification", []eventstore.Record{rec}, nil)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return &RejectedError{Rejection: res.Rejected[0]}
	}
	return nil
}

// RejectedError is a record refused on its own (bad group, too large).
type RejectedError struct{ Rejection Rejection }

func (e *RejectedError) Error() string { return e.Rejection.Error }
