package server

import (
	"context"
	"errors"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/miradorhq/mirador/internal/auth"
	"github.com/miradorhq/mirador/internal/tenant"
)

// grpcAuth authenticates gRPC calls with the same credentials as HTTP: the
// "authorization" (Bearer or Basic) and "x-scope-orgid" metadata, which
// OTLP exporters send from their configured headers.
func grpcAuth(a *auth.Authenticator, scope auth.Scope) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		md, _ := metadata.FromIncomingContext(ctx)
		for _, h := range []string{"Authorization", "X-Scope-OrgID"} {
			for _, v := range md.Get(h) {
				r.Header.Add(h, v)
			}
		}
		p, err := a.Authenticate(r)
		if err == nil && !p.Has(scope) {
			err = auth.ErrForbidden
		}
		if err != nil {
			return nil, status.Error(grpcCode(err), err.Error())
		}
		return handler(tenant.WithID(auth.WithPrincipal(ctx, p), p.Tenant), req)
	}
}

func grpcCode(err error) codes.Code {
	switch {
	case errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, auth.ErrInvalidCredentials):
		return codes.Unauthenticated
	case errors.Is(err, auth.ErrForbidden):
		return codes.PermissionDenied
	case errors.Is(err, auth.ErrUnknownTenant), errors.Is(err, tenant.ErrInvalidID):
		return codes.InvalidArgument
	}
	return codes.Internal
}
