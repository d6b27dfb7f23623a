package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The WAL payload of one Append: a version, the tenant and dataset, then
// the records, each field length-prefixed or varint-encoded.
const codecVersion = 1

// Record flags say which optional field groups follow.
const (
	flagIDs  = 1 << iota // TraceID, SpanID
	flagSpan             // ParentSpanID, Name, Kind, Duration, Status, Events, Links
)

var errCorruptBatch = errors.New("corrupt WAL batch")

// encodeBatch appends the WAL payload of recs to b.
func encodeBatch(b []byte, tenant, dataset string, recs []Record) []byte {
	b = binary.AppendUvarint(b, codecVersion)
	b = appendString(b, tenant)
	b = appendString(b, dataset)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for i := range recs {
		r := &recs[i]
		var flags byte
		if r.TraceID != ([16]byte{}) || r.SpanID != ([8]byte{}) {
			flags |= flagIDs
		}
		if r.hasSpan() {
			flags |= flagSpan
		}
		b = append(b, flags)
		b = binary.AppendVarint(b, r.Time)
		b = binary.AppendVarint(b, r.ObservedTime-r.Time)
		b = appendString(b, r.Group)
		b = appendString(b, r.Stream)
		b = appendString(b, r.SeverityText)
		b = binary.AppendVarint(b, int64(r.SeverityNumber))
		b = appendString(b, r.Body)
		b = appendAttrs(b, r.Attributes)
		b = appendAttrs(b, r.Resource)
		if flags&flagIDs != 0 {
			b = append(b, r.TraceID[:]...)
			b = append(b, r.SpanID[:]...)
		}
		if flags&flagSpan != 0 {
			b = append(b, r.ParentSpanID[:]...)
			b = appendString(b, r.Name)
			b = binary.AppendVarint(b, int64(r.Kind))
			b = binary.AppendVarint(b, r.Duration)
			b = binary.AppendVarint(b, int64(r.StatusCode))
			b = appendString(b, r.StatusMessage)
			b = binary.AppendUvarint(b, uint64(len(r.Events)))
			for _, e := range r.Events {
				b = binary.AppendVarint(b, e.Time)
				b = appendString(b, e.Name)
				b = appendAttrs(b, e.Attributes)
			}
			b = binary.AppendUvarint(b, uint64(len(r.Links)))
			for _, l := range r.Links {
				b = append(b, l.TraceID[:]...)
				b = append(b, l.SpanID[:]...)
				b = appendString(b, l.TraceState)
				b = appendAttrs(b, l.Attributes)
			}
		}
	}
	return b
}

func (r *Record) hasSpan() bool {
	return r.ParentSpanID != ([8]byte{}) || r.Name != "" || r.Kind != 0 || r.Duration != 0 || r.StatusCode != 0 ||
		r.StatusMessage != "" || len(r.Events) > 0 || len(r.Links) > 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAttrs(b []byte, attrs []Attr) []byte {
	b = binary.AppendUvarint(b, uint64(len(attrs)))
	for _, a := range attrs {
		b = appendString(b, a.Key)
		b = append(b, byte(a.Value.Kind))
		switch a.Value.Kind {
		case KindString:
			b = appendString(b, a.Value.Str)
		case KindFloat:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.Value.Float))
		default:
			b = binary.AppendVarint(b, a.Value.Int)
		}
	}
	return b
}

// decodeBatch reads a payload written by encodeBatch. Strings are copied
// out of b.
func decodeBatch(b []byte) (tenant, dataset string, recs []Record, err error) {
	d := decoder{b: b}
	if v := d.uvarint(); v != codecVersion {
		return "", "", nil, fmt.Errorf("%w: version %d", errCorruptBatch, v)
	}
	tenant, dataset = d.string(), d.string()
	n := d.uvarint()
	if n > uint64(len(b)) { // every record takes at least one byte
		return "", "", nil, fmt.Errorf("%w: %d records in %d bytes", errCorruptBatch, n, len(b))
	}
	recs = make([]Record, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var r Record
		flags := d.byte()
		r.Time = d.varint()
		r.ObservedTime = r.Time + d.varint()
		r.Group, r.Stream, r.SeverityText = d.string(), d.string(), d.string()
		r.SeverityNumber = int32(d.varint())
		r.Body = d.string()
		r.Attributes = d.attrs()
		r.Resource = d.attrs()
		if flags&flagIDs != 0 {
			d.fixed(r.TraceID[:])
			d.fixed(r.SpanID[:])
		}
		if flags&flagSpan != 0 {
			d.fixed(r.ParentSpanID[:])
			r.Name = d.string()
			r.Kind = int8(d.varint())
			r.Duration = d.varint()
			r.StatusCode = int8(d.varint())
			r.StatusMessage = d.string()
			for k := d.count(); k > 0 && d.err == nil; k-- {
				r.Events = append(r.Events, SpanEvent{Time: d.varint(), Name: d.string(), Attributes: d.attrs()})
			}
			for k := d.count(); k > 0 && d.err == nil; k-- {
				var l SpanLink
				d.fixed(l.TraceID[:])
				d.fixed(l.SpanID[:])
				l.TraceState = d.string()
				l.Attributes = d.attrs()
				r.Links = append(r.Links, l)
			}
		}
		recs = append(recs, r)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorruptBatch, len(d.b))
	}
	if d.err != nil {
		return "", "", nil, d.err
	}
	return tenant, dataset, recs, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", errCorruptBatch, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in the remaining bytes.
func (d *decoder) count() uint64 {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("count")
		return 0
	}
	return n
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) fixed(dst []byte) {
	if len(d.b) < len(dst) {
		d.fail("id")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) attrs() []Attr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]Attr, 0, n)
	for ; n > 0 && d.err == nil; n-- {
		a := Attr{Key: d.string()}
		a.Value.Kind = Kind(d.byte())
		switch a.Value.Kind {
		case KindString:
			a.Value.Str = d.string()
		case KindFloat:
			if len(d.b) < 8 {
				d.fail("float")
				break
			}
			a.Value.Float = math.Float64frombits(binary.LittleEndian.Uint64(d.b))
			d.b = d.b[8:]
		case KindInt, KindBool:
			a.Value.Int = d.varint()
		default:
			d.err = fmt.Errorf("%w: value kind %d", errCorruptBatch, a.Value.Kind)
		}
		out = append(out, a)
	}
	return out
}
