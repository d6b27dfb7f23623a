package benchproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process accounting from Linux's /proc. A driver shares the machine's
// cores with the server, so throughput is divided by the CPU time the
// server itself consumed, not by wall-clock time.

// clockTicks is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every mainstream Linux build, asked of getconf in case it is not.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 100
	}
	return float64(n)
}()

// ProcessCPU returns the user plus system CPU time consumed so far by all
// threads of process pid, from /proc/<pid>/stat. Its resolution is one
// clock tick (10 ms).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return time.Duration(float64(ticks) / clockTicks * float64(time.Second)), nil
}

// parseStatCPU returns utime + stime, in clock ticks, of a /proc/<pid>/stat
// line.
func parseStatCPU(b []byte) (uint64, error) {
	// The command name (field 2) may contain spaces and parentheses; the
	// fields after its closing parenthesis start with field 3, state.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// SelfCPU returns the CPU time the calling process has consumed so far,
// or 0 if the kernel does not say.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Memory is a process's resident set size now and at its peak.
type Memory struct {
	RSSBytes     int64 `json:"rss_bytes"`
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// ProcessMemory reads VmRSS and VmHWM (the peak resident set size since
// the process started or since ResetPeakRSS) from /proc/<pid>/status.
func ProcessMemory(pid int) (Memory, error) {
	var m Memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := parseKB(rest)
		if err != nil {
			return m, fmt.Errorf("parse %s in /proc/%d/status: %w", name, pid, err)
		}
		if name == "VmRSS" {
			m.RSSBytes = kb << 10
		} else {
			m.PeakRSSBytes = kb << 10
		}
	}
	return m, sc.Err()
}

// parseKB parses "   1234 kB".
func parseKB(s string) (int64, error) {
	return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(s), " kB"), 10, 64)
}

// ResetPeakRSS resets process pid's peak resident set size (VmHWM) to its
// current one, so that a later ProcessMemory reports the peak of the time
// in between: it writes 5 to /proc/<pid>/clear_refs (Linux 4.0 and later),
// which needs no privilege for one's own child.
func ResetPeakRSS(pid int) error {
	path := fmt.Sprintf("/proc/%d/clear_refs", pid)
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the peak RSS of process %d (needs Linux 4.0+): %w", pid, err)
	}
	return nil
}

// MemAvailable is the kernel's estimate of the memory available for new
// work without swapping (MemAvailable of /proc/meminfo), or 0 if unknown.
func MemAvailable() int64 {
	return meminfo("MemAvailable:")
}

func meminfo(key string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, err := parseKB(rest)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// Snapshot is the clocks at one moment of a run: wall time, the server's
// CPU time and the driver's own.
type Snapshot struct {
	Wall      time.Time
	ServerCPU time.Duration
	DriverCPU time.Duration
}

// Snapshot reads the clocks now.
func (s *Server) Snapshot() (Snapshot, error) {
	snap := Snapshot{Wall: time.Now(), DriverCPU: SelfCPU()}
	var err error
	snap.ServerCPU, err = s.CPU()
	return snap, err
}

// Since returns the wall time, server CPU and driver CPU from earlier to s.
func (s Snapshot) Since(earlier Snapshot) (wall, serverCPU, driverCPU time.Duration) {
	return s.Wall.Sub(earlier.Wall), s.ServerCPU - earlier.ServerCPU, s.DriverCPU - earlier.DriverCPU
}
