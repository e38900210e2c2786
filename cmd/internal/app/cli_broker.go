package app

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
)

// brokerSecretEnv carries the CLI's client secret: never a flag, because
// argv is visible to every process on the machine (azure/login's and
// jfrog's mistake).
const brokerSecretEnv = "OIDC_EXCHANGE_BROKER_CLIENT_SECRET"

func runBroker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "broker", "Exchange the CI token at an RFC 8693 token endpoint and print the issued token.\n"+
		"The client secret, if any, is read from $"+brokerSecretEnv+" or --client-secret-file, never from argv.\n"+
		"Example: oidc-exchange broker --url https://broker.example/token --audience https://broker.example --format json")
	var tf tokenFlags
	tf.register(fs)
	var c broker.Config
	var audiences, resources, extra, expect multiFlag
	var format, requestFormat, clientAuth, secretFile, auditLog string
	var timeout time.Duration
	fs.StringVar(&c.URL, "url", "", "the broker's token endpoint (https; http only on loopback)")
	fs.StringVar(&c.Discovery, "discovery", "", "issuer URL whose metadata names the token endpoint (instead of --url)")
	fs.StringVar(&tf.audience, "audience", "", "audience to request from the CI platform: the broker's own (required)")
	fs.Var(&audiences, "broker-audience", "audience parameter of the exchange (repeatable)")
	fs.Var(&resources, "resource", "resource parameter of the exchange, an absolute URI (repeatable)")
	fs.StringVar(&c.Scope, "scope", "", "scope parameter of the exchange")
	fs.StringVar(&c.RequestedTokenType, "requested-token-type", broker.TokenTypeAccessToken, "requested_token_type")
	fs.StringVar(&c.SubjectTokenType, "subject-token-type", broker.TokenTypeJWT, "subject_token_type (jwt or id_token URN)")
	fs.StringVar(&requestFormat, "request-format", string(broker.FormatForm), "form, json or json-camel")
	fs.StringVar(&c.ClientID, "client-id", "", "client id")
	fs.StringVar(&secretFile, "client-secret-file", "", "file holding the client secret")
	fs.StringVar(&clientAuth, "client-auth", "", "client_secret_basic (default with a secret), client_secret_post or none")
	fs.Var(&extra, "extra-param", "extra key=value parameter (repeatable), e.g. connector_id=github-actions")
	fs.StringVar(&c.ExportEnv, "export-env", broker.DefaultExportEnv, "variable name for the token in --format env")
	fs.StringVar(&format, "format", string(shell.FormatJSON), "output format: json or env")
	fs.IntVar(&c.RetryMaxAttempts, "retry-max-attempts", 3, "attempts for transient failures")
	fs.BoolVar(&c.DisableRetry, "disable-retry", false, "never retry")
	fs.Var(&expect, "expect-claim", "claim=pattern the token must match before it is sent (repeatable)")
	fs.StringVar(&auditLog, "audit-log", "", "append the audit record to this file")
	fs.DurationVar(&timeout, "timeout", exchange.DefaultRunBudget, "overall time limit of the run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(format)
	if err != nil {
		return err
	}
	if sf != shell.FormatJSON && sf != shell.FormatEnv {
		return exchange.InputError("format", "the broker command prints json or env")
	}
	if tf.audience == "" {
		return exchange.InputError("audience", "is required: request the broker's own audience, so a token minted for a cloud cannot be replayed to it")
	}
	secret := e.getenv(brokerSecretEnv)
	if secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return exchange.InputError("client-secret-file", "%v", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	c.ClientSecret = exchange.NewSecret(secret)
	c.Audiences, c.Resources = audiences, resources
	c.RequestFormat = broker.RequestFormat(requestFormat)
	c.ClientAuth = broker.ClientAuth(clientAuth)
	if c.ExtraParams, err = broker.ParseExtraParams(strings.Join(extra, "\n")); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return runProvider(ctx, e, &tf, expect, timeout, auditLog, providers.Broker, providers.Config{Broker: c},
		&shell.Renderer{Format: sf, W: e.stdout})
}
