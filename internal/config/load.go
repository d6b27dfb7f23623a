package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load builds a server configuration from defaults, the YAML file named by
// --config (or MIRADOR_CONFIG), the environment and the flags in args, then
// validates it. environ is in os.Environ form. --help writes the usage to
// usage and returns flag.ErrHelp.
func Load(args, environ []string, usage io.Writer) (*Config, error) {
	cfg := Default()
	leaves := fieldsOf(reflect.ValueOf(cfg).Elem(), "")

	fs := flag.NewFlagSet("mirador server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configFile := fs.String("config", "", "")
	var fromFlags []assignment
	for i, f := range leaves {
		if !f.fileOnly() {
			fs.Var(&flagValue{leaf: i, bool: f.v.Kind() == reflect.Bool, set: &fromFlags}, f.flagName(), f.help)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(usage, leaves)
			return nil, err
		}
		return nil, fmt.Errorf("%w (run 'mirador server --help' for the list of flags)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: server options are flags, e.g. --http-addr=127.0.0.1:7070", fs.Arg(0))
	}

	env := envMap(environ)
	if *configFile == "" {
		*configFile = env["MIRADOR_CONFIG"]
	}
	var tenantNodes map[string]*yaml.Node
	if *configFile != "" {
		var err error
		if tenantNodes, err = applyFile(cfg, *configFile); err != nil {
			return nil, err
		}
		cfg.File = *configFile // relative paths inside are resolved against it
	}
	for _, f := range leaves {
		if s, ok := env[f.envName()]; ok && !f.fileOnly() {
			if err := setString(f.v, s); err != nil {
				return nil, fmt.Errorf("environment %s (%s): %w", f.envName(), f.path, err)
			}
		}
	}
	for _, a := range fromFlags {
		f := leaves[a.leaf]
		if err := setString(f.v, a.value); err != nil {
			return nil, fmt.Errorf("flag --%s: %w", f.flagName(), err)
		}
	}
	if err := cfg.resolveTenantLimits(tenantNodes); err != nil {
		return nil, err
	}
	if err := cfg.parsePrometheus(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

type assignment struct {
	leaf  int
	value string
}

// flagValue records a flag's value so flags can be applied after the file
// and the environment, whatever order things were parsed in.
type flagValue struct {
	leaf int
	bool bool
	set  *[]assignment
}

func (v *flagValue) String() string   { return "" }
func (v *flagValue) IsBoolFlag() bool { return v.bool }
func (v *flagValue) Set(s string) error {
	*v.set = append(*v.set, assignment{v.leaf, s})
	return nil
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string)
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "MIRADOR_") {
			m[k] = v
		}
	}
	return m
}

// applyFile sets the fields the YAML file names. It returns the raw
// tenant_limits entries, resolved once every other source has been applied.
func applyFile(cfg *Config, path string) (map[string]*yaml.Node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty file keeps the defaults
	}
	d := &fileDecoder{file: path}
	if err := d.apply(reflect.ValueOf(cfg).Elem(), doc.Content[0], ""); err != nil {
		return nil, err
	}
	return d.tenants, nil
}

type fileDecoder struct {
	file    string
	tenants map[string]*yaml.Node
}

func (d *fileDecoder) errorf(n *yaml.Node, path, format string, args ...any) error {
	return fmt.Errorf("config file %s line %d: %s: %s", d.file, n.Line, path, fmt.Sprintf(format, args...))
}

// apply walks mapping node n alongside the struct v.
func (d *fileDecoder) apply(v reflect.Value, n *yaml.Node, prefix string) error {
	where := strings.TrimSuffix(prefix, ".")
	if where == "" {
		where = "top level"
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, where, "expected a mapping of settings")
	}
	byName := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			byName[name] = i
			names = append(names, name)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := prefix + key.Value
		idx, ok := byName[key.Value]
		if !ok {
			return d.errorf(key, path, "unknown setting (valid here: %s)", strings.Join(names, ", "))
		}
		fv := v.Field(idx)
		switch {
		case fv.Type() == yamlNodeType:
			fv.Set(reflect.ValueOf(*val))
		case fv.Kind() == reflect.Map:
			if val.Kind != yaml.MappingNode {
				return d.errorf(val, path, "expected a mapping of tenant name to limits")
			}
			d.tenants = make(map[string]*yaml.Node)
			for j := 0; j+1 < len(val.Content); j += 2 {
				d.tenants[val.Content[j].Value] = val.Content[j+1]
			}
		case fv.Kind() == reflect.Struct && !isLeafStruct(fv):
			if err := d.apply(fv, val, path+"."); err != nil {
				return err
			}
		default:
			if val.Tag == "!!null" {
				continue
			}
			if val.Kind != yaml.ScalarNode {
				return d.errorf(val, path, "expected a single value, not a list or mapping")
			}
			if err := setString(fv, val.Value); err != nil {
				return d.errorf(val, path, "%v", err)
			}
		}
	}
	return nil
}

func isLeafStruct(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(setter)
	return ok
}

// resolveTenantLimits builds each tenant's limits on top of the final
// defaults, so an override names only what differs.
func (c *Config) resolveTenantLimits(nodes map[string]*yaml.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	d := &fileDecoder{file: c.File}
	c.TenantLimits = make(map[string]Limits, len(nodes))
	for name, n := range nodes {
		l := c.Limits
		if err := d.apply(reflect.ValueOf(&l).Elem(), n, "tenant_limits."+name+"."); err != nil {
			return err
		}
		c.TenantLimits[name] = l
	}
	return nil
}

// configDir is the directory relative paths in the file are resolved against.
func (c *Config) configDir() string {
	if c.File == "" {
		return "."
	}
	return filepath.Dir(c.File)
}
