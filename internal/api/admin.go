package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/tenant"
)

type tenantJSON struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

type keyJSON struct {
	ID         string       `json:"id"`
	Tenant     string       `json:"tenant"`
	Name       string       `json:"name"`
	Scopes     []auth.Scope `json:"scopes"`
	CreatedAt  time.Time    `json:"created_at"`
	LastUsedAt *time.Time   `json:"last_used_at"`
	RevokedAt  *time.Time   `json:"revoked_at"`
	Secret     string       `json:"secret,omitempty"`
}

func toKeyJSON(k auth.Key) keyJSON {
	return keyJSON{ID: k.ID, Tenant: k.Tenant, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func (o Options) whoami() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := o.Authenticator.Authenticate(r)
		if err != nil {
			auth.WriteError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"tenant": p.Tenant, "key_id": p.KeyID, "scopes": p.Scopes, "anonymous": p.Anonymous})
	})
}

func (o Options) listTenants() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, err := o.Tenants.List(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "list tenants: %v", err)
			return
		}
		out := make([]tenantJSON, 0, len(ts))
		for _, t := range ts {
			out = append(out, tenantJSON{ID: t.ID, CreatedAt: t.CreatedAt})
		}
		writeData(w, http.StatusOK, out)
	})
}

func (o Options) createTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID string `json:"id"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		switch err := o.Tenants.Create(r.Context(), req.ID); {
		case errors.Is(err, tenant.ErrInvalidID):
			writeError(w, http.StatusBadRequest, "%v", err)
		case errors.Is(err, auth.ErrTenantExists):
			writeError(w, http.StatusConflict, "%v", err)
		case err != nil:
			writeError(w, http.StatusInternalServerError, "create tenant: %v", err)
		default:
			writeData(w, http.StatusCreated, tenantJSON{ID: req.ID, CreatedAt: time.Now().UTC()})
		}
	})
}

func (o Options) listKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := o.Keys.List(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "list keys: %v", err)
			return
		}
		out := make([]keyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, toKeyJSON(k))
		}
		writeData(w, http.StatusOK, out)
	})
}

func (o Options) createKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Tenant string       `json:"tenant"`
			Name   string       `json:"name"`
			Scopes []auth.Scope `json:"scopes"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		if req.Tenant == "" {
			req.Tenant = tenant.Default
		}
		k, secret, err := o.Keys.Create(r.Context(), req.Tenant, req.Name, req.Scopes)
		switch {
		case errors.Is(err, auth.ErrUnknownTenant), errors.Is(err, auth.ErrInvalidScope), errors.Is(err, tenant.ErrInvalidID):
			writeError(w, http.StatusBadRequest, "%v", err)
		case err != nil:
			writeError(w, http.StatusInternalServerError, "create key: %v", err)
		default:
			out := toKeyJSON(k)
			out.Secret = secret
			writeData(w, http.StatusCreated, out)
		}
	})
}

func (o Options) revokeKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := o.Keys.Revoke(r.Context(), id)
		switch {
		case errors.Is(err, auth.ErrKeyNotFound):
			writeError(w, http.StatusNotFound, "%v", err)
			return
		case err != nil:
			writeError(w, http.StatusInternalServerError, "revoke key: %v", err)
			return
		}
		keys, err := o.Keys.List(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "list keys: %v", err)
			return
		}
		for _, k := range keys {
			if k.ID == id {
				writeData(w, http.StatusOK, toKeyJSON(k))
				return
			}
		}
		writeError(w, http.StatusNotFound, "key %s vanished after revocation", id)
	})
}
