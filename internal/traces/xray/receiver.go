package xray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Receiver tuning.
const (
	// batchDocuments and batchWait bound a batch handed to the sink, as the
	// daemon batches PutTraceSegments, but sooner: a burst costs few
	// appends and a lone segment waits at most batchWait.
	batchDocuments = 50
	batchWait      = 100 * time.Millisecond
	// queueDocuments bounds the decoded documents waiting for a slow sink;
	// beyond it documents are dropped rather than blocking the socket.
	queueDocuments = 1024
	// sinkTimeout bounds one sink call.
	sinkTimeout = 30 * time.Second
	// datagramBytes holds any UDP datagram (at most 65,507 bytes of IPv4
	// payload), so none is truncated.
	datagramBytes = 64 << 10
	// socketBuffer is the kernel receive buffer asked for, to ride out
	// bursts while the decoder catches up.
	socketBuffer = 4 << 20
	warnEvery    = 10 * time.Second
)

// Sink stores the span records of one batch for tenant. An error is logged
// and counted; UDP has no way to ask the sender to retry.
type Sink func(ctx context.Context, tenant string, recs []eventstore.Record) error

// Receiver listens for the X-Ray daemon protocol on UDP, as SDKs send it
// to 127.0.0.1:2000, and delivers the spans to a sink for one tenant (the
// socket carries no credentials). It implements prometheus.Collector.
type Receiver struct {
	conn   net.PacketConn
	tenant string
	sink   Sink
	log    *slog.Logger
	dec    *Decoder

	queue    chan []eventstore.Record // one entry per decoded document
	readDone chan struct{}
	done     chan struct{}
	close    sync.Once

	received, decoded, invalid, dropped, sinkErrors, spans atomic.Uint64
	warnDropped, warnInvalid, warnSink                     warnLimiter
	collectors                                             []prometheus.Collector
}

// ReceiverStats are a Receiver's counters.
type ReceiverStats struct {
	Received   uint64 // datagrams read
	Decoded    uint64 // segment documents decoded
	Invalid    uint64 // datagrams refused: bad header or document
	Dropped    uint64 // decoded documents dropped because the sink fell behind
	SinkErrors uint64 // batches the sink failed to store
	Spans      uint64 // span records handed to the sink
}

// Listen opens a UDP socket on addr ("127.0.0.1:2000", ":0" for any free
// port) and starts reading. Spans go to sink for tenant in batches of up
// to 50 documents or 100 ms. Close stops it.
func Listen(addr, tenant string, sink Sink, log *slog.Logger) (*Receiver, error) {
	if sink == nil {
		return nil, errors.New("xray: Listen needs a sink")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for X-Ray segments on udp %s: %w", addr, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(socketBuffer) // best effort: the kernel may cap it
	}
	r := &Receiver{
		conn:     conn,
		tenant:   tenant,
		sink:     sink,
		log:      log.With("component", "xray-udp", "addr", conn.LocalAddr().String(), "tenant", tenant),
		dec:      NewDecoder(),
		queue:    make(chan []eventstore.Record, queueDocuments),
		readDone: make(chan struct{}),
		done:     make(chan struct{}),
	}
	r.collectors = r.newCollectors()
	go r.read()
	go r.deliver()
	return r, nil
}

// Addr is the address the receiver listens on.
func (r *Receiver) Addr() net.Addr { return r.conn.LocalAddr() }

// Close stops reading, hands the pending batch to the sink and returns when
// it has. It is safe to call more than once.
func (r *Receiver) Close() error {
	var err error
	r.close.Do(func() {
		err = r.conn.Close()
		<-r.done
	})
	return err
}

// Stats returns the receiver's counters.
func (r *Receiver) Stats() ReceiverStats {
	return ReceiverStats{
		Received: r.received.Load(), Decoded: r.decoded.Load(), Invalid: r.invalid.Load(),
		Dropped: r.dropped.Load(), SinkErrors: r.sinkErrors.Load(), Spans: r.spans.Load(),
	}
}

