package main

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	ldapbackend "github.com/scimbridge/scimbridge/backends/ldap"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// backendTypes is the explicit map from a backend block's type to its
// implementation.
func backendTypes() map[string]config.BackendType {
	return map[string]config.BackendType{
		"sql": {
			Decode: func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics) {
				return sqlbackend.DecodeConfig(body, ectx)
			},
			Open: func(ctx context.Context, cfg any, log hclog.Logger) (backends.Backend, error) {
				return sqlbackend.New(ctx, cfg.(*sqlbackend.Config), log)
			},
		},
		"ldap": {
			Decode: func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics) {
				return ldapbackend.DecodeConfig(body, ectx)
			},
			Open: func(ctx context.Context, cfg any, log hclog.Logger) (backends.Backend, error) {
				return ldapbackend.New(ctx, cfg.(*ldapbackend.Config), log)
			},
		},
	}
}
