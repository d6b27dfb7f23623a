package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/miradorhq/mirador/internal/config"
	"github.com/miradorhq/mirador/internal/meta"
)

// runStoreCommand runs `keys` or `tenants` against the meta store of the
// server configured by --config / --data-dir (flags, MIRADOR_* environment
// or defaults, exactly as `mirador server` would resolve them). The server
// may be running: the store is safe to share.
func runStoreCommand(cmd string, args []string, stdout io.Writer) error {
	serverArgs, rest := splitServerFlags(args)
	cfg, err := config.Load(serverArgs, os.Environ(), io.Discard)
	if err != nil {
		return err
	}
	dsn := cfg.Meta.DSN
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "meta.db")
	}
	ctx := context.Background()
	store, err := meta.Open(ctx, meta.Options{Driver: cfg.Meta.Driver, DSN: dsn})
	if err != nil {
		return err // names the store already
	}
	defer store.Close()
	if cmd == "keys" {
		return runKeys(ctx, store, rest, stdout)
	}
	return runTenants(ctx, store, rest, stdout)
}

// splitServerFlags separates --config and --data-dir (in either -x v or
// -x=v form, anywhere in args) from the command's own arguments.
func splitServerFlags(args []string) (server, rest []string) {
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || (name != "config" && name != "data-dir") {
			rest = append(rest, args[i])
			continue
		}
		server = append(server, args[i])
		if !hasValue && i+1 < len(args) {
			i++
			server = append(server, args[i])
		}
	}
	return server, rest
}
