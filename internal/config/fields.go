package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A field is one settable leaf of the tree, with the names it goes by.
type field struct {
	path string        // metrics.retention_time
	help string        //
	v    reflect.Value // addressable leaf
	raw  bool          // a YAML section kept verbatim (file only)
	dict bool          // a map of sub-trees (file only)
}

func (f field) flagName() string { return strings.ReplaceAll(f.path, "_", "-") }

func (f field) envName() string {
	return "MIRADOR_" + strings.ToUpper(strings.ReplaceAll(f.path, ".", "_"))
}

// fileOnly reports whether the field can only be set in the config file.
func (f field) fileOnly() bool { return f.raw || f.dict }

var yamlNodeType = reflect.TypeFor[yaml.Node]()

// fieldsOf lists the leaves of the struct v points to, depth first, in
// declaration order.
func fieldsOf(v reflect.Value, prefix string) []field {
	var out []field
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		f := field{path: prefix + name, help: sf.Tag.Get("help"), v: fv}
		switch {
		case sf.Type == yamlNodeType:
			f.raw = true
		case sf.Type.Kind() == reflect.Map:
			f.dict = true
		case sf.Type.Kind() == reflect.Struct:
			out = append(out, fieldsOf(fv, f.path+".")...)
			continue
		}
		out = append(out, f)
	}
	return out
}

// setter is implemented by leaf types that parse themselves.
type setter interface{ Set(string) error }

// setString parses s into the leaf v. Its errors name the value and what
// would be valid; the caller adds where the value came from.
func setString(v reflect.Value, s string) error {
	if p, ok := v.Addr().Interface().(setter); ok {
		return p.Set(s)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean (use true or false)", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("config: unsupported field type %s", v.Type())
	}
	return nil
}

// formatValue renders a leaf the way a user would write it.
func formatValue(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	default:
		return fmt.Sprint(v.Interface())
	}
}
