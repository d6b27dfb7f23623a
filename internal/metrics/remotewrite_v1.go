package metrics

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"
)

// A hand-written decoder for the common shape of remote write 1.0: series
// of labels and float samples. The generated gogo decoder allocates a
// string per label name and value (20 per series of 10 labels) and a slice
// per series; on the receive path that was a third of the CPU and most of
// the GC. This one reads label bytes in place and lets ScratchBuilder copy
// them into the one string a series' labels need. Series that carry
// exemplars or histograms are handed to the generated decoder, so their
// semantics stay Prometheus's. FuzzDecodeV1MatchesGogo checks that both
// decoders agree.

// prometheus.WriteRequest and prometheus.TimeSeries field numbers.
const (
	fieldTimeSeries = 1
	fieldMetadata   = 3 // skipped: Mirador keeps metadata from scrapes and remote write 2.0
	fieldLabels     = 1
	fieldSamples    = 2
	fieldExemplars  = 3
	fieldHistograms = 4
)

// errTruncated covers every malformed encoding. This decoder follows the
// protobuf specification strictly: overlong varints and unbalanced groups,
// which the generated decoder tolerates, are refused.
var errTruncated = errors.New("truncated or malformed protobuf")

// skipField skips a field Mirador does not read.
func skipField(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
	if n := protowire.ConsumeFieldValue(num, typ, b); n >= 0 {
		return n, nil
	}
	return 0, errTruncated
}

// forEachSeriesV1 calls fn with each TimeSeries message of a WriteRequest,
// skipping other fields (metadata) as protobuf requires.
func forEachSeriesV1(body []byte, fn func(msg []byte) error) error {
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return errTruncated
		}
		body = body[n:]
		if (num == fieldTimeSeries || num == fieldMetadata) && typ != protowire.BytesType {
			return fmt.Errorf("field %d has wire type %d, want length-delimited", num, typ)
		}
		if num == fieldTimeSeries {
			msg, n := protowire.ConsumeBytes(body)
			if n < 0 {
				return errTruncated
			}
			if err := fn(msg); err != nil {
				return err
			}
			body = body[n:]
			continue
		}
		n, err := skipField(num, typ, body)
		if err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}

// forEachField calls fn with each field of msg: its number, wire type and,
// for length-delimited fields, its bytes.
func forEachField(msg []byte, fn func(num protowire.Number, typ protowire.Type, b []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		var b []byte
		if typ == protowire.BytesType {
			b, n = protowire.ConsumeBytes(msg)
			if n < 0 {
				return errTruncated
			}
		} else {
			var err error
			if n, err = skipField(num, typ, msg); err != nil {
				return err
			}
		}
		msg = msg[n:]
		if err := fn(num, typ, b); err != nil {
			return err
		}
	}
	return nil
}

// v1Series decodes one TimeSeries at a time, reusing its buffers.
type v1Series struct {
	b       labels.ScratchBuilder
	samples []prompb.Sample
	msg     []byte // the series last scanned
}

// scan reads a TimeSeries message without building its labels. For the
// common shape it returns the samples (valid until the next call) and key:
// the bytes of the label fields, which identify the series exactly (nil
// when the label fields are not contiguous). A series with exemplars or
// histograms is returned whole in full instead, decoded by gogo.
func (d *v1Series) scan(msg []byte) (key []byte, samples []prompb.Sample, full *prompb.TimeSeries, err error) {
	d.samples = d.samples[:0]
	d.msg = msg
	start, end, contiguous := -1, -1, true
	for rest := msg; len(rest) > 0; {
		at := len(msg) - len(rest)
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, nil, nil, errTruncated
		}
		rest = rest[n:]
		var b []byte
		if typ == protowire.BytesType {
			b, n = protowire.ConsumeBytes(rest)
		} else if n, err = skipField(num, typ, rest); err != nil {
			return nil, nil, nil, err
		}
		if n < 0 {
			return nil, nil, nil, errTruncated
		}
		rest = rest[n:]
		switch num {
		case fieldLabels, fieldSamples:
			if typ != protowire.BytesType {
				return nil, nil, nil, fmt.Errorf("field %d has wire type %d, want length-delimited", num, typ)
			}
			if num == fieldSamples {
				if full == nil {
					if err := d.sample(b); err != nil {
						return nil, nil, nil, err
					}
				}
				continue
			}
			if start < 0 {
				start = at
			} else if end != at {
				contiguous = false
			}
			end = len(msg) - len(rest)
		case fieldExemplars, fieldHistograms:
			full = &prompb.TimeSeries{}
		}
	}
	if full != nil {
		if err := full.Unmarshal(msg); err != nil {
			return nil, nil, nil, err
		}
		return nil, nil, full, nil
	}
	if start >= 0 && contiguous {
		key = msg[start:end]
	}
	return key, d.samples, nil, nil
}

// labels builds the labels of the series last scanned.
func (d *v1Series) labels() (labels.Labels, error) {
	d.b.Reset()
	err := forEachField(d.msg, func(num protowire.Number, _ protowire.Type, b []byte) error {
		if num == fieldLabels {
			return d.label(b)
		}
		return nil
	})
	d.b.Sort()
	return d.b.Labels(), err
}

// label and sample run once per label and per sample: they loop over the
// fields themselves rather than through forEachField's callback.

func (d *v1Series) label(msg []byte) error {
	var name, value []byte
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		if num != 1 && num != 2 {
			n, err := skipField(num, typ, msg)
			if err != nil {
				return err
			}
			msg = msg[n:]
			continue
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("label field %d has wire type %d, want length-delimited", num, typ)
		}
		b, n := protowire.ConsumeBytes(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		if num == 1 {
			name = b
		} else {
			value = b
		}
	}
	// ScratchBuilder copies these views of the request body into the
	// series' labels before the body buffer is reused.
	d.b.Add(unsafeString(name), unsafeString(value))
	return nil
}

func (d *v1Series) sample(msg []byte) error {
	var s prompb.Sample
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			var v uint64
			v, n = protowire.ConsumeFixed64(msg)
			s.Value = math.Float64frombits(v)
		case num == 2 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(msg)
			s.Timestamp = int64(v)
		case num == 1 || num == 2:
			return fmt.Errorf("sample field %d has wire type %d", num, typ)
		default:
			var err error
			if n, err = skipField(num, typ, msg); err != nil {
				return err
			}
		}
		if n < 0 {
			return errTruncated
		}
		msg = msg[n:]
	}
	d.samples = append(d.samples, s)
	return nil
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
