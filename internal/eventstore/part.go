package eventstore

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// rowGroupRows is the number of records per Parquet row group: the unit of
// pruning by time, group and bloom. Smaller groups prune finer but cost
// more index memory and per-group overhead; 8k rows keeps a needle search
// to a few row groups per million records.
const rowGroupRows = 8192

// maxIndexedStreams is the most distinct streams a row group lists for
// stream pruning; beyond it the row group is never pruned by stream.
const maxIndexedStreams = 32

// partRow is a record as stored in a part: flat columns only, so any
// Parquet reader (DuckDB, Spark, ClickHouse) sees plain typed columns.
// Attributes, resource attributes, span events and links are JSON objects
// (read them with a JSON function such as DuckDB's json_extract).
type partRow struct {
	Group          string `parquet:"group,dict"`
	Stream         string `parquet:"stream,dict"`
	Time           int64  `parquet:"time,timestamp(nanosecond),delta"`
	ObservedTime   int64  `parquet:"observed_time,timestamp(nanosecond),delta"`
	SeverityText   string `parquet:"severity_text,dict"`
	SeverityNumber int32  `parquet:"severity_number"`
	Body           string `parquet:"body"`
	Attributes     string `parquet:"attributes"`
	Resource       string `parquet:"resource,dict"`
	TraceID        []byte `parquet:"trace_id"`
	SpanID         []byte `parquet:"span_id"`
	ParentSpanID   []byte `parquet:"parent_span_id"`
	Name           string `parquet:"name,dict"`
	Kind           int32  `parquet:"kind"`
	Duration       int64  `parquet:"duration_ns"`
	StatusCode     int32  `parquet:"status_code"`
	StatusMessage  string `parquet:"status_message"`
	Events         string `parquet:"events"`
	Links          string `parquet:"links"`
}

// Leaf column indexes of partRow, in declaration order.
const (
	colGroup = iota
	colStream
	colTime
	colObservedTime
	colSeverityText
	colSeverityNumber
	colBody
	colAttributes
	colResource
	colTraceID
	colSpanID
	colParentSpanID
	colName
	colKind
	colDuration
	colStatusCode
	colStatusMessage
	colEvents
	colLinks
	numColumns
)

// columnNames are the Parquet names of the leaf columns, by index above.
var columnNames = [numColumns]string{
	"group", "stream", "time", "observed_time", "severity_text", "severity_number", "body", "attributes", "resource",
	"trace_id", "span_id", "parent_span_id", "name", "kind", "duration_ns", "status_code", "status_message", "events", "links",
}

// partIndex is a part's sidecar: what pruning needs, kept in memory.
type partIndex struct {
	Rows      int64
	MinTime   int64
	MaxTime   int64
	Groups    map[string]groupStat
	RowGroups []rowGroupIndex
}

type groupStat struct {
	Rows    int64
	MinTime int64
	MaxTime int64
}

type rowGroupIndex struct {
	Rows    int64
	MinTime int64
	MaxTime int64
	Groups  []string // distinct, sorted
	Streams []string // distinct, sorted; nil when more than maxIndexedStreams
	Tokens  *bloom   // body tokens and attribute key/values
	Traces  *bloom   // trace ids; nil when the row group has none
}

// part is an immutable, registered part file. Scans hold a reference while
// they read it; the file is deleted after the last reference is dropped
// once the part is replaced or expired.
type part struct {
	meta  manifestPart
	path  string
	index partIndex

	openOnce sync.Once
	file     *parquet.File
	osFile   *os.File
	leaf     [numColumns]int // leaf column index of each column in the file
	openErr  error

	refs    atomic.Int64 // 1 for the store's list, +1 per scan
	removed atomic.Bool  // delete the files when refs reaches 0
}

func partPath(dir string, m manifestPart) string {
	return filepath.Join(dir, "parts", m.Tenant, m.Dataset, m.ID+".parquet")
}

func indexPath(partFile string) string { return strings.TrimSuffix(partFile, ".parquet") + ".idx" }

