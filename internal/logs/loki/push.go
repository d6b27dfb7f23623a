package loki

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ErrInvalid marks a push body the client must fix (a 400).
var ErrInvalid = errors.New("invalid push request")

// Stream is one pushed stream: its labels and entries.
type Stream struct {
	Labels  labels.Labels
	Entries []Entry
}

// Entry is one log line.
type Entry struct {
	Time     time.Time
	Line     string
	Metadata labels.Labels // structured metadata
}

// Decode decodes a push body. contentType selects the encoding:
// application/x-protobuf (snappy block-compressed, as promtail, Alloy and
// the Docker driver send) or application/json. maxDecoded bounds the
// decompressed size of a protobuf body (0: unbounded).
func Decode(body []byte, contentType string, maxDecoded int64) ([]Stream, error) {
	switch mt, _, _ := strings.Cut(contentType, ";"); strings.TrimSpace(mt) {
	case "application/x-protobuf", "":
		return decodeProto(body, maxDecoded)
	case "application/json":
		return decodeJSON(body)
	default:
		return nil, fmt.Errorf("%w: unsupported Content-Type %q: send application/x-protobuf (snappy) or application/json", ErrInvalid, contentType)
	}
}

var (
	labelParser = parser.NewParser(parser.Options{})
	labelName   = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func decodeProto(body []byte, maxDecoded int64) ([]Stream, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is not snappy block-compressed: %v", ErrInvalid, err)
	}
	if maxDecoded > 0 && int64(n) > maxDecoded {
		return nil, fmt.Errorf("%w: body decompresses to %d bytes, more than limits.max_request_body_bytes (%d): send smaller batches", ErrTooLarge, n, maxDecoded)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is not snappy block-compressed: %v", ErrInvalid, err)
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("%w: body is not a Loki PushRequest: %v", ErrInvalid, err)
	}
	out := make([]Stream, 0, len(req.Streams))
	for i, s := range req.Streams {
		ls, err := labelParser.ParseMetric(s.Labels)
		if err != nil {
			return nil, fmt.Errorf("%w: streams[%d].labels %q: %v", ErrInvalid, i, s.Labels, err)
		}
		st := Stream{Labels: ls, Entries: make([]Entry, len(s.Entries))}
		for j, e := range s.Entries {
			st.Entries[j] = Entry{Time: e.Timestamp, Line: e.Line, Metadata: adapt(e.StructuredMetadata)}
		}
		out = append(out, st)
	}
	return out, nil
}

// ErrTooLarge marks a body over the size limit (a 413).
var ErrTooLarge = errors.New("push request too large")

func adapt(ls push.LabelsAdapter) labels.Labels {
	if len(ls) == 0 {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(len(ls))
	for _, l := range ls {
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}

// jsonPush is the JSON body: {"streams":[{"stream":{labels},"values":[
// ["<unix ns>","line"] or ["<unix ns>","line",{metadata}] ]}]}.
type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

func decodeJSON(body []byte) ([]Stream, error) {
	var req jsonPush
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: body is not Loki's JSON push format: %v", ErrInvalid, err)
	}
	out := make([]Stream, 0, len(req.Streams))
	for i, s := range req.Streams {
		if len(s.Stream) == 0 {
			return nil, fmt.Errorf("%w: streams[%d].stream: at least one label is required", ErrInvalid, i)
		}
		for k := range s.Stream {
			if !labelName.MatchString(k) {
				return nil, fmt.Errorf("%w: streams[%d].stream: %q is not a valid label name", ErrInvalid, i, k)
			}
		}
		st := Stream{Labels: labels.FromMap(s.Stream), Entries: make([]Entry, 0, len(s.Values))}
		for j, v := range s.Values {
			e, err := jsonEntry(v)
			if err != nil {
				return nil, fmt.Errorf("%w: streams[%d].values[%d]: %v", ErrInvalid, i, j, err)
			}
			st.Entries = append(st.Entries, e)
		}
		out = append(out, st)
	}
	return out, nil
}

func jsonEntry(v []json.RawMessage) (Entry, error) {
	if len(v) < 2 || len(v) > 3 {
		return Entry{}, fmt.Errorf("want [\"<unix epoch ns>\", \"<line>\"] or with a third element of structured metadata, got %d elements", len(v))
	}
	var ts, line string
	if err := json.Unmarshal(v[0], &ts); err != nil {
		return Entry{}, fmt.Errorf("timestamp must be a string of Unix nanoseconds: %v", err)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("timestamp %q is not Unix nanoseconds", ts)
	}
	if err := json.Unmarshal(v[1], &line); err != nil {
		return Entry{}, fmt.Errorf("line must be a string: %v", err)
	}
	e := Entry{Time: time.Unix(0, ns), Line: line, Metadata: labels.EmptyLabels()}
	if len(v) == 3 {
		var md map[string]string
		if err := json.Unmarshal(v[2], &md); err != nil {
			return Entry{}, fmt.Errorf("structured metadata must be an object of strings: %v", err)
		}
		e.Metadata = labels.FromMap(md)
	}
	return e, nil
}
