// Package kinds is the explicit map from a backend block's type ("sql",
// "ldap") to its implementation. The command and the tests that load
// example configurations share it.
package kinds

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	ldapbackend "github.com/scimbridge/scimbridge/backends/ldap"
	restbackend "github.com/scimbridge/scimbridge/backends/rest"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// Types returns the backend types a configuration file may use.
func Types() map[string]backends.Kind {
	return map[string]backends.Kind{
		"sql": {
			Decode: func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics) {
				return sqlbackend.DecodeConfig(body, ectx)
			},
			Open: func(ctx context.Context, cfg any, log hclog.Logger) (backends.Backend, error) {
				return sqlbackend.New(ctx, cfg.(*sqlbackend.Config), log)
			},
			NativeTime: sqlbackend.NativeTime,
		},
		"ldap": {
			Decode: func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics) {
				return ldapbackend.DecodeConfig(body, ectx)
			},
			Open: func(ctx context.Context, cfg any, log hclog.Logger) (backends.Backend, error) {
				return ldapbackend.New(ctx, cfg.(*ldapbackend.Config), log)
			},
			NativeTime: ldapbackend.NativeTime,
		},
		"rest": {
			Decode: func(body hcl.Body, ectx *hcl.EvalContext) (any, hcl.Diagnostics) {
				return restbackend.DecodeConfig(body, ectx)
			},
			Open: func(ctx context.Context, cfg any, log hclog.Logger) (backends.Backend, error) {
				return restbackend.New(ctx, cfg.(*restbackend.Config), log)
			},
			NativeTime: restbackend.NativeTime,
		},
	}
}
