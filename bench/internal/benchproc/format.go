package benchproc

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// CountText renders a count for a report: 950, 12k, 1.25M, 10.4M.
func CountText(n int64) string {
	switch a := math.Abs(float64(n)); {
	case a >= 10e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case a >= 10e3:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// BytesText renders a size in binary units: 512 B, 1.5 KiB, 19.3 MiB,
// 1.02 GiB.
func BytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// SecondsText renders a number of seconds as a Go duration without
// trailing zero units: 6h, 15s, 1m30s.
func SecondsText(s float64) string {
	t := time.Duration(s * float64(time.Second)).String()
	if strings.HasSuffix(t, "m0s") {
		t = t[:len(t)-2]
	}
	if strings.HasSuffix(t, "h0m") {
		t = t[:len(t)-2]
	}
	return t
}
