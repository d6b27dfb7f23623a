package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// The TSDB's on-disk layout, read without opening it: block directories
// (named by ULID, holding meta.json, index, chunks/ and tombstones), wal/
// and chunks_head/. Directories still being written or deleted end in
// .tmp-for-creation or .tmp-for-deletion.

// blockRange is the TSDB's head chunk range and smallest block: 2 h.
const blockRange = 2 * time.Hour

// blockInfo describes one persisted block.
type blockInfo struct {
	ULID       string `json:"ulid"`
	MinTimeMs  int64  `json:"min_time_ms"`
	MaxTimeMs  int64  `json:"max_time_ms"`
	Samples    int64  `json:"samples"`
	Series     int64  `json:"series"`
	Chunks     int64  `json:"chunks"`
	Level      int    `json:"compaction_level"`
	Bytes      int64  `json:"bytes"`
	ChunkBytes int64  `json:"chunk_bytes"`
	IndexBytes int64  `json:"index_bytes"`
}

// tsdbDisk is the TSDB directory's state at one moment.
type tsdbDisk struct {
	Blocks         []blockInfo `json:"blocks"`
	Pending        []string    `json:"-"` // .tmp-* directories: a compaction is in progress
	WALBytes       int64       `json:"wal_bytes"`
	HeadChunkBytes int64       `json:"chunks_head_bytes"`
}

func (d tsdbDisk) samples() (n int64) {
	for _, b := range d.Blocks {
		n += b.Samples
	}
	return n
}

// readTSDBDir reads the blocks and sizes under dir.
func readTSDBDir(dir string) (tsdbDisk, error) {
	var d tsdbDisk
	entries, err := os.ReadDir(dir)
	if err != nil {
		return d, fmt.Errorf("read TSDB directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case name == "wal":
			d.WALBytes, err = benchproc.DirSize(path)
		case name == "chunks_head":
			d.HeadChunkBytes, err = benchproc.DirSize(path)
		case strings.Contains(name, ".tmp"):
			d.Pending = append(d.Pending, name)
		default:
			var b blockInfo
			var ok bool
			b, ok, err = readBlock(path)
			if ok {
				d.Blocks = append(d.Blocks, b)
			}
		}
		if err != nil {
			return d, err
		}
	}
	slices.SortFunc(d.Blocks, func(a, b blockInfo) int { return cmp.Compare(a.MinTimeMs, b.MinTimeMs) })
	return d, nil
}

// readBlock reads a block's meta.json and sizes; ok is false for a
// directory that is not a block.
func readBlock(dir string) (b blockInfo, ok bool, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("read block meta: %w", err)
	}
	var meta struct {
		ULID    string `json:"ulid"`
		MinTime int64  `json:"minTime"`
		MaxTime int64  `json:"maxTime"`
		Stats   struct {
			NumSamples int64 `json:"numSamples"`
			NumSeries  int64 `json:"numSeries"`
			NumChunks  int64 `json:"numChunks"`
		} `json:"stats"`
		Compaction struct {
			Level int `json:"level"`
		} `json:"compaction"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return b, false, fmt.Errorf("parse %s/meta.json: %w", dir, err)
	}
	b = blockInfo{
		ULID: meta.ULID, MinTimeMs: meta.MinTime, MaxTimeMs: meta.MaxTime,
		Samples: meta.Stats.NumSamples, Series: meta.Stats.NumSeries, Chunks: meta.Stats.NumChunks,
		Level: meta.Compaction.Level,
	}
	if b.Bytes, err = benchproc.DirSize(dir); err != nil {
		return b, false, err
	}
	if b.ChunkBytes, err = benchproc.DirSize(filepath.Join(dir, "chunks")); err != nil {
		return b, false, err
	}
	if fi, err := os.Stat(filepath.Join(dir, "index")); err == nil {
		b.IndexBytes = fi.Size()
	}
	return b, true, nil
}

// expectedBlockSamples is how many samples the head's own compaction
// persists when it holds series scrapes every interval from first to last
// (ms): Prometheus cuts the head's oldest 2 h-aligned range into a block
// for as long as the head spans more than 1.5 block ranges.
func expectedBlockSamples(series int, first, last, interval int64) int64 {
	width := blockRange.Milliseconds()
	mint, scrapes := first, int64(0)
	for last-mint > width/2*3 {
		boundary := (mint/width)*width + width
		n := (boundary - mint + interval - 1) / interval // scrapes in [mint, boundary)
		scrapes += n
		mint += n * interval
	}
	return scrapes * int64(series)
}

// waitForBlocks polls dir until the blocks hold want samples and no
// compaction is in progress (the same blocks twice, a second apart), or
// timeout passes; it returns the last state read either way.
func waitForBlocks(ctx context.Context, dir string, want int64, timeout time.Duration) (tsdbDisk, error) {
	deadline := time.Now().Add(timeout)
	var prev []string
	for {
		d, err := readTSDBDir(dir)
		if err != nil {
			return d, err
		}
		var ulids []string
		for _, b := range d.Blocks {
			ulids = append(ulids, b.ULID)
		}
		if d.samples() >= want && len(d.Pending) == 0 && slices.Equal(ulids, prev) {
			return d, nil
		}
		prev = ulids
		if time.Now().After(deadline) {
			return d, fmt.Errorf("after %s the blocks hold %d samples, want %d (pending: %v)", timeout, d.samples(), want, d.Pending)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