// writePart writes recs (sorted here) as a part file of dataset plus its
// index and fsyncs both. The caller registers it in the manifest.
//
// Rows are sorted by group, then stream, then time: a stream's records
// sit together, which compresses logs best. Spans are sorted by service
// (group) and time instead: a service has many streams (hosts, pods) and
// searches, service maps and span metrics ask for a service's spans in a
// time window, which then lie in a few row groups.
func writePart(path, dataset string, recs []Record) (partIndex, int64, error) {
	byStream := dataset != DatasetSpans
	slices.SortFunc(recs, func(a, b Record) int {
		if c := cmp.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		if byStream {
			if c := cmp.Compare(a.Stream, b.Stream); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Time, b.Time)
	})
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return partIndex{}, 0, fmt.Errorf("create part directory: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return partIndex{}, 0, fmt.Errorf("create part: %w", err)
	}
	defer os.Remove(tmp) // no-op after the rename
	defer f.Close()
	w := parquet.NewGenericWriter[partRow](f,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy("mirador", "", ""),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
	)
	idx := partIndex{MinTime: recs[0].Time, MaxTime: recs[0].Time, Groups: map[string]groupStat{}}
	rows := make([]partRow, 0, rowGroupRows)
	var attrBuf []byte
	for start := 0; start < len(recs); start += rowGroupRows {
		chunk := recs[start:min(start+rowGroupRows, len(recs))]
		rows = rows[:0]
		for i := range chunk {
			var row partRow
			row, attrBuf = toPartRow(&chunk[i], attrBuf)
			rows = append(rows, row)
		}
		if _, err := w.Write(rows); err != nil {
			return partIndex{}, 0, fmt.Errorf("write part: %w", err)
		}
		if err := w.Flush(); err != nil {
			return partIndex{}, 0, fmt.Errorf("write part: %w", err)
		}
		idx.RowGroups = append(idx.RowGroups, indexRowGroup(chunk))
		for i := range chunk {
			r := &chunk[i]
			idx.MinTime, idx.MaxTime = min(idx.MinTime, r.Time), max(idx.MaxTime, r.Time)
			g, ok := idx.Groups[r.Group]
			if !ok {
				g = groupStat{MinTime: r.Time, MaxTime: r.Time}
			}
			g.Rows++
			g.MinTime, g.MaxTime = min(g.MinTime, r.Time), max(g.MaxTime, r.Time)
			idx.Groups[r.Group] = g
		}
	}
	idx.Rows = int64(len(recs))
	if err := w.Close(); err != nil {
		return partIndex{}, 0, fmt.Errorf("write part: %w", err)
	}
	if err := f.Sync(); err != nil {
		return partIndex{}, 0, fmt.Errorf("sync part: %w", err)
	}
	size, _ := f.Seek(0, 1)
	if err := writeIndex(indexPath(path), idx); err != nil {
		return partIndex{}, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return partIndex{}, 0, fmt.Errorf("rename part: %w", err)
	}
	return idx, size, syncDir(filepath.Dir(path))
}

func toPartRow(r *Record, buf []byte) (partRow, []byte) {
	row := partRow{
		Group: r.Group, Stream: r.Stream, Time: r.Time, ObservedTime: r.ObservedTime,
		SeverityText: r.SeverityText, SeverityNumber: r.SeverityNumber, Body: r.Body,
		Name: r.Name, Kind: int32(r.Kind), Duration: r.Duration, StatusCode: int32(r.StatusCode), StatusMessage: r.StatusMessage,
	}
	if len(r.Attributes) > 0 {
		buf = AppendAttrsJSON(buf[:0], r.Attributes)
		row.Attributes = string(buf)
	}
	if len(r.Resource) > 0 {
		buf = AppendAttrsJSON(buf[:0], r.Resource)
		row.Resource = string(buf)
	}
	if r.TraceID != ([16]byte{}) {
		row.TraceID = r.TraceID[:]
	}
	if r.SpanID != ([8]byte{}) {
		row.SpanID = r.SpanID[:]
	}
	if r.ParentSpanID != ([8]byte{}) {
		row.ParentSpanID = r.ParentSpanID[:]
	}
	if len(r.Events) > 0 {
		b, _ := json.Marshal(r.Events)
		row.Events = string(b)
	}
	if len(r.Links) > 0 {
		b, _ := json.Marshal(r.Links)
		row.Links = string(b)
	}
	return row, buf
}

