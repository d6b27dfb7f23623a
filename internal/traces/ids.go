package traces

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseTraceID reads a trace id in OpenTelemetry's form (32 hex digits;
// shorter ones, as Zipkin and Jaeger print 64-bit ids, are zero-padded on
// the left) or X-Ray's (1-<8 hex>-<24 hex>, the same 128 bits).
func ParseTraceID(s string) ([16]byte, error) {
	var id [16]byte
	h := s
	if strings.HasPrefix(s, "1-") {
		parts := strings.Split(s, "-")
		if len(parts) != 3 || len(parts[1]) != 8 || len(parts[2]) != 24 {
			return id, fmt.Errorf("trace id %q: an X-Ray trace id is 1-<8 hex digits>-<24 hex digits>", s)
		}
		h = parts[1] + parts[2]
	}
	if len(h) == 0 || len(h) > 32 {
		return id, fmt.Errorf("trace id %q: want 32 hex digits or an X-Ray id (1-<8 hex>-<24 hex>)", s)
	}
	h = strings.Repeat("0", 32-len(h)) + h
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, fmt.Errorf("trace id %q: not hexadecimal", s)
	}
	if id == ([16]byte{}) {
		return id, fmt.Errorf("trace id %q is all zeros", s)
	}
	return id, nil
}

// XRayTraceID formats a trace id the way X-Ray prints it.
func XRayTraceID(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return "1-" + h[:8] + "-" + h[8:]
}