// read owns the socket: it decodes each datagram and queues its records,
// never waiting on the sink.
func (r *Receiver) read() {
	defer close(r.queue)
	buf := make([]byte, datagramBytes)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Warn("reading X-Ray datagram failed", "err", err)
			time.Sleep(10 * time.Millisecond) // don't spin on a persistent error
			continue
		}
		r.received.Add(1)
		// Decode copies what it keeps, so buf is free for the next datagram.
		doc, err := ParsePacket(buf[:n])
		var recs []eventstore.Record
		if err == nil {
			recs, err = r.dec.Decode(doc, time.Now())
		}
		if err != nil {
			r.invalid.Add(1)
			if n := r.warnInvalid.note(); n > 0 {
				r.log.Warn("X-Ray datagrams refused", "count", n, "from", from.String(), "err", err)
			}
			continue
		}
		r.decoded.Add(1)
		select {
		case r.queue <- recs:
		default:
			r.dropped.Add(1)
			if n := r.warnDropped.note(); n > 0 {
				r.log.Warn("X-Ray segment documents dropped: the span store is not keeping up", "count", n, "queue", queueDocuments)
			}
		}
	}
}

// deliver batches queued documents into sink calls. When read has closed
// the queue it delivers what is left and returns.
func (r *Receiver) deliver() {
	defer close(r.done)
	var (
		batch []eventstore.Record
		docs  int
		timer = time.NewTimer(batchWait)
	)
	timer.Stop()
	flush := func() {
		timer.Stop()
		if docs == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), sinkTimeout)
		err := r.sink(ctx, r.tenant, batch)
		cancel()
		if err != nil {
			r.sinkErrors.Add(1)
			if n := r.warnSink.note(); n > 0 {
				r.log.Warn("X-Ray spans not stored", "batches", n, "spans", len(batch), "err", err)
			}
		} else {
			r.spans.Add(uint64(len(batch)))
		}
		// The sink may retain the slice: start a new one.
		batch, docs = nil, 0
	}
	for {
		select {
		case recs, ok := <-r.queue:
			if !ok {
				flush()
				return
			}
			if docs == 0 {
				timer.Reset(batchWait)
			}
			batch = append(batch, recs...)
			docs++
			if docs >= batchDocuments {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// warnLimiter lets a warning through at most once per warnEvery and says
// how many occurrences it stands for.
type warnLimiter struct {
	mu      sync.Mutex
	last    time.Time
	pending int
}

// note records an occurrence and returns how many to report now (0: stay
// quiet).
func (w *warnLimiter) note() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending++
	if now := time.Now(); now.Sub(w.last) >= warnEvery {
		n := w.pending
		w.last, w.pending = now, 0
		return n
	}
	return 0
}

func (r *Receiver) newCollectors() []prometheus.Collector {
	labels := prometheus.Labels{"tenant": r.tenant}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{
		counter("mirador_xray_udp_datagrams_received_total", "X-Ray daemon-protocol datagrams read.", &r.received),
		counter("mirador_xray_udp_documents_decoded_total", "X-Ray segment documents decoded from datagrams.", &r.decoded),
		counter("mirador_xray_udp_datagrams_invalid_total", "X-Ray datagrams refused for a bad header or segment document.", &r.invalid),
		counter("mirador_xray_udp_documents_dropped_total", "Decoded X-Ray segment documents dropped because the span store fell behind.", &r.dropped),
		counter("mirador_xray_udp_sink_errors_total", "Batches of X-Ray spans the span store failed to store.", &r.sinkErrors),
		counter("mirador_xray_udp_spans_delivered_total", "X-Ray spans handed to the span store.", &r.spans),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mirador_xray_udp_queue_documents", Help: "Decoded X-Ray segment documents waiting for the span store.", ConstLabels: labels},
			func() float64 { return float64(len(r.queue)) }),
	}
}

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range r.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) {
	for _, c := range r.collectors {
		c.Collect(ch)
	}
}
