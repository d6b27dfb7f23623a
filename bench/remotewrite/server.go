package main

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
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildServer compiles cmd/mirador into dir and returns the binary's path.
// It must run inside the module's checkout, as `go run ./bench/remotewrite`
// does.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "mirador")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/miradorhq/mirador/cmd/mirador")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build mirador (run the driver from the repository's checkout, or pass --binary): %w", err)
	}
	return bin, nil
}

// serverProcess is a mirador server running as a child process.
type serverProcess struct {
	cmd     *exec.Cmd
	baseURL string // http://127.0.0.1:port
	exited  chan struct{}
	waitErr error // set before exited is closed

	mu    sync.Mutex
	lines []string // the last lines of its log
	tsdb  []string // every line the TSDB logged: compactions, WAL checkpoints
}

// listenLine is the line the server logs for its main listener at info level.
var listenLine = regexp.MustCompile(`msg=listening listener=http addr=(\S+)`)

const keptLogLines = 200

// startServer starts bin on a free loopback port with its data in dataDir,
// the OTLP listeners and self-scrape off and no ingest rate limit, and
// waits until /-/ready answers 200. Its log goes to logFile; extra flags
// are appended.
func startServer(ctx context.Context, bin, dataDir, logFile string, extra []string) (*serverProcess, error) {
	args := append([]string{"server",
		"--data-dir", dataDir,
		"--http-addr", "127.0.0.1:0",
		"--otlp-http-addr", "", "--otlp-grpc-addr", "",
		"--metrics.self-scrape-interval", "0s",
		"--limits.ingest-samples-per-second", "0",
		"--log.level", "info", // the listener's address is logged at info
	}, extra...)
	p := &serverProcess{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	// Its own process group keeps a terminal's Ctrl-C from reaching it, so
	// the driver shuts it down in order; Pdeathsig kills it if the driver
	// dies without doing so.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addr := make(chan string, 1)
	go func() {
		p.readLog(io.TeeReader(stderr, log), addr)
		log.Close()
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()

	select {
	case a := <-addr:
		p.baseURL = "http://" + a
	case <-p.exited:
		return nil, fmt.Errorf("mirador exited before listening (%v); its log:\n%s", p.waitErr, p.logTail())
	case <-time.After(time.Minute):
		p.stop(10 * time.Second)
		return nil, fmt.Errorf("mirador did not log its listener within a minute; its log:\n%s", p.logTail())
	case <-ctx.Done():
		p.stop(10 * time.Second)
		return nil, ctx.Err()
	}
	if err := p.waitReady(ctx, time.Minute); err != nil {
		p.stop(10 * time.Second)
		return nil, err
	}
	return p, nil
}

// readLog keeps the server's last log lines and sends the main listener's
// address on addr once.
func (p *serverProcess) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !found {
			if m := listenLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
				found = true
			}
		}
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			slog.Warn("server: " + line)
		}
		p.mu.Lock()
		if len(p.lines) == keptLogLines {
			p.lines = append(p.lines[:0], p.lines[keptLogLines/2:]...)
		}
		p.lines = append(p.lines, line)
		if strings.Contains(line, "component=tsdb") {
			p.tsdb = append(p.tsdb, line)
		}
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *serverProcess) logTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// tsdbLines returns the lines the TSDB logged that contain any of substrs.
func (p *serverProcess) tsdbLines(substrs ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.tsdb {
		for _, s := range substrs {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

func (p *serverProcess) pid() int { return p.cmd.Process.Pid }

// cpu is the CPU time the server has consumed so far.
func (p *serverProcess) cpu() (time.Duration, error) { return processCPU(p.pid()) }

func (p *serverProcess) memory() (memoryUsage, error) { return processMemory(p.pid()) }

func (p *serverProcess) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mirador at %s not ready within %s (last error %v); its log:\n%s", p.baseURL, timeout, err, p.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			return fmt.Errorf("mirador exited while starting (%v); its log:\n%s", p.waitErr, p.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, lets the server flush its head for up to grace, then
// kills it. It is safe to call more than once.
func (p *serverProcess) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		var exitErr *exec.ExitError
		if errors.As(p.waitErr, &exitErr) {
			return fmt.Errorf("mirador exited abnormally (%v); its log:\n%s", p.waitErr, p.logTail())
		}
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("mirador did not stop within %s of SIGTERM and was killed", grace)
	}
}
