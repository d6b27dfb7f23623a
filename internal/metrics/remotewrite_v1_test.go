package metrics

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

type decodedSeries struct {
	labels  string
	samples []prompb.Sample
}

func decodeWithMirador(body []byte) ([]decodedSeries, error) {
	d := &v1Series{b: labels.NewScratchBuilder(8)}
	var out []decodedSeries
	err := forEachSeriesV1(body, func(msg []byte) error {
		_, samples, full, err := d.scan(msg)
		if err != nil {
			return err
		}
		var ls labels.Labels
		if full != nil {
			ls, samples = full.ToLabels(&d.b, nil), full.Samples
		} else if ls, err = d.labels(); err != nil {
			return err
		}
		out = append(out, decodedSeries{ls.String(), append([]prompb.Sample(nil), samples...)})
		return nil
	})
	return out, err
}

func decodeWithGogo(body []byte) ([]decodedSeries, error) {
	var req prompb.WriteRequest
	if err := req.Unmarshal(body); err != nil {
		return nil, err
	}
	b := labels.NewScratchBuilder(8)
	var out []decodedSeries
	for _, ts := range req.Timeseries {
		out = append(out, decodedSeries{ts.ToLabels(&b, nil).String(), ts.Samples})
	}
	return out, nil
}

func sameSamples(a, b []prompb.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Timestamp != b[i].Timestamp || math.Float64bits(a[i].Value) != math.Float64bits(b[i].Value) {
			return false
		}
	}
	return true
}

// FuzzDecodeV1MatchesGogo: wherever Prometheus's generated decoder accepts
// a body, Mirador's must accept it and read the same series and samples.
func FuzzDecodeV1MatchesGogo(f *testing.F) {
	withExemplar := series("up", []string{"job", "a"}, prompb.Sample{Timestamp: 5, Value: 2})
	withExemplar.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: 5}}
	seeds := []prompb.WriteRequest{
		{Timeseries: []prompb.TimeSeries{series("up", []string{"job", "a", "instance", "x:1"}, prompb.Sample{Timestamp: 1000, Value: 1}, prompb.Sample{Timestamp: 2000, Value: math.NaN()})}},
		{Timeseries: []prompb.TimeSeries{withExemplar, series("b", nil)}},
		{Metadata: []prompb.MetricMetadata{{MetricFamilyName: "up", Help: "h"}}, Timeseries: []prompb.TimeSeries{series("c", []string{"z", "", "a", "1"}, prompb.Sample{Timestamp: -1, Value: -0.5})}},
	}
	for _, s := range seeds {
		b, _ := s.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, gogoErr := decodeWithGogo(body)
		got, err := decodeWithMirador(body)
		if err == nil && gogoErr == nil {
			assertSameSeries(t, got, want)
		}
		if gogoErr != nil {
			return // Mirador may skip malformed content it does not read (metadata)
		}
		if err != nil {
			// gogo tolerates non-canonical encodings (overlong varints,
			// unbalanced groups) that Mirador refuses; what gogo read must
			// still decode the same once encoded canonically, without the
			// unknown bytes gogo keeps.
			var req prompb.WriteRequest
			_ = req.Unmarshal(body)
			var clean prompb.WriteRequest
			for _, ts := range req.Timeseries {
				c := prompb.TimeSeries{}
				for _, l := range ts.Labels {
					c.Labels = append(c.Labels, prompb.Label{Name: l.Name, Value: l.Value})
				}
				for _, s := range ts.Samples {
					c.Samples = append(c.Samples, prompb.Sample{Value: s.Value, Timestamp: s.Timestamp})
				}
				clean.Timeseries = append(clean.Timeseries, c)
			}
			canonical, merr := clean.Marshal()
			if merr != nil {
				t.Fatal(merr)
			}
			if got, err = decodeWithMirador(canonical); err != nil {
				t.Fatalf("gogo decodes the body but Mirador fails even on its canonical encoding: %v", err)
			}
			assertSameSeries(t, got, want)
		}
	})
}

func assertSameSeries(t *testing.T, got, want []decodedSeries) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d series, gogo %d", len(got), len(want))
	}
	for i := range want {
		if got[i].labels != want[i].labels || !sameSamples(got[i].samples, want[i].samples) {
			t.Fatalf("series %d: %v, gogo %v", i, got[i], want[i])
		}
	}
}

func TestDecodeV1RejectsWrongWireTypes(t *testing.T) {
	for name, body := range map[string][]byte{
		"timeseries as varint": {0x08, 0x01},
		"truncated length":     {0x0a, 0x05, 0x01},
		"label as varint":      {0x0a, 0x02, 0x08, 0x01},
		"sample value varint":  {0x0a, 0x04, 0x12, 0x02, 0x08, 0x01},
	} {
		if _, err := decodeWithMirador(body); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := decodeWithGogo(body); err == nil {
			t.Errorf("%s: gogo accepts it; the test input is wrong", name)
		}
	}
}
