package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// Duration is a time.Duration written the Prometheus way: 30s, 5m, 12h, 15d, 2w, 1y.
type Duration time.Duration

// Set parses s as a Prometheus duration.
func (d *Duration) Set(s string) error {
	v, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration (examples: 30s, 5m, 12h, 15d)", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return model.Duration(d).String() }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Bytes is a size written with an optional unit: 1048576, 512KiB, 64MiB, 10GB.
type Bytes int64

// Set parses s as a byte size.
func (b *Bytes) Set(s string) error {
	s = strings.TrimSpace(s)
	v, err := units.ParseStrictBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size (examples: 1048576, 512KiB, 64MiB, 10GB)", s)
	}
	*b = Bytes(v)
	return nil
}

func (b Bytes) String() string {
	if b == 0 {
		return "0"
	}
	return units.Base2Bytes(b).String()
}