// indexRowGroup builds the pruning index of one row group's records.
func indexRowGroup(recs []Record) rowGroupIndex {
	rg := rowGroupIndex{Rows: int64(len(recs)), MinTime: recs[0].Time, MaxTime: recs[0].Time}
	keys := make(map[uint64]struct{}, len(recs)*8)
	traces := map[uint64]struct{}{}
	streams := map[string]struct{}{}
	addAttrs := func(attrs []Attr) {
		for _, a := range attrs {
			keys[attrHash(a.Key, a.Value.String())] = struct{}{}
		}
	}
	for i := range recs {
		r := &recs[i]
		rg.MinTime, rg.MaxTime = min(rg.MinTime, r.Time), max(rg.MaxTime, r.Time)
		if n := len(rg.Groups); n == 0 || rg.Groups[n-1] != r.Group {
			rg.Groups = append(rg.Groups, r.Group) // records are sorted by group
		}
		if len(streams) <= maxIndexedStreams {
			streams[r.Stream] = struct{}{}
		}
		Tokenize(r.Body, func(tok string) { keys[tokenHash(tok)] = struct{}{} })
		addAttrs(r.Attributes)
		addAttrs(r.Resource)
		if strings.HasPrefix(r.Body, "{") {
			_ = FlattenJSON(r.Body, func(k string, v Value) { keys[attrHash(k, v.String())] = struct{}{} })
		}
		if r.TraceID != ([16]byte{}) {
			traces[traceHash(r.TraceID)] = struct{}{}
		}
	}
	if len(streams) <= maxIndexedStreams {
		for s := range streams {
			rg.Streams = append(rg.Streams, s)
		}
		slices.Sort(rg.Streams)
	}
	rg.Tokens = newBloom(len(keys))
	for h := range keys {
		rg.Tokens.add(h)
	}
	if len(traces) > 0 {
		rg.Traces = newBloom(len(traces))
		for h := range traces {
			rg.Traces.add(h)
		}
	}
	return rg
}

func writeIndex(path string, idx partIndex) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(idx); err != nil {
		return fmt.Errorf("encode part index: %w", err)
	}
	return writeFileSync(path, buf.Bytes())
}

func readIndex(path string) (partIndex, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return partIndex{}, fmt.Errorf("read part index: %w", err)
	}
	var idx partIndex
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&idx); err != nil {
		return partIndex{}, fmt.Errorf("decode part index %s: %w", path, err)
	}
	return idx, nil
}

// writeFileSync writes data to path through a temporary file, fsynced and
// renamed into place, then syncs the directory.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// open opens the Parquet file on first use.
func (p *part) open() (*parquet.File, error) {
	p.openOnce.Do(func() {
		f, err := os.Open(p.path)
		if err != nil {
			p.openErr = fmt.Errorf("open part: %w", err)
			return
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			p.openErr = fmt.Errorf("open part: %w", err)
			return
		}
		pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true))
		if err != nil {
			f.Close()
			p.openErr = fmt.Errorf("open part %s: %w", p.path, err)
			return
		}
		for c, name := range columnNames {
			lc, ok := pf.Schema().Lookup(name)
			if !ok {
				f.Close()
				p.openErr = fmt.Errorf("open part %s: no column %q", p.path, name)
				return
			}
			p.leaf[c] = lc.ColumnIndex
		}
		p.file, p.osFile = pf, f
	})
	return p.file, p.openErr
}

// release drops a reference; the last one of a removed part deletes it.
func (p *part) release() {
	if p.refs.Add(-1) == 0 && p.removed.Load() {
		if p.osFile != nil {
			p.osFile.Close()
		}
		os.Remove(p.path)
		os.Remove(indexPath(p.path))
	}
}

// rowGroupReader decodes the selected columns of one row group into
// records. It reuses its buffers across row groups of one scan worker.
type rowGroupReader struct {
	values []parquet.Value
	ints   []int64
	intern map[string]string
	// recent holds, per column, the last few distinct values interned:
	// low-cardinality columns (group, severity) are found there by a few
	// byte comparisons instead of a map lookup.
	recent [numColumns][]string

	// traces, if set, makes read return only these traces' rows, and
	// detail, if set, says which rows need the expensive columns (body,
	// attributes, resource, events, links). With either, the cheap
	// columns are read first and the expensive ones are decoded into the
	// rows that need them only (keep): a lookup by trace id does not parse
	// the attributes of thousands of other spans.
	traces map[[16]byte]bool
	detail func(*Record) bool
	keep   []bool
}

