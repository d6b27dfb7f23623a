package xray

import (
	"fmt"
	"strconv"
	"strings"
)

// maxEpochSeconds keeps start and end times within int64 nanoseconds
// (year 2262) with room to spare.
const maxEpochSeconds = 9_000_000_000

// parseEpochSeconds converts X-Ray's float epoch seconds ("1480615200.010",
// "1.480615200010E9") into Unix nanoseconds straight from the decimal text,
// so no digit is lost through float64. Digits past the nanosecond are
// dropped.
func parseEpochSeconds(s string) (int64, error) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e < -30 || e > 30 {
			return 0, fmt.Errorf("%q: want epoch seconds such as 1480615200.010", s)
		}
		mant, exp = s[:i], e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("%q: want epoch seconds such as 1480615200.010", s)
	}
	// Move the decimal point by the exponent.
	switch {
	case exp > 0:
		if exp > len(frac) {
			frac += strings.Repeat("0", exp-len(frac))
		}
		intPart, frac = intPart+frac[:exp], frac[exp:]
	case exp < 0:
		if -exp > len(intPart) {
			intPart = strings.Repeat("0", -exp-len(intPart)) + intPart
		}
		cut := len(intPart) + exp
		intPart, frac = intPart[:cut], intPart[cut:]+frac
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 10 {
		return 0, fmt.Errorf("%q: epoch seconds out of range", s)
	}
	var sec int64
	if intPart != "" {
		sec, _ = strconv.ParseInt(intPart, 10, 64) // ≤10 digits: cannot fail
	}
	if sec >= maxEpochSeconds {
		return 0, fmt.Errorf("%q: epoch seconds out of range", s)
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	return sec*1_000_000_000 + ns, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
