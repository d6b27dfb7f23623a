package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/ingest"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/tenant"
)

// ESPrefix is where the Elasticsearch-compatible ingest API is mounted: a
// shipper's Elasticsearch URL is http://host:7070/es.
const ESPrefix = "/es"

// esVersion is the Elasticsearch version announced to shippers, which pick
// their request format from it (8: no mapping types).
const esVersion = "8.11.0"

// esJSON writes an Elasticsearch-shaped answer. The product header is what
// Elastic's own clients (Logstash, the Go and Ruby clients) check before
// they talk to a server.
func esJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	writeJSON(w, status, v)
}

func esError(w http.ResponseWriter, status int, typ, reason string) {
	esJSON(w, status, map[string]any{"error": map[string]any{"type": typ, "reason": reason, "root_cause": []map[string]string{{"type": typ, "reason": reason}}}, "status": status})
}

// esInfo serves GET /es/: the cluster info shippers read the version from.
func (o Options) esInfo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		esJSON(w, http.StatusOK, map[string]any{
			"name": "mirador", "cluster_name": "mirador", "cluster_uuid": "mirador",
			"version": map[string]any{
				"number": esVersion, "build_flavor": "default", "build_type": "mirador", "build_hash": o.Version,
				"build_date": "2023-11-04T10:04:57.184859352Z", "build_snapshot": false, "lucene_version": "9.8.0",
				"minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0",
			},
			"tagline": "You Know, for Search",
		})
	})
}

// esClusterHealth serves GET /es/_cluster/health (Vector's health check).
func (o Options) esClusterHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := "green"
		if o.Ready != nil && o.Ready() != nil {
			status = "red"
		}
		esJSON(w, http.StatusOK, map[string]any{"cluster_name": "mirador", "status": status, "timed_out": false,
			"number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": 0, "active_shards": 0,
			"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0, "active_shards_percent_as_number": 100.0})
	})
}

// esLicense serves GET /es/_license and GET /es/_xpack, which Logstash
// reads to decide whether to use index lifecycle management: a basic
// license without ILM, so it does not try.
func (o Options) esLicense() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ESPrefix+"/_xpack" {
			esJSON(w, http.StatusOK, map[string]any{
				"build":    map[string]any{"hash": o.Version},
				"license":  map[string]any{"uid": "mirador", "type": "basic", "mode": "basic", "status": "active"},
				"features": map[string]any{"ilm": map[string]any{"available": false, "enabled": false}},
			})
			return
		}
		esJSON(w, http.StatusOK, map[string]any{"license": map[string]any{"status": "active", "uid": "mirador", "type": "basic", "issue_date_in_millis": 0, "max_nodes": 1000}})
	})
}

// esTemplate serves index templates (Logstash installs one at start-up):
// there are no mappings to template, so a template is acknowledged and
// not kept; asking for one says it does not exist.
func (o Options) esTemplate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut, http.MethodPost:
			esJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
		case http.MethodHead:
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			w.WriteHeader(http.StatusNotFound)
		default:
			esError(w, http.StatusNotFound, "resource_not_found_exception", "index template ["+r.PathValue("name")+"] not found: Mirador keeps no index templates")
		}
	})
}

// esBulk serves POST /es/_bulk and /es/{index}/_bulk.
func (o Options) esBulk() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		id, _ := tenant.FromContext(r.Context())
		body, status, err := ingest.ReadBody(r, o.Logs.MaxBodyBytes(id))
		if err != nil {
			esError(w, status, "parse_exception", err.Error())
			return
		}
		items, err := o.Logs.IngestBulk(r.Context(), id, r.PathValue("index"), string(body))
		if err != nil {
			if errors.Is(err, logs.ErrMalformedBulk) {
				esError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error())
				return
			}
			esIngestError(w, err)
			return
		}
		out := make([]map[string]any, len(items))
		hasErrors := false
		for i, it := range items {
			res := map[string]any{"_index": it.Index, "_id": it.ID, "status": it.Status}
			if it.Error != nil {
				hasErrors = true
				res["error"] = it.Error
			} else {
				res["result"], res["_version"], res["_seq_no"], res["_primary_term"] = "created", 1, 0, 1
				res["_shards"] = map[string]int{"total": 1, "successful": 1, "failed": 0}
			}
			out[i] = map[string]any{it.Action: res}
		}
		esJSON(w, http.StatusOK, map[string]any{"took": time.Since(began).Milliseconds(), "errors": hasErrors, "items": out})
	})
}

// esIngestError answers a failed ingest the way shippers expect of
// Elasticsearch: 429 (with Retry-After) to back off, 5xx to retry.
func esIngestError(w http.ResponseWriter, err error) {
	var rate *ingest.RateLimitError
	switch {
	case errors.As(err, &rate):
		if d := rate.RetryDelay(); d > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10))
		}
		esError(w, rate.StatusCode(), "es_rejected_execution_exception", err.Error())
	case errors.Is(err, logs.ErrTooManyGroups):
		esError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", err.Error())
	case errors.Is(err, eventstore.ErrClosed):
		esError(w, http.StatusServiceUnavailable, "node_closed_exception", err.Error())
	default:
		esError(w, http.StatusInternalServerError, "exception", err.Error())
	}
}
