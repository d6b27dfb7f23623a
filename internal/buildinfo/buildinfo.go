// Package buildinfo describes the running binary. Version, Revision and
// Date are set at link time by the Makefile:
//
//	-ldflags "-X github.com/miradorhq/mirador/internal/buildinfo.Version=..."
package buildinfo

import (
	"fmt"
	"runtime"
)

// Set by the linker; the defaults describe a plain `go build`.
var (
	Version  = "0.1.0-dev"
	Revision = "unknown"
	Branch   = "unknown"
	Date     = "unknown"
)

// GoVersion is the Go release the binary was built with.
var GoVersion = runtime.Version()

// String is the one-line description `mirador version` prints.
func String() string {
	return fmt.Sprintf("mirador %s (revision %s, branch %s, built %s, %s %s/%s)", Version, Revision, Branch, Date, GoVersion, runtime.GOOS, runtime.GOARCH)
}
