package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"
)

// writeRequest builds one remote-write 1.0 request (a prometheus.WriteRequest
// of one-sample TimeSeries, as Prometheus's queue manager sends them) by
// appending pre-encoded labels and the sample to a reused buffer, so the
// driver spends its CPU on little but snappy. Not safe for concurrent use.
type writeRequest struct {
	raw        []byte
	compressed []byte
	samples    int
}

func (w *writeRequest) reset() {
	w.raw = w.raw[:0]
	w.samples = 0
}

// add appends one TimeSeries holding series labels and one sample.
func (w *writeRequest) add(encodedLabels []byte, ts int64, v float64) {
	sampleLen := 1 + 8 + 1 + protowire.SizeVarint(uint64(ts))
	seriesLen := len(encodedLabels) + 1 + protowire.SizeVarint(uint64(sampleLen)) + sampleLen
	b := protowire.AppendTag(w.raw, 1, protowire.BytesType) // WriteRequest.timeseries
	b = protowire.AppendVarint(b, uint64(seriesLen))
	b = append(b, encodedLabels...)
	b = protowire.AppendTag(b, 2, protowire.BytesType) // TimeSeries.samples
	b = protowire.AppendVarint(b, uint64(sampleLen))
	b = protowire.AppendTag(b, 1, protowire.Fixed64Type) // Sample.value
	b = protowire.AppendFixed64(b, math.Float64bits(v))
	b = protowire.AppendTag(b, 2, protowire.VarintType) // Sample.timestamp
	b = protowire.AppendVarint(b, uint64(ts))
	w.raw = b
	w.samples++
}

// compress snappy-encodes the request into the reused output buffer.
func (w *writeRequest) compress() []byte {
	if n := snappy.MaxEncodedLen(len(w.raw)); cap(w.compressed) < n {
		w.compressed = make([]byte, n)
	}
	w.compressed = snappy.Encode(w.compressed[:cap(w.compressed)], w.raw)
	return w.compressed
}

// checkEncoding verifies, with Prometheus's generated decoder, that
// writeRequest's hand-rolled encoding of the first series of f is the
// WriteRequest it means to be.
func checkEncoding(f *fleet) error {
	var w writeRequest
	n := min(len(f.encodedLabels), 3)
	for i := range n {
		w.add(f.encodedLabels[i], int64(1_700_000_000_000+i), float64(i)+0.5)
	}
	var got prompb.WriteRequest
	if err := got.Unmarshal(w.raw); err != nil {
		return fmt.Errorf("self-check of the request encoding: %w", err)
	}
	if len(got.Timeseries) != n {
		return fmt.Errorf("self-check of the request encoding: decoded %d series, want %d", len(got.Timeseries), n)
	}
	for i, ts := range got.Timeseries {
		want := seriesLabels(i)
		gotLabels := make([]string, 0, 2*len(ts.Labels))
		for _, l := range ts.Labels {
			gotLabels = append(gotLabels, l.Name, l.Value)
		}
		var wantLabels []string
		want.Range(func(l labels.Label) { wantLabels = append(wantLabels, l.Name, l.Value) })
		if !slices.Equal(gotLabels, wantLabels) || len(ts.Samples) != 1 ||
			ts.Samples[0].Timestamp != int64(1_700_000_000_000+i) || ts.Samples[0].Value != float64(i)+0.5 {
			return fmt.Errorf("self-check of the request encoding: series %d decoded as %v %v, want %v", i, ts.Labels, ts.Samples, want)
		}
	}
	return nil
}

// post sends body to the remote-write endpoint and fails unless the server
// stored every sample (204, or 200 from some receivers).
func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "mirador-bench-remotewrite")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return fmt.Errorf("remote write answered %s: %s", resp.Status, bytes.TrimSpace(msg))
}
