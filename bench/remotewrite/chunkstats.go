package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
)

// metricChunks is how much chunk data one metric's series take in the
// blocks: what the values and timestamps cost after XOR (Gorilla) encoding,
// without the chunk file's per-chunk framing or the index.
type metricChunks struct {
	Metric         string  `json:"metric"`
	Kind           string  `json:"kind"`
	Samples        int64   `json:"samples"`
	ChunkBytes     int64   `json:"chunk_bytes"`
	BytesPerSample float64 `json:"bytes_per_sample"`
}

// chunksByMetric reads the blocks under dir, read-only with Prometheus's
// own block reader, and sums chunk bytes and samples by metric name, so
// the report can say which kinds of series the bytes go to.
func chunksByMetric(ctx context.Context, dir string, blocks []blockInfo) ([]metricChunks, error) {
	byName := map[string]*metricChunks{}
	for _, b := range blocks {
		if err := addBlockChunks(ctx, filepath.Join(dir, b.ULID), byName); err != nil {
			return nil, fmt.Errorf("read chunks of block %s: %w", b.ULID, err)
		}
	}
	kinds := map[string]valueKind{}
	for _, k := range metricKinds {
		kinds[k.name] = k.kind
	}
	out := make([]metricChunks, 0, len(byName))
	for _, m := range byName {
		m.Kind = [...]string{counter: "counter", gauge: "gauge", constant: "constant"}[kinds[m.Metric]]
		m.BytesPerSample = float64(m.ChunkBytes) / float64(max(m.Samples, 1))
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b metricChunks) int { return cmp.Compare(b.BytesPerSample, a.BytesPerSample) })
	return out, nil
}

func addBlockChunks(ctx context.Context, dir string, byName map[string]*metricChunks) (err error) {
	b, err := tsdb.OpenBlock(slog.New(slog.DiscardHandler), dir, nil, tsdb.DefaultPostingsDecoderFactory)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	ir, err := b.Index()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ir.Close()) }()
	cr, err := b.Chunks()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cr.Close()) }()

	name, value := index.AllPostingsKey()
	p, err := ir.Postings(ctx, name, value)
	if err != nil {
		return err
	}
	var builder labels.ScratchBuilder
	var metas []chunks.Meta
	for p.Next() {
		if err := ir.Series(p.At(), &builder, &metas); err != nil {
			return err
		}
		metric := builder.Labels().Get(model.MetricNameLabel)
		m := byName[metric]
		if m == nil {
			m = &metricChunks{Metric: metric}
			byName[metric] = m
		}
		for _, meta := range metas {
			c, _, err := cr.ChunkOrIterable(meta)
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("series %s: chunk %d is not a plain chunk", builder.Labels(), meta.Ref)
			}
			m.ChunkBytes += int64(len(c.Bytes()))
			m.Samples += int64(c.NumSamples())
		}
	}
	return p.Err()
}
