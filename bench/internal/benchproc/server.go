package benchproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ServerConfig says how to start a server. The zero value of every
// optional field is useful.
type ServerConfig struct {
	// Binary is the mirador executable.
	Binary string
	// Args follow "server" on the command line: the data directory,
	// listeners (127.0.0.1:0 picks free ports), limits. The server must
	// log at info level, where it logs its listeners' addresses.
	Args []string
	// LogFile receives the server's whole log (stderr).
	LogFile string
	// Listeners are the names of the listeners whose addresses Start waits
	// for in the log ("msg=listening listener=NAME addr=ADDR"); "http" is
	// always awaited, since readiness is asked of it.
	Listeners []string
	// Retain selects log lines the Server keeps for the whole run, for
	// Retained; other lines are kept only in a short tail.
	Retain func(line string) bool
	// StartTimeout bounds the wait for the listeners and for /-/ready; 0
	// means one minute.
	StartTimeout time.Duration
}

// Server is a mirador server running as a child process. Its methods are
// safe for concurrent use.
type Server struct {
	cmd     *exec.Cmd
	addrs   map[string]string // listener name → host:port; written before Start returns
	exited  chan struct{}
	waitErr error // set before exited is closed
	retain  func(string) bool

	mu       sync.Mutex
	lines    []string // the last lines of its log
	retained []string
}

// listeningLine is the line the server logs at info level for each
// listener it has bound.
var listeningLine = regexp.MustCompile(`msg=listening listener=(\S+) addr=(\S+)`)

// parseListening returns the listener name and address a log line
// announces, if it is a listening line.
func parseListening(line string) (name, addr string, ok bool) {
	m := listeningLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

const keptLogLines = 200

// StartServer starts the server cfg describes and waits until it has
// logged the addresses of cfg.Listeners and its /-/ready answers 200. The
// server runs in its own process group, so a terminal's Ctrl-C does not
// reach it and the driver can stop it in order, and it is killed if the
// driver dies without stopping it. Lines it logs at WARN or ERROR are
// repeated through slog. The caller must call Stop.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	want := slices.Clone(cfg.Listeners)
	if !slices.Contains(want, "http") {
		want = append(want, "http")
	}
	s := &Server{
		cmd:    exec.Command(cfg.Binary, append([]string{"server"}, cfg.Args...)...),
		addrs:  map[string]string{},
		exited: make(chan struct{}),
		retain: cfg.Retain,
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(cfg.LogFile)
	if err != nil {
		return nil, fmt.Errorf("create the server's log file: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	listening := make(chan [2]string, 16)
	go func() {
		s.readLog(io.TeeReader(stderr, logFile), listening)
		logFile.Close()
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	addrs := map[string]string{}
	for !hasAll(addrs, want) {
		select {
		case l := <-listening:
			addrs[l[0]] = l[1]
		case <-s.exited:
			return nil, fmt.Errorf("mirador exited before listening (%v); its log:\n%s", s.waitErr, s.LogTail())
		case <-deadline.C:
			_ = s.Stop(10 * time.Second)
			return nil, fmt.Errorf("mirador did not log the addresses of its listeners %q within %s; its log:\n%s", want, timeout, s.LogTail())
		case <-ctx.Done():
			_ = s.Stop(10 * time.Second)
			return nil, ctx.Err()
		}
	}
	s.addrs = addrs
	if err := s.waitReady(ctx, timeout); err != nil {
		_ = s.Stop(10 * time.Second)
		return nil, err
	}
	return s, nil
}

func hasAll(m map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// readLog keeps the server's last log lines and the retained ones, and
// sends the listeners it announces on listening.
func (s *Server) readLog(r io.Reader, listening chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, addr, ok := parseListening(line); ok {
			select {
			case listening <- [2]string{name, addr}:
			default: // nobody waits any more
			}
		}
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			slog.Warn("server: " + line)
		}
		s.mu.Lock()
		if len(s.lines) == keptLogLines {
			s.lines = append(s.lines[:0], s.lines[keptLogLines/2:]...)
		}
		s.lines = append(s.lines, line)
		if s.retain != nil && s.retain(line) {
			s.retained = append(s.retained, line)
		}
		s.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// LogTail returns the last lines the server logged.
func (s *Server) LogTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// Retained returns the retained lines (see ServerConfig.Retain) that
// contain any of substrs, in the order they were logged.
func (s *Server) Retained(substrs ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.retained {
		for _, sub := range substrs {
			if strings.Contains(l, sub) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// Addr returns the host:port listener name is bound to, or "" if Start
// did not wait for it.
func (s *Server) Addr(name string) string { return s.addrs[name] }

// URL is the base URL of the main HTTP listener, http://127.0.0.1:port.
func (s *Server) URL() string { return "http://" + s.addrs["http"] }

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// CPU is the CPU time the server has consumed so far (all threads, user
// plus system).
func (s *Server) CPU() (time.Duration, error) { return ProcessCPU(s.PID()) }

// Memory is the server's resident set size now and at its peak.
func (s *Server) Memory() (Memory, error) { return ProcessMemory(s.PID()) }

// Exited is closed once the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mirador at %s not ready within %s (last error %v); its log:\n%s", s.URL(), timeout, err, s.LogTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("mirador exited while starting (%v); its log:\n%s", s.waitErr, s.LogTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM, lets the server shut down for up to grace, then
// kills it. It reports an abnormal exit with the server's last log lines.
// It is safe to call more than once.
func (s *Server) Stop(grace time.Duration) error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		var exitErr *exec.ExitError
		if errors.As(s.waitErr, &exitErr) {
			return fmt.Errorf("mirador exited abnormally (%v); its log:\n%s", s.waitErr, s.LogTail())
		}
		return nil
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("mirador did not stop within %s of SIGTERM and was killed", grace)
	}
}
