package benchproc

import "testing"

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{CountText(950), "950"},
		{CountText(12_345), "12k"},
		{CountText(1_250_000), "1.25M"},
		{CountText(10_400_000), "10.4M"},
		{BytesText(512), "512 B"},
		{BytesText(1536), "1.5 KiB"},
		{BytesText(19_300_000), "18.4 MiB"},
		{BytesText(3 << 30), "3.00 GiB"},
		{SecondsText(6 * 3600), "6h"},
		{SecondsText(15), "15s"},
		{SecondsText(90), "1m30s"},
		{SecondsText(120), "2m"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
