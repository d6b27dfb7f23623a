package xray

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ParsePacket splits a daemon-protocol UDP datagram,
// {"format": "json", "version": 1}\n{...document...}, and returns the
// document, a subslice of b. The header must say format json (any case) and
// version 1; the X-Ray daemon drops anything else, and so do we.
func ParsePacket(b []byte) (doc []byte, err error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, errors.New(`datagram has no header line: want {"format": "json", "version": 1}, a newline, then the segment document`)
	}
	var h struct {
		Format  string          `json:"format"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b[:nl], &h); err != nil {
		return nil, fmt.Errorf(`datagram header %.100q: want {"format": "json", "version": 1}: %s`, b[:nl], jsonError(err))
	}
	if !strings.EqualFold(h.Format, "json") {
		return nil, fmt.Errorf(`datagram header: format %q: want "json"`, h.Format)
	}
	if string(bytes.TrimSpace(h.Version)) != "1" {
		return nil, fmt.Errorf(`datagram header: version %s: want 1`, orElse(string(h.Version), "missing"))
	}
	doc = b[nl+1:]
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, errors.New("datagram has a header but no segment document after it")
	}
	return doc, nil
}
