package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// clientFlags are the flags of every command that talks to a server, with
// defaults from MIRADOR_URL, MIRADOR_API_KEY and MIRADOR_TENANT.
type clientFlags struct {
	fs               *flag.FlagSet
	usage            bytes.Buffer
	url, key, tenant *string
}

func newClientFlags(name, usage, keyScope string, environ []string) *clientFlags {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	c := &clientFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(&c.usage)
	c.fs.Usage = func() { fmt.Fprint(&c.usage, usage); c.fs.PrintDefaults() }
	c.url = c.fs.String("url", withDefault(env["MIRADOR_URL"], "http://127.0.0.1:7070"), "Mirador server URL (env MIRADOR_URL)")
	c.key = c.fs.String("key", env["MIRADOR_API_KEY"], "API key"+keyScope+" (env MIRADOR_API_KEY)")
	c.tenant = c.fs.String("tenant", env["MIRADOR_TENANT"], "tenant, sent as X-Scope-OrgID (admin keys only; env MIRADOR_TENANT)")
	return c
}

// parse reads flags and positional arguments in any order; --help prints
// the usage to stdout and returns flag.ErrHelp.
func (c *clientFlags) parse(args []string, stdout io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				_, _ = io.Copy(stdout, &c.usage)
			}
			return nil, err
		}
		if c.fs.NArg() == 0 {
			return positional, nil
		}
		positional, args = append(positional, c.fs.Arg(0)), c.fs.Args()[1:]
	}
}

// apiClient talks to a server's native API.
type apiClient struct {
	base   string
	http   *http.Client
	header http.Header
}

// client returns a client for the parsed flags.
func (c *clientFlags) client() *apiClient {
	a := &apiClient{base: strings.TrimSuffix(*c.url, "/"), http: &http.Client{}, header: http.Header{}}
	if *c.key != "" {
		a.header.Set("Authorization", "Bearer "+*c.key)
	}
	if *c.tenant != "" {
		a.header.Set("X-Scope-OrgID", *c.tenant)
	}
	return a
}

// subcommand splits `mirador NOUN COMMAND …` arguments into the command
// and the rest; --help prints usage and returns flag.ErrHelp.
func subcommand(args []string, noun, commands, usage string, stdout io.Writer) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, usage)
			return "", nil, flag.ErrHelp
		}
		return "", nil, fmt.Errorf("give a %s command: %s\n\n%s", noun, commands, usage)
	}
	return args[0], args[1:], nil
}
