package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/logs/loki"
	"github.com/miradorhq/mirador/internal/tenant"
)

// LokiPrefix is where Loki's API is mounted: a Grafana Loki data source or
// a shipper's URL is http://host:7070 (the paths carry /loki/api/v1).
const LokiPrefix = "/loki/api/v1"

// lokiPush serves POST /loki/api/v1/push: Loki's push API, protobuf
// (snappy) or JSON (optionally gzip). 204 when every entry is stored; when
// some are refused, the rest are stored and the answer is a 400 saying
// which, as Loki does.
func (o Options) lokiPush() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		limit := o.Logs.MaxBodyBytes(id)
		body, status, err := ingest.ReadBody(r, limit)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		streams, err := loki.Decode(body, r.Header.Get("Content-Type"), limit)
		switch {
		case errors.Is(err, loki.ErrTooLarge):
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := o.Logs.IngestLoki(r.Context(), id, streams)
		if err != nil {
			writeLogsError(w, err)
			return
		}
		if len(res.Rejected) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d of %d entries refused, the rest stored:", len(res.Rejected), res.Accepted+len(res.Rejected))
		for _, rj := range res.Rejected[:min(len(res.Rejected), maxReportedLineErrors)] {
			fmt.Fprintf(&b, "\nentry %d: %s", rj.Index, rj.Error)
		}
		http.Error(w, b.String(), http.StatusBadRequest)
	})
}
