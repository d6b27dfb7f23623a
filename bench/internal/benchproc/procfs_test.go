package benchproc

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    uint64
		wantErr bool
	}{
		{"plain command", "1234 (mirador) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0", 300, false},
		{"command with spaces and parentheses", "1234 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 1 0 0", 15, false},
		{"no command name", "1234 mirador S 1", 0, true},
		{"too few fields", "1234 (x) S 1 2 3", 0, true},
		{"non-numeric utime", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 8 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ticks = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin for 150 ms of CPU: /proc counts in 10 ms ticks.
	for start := SelfCPU(); SelfCPU()-start < 150*time.Millisecond; {
	}
	after, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 100*time.Millisecond {
		t.Errorf("/proc reports %s of CPU for 150 ms of spinning", d)
	}
}

func TestResetPeakRSSForgetsAnEarlierPeak(t *testing.T) {
	pid := os.Getpid()
	const size = 256 << 20
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	m, err := ProcessMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if m.PeakRSSBytes < size || m.RSSBytes <= 0 {
		t.Fatalf("after touching %d bytes: %+v", size, m)
	}
	b = nil
	runtime.GC()
	debug.FreeOSMemory()
	freed, err := ProcessMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if freed.PeakRSSBytes-freed.RSSBytes < size/2 {
		t.Skipf("the runtime kept the freed memory resident (%+v)", freed)
	}
	if err := ResetPeakRSS(pid); err != nil {
		t.Skipf("kernel refuses clear_refs: %v", err)
	}
	m, err = ProcessMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if m.PeakRSSBytes > freed.PeakRSSBytes-size/2 {
		t.Errorf("peak RSS %d after reset, %d before: the reset did not forget the freed %d bytes", m.PeakRSSBytes, freed.PeakRSSBytes, size)
	}
}

func TestMemAvailableAndMachine(t *testing.T) {
	if MemAvailable() <= 0 {
		t.Error("MemAvailable is not positive")
	}
	m := DescribeMachine()
	if m.CPUs < 1 || m.MemoryBytes <= 0 || m.Kernel == "" || m.GoVersion == "" {
		t.Errorf("machine %+v has empty fields", m)
	}
}

func TestSnapshotSince(t *testing.T) {
	t0 := time.Unix(100, 0)
	a := Snapshot{Wall: t0, ServerCPU: time.Second, DriverCPU: 2 * time.Second}
	b := Snapshot{Wall: t0.Add(3 * time.Second), ServerCPU: 4 * time.Second, DriverCPU: 3 * time.Second}
	wall, srv, drv := b.Since(a)
	if wall != 3*time.Second || srv != 3*time.Second || drv != time.Second {
		t.Errorf("Since = %s, %s, %s", wall, srv, drv)
	}
}
