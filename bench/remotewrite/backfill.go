package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// backfill is phase 1: history of the whole fleet written in time order by
// concurrent senders, each owning a fixed share of the series so that every
// series stays in order.
type backfill struct {
	fleet    *fleet
	url      string
	client   *http.Client
	senders  int
	batch    int // samples per request
	seed     uint64
	start    int64 // timestamp of the first scrape, ms
	interval int64 // ms between scrapes
	steps    int   // scrapes per series
	// checkpoint is the scrape at which all senders stop until every
	// earlier sample is stored, so the run splits into a window before the
	// head can compact and one after; see ingestWindow.
	checkpoint int
	// onCheckpoint runs while every sender waits at checkpoint.
	onCheckpoint func()

	latencies        [][]time.Duration // per sender, in send order
	beforeCheckpoint []int             // per sender, requests sent before checkpoint
}

// maxLead bounds how many scrapes a sender may run ahead of the slowest,
// far inside the head's appendable window (half a block range, 1 h), so
// that no sample is refused as too old because of scheduling.
const maxLead = 40

// run writes every scrape and returns when all are stored or one fails.
func (b *backfill) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b.latencies = make([][]time.Duration, b.senders)
	b.beforeCheckpoint = make([]int, b.senders)
	p := newPacer(ctx, b.senders, b.checkpoint, func() {
		for k, l := range b.latencies {
			b.beforeCheckpoint[k] = len(l)
		}
		b.onCheckpoint()
	})
	var wg sync.WaitGroup
	for k := range b.senders {
		wg.Go(func() {
			if err := b.send(ctx, k, p); err != nil {
				cancel(fmt.Errorf("sender %d: %w", k, err))
			}
		})
	}
	go b.logProgress(ctx, p)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// send writes the scrapes of sender k's series: those i with i%senders == k,
// so each sender's share mixes metrics and targets as Prometheus's shards
// do. A request carries batch samples and may span scrapes.
func (b *backfill) send(ctx context.Context, k int, p *pacer) error {
	var mine []int
	for i := k; i < len(b.fleet.encodedLabels); i += b.senders {
		mine = append(mine, i)
	}
	rng := rand.New(rand.NewPCG(b.seed, uint64(k)+1)) // stream 0 drew the initial values
	lat := make([]time.Duration, 0, b.steps*len(mine)/b.batch+2)
	defer func() { b.latencies[k] = lat }()
	var w writeRequest
	flush := func() error {
		if w.samples == 0 {
			return nil
		}
		body := w.compress()
		t := time.Now()
		err := post(ctx, b.client, b.url, body)
		lat = append(lat, time.Since(t))
		p.sent(w.samples)
		w.reset()
		return err
	}
	for step := range b.steps {
		if step == b.checkpoint {
			if err := flush(); err != nil {
				return err
			}
			b.latencies[k] = lat // read by onCheckpoint while every sender waits
		}
		if err := p.enter(k, step); err != nil {
			return err
		}
		ts := b.start + int64(step)*b.interval
		for _, i := range mine {
			w.add(b.fleet.encodedLabels[i], ts, b.fleet.next(i, rng))
			if w.samples == b.batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	p.done(k)
	return nil
}

func (b *backfill) logProgress(ctx context.Context, p *pacer) {
	total := b.steps * len(b.fleet.encodedLabels)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n := p.samplesSent()
			slog.Info("backfill", "samples", n, "of", total, "percent", fmt.Sprintf("%.0f", 100*float64(n)/float64(total)))
			if n == total {
				return
			}
		}
	}
}

// latencySplit returns the request latencies of all senders: those sent
// before the checkpoint and those sent after.
func (b *backfill) latencySplit() (before, after []time.Duration) {
	for k, l := range b.latencies {
		before = append(before, l[:b.beforeCheckpoint[k]]...)
		after = append(after, l[b.beforeCheckpoint[k]:]...)
	}
	return before, after
}

// pacer keeps the senders within maxLead scrapes of each other and stops
// them all at the checkpoint scrape until every one has arrived.
type pacer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	ctx        context.Context
	step       []int // the scrape each sender is writing
	checkpoint int
	arrived    int
	released   bool
	atBarrier  func()
	sentTotal  int
}

func newPacer(ctx context.Context, senders, checkpoint int, atBarrier func()) *pacer {
	p := &pacer{ctx: ctx, step: make([]int, senders), checkpoint: checkpoint, atBarrier: atBarrier}
	p.cond = sync.NewCond(&p.mu)
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	return p
}

// enter blocks sender k until it may write scrape step.
func (p *pacer) enter(k, step int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step[k] = step
	p.cond.Broadcast()
	if step == p.checkpoint {
		p.arrived++
		if p.arrived == len(p.step) {
			p.atBarrier()
			p.released = true
			p.cond.Broadcast()
		}
	}
	for p.ctx.Err() == nil && (step-slices.Min(p.step) > maxLead || (step >= p.checkpoint && !p.released)) {
		p.cond.Wait()
	}
	return p.ctx.Err()
}

// done marks sender k finished, so it holds no one back.
func (p *pacer) done(k int) {
	p.mu.Lock()
	p.step[k] = math.MaxInt
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *pacer) sent(samples int) {
	p.mu.Lock()
	p.sentTotal += samples
	p.mu.Unlock()
}

func (p *pacer) samplesSent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sentTotal
}