// expensive reports whether decoding leaf column c costs per row far more
// than the others (text to copy or JSON to parse).
func expensive(c int) bool {
	switch c {
	case colBody, colAttributes, colResource, colEvents, colLinks:
		return true
	}
	return false
}

// read fills recs (grown to the row group's size) with the columns in cols
// and returns the uncompressed bytes decoded.
func (rr *rowGroupReader) read(rg parquet.RowGroup, leaf *[numColumns]int, cols Column, recs []Record) ([]Record, int64, error) {
	n := int(rg.NumRows())
	if cap(recs) < n {
		recs = make([]Record, n)
	}
	recs = recs[:n]
	clear(recs)
	if rr.intern == nil || len(rr.intern) > 1<<16 {
		rr.intern = map[string]string{}
		rr.recent = [numColumns][]string{}
	}
	chunks := rg.ColumnChunks()
	var bytesRead int64
	readColumns := func(which func(c int) bool) error {
		for c := 0; c < numColumns; c++ {
			if which(c) {
				n, err := rr.readColumn(chunks[leaf[c]], c, recs)
				if err != nil {
					return err
				}
				bytesRead += n
			}
		}
		return nil
	}
	rr.keep = rr.keep[:0]
	if rr.traces == nil && rr.detail == nil {
		err := readColumns(cols.needs)
		return recs, bytesRead, err
	}
	keep := slices.Grow(rr.keep, len(recs))[:len(recs)]
	if rr.traces != nil {
		// The trace ids first: rows of other traces are not decoded at all.
		if err := readColumns(func(c int) bool { return c == colTraceID }); err != nil {
			return nil, 0, err
		}
		found := false
		for i := range recs {
			keep[i] = rr.traces[recs[i].TraceID]
			found = found || keep[i]
		}
		if !found {
			return recs[:0], bytesRead, nil
		}
		rr.keep = keep
	}
	alreadyRead := func(c int) bool { return c == colTraceID && rr.traces != nil }
	if err := readColumns(func(c int) bool { return !expensive(c) && cols.needs(c) && !alreadyRead(c) }); err != nil {
		return nil, 0, err
	}
	found := false
	for i := range recs {
		keep[i] = (rr.traces == nil || rr.traces[recs[i].TraceID]) && (rr.detail == nil || rr.detail(&recs[i]))
		found = found || keep[i]
	}
	if found {
		rr.keep = keep // readPage decodes only these rows
		err := readColumns(func(c int) bool { return expensive(c) && cols.needs(c) })
		if err != nil {
			return nil, 0, err
		}
	}
	rr.keep = keep[:0]
	if rr.traces != nil {
		kept := recs[:0]
		for i := range recs {
			if rr.traces[recs[i].TraceID] {
				kept = append(kept, recs[i])
			}
		}
		recs = kept
	}
	return recs, bytesRead, nil
}

// needs reports whether leaf column c is read for cols.
func (cols Column) needs(c int) bool {
	switch c {
	case colTime:
		return true
	case colObservedTime:
		return cols&ColObservedTime != 0
	case colGroup:
		return cols&ColGroup != 0
	case colStream:
		return cols&ColStream != 0
	case colSeverityText, colSeverityNumber:
		return cols&ColSeverity != 0
	case colBody:
		return cols&ColBody != 0
	case colAttributes:
		return cols&ColAttributes != 0
	case colResource:
		return cols&ColResource != 0
	case colTraceID:
		return cols&ColTraceID != 0
	case colSpanID:
		return cols&ColSpanID != 0
	case colEvents, colLinks:
		return cols&ColSpanEvents != 0
	}
	return cols&ColSpan != 0
}

// readColumn decodes column c of a row group into recs and returns the
// bytes decoded. Time columns go through the typed int64 reader, which
// decodes a page without boxing each value.
func (rr *rowGroupReader) readColumn(chunk parquet.ColumnChunk, c int, recs []Record) (int64, error) {
	pages := chunk.Pages()
	defer pages.Close()
	if cap(rr.values) < 1024 {
		rr.values = make([]parquet.Value, 1024)
		rr.ints = make([]int64, 1024)
	}
	var bytesRead int64
	i := 0
	for {
		page, err := pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return bytesRead, nil
			}
			return 0, fmt.Errorf("read page: %w", err)
		}
		err = rr.readPage(page, c, recs, &i, &bytesRead)
		parquet.Release(page)
		if err != nil {
			return 0, err
		}
	}
}

