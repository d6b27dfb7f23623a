package tenant

import (
	"context"
	"errors"
	"fmt"
)

// Default is the tenant that single-user installs use without noticing.
const Default = "default"

// MaxIDLength bounds a tenant ID; IDs name directories and appear in labels.
const MaxIDLength = 64

// ErrInvalidID is returned by Validate for an ID that may not be used.
var ErrInvalidID = errors.New("invalid tenant id")

type ctxKey struct{}

// WithID returns a context that carries tenant id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the tenant carried by ctx, and whether there was one.
func FromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(ctxKey{}).(string)
	return id, ok && id != ""
}

// Validate reports whether id can name a tenant: 1 to 64 characters from
// a-z, 0-9, '-' and '_', starting with a letter or digit. The alphabet keeps
// IDs safe as directory names on every file system.
func Validate(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("%w %q: must be 1 to %d characters", ErrInvalidID, id, MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return fmt.Errorf("%w %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit", ErrInvalidID, id)
		}
	}
	return nil
}
