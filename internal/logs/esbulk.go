package logs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// ErrMalformedBulk is a _bulk body whose structure cannot be followed: an
// action line that is not one action object. Elasticsearch refuses the
// whole request then, and so does Mirador; nothing is stored.
var ErrMalformedBulk = errors.New("malformed _bulk request")

// BulkItem is one action's outcome, as Elasticsearch reports it.
type BulkItem struct {
	Action string // index or create (or the refused delete/update)
	Index  string
	ID     string
	Status int
	Error  *BulkError
}

// BulkError is an item's error in Elasticsearch's shape.
type BulkError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// dateSuffix matches the date that shippers append to daily index names
// (logstash-2026.11.22, vector-2026-11-22): the group is the name
// without it, so daily indices do not become a group a day.
var dateSuffix = regexp.MustCompile(`[-._]\d{4}[-.]\d{2}[-.]\d{2}$`)

// IndexGroup returns the log group of an Elasticsearch index name.
func IndexGroup(index string) string {
	if g := dateSuffix.ReplaceAllString(index, ""); g != "" {
		return g
	}
	return index
}

// IngestBulk stores the documents of an Elasticsearch _bulk body. Each
// index or create action's document becomes a record (mapped like an
// NDJSON line) of the group its index names; index is the default for
// actions without _index. Each action gets its outcome; a bad document or
// index is refused alone. The error is non-nil when nothing was stored:
// a malformed body, a rate limit, storage.
func (s *Service) IngestBulk(ctx context.Context, tenant, index, body string) ([]BulkItem, error) {
	items, recs, itemOf, err := parseBulk(body, index, s.opts.Now())
	if err != nil {
		return nil, err
	}
	if len(recs) > 0 {
		res, err := s.Ingest(ctx, tenant, "es_bulk", recs, itemOf)
		if err != nil {
			return nil, err
		}
		for _, rj := range res.Rejected {
			items[rj.Index].Status, items[rj.Index].Error = 400, &BulkError{Type: "illegal_argument_exception", Reason: rj.Error}
		}
	}
	for i := range items {
		if items[i].Status == 0 {
			items[i].Status = 201
		}
	}
	return items, nil
}

// parseBulk reads a _bulk body into its items and the records of its
// documents; itemOf gives each record's item.
func parseBulk(body, index string, now time.Time) (items []BulkItem, recs []eventstore.Record, itemOf []int, err error) {
	var scratch []eventstore.Attr
	var pending *BulkItem // an action waiting for its document line
	lineNo := 0
	for body != "" {
		line, rest, _ := strings.Cut(body, "\n")
		body = rest
		lineNo++
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if pending == nil {
			it, needsDoc, err := parseAction(line, index)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%w: line %d: %v", ErrMalformedBulk, lineNo, err)
			}
			items = append(items, it)
			if needsDoc {
				pending = &items[len(items)-1]
			}
			continue
		}
		it := pending
		pending = nil
		if it.Status != 0 { // refused already (update, bad index): skip its document
			continue
		}
		rec, err := decodeJSONLine(line, now, &scratch)
		if err != nil {
			it.Status, it.Error = 400, &BulkError{Type: "document_parsing_exception", Reason: fmt.Sprintf("line %d: %v", lineNo, err)}
			continue
		}
		rec.Group, rec.Stream = IndexGroup(it.Index), it.Index
		recs, itemOf = append(recs, rec), append(itemOf, len(items)-1)
	}
	if pending != nil {
		return nil, nil, nil, fmt.Errorf("%w: the last action has no document line; the body must end with a newline after each document", ErrMalformedBulk)
	}
	return items, recs, itemOf, nil
}

// parseAction reads an action line. needsDoc says a document line follows.
func parseAction(line, defaultIndex string) (it BulkItem, needsDoc bool, err error) {
	var action map[string]struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	}
	if err := json.Unmarshal([]byte(line), &action); err != nil || len(action) != 1 {
		return it, false, fmt.Errorf("want an action object such as {\"create\":{\"_index\":\"app\"}}, got %.80q", line)
	}
	for name, meta := range action {
		it = BulkItem{Action: name, Index: meta.Index, ID: meta.ID}
	}
	if it.Index == "" {
		it.Index = defaultIndex
	}
	if it.ID == "" {
		it.ID = newDocID()
	}
	switch it.Action {
	case "index", "create":
		needsDoc = true
	case "update":
		needsDoc = true
		it.Status, it.Error = 400, &BulkError{Type: "illegal_argument_exception", Reason: "update is not supported: the log store is append-only"}
		return it, needsDoc, nil
	case "delete":
		it.Status, it.Error = 400, &BulkError{Type: "illegal_argument_exception", Reason: "delete is not supported: the log store is append-only; set a log group's retention instead"}
		return it, false, nil
	default:
		return it, false, fmt.Errorf("unknown action %q: want index, create, update or delete", it.Action)
	}
	switch {
	case it.Index == "":
		it.Status, it.Error = 400, &BulkError{Type: "action_request_validation_exception", Reason: "index is missing: give _index in the action or use /es/{index}/_bulk"}
	default:
		if err := ValidateGroupName(IndexGroup(it.Index)); err != nil {
			it.Status, it.Error = 400, &BulkError{Type: "invalid_index_name_exception", Reason: err.Error()}
		}
	}
	return it, needsDoc, nil
}

// newDocID returns an id for a document sent without one, in the shape
// of Elasticsearch's (20 URL-safe characters).
func newDocID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
