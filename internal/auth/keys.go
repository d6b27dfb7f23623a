package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/tenant"
)

// Key describes an API key. It never holds the secret or its hash.
type Key struct {
	ID         string
	Tenant     string
	Name       string
	Scopes     []Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time // nil if never used
	RevokedAt  *time.Time // nil while active
}

// Active reports whether the key has not been revoked.
func (k Key) Active() bool { return k.RevokedAt == nil }

// Keys creates, lists and revokes API keys in the meta store. It is safe for
// concurrent use.
type Keys struct {
	db  *sql.DB
	now func() time.Time
}

// NewKeys returns Keys over store.
func NewKeys(store *meta.Store) *Keys {
	return &Keys{db: store.DB(), now: time.Now}
}

const keyColumns = `id, tenant_id, name, scopes, created_at, last_used_at, revoked_at`

// Create makes a key for tenantID with the given scopes and returns it with
// its secret. The secret is not stored and cannot be retrieved again. The
// tenant must exist (ErrUnknownTenant); scopes must be valid and non-empty
// (ErrInvalidScope).
func (k *Keys) Create(ctx context.Context, tenantID, name string, scopes []Scope) (Key, string, error) {
	if err := tenant.Validate(tenantID); err != nil {
		return Key{}, "", err
	}
	scopes, err := normalizeScopes(scopes)
	if err != nil {
		return Key{}, "", err
	}
	id, err := newKeyID()
	if err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	secret, err := newSecret()
	if err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	created := time.UnixMilli(k.now().UnixMilli())
	key := Key{ID: id, Tenant: tenantID, Name: name, Scopes: scopes, CreatedAt: created}

	tx, err := k.db.BeginTx(ctx, nil)
	if err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	ok, err := tenantExists(ctx, tx, tenantID)
	if err != nil {
		return Key{}, "", err
	}
	if !ok {
		return Key{}, "", unknownTenantError(tenantID)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, tenantID, name, FormatScopes(scopes), hashHex(hashSecret(secret)), created.UnixMilli()); err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	return key, secret, nil
}

// List returns every key, active and revoked, oldest first.
func (k *Keys) List(ctx context.Context) ([]Key, error) {
	rows, err := k.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		key, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// Revoke marks key id revoked; requests with it fail from then on (within the
// Authenticator's cache lifetime). Revoking a revoked key is a no-op. An
// unknown id is ErrKeyNotFound.
func (k *Keys) Revoke(ctx context.Context, id string) error {
	res, err := k.db.ExecContext(ctx,
		`UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
		k.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("revoke key %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke key %q: %w", id, err)
	} else if n == 1 {
		return nil
	}
	var one int
	err = k.db.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %q (see 'mirador keys list')", ErrKeyNotFound, id)
	case err != nil:
		return fmt.Errorf("revoke key %q: %w", id, err)
	}
	return nil // already revoked
}

// AnyActive reports whether at least one key is not revoked, which is what
// turns authentication on.
func (k *Keys) AnyActive(ctx context.Context) (bool, error) {
	var one int
	err := k.db.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1`).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check for active keys: %w", err)
	}
	return true, nil
}

// byHash returns the key, active or revoked, whose secret hashes to hash.
func (k *Keys) byHash(ctx context.Context, hash string) (Key, bool, error) {
	row := k.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE secret_hash = $1`, hash)
	key, err := scanKey(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Key{}, false, nil
	case err != nil:
		return Key{}, false, fmt.Errorf("look up key: %w", err)
	}
	return key, true, nil
}

// touch records that key id was used at at. It never moves last_used_at back.
func (k *Keys) touch(ctx context.Context, id string, at time.Time) error {
	ms := at.UnixMilli()
	_, err := k.db.ExecContext(ctx,
		`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
		ms, id)
	if err != nil {
		return fmt.Errorf("record use of key %q: %w", id, err)
	}
	return nil
}

func scanKey(row interface{ Scan(...any) error }) (Key, error) {
	var key Key
	var scopes string
	var created int64
	var lastUsed, revoked sql.NullInt64
	if err := row.Scan(&key.ID, &key.Tenant, &key.Name, &scopes, &created, &lastUsed, &revoked); err != nil {
		return Key{}, err
	}
	key.Scopes = splitStoredScopes(scopes)
	key.CreatedAt = time.UnixMilli(created)
	key.LastUsedAt = msPtr(lastUsed)
	key.RevokedAt = msPtr(revoked)
	return key, nil
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64)
	return &t
}
