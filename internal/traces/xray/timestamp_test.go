package xray

import "testing"

func TestParseEpochSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1480615200.010", want: 1480615200_010000000},
		{in: "1480615200.010123", want: 1480615200_010123000},
		{in: "1480615200", want: 1480615200_000000000},
		{in: "1.480615200010E9", want: 1480615200_010000000},
		{in: "1.480615200010123e+9", want: 1480615200_010123000},
		{in: "14806152000101e-4", want: 1480615200_010100000},
		{in: "1480615200.0101234567891", want: 1480615200_010123456}, // digits past ns dropped
		{in: "0.5", want: 500000000},
		{in: ".5", want: 500000000}, // not JSON, but harmless
		{in: "-1480615200", bad: true},
		{in: "1480615200.", want: 1480615200_000000000},
		{in: "abc", bad: true},
		{in: "1e400", bad: true},
		{in: "99999999999", bad: true},
		{in: "9000000000", bad: true},
		{in: "", bad: true},
		{in: "1.2.3", bad: true},
	} {
		got, err := parseEpochSeconds(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseEpochSeconds(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseEpochSeconds(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}
