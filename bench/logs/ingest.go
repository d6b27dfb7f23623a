package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// ingester sends prepared requests from concurrent senders, the way log
// shippers do: each sender posts one request at a time and waits for the
// answer.
type ingester struct {
	client  *http.Client
	proto   protocol
	urls    []string // NDJSON: the ingest URL of each bucket, group and stream in the query
	otlpURL string   // OTLP: http://host:port/v1/logs
	gzip    bool
	senders int
}

// newIngester prepares the URLs of every bucket.
func newIngester(client *http.Client, proto protocol, baseURL, otlpURL string, buckets [][2]string, gzip bool, senders int) *ingester {
	in := &ingester{client: client, proto: proto, otlpURL: otlpURL + "/v1/logs", gzip: gzip, senders: senders}
	for _, b := range buckets {
		in.urls = append(in.urls, baseURL+"/api/v1/logs/ingest?group="+url.QueryEscape(b[0])+"&stream="+url.QueryEscape(b[1]))
	}
	return in
}

// ingestOutcome is what the senders of a phase saw.
type ingestOutcome struct {
	Requests   int      `json:"requests"`
	Records    int64    `json:"records"`
	RawBytes   int64    `json:"raw_ndjson_bytes"`
	BodyBytes  int64    `json:"body_bytes"`
	Accepted   int64    `json:"accepted"`
	Rejected   int64    `json:"rejected"`
	Rejections []string `json:"rejections,omitempty"` // the first few, as the server put them
	Throttled  int      `json:"throttled"`            // answers 429 or 503 retried after Retry-After
	latencies  []time.Duration
}

const (
	keptRejections = 10
	maxRetries     = 50
	maxReplyBytes  = 1 << 20
)

func (o *ingestOutcome) add(x *ingestOutcome) {
	o.Requests += x.Requests
	o.Records += x.Records
	o.RawBytes += x.RawBytes
	o.BodyBytes += x.BodyBytes
	o.Accepted += x.Accepted
	o.Rejected += x.Rejected
	o.Throttled += x.Throttled
	o.latencies = append(o.latencies, x.latencies...)
	for _, r := range x.Rejections {
		o.note(r)
	}
}

