package xray

import (
	"encoding/hex"
	"fmt"
)

// ParseTraceID reads an X-Ray trace id, 1-<8 hex>-<24 hex> (the 8 hex digits
// of epoch seconds and the 24 random ones are together the 32 hex digits of
// the 128-bit id), or a bare 32-hex-digit id as OpenTelemetry prints it.
// The all-zero id is refused.
func ParseTraceID(s string) ([16]byte, error) {
	var id [16]byte
	var h [32]byte
	switch {
	case len(s) == 35 && s[0] == '1' && s[1] == '-' && s[10] == '-':
		copy(h[:8], s[2:10])
		copy(h[8:], s[11:])
	case len(s) == 32:
		copy(h[:], s)
	default:
		return id, fmt.Errorf("trace_id %q: want 1-<8 hex>-<24 hex> (e.g. 1-58406520-a006649127e371903a2de979) or 32 hex digits", s)
	}
	if _, err := hex.Decode(id[:], h[:]); err != nil {
		return id, fmt.Errorf("trace_id %q: want 1-<8 hex>-<24 hex>, found a character that is not a hex digit", s)
	}
	if id == ([16]byte{}) {
		return id, fmt.Errorf("trace_id %q: all zeros is not a valid trace id", s)
	}
	return id, nil
}

// FormatTraceID prints id the way X-Ray does: 1-<first 8 hex>-<last 24 hex>.
func FormatTraceID(id [16]byte) string {
	var b [35]byte
	b[0], b[1], b[10] = '1', '-', '-'
	hex.Encode(b[2:10], id[:4])
	hex.Encode(b[11:], id[4:])
	return string(b[:])
}

// ParseSegmentID reads a segment, subsegment or exception id: 16 hex digits,
// not all zero.
func ParseSegmentID(s string) ([8]byte, error) {
	var id [8]byte
	if len(s) != 16 {
		return id, fmt.Errorf("%q: want 16 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%q: want 16 hex digits, found a character that is not a hex digit", s)
	}
	if id == ([8]byte{}) {
		return id, fmt.Errorf("%q: all zeros is not a valid id", s)
	}
	return id, nil
}

// FormatSegmentID prints a segment id as 16 lower-case hex digits.
func FormatSegmentID(id [8]byte) string { return hex.EncodeToString(id[:]) }
