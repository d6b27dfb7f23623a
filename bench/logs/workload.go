package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// protocol is how a phase sends its records.
type protocol int

const (
	protoNDJSON protocol = iota // POST /api/v1/logs/ingest, one group and stream per request
	protoOTLP                   // POST /v1/logs on the OTLP/HTTP listener, protobuf
)

// slug names the protocol in file names.
func (p protocol) slug() string {
	if p == protoOTLP {
		return "otlp"
	}
	return "ndjson"
}

func (p protocol) String() string {
	if p == protoOTLP {
		return "OTLP/HTTP protobuf"
	}
	return "NDJSON"
}

// request is one prepared ingest request.
type request struct {
	body     []byte
	records  int
	rawBytes int64 // the records' NDJSON size, uncompressed: what compression is measured against
	bucket   int   // NDJSON: the (group, stream) it goes to
	first    int64 // index of its first record, for messages
}

// workload prepares the requests of one phase: records [from, to) of the
// generator's sequence, cut into chunks of batch × buckets records that
// workers generate in parallel. An NDJSON chunk becomes one request per
// (group, stream), since the ingest API takes one group and stream per
// request: about batch lines each, more for busy pods, fewer for quiet
// ones. An OTLP chunk becomes requests of batch records each, mixing
// services as a collector's export does.
type workload struct {
	gen      GeneratorConfig
	proto    protocol
	from, to int64
	batch    int
	gzip     bool
	workers  int
	hist     *histogram // counts of every generated record are added to it
}

// chunkRecords is how many records a chunk holds.
func (w *workload) chunkRecords(buckets int) int64 { return int64(w.batch) * int64(buckets) }

// maxRequests bounds how many requests produce sends.
func (w *workload) maxRequests(buckets int) int {
	chunk := w.chunkRecords(buckets)
	chunks := (w.to - w.from + chunk - 1) / chunk
	return int(chunks) * buckets
}

// produce generates the workload's requests into out and returns when all
// are sent, ctx is done or generation fails. It does not close out.
func (w *workload) produce(ctx context.Context, out chan<- request) error {
	buckets := len(NewGenerator(w.gen).Buckets())
	chunk := w.chunkRecords(buckets)
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := max(w.workers, 1)
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			p := newProducer(w, buckets)
			defer w.hist.merge(p.hist)
			for {
				lo := w.from + next.Add(1)*chunk - chunk
				if lo >= w.to || ctx.Err() != nil {
					return
				}
				if err := p.chunk(ctx, lo, min(lo+chunk, w.to), out); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// producer is one generating goroutine's state; its buffers are reused
// from chunk to chunk.
type producer struct {
	w       *workload
	g       *Generator
	hist    *histogram
	rec     Record
	recs    []Record // OTLP: one batch
	lines   [][]byte // NDJSON: per bucket
	counts  []int
	firsts  []int64
	scratch []byte
	zbuf    bytes.Buffer
	zw      *gzip.Writer
}

func newProducer(w *workload, buckets int) *producer {
	p := &producer{
		w: w, g: NewGenerator(w.gen), hist: w.hist.empty(),
		lines: make([][]byte, buckets), counts: make([]int, buckets), firsts: make([]int64, buckets),
	}
	if w.proto == protoOTLP {
		p.recs = make([]Record, w.batch)
	}
	if w.gzip {
		p.zw = gzip.NewWriter(&p.zbuf)
	}
	return p
}

// chunk generates records [lo, hi) and sends their requests.
func (p *producer) chunk(ctx context.Context, lo, hi int64, out chan<- request) error {
	if p.w.proto == protoOTLP {
		for first := lo; first < hi; first += int64(p.w.batch) {
			last := min(first+int64(p.w.batch), hi)
			recs := p.recs[:last-first]
			var raw int64
			for i := range recs {
				p.g.Record(first+int64(i), &recs[i])
				p.hist.add(recs[i].Time, recs[i].Level)
				p.scratch = appendNDJSON(p.scratch[:0], &recs[i])
				raw += int64(len(p.scratch))
			}
			body, err := encodeOTLP(recs)
			if err != nil {
				return err
			}
			if body, err = p.compress(body); err != nil {
				return err
			}
			if err := send(ctx, out, request{body: body, records: len(recs), rawBytes: raw, bucket: -1, first: first}); err != nil {
				return err
			}
		}
		return nil
	}
	for b := range p.lines {
		p.lines[b], p.counts[b] = p.lines[b][:0], 0
	}
	r := &p.rec
	for i := lo; i < hi; i++ {
		p.g.Record(i, r)
		p.hist.add(r.Time, r.Level)
		if p.counts[r.Bucket] == 0 {
			p.firsts[r.Bucket] = i
		}
		p.lines[r.Bucket] = appendNDJSON(p.lines[r.Bucket], r)
		p.counts[r.Bucket]++
	}
	for b, lines := range p.lines {
		if p.counts[b] == 0 {
			continue
		}
		body := bytes.Clone(lines) // lines is reused for the next chunk
		if p.zw != nil {
			var err error
			if body, err = p.compress(lines); err != nil {
				return err
			}
		}
		if err := send(ctx, out, request{body: body, records: p.counts[b], rawBytes: int64(len(lines)), bucket: b, first: p.firsts[b]}); err != nil {
			return err
		}
	}
	return nil
}

// compress gzips body if the workload says so, into a new slice.
func (p *producer) compress(body []byte) ([]byte, error) {
	if p.zw == nil {
		return body, nil
	}
	p.zbuf.Reset()
	p.zw.Reset(&p.zbuf)
	if _, err := p.zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip a request body: %w", err)
	}
	if err := p.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip a request body: %w", err)
	}
	return bytes.Clone(p.zbuf.Bytes()), nil
}