// run sends every request of reqs until it is closed, adding the records
// sent to progress. It stops at the first request the server fails
// (other than by throttling) and returns that error, naming the request
// and quoting the response.
func (in *ingester) run(ctx context.Context, reqs <-chan request, progress *atomic.Int64) (ingestOutcome, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu    sync.Mutex
		total ingestOutcome
		wg    sync.WaitGroup
	)
	for range in.senders {
		wg.Go(func() {
			var mine ingestOutcome
			defer func() {
				mu.Lock()
				total.add(&mine)
				mu.Unlock()
			}()
			for {
				var req request
				var ok bool
				select {
				case req, ok = <-reqs:
				case <-ctx.Done():
					return
				}
				if !ok {
					return
				}
				if err := in.send(ctx, req, &mine); err != nil {
					cancel(err)
					return
				}
				progress.Add(int64(req.records))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return total, err
	}
	return total, ctx.Err()
}

// send posts req until the server takes it, honouring Retry-After, and
// adds what happened to o.
func (in *ingester) send(ctx context.Context, req request, o *ingestOutcome) error {
	target, contentType := in.otlpURL, "application/x-protobuf"
	if in.proto == protoNDJSON {
		target, contentType = in.urls[req.bucket], "application/x-ndjson"
	}
	describe := func() string {
		enc := ""
		if in.gzip {
			enc = ", gzip"
		}
		return fmt.Sprintf("POST %s (%s, %d records from #%d, %s%s)", target, contentType, req.records, req.first, benchproc.BytesText(int64(len(req.body))), enc)
	}
	for attempt := 0; ; attempt++ {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(req.body))
		if err != nil {
			return err
		}
		hreq.Header.Set("Content-Type", contentType)
		if in.gzip {
			hreq.Header.Set("Content-Encoding", "gzip")
		}
		start := time.Now()
		resp, err := in.client.Do(hreq)
		if err != nil {
			return fmt.Errorf("%s: %w", describe(), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: read the response: %w", describe(), err)
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			o.Throttled++
			wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !ok {
				wait = time.Second
			}
			if attempt == maxRetries {
				return fmt.Errorf("%s: still answered %s after %d retries: %s", describe(), resp.Status, maxRetries, quote(body))
			}
			slog.Warn("server throttles ingest", "status", resp.Status, "retry_after", wait, "body", quote(body))
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		o.latencies = append(o.latencies, took)
		o.Requests++
		o.Records += int64(req.records)
		o.RawBytes += req.rawBytes
		o.BodyBytes += int64(len(req.body))
		if in.proto == protoNDJSON {
			return in.ndjsonReply(resp, body, req, o, describe)
		}
		return in.otlpReply(resp, body, req, o, describe)
	}
}

// ndjsonReply accounts for the answer to an NDJSON request: 200 with
// counts, or 400 when every line was rejected.
func (in *ingester) ndjsonReply(resp *http.Response, body []byte, req request, o *ingestOutcome, describe func() string) error {
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("%s: %s: %s", describe(), resp.Status, quote(body))
	}
	reply, err := decodeIngestReply(body)
	if err != nil {
		return fmt.Errorf("%s: %s with a body that is not an ingest reply (%v): %s", describe(), resp.Status, err, quote(body))
	}
	o.Accepted += reply.Accepted
	o.Rejected += reply.Rejected
	if reply.Accepted+reply.Rejected != int64(req.records) {
		o.note(fmt.Sprintf("%s: the reply counts %d accepted and %d rejected of %d lines sent", describe(), reply.Accepted, reply.Rejected, req.records))
	}
	for _, e := range reply.Errors {
		o.note(fmt.Sprintf("%s: line %d: %s: %s", describe(), e.Line, e.Reason, e.Error))
	}
	if reply.Rejected > 0 && len(reply.Errors) == 0 {
		o.note(fmt.Sprintf("%s: %d lines rejected without a reason", describe(), reply.Rejected))
	}
	return nil
}

// otlpReply accounts for the answer to an OTLP request: 200 with an
// ExportLogsServiceResponse that may report a partial success.
func (in *ingester) otlpReply(resp *http.Response, body []byte, req request, o *ingestOutcome, describe func() string) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", describe(), resp.Status, quote(body))
	}
	rejected, msg, err := decodeOTLPResponse(body)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", describe(), resp.Status, err)
	}
	o.Accepted += int64(req.records) - rejected
	o.Rejected += rejected
	if rejected > 0 {
		o.note(fmt.Sprintf("%s: partial success, %d rejected: %s", describe(), rejected, msg))
	}
	return nil
}

// note keeps s among the first rejections.
func (o *ingestOutcome) note(s string) {
	if len(o.Rejections) < keptRejections {
		o.Rejections = append(o.Rejections, s)
	}
}

// ingestReply is the answer of POST /api/v1/logs/ingest.
type ingestReply struct {
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	Errors   []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
		Error  string `json:"error"`
	} `json:"errors"`
}

// decodeIngestReply parses an ingest reply; both counts must be present
// and not negative.
func decodeIngestReply(body []byte) (ingestReply, error) {
	var raw struct {
		Accepted *int64 `json:"accepted"`
		Rejected *int64 `json:"rejected"`
		Errors   json.RawMessage
	}
	var r ingestReply
	if err := json.Unmarshal(body, &raw); err != nil {
		return r, err
	}
	if raw.Accepted == nil || raw.Rejected == nil {
		return r, errors.New(`"accepted" or "rejected" is missing`)
	}
	if *raw.Accepted < 0 || *raw.Rejected < 0 {
		return r, fmt.Errorf("negative counts %d, %d", *raw.Accepted, *raw.Rejected)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, err
	}
	return r, nil
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It caps the wait at a minute.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		d = time.Duration(min(s, 60)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, time.Minute), true
}

// quote returns a response body for a message: at most 1 KiB, quoted.
func quote(body []byte) string {
	const limit = 1 << 10
	if len(body) > limit {
		return strconv.Quote(string(body[:limit])) + fmt.Sprintf(" … (%d bytes)", len(body))
	}
	return strconv.Quote(string(body))
}
