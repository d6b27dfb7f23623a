// Command mirador is the one Mirador binary: the server and its clients.
//
//	mirador [server] [flags]      start the server (the default)
//	mirador query EXPR [flags]    evaluate PromQL against a server
//	mirador logs query|tail|groups
//	mirador traces get|search|query
//	mirador alarms list|get|put|delete|history|set-state|enable|disable
//	mirador keys create|list|revoke
//	mirador tenants create|list
//	mirador version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miradorhq/mirador/internal/buildinfo"
	"github.com/miradorhq/mirador/internal/config"
	"github.com/miradorhq/mirador/internal/server"
)

const usage = `Usage: mirador [command] [flags]

Commands:
  server     start the server (the default when no command is given)
  query      evaluate a PromQL expression against a server
  logs       query, tail and list logs on a server
  traces     get, search and query traces on a server
  alarms     list, create, test and inspect alarms on a server
  keys       create, list and revoke API keys
  tenants    create and list tenants
  version    print the version

Run 'mirador <command> --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "server"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "server":
		err = runServer(args, stdout)
	case "query":
		err = runQuery(context.Background(), args, os.Environ(), stdout)
	case "logs":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = runLogs(ctx, args, os.Environ(), stdout)
	case "traces":
		err = runTraces(context.Background(), args, os.Environ(), stdout)
	case "alarms":
		err = runAlarms(context.Background(), args, os.Environ(), stdout)
	case "keys", "tenants":
		err = runStoreCommand(cmd, args, stdout)
	case "version":
		fmt.Fprintln(stdout, buildinfo.String())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mirador:", err)
		return 1
	}
	return 0
}

func runServer(args []string, stdout io.Writer) error {
	cfg, err := config.Load(args, os.Environ(), stdout)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, os.Stderr)
	logger.Info("starting mirador", "version", buildinfo.Version, "revision", buildinfo.Revision, "data_dir", cfg.DataDir, "config", cfg.File)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, cfg, logger)
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
