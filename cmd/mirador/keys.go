package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/tenant"
)

const keysUsage = `usage:
  mirador keys create [--tenant T] --scope ingest,read,admin [--name N]
  mirador keys list
  mirador keys revoke ID`

const tenantsUsage = `usage:
  mirador tenants create NAME
  mirador tenants list`

// errSubcommandHelp is returned by parseSubcommandFlags when -h was given and usage was printed.
var errSubcommandHelp = errors.New("help requested")

// runKeys runs "mirador keys …"; args are those after "keys".
func runKeys(ctx context.Context, store *meta.Store, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return subcommandUsageError(keysUsage, "a subcommand is required")
	}
	keys := auth.NewKeys(store)
	switch cmd, rest := args[0], args[1:]; cmd {
	case "create":
		return keysCreate(ctx, auth.NewTenants(store), keys, rest, stdout)
	case "list":
		if len(rest) != 0 {
			return subcommandUsageError(keysUsage, "keys list takes no arguments")
		}
		return keysList(ctx, keys, stdout)
	case "revoke":
		if len(rest) != 1 {
			return subcommandUsageError(keysUsage, "keys revoke takes exactly one key ID")
		}
		if err := keys.Revoke(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked key %s; requests using it fail within a second\n", rest[0])
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, keysUsage)
		return nil
	default:
		return subcommandUsageError(keysUsage, fmt.Sprintf("unknown subcommand %q", cmd))
	}
}

func keysCreate(ctx context.Context, tenants *auth.Tenants, keys *auth.Keys, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mirador keys create", flag.ContinueOnError)
	tenantID := fs.String("tenant", tenant.Default, "tenant the key acts on; created if missing")
	scopeList := fs.String("scope", "", "comma-separated scopes: ingest, read, admin (required)")
	name := fs.String("name", "", "a note saying what the key is for, e.g. grafana")
	if err := parseSubcommandFlags(fs, args, keysUsage, stdout); err != nil {
		if errors.Is(err, errSubcommandHelp) {
			return nil
		}
		return err
	}
	if *scopeList == "" {
		return subcommandUsageError(keysUsage, "--scope is required")
	}
	scopes, err := auth.ParseScopes(*scopeList)
	if err != nil {
		return err
	}
	if err := tenant.Validate(*tenantID); err != nil {
		return fmt.Errorf("--tenant: %w", err)
	}

	exists, err := tenants.Exists(ctx, *tenantID)
	if err != nil {
		return err
	}
	if !exists {
		// A concurrent create of the same tenant is fine: it exists either way.
		if err := tenants.Create(ctx, *tenantID); err != nil && !errors.Is(err, auth.ErrTenantExists) {
			return err
		}
		fmt.Fprintf(stdout, "created tenant %s\n", *tenantID)
	}
	key, secret, err := keys.Create(ctx, *tenantID, *name, scopes)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "key id:\t%s\n", key.ID)
	fmt.Fprintf(tw, "tenant:\t%s\n", key.Tenant)
	if key.Name != "" {
		fmt.Fprintf(tw, "name:\t%s\n", key.Name)
	}
	fmt.Fprintf(tw, "scopes:\t%s\n", auth.FormatScopes(key.Scopes))
	fmt.Fprintf(tw, "secret:\t%s\n", secret)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nThe secret is shown only once: store it now. Send it as 'Authorization: Bearer <secret>'"+
		" or as the basic-auth password.")
	return nil
}

func keysList(ctx context.Context, keys *auth.Keys, stdout io.Writer) error {
	list, err := keys.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tNAME\tSCOPES\tCREATED\tLAST USED\tSTATUS")
	for _, k := range list {
		status := "active"
		if !k.Active() {
			status = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			k.ID, k.Tenant, dashIfEmpty(k.Name), auth.FormatScopes(k.Scopes),
			cliTime(&k.CreatedAt), cliTime(k.LastUsedAt), status)
	}
	return tw.Flush()
}

// runTenants runs "mirador tenants …"; args are those after "tenants".
func runTenants(ctx context.Context, store *meta.Store, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return subcommandUsageError(tenantsUsage, "a subcommand is required")
	}
	tenants := auth.NewTenants(store)
	switch cmd, rest := args[0], args[1:]; cmd {
	case "create":
		if len(rest) != 1 {
			return subcommandUsageError(tenantsUsage, "tenants create takes exactly one tenant name")
		}
		if err := tenants.Create(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created tenant %s\n", rest[0])
		return nil
	case "list":
		if len(rest) != 0 {
			return subcommandUsageError(tenantsUsage, "tenants list takes no arguments")
		}
		list, err := tenants.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\n", t.ID, cliTime(&t.CreatedAt))
		}
		return tw.Flush()
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, tenantsUsage)
		return nil
	default:
		return subcommandUsageError(tenantsUsage, fmt.Sprintf("unknown subcommand %q", cmd))
	}
}

// parseSubcommandFlags parses args into fs, returning flag errors with the usage and
// the flag defaults as the error text rather than printing them. With -h it
// prints them to stdout and returns errSubcommandHelp.
func parseSubcommandFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) error {
	fs.SetOutput(io.Discard) // errors come back in the returned error instead
	fs.Usage = func() {}
	err := fs.Parse(args)
	var defaults bytes.Buffer
	fs.SetOutput(&defaults)
	fs.PrintDefaults()
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "%s\n\n%s", usage, defaults.String())
		return errSubcommandHelp
	case err != nil:
		return fmt.Errorf("%w\n%s\n\n%s", err, usage, strings.TrimRight(defaults.String(), "\n"))
	case fs.NArg() > 0:
		return subcommandUsageError(usage, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

func subcommandUsageError(usage, problem string) error {
	return fmt.Errorf("%s\n%s", problem, usage)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cliTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