func (rr *rowGroupReader) readPage(page parquet.Page, c int, recs []Record, i *int, bytesRead *int64) error {
	vr := page.Values()
	if ir, ok := vr.(parquet.Int64Reader); ok && (c == colTime || c == colObservedTime) {
		for {
			k, err := ir.ReadInt64s(rr.ints)
			if *i+k > len(recs) {
				return fmt.Errorf("column %s has more values than rows", columnNames[c])
			}
			for _, x := range rr.ints[:k] {
				if c == colTime {
					recs[*i].Time = x
				} else {
					recs[*i].ObservedTime = x
				}
				*i++
			}
			*bytesRead += 8 * int64(k)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("read values: %w", err)
			}
		}
	}
	for {
		k, err := vr.ReadValues(rr.values)
		if *i+k > len(recs) {
			return fmt.Errorf("column %s has more values than rows", columnNames[c])
		}
		for _, v := range rr.values[:k] {
			if len(rr.keep) == 0 || rr.keep[*i] {
				*bytesRead += rr.set(&recs[*i], c, v)
			}
			*i++
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read values: %w", err)
		}
	}
}

// maxRecent bounds the per-column list of recently interned values.
const maxRecent = 8

// str returns v as a string; dictionary columns (c >= 0) are interned so
// a row group's repeated values share one allocation.
func (rr *rowGroupReader) str(v parquet.Value, c int) string {
	b := v.ByteArray()
	if len(b) == 0 {
		return ""
	}
	if c < 0 {
		return string(b)
	}
	recent := rr.recent[c]
	for _, s := range recent {
		if s == string(b) {
			return s
		}
	}
	s, ok := rr.intern[string(b)]
	if !ok {
		s = string(b)
		rr.intern[s] = s
	}
	if len(recent) < maxRecent {
		rr.recent[c] = append(recent, s)
	}
	return s
}

// set stores value v of column c into r and returns its size in bytes.
func (rr *rowGroupReader) set(r *Record, c int, v parquet.Value) int64 {
	switch c {
	case colGroup:
		r.Group = rr.str(v, colGroup)
		return int64(len(r.Group))
	case colStream:
		r.Stream = rr.str(v, colStream)
		return int64(len(r.Stream))
	case colTime:
		r.Time = v.Int64()
	case colObservedTime:
		r.ObservedTime = v.Int64()
	case colSeverityText:
		r.SeverityText = rr.str(v, colSeverityText)
		return int64(len(r.SeverityText))
	case colSeverityNumber:
		r.SeverityNumber = v.Int32()
		return 4
	case colBody:
		r.Body = rr.str(v, -1)
		return int64(len(r.Body))
	case colAttributes:
		b := v.ByteArray()
		r.Attributes, _ = ParseAttrsJSON(string(b), nil)
		return int64(len(b))
	case colResource:
		s := rr.str(v, colResource)
		r.Resource, _ = ParseAttrsJSON(s, nil)
		return int64(len(s))
	case colTraceID:
		copy(r.TraceID[:], v.ByteArray())
		return 16
	case colSpanID:
		copy(r.SpanID[:], v.ByteArray())
		return 8
	case colParentSpanID:
		copy(r.ParentSpanID[:], v.ByteArray())
		return 8
	case colName:
		r.Name = rr.str(v, colName)
		return int64(len(r.Name))
	case colKind:
		r.Kind = int8(v.Int32())
		return 4
	case colDuration:
		r.Duration = v.Int64()
	case colStatusCode:
		r.StatusCode = int8(v.Int32())
		return 4
	case colStatusMessage:
		r.StatusMessage = rr.str(v, -1)
		return int64(len(r.StatusMessage))
	case colEvents:
		if b := v.ByteArray(); len(b) > 0 {
			_ = json.Unmarshal(b, &r.Events)
			return int64(len(b))
		}
		return 0
	case colLinks:
		if b := v.ByteArray(); len(b) > 0 {
			_ = json.Unmarshal(b, &r.Links)
			return int64(len(b))
		}
		return 0
	}
	return 8
}