func send(ctx context.Context, out chan<- request, r request) error {
	select {
	case out <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// histogram counts records by minute and level: what `stats count() by
// bin(1m), level` must return for them. add is not synchronised, so each
// goroutine adds to a histogram of its own (from empty) and merges it
// into the shared one; merge, total and cells are safe for concurrent use.
type histogram struct {
	baseMinute int64 // Unix minute of cell 0

	mu     sync.Mutex
	counts [][numLevels]int64
}

// newHistogram covers the minutes from first to last (Unix ns).
func newHistogram(first, last int64) *histogram {
	base := first / int64(time.Minute)
	return &histogram{baseMinute: base, counts: make([][numLevels]int64, last/int64(time.Minute)-base+1)}
}

// empty returns a histogram over the same minutes, for one goroutine.
func (h *histogram) empty() *histogram {
	return &histogram{baseMinute: h.baseMinute, counts: make([][numLevels]int64, len(h.counts))}
}

// add counts one record; records outside the histogram's minutes are
// ignored.
func (h *histogram) add(t int64, l Level) {
	m := t/int64(time.Minute) - h.baseMinute
	if m >= 0 && m < int64(len(h.counts)) {
		h.counts[m][l]++
	}
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range o.counts {
		for l := range numLevels {
			h.counts[i][l] += o.counts[i][l]
		}
	}
}

// total is the number of records counted.
func (h *histogram) total() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int64
	for _, c := range h.counts {
		for _, x := range c {
			n += x
		}
	}
	return n
}

// cells returns the non-zero counts keyed by (Unix minute, level).
func (h *histogram) cells() map[statsCell]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[statsCell]int64{}
	for i, c := range h.counts {
		for l, x := range c {
			if x > 0 {
				out[statsCell{Minute: h.baseMinute + int64(i), Level: levelNames[l]}] = x
			}
		}
	}
	return out
}

// statsCell is one row of `stats count() by bin(1m), level`.
type statsCell struct {
	Minute int64 // Unix minutes
	Level  string
}
