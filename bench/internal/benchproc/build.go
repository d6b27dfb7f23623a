package benchproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles cmd/mirador into dir and returns the binary's path. It
// must run inside the module's checkout, as `go run ./bench/...` does; the
// compiler's output goes to the driver's stderr.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "mirador")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/miradorhq/mirador/cmd/mirador")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build mirador (run the driver from the repository's checkout, or pass --binary): %w", err)
	}
	return bin, nil
}
