package traces

import (
	"fmt"
	"strings"

	"github.com/miradorhq/mirador/internal/traces/xray"
)

// ParseTraceID reads a trace id as users copy it: OpenTelemetry's 32 hex
// digits, a shorter hex id as Zipkin and Jaeger print 64-bit ids
// (zero-padded on the left), or X-Ray's 1-<8 hex>-<24 hex>.
func ParseTraceID(s string) ([16]byte, error) {
	if n := len(s); n > 0 && n < 32 && !strings.HasPrefix(s, "1-") {
		s = strings.Repeat("0", 32-n) + s
	}
	id, err := xray.ParseTraceID(s)
	if err != nil {
		return id, fmt.Errorf("trace id %q: want 32 hex digits or an X-Ray id (1-<8 hex>-<24 hex>)", s)
	}
	return id, nil
}
