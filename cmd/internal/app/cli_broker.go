package app

import (
	"context"

	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
)

func runBroker(ctx context.Context, e *env, args []string) error {
	c := newProviderCommand(e, providers.Broker, "Exchange the CI token at an RFC 8693 token endpoint and print the issued token.\n"+
		"The client secret, if any, is read from $"+broker.EnvClientSecret+" or --client-secret-file, never from argv.\n"+
		"Example: oidc-exchange broker --url https://broker.example/token --audience https://broker.example --format json",
		shell.FormatJSON, "json or env")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(c.format)
	if err != nil {
		return err
	}
	if sf != shell.FormatJSON && sf != shell.FormatEnv {
		return exchange.InputError("format", "the broker command prints json or env")
	}
	return c.run(ctx, nil, &shell.Renderer{Format: sf, W: e.stdout})
}
