package broker

import (
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// EnvClientSecret carries the client secret when the input is empty, and
// in the CLI, which never takes a secret as a flag: argv is visible to
// every process on the machine.
const EnvClientSecret = "OIDC_EXCHANGE_BROKER_CLIENT_SECRET"

// Inputs declares every setting of the provider once: the action reads
// its inputs from this table, the CLI builds its flags and help from it,
// and tests hold action.yml and the README against it.
//
// It is a function rather than a variable so that nothing is allocated
// at package init in runs that never read settings.
func Inputs() []input.Input[Config] {
	return append([]input.Input[Config]{
		{Spec: input.Spec{Name: "broker-url", Flag: "url",
			Doc: "the RFC 8693 token endpoint, https (http only on loopback); exactly one of it or the discovery URL"},
			Set: input.ToString(func(c *Config) *string { return &c.URL })},
		{Spec: input.Spec{Name: "broker-discovery", Flag: "discovery",
			Doc: "issuer URL whose oauth-authorization-server or openid-configuration metadata names the token endpoint"},
			Set: input.ToString(func(c *Config) *string { return &c.Discovery })},
		{Spec: input.Spec{Name: "broker-audience", Flag: "broker-audience", Kind: input.List,
			Doc: "audience parameters of the exchange"},
			Set: input.ToList(func(c *Config) *[]string { return &c.Audiences })},
		{Spec: input.Spec{Name: "broker-resource", Flag: "resource", Kind: input.List,
			Doc: "resource parameters of the exchange, absolute URIs"},
			Set: input.ToList(func(c *Config) *[]string { return &c.Resources })},
		{Spec: input.Spec{Name: "broker-scope", Flag: "scope",
			Doc: "scope parameter of the exchange"},
			Set: input.ToString(func(c *Config) *string { return &c.Scope })},
		{Spec: input.Spec{Name: "requested-token-type", Flag: "requested-token-type", Default: TokenTypeAccessToken,
			Doc: "requested_token_type; a refresh token is refused, being long-lived"},
			Set: input.ToString(func(c *Config) *string { return &c.RequestedTokenType })},
		{Spec: input.Spec{Name: "subject-token-type", Flag: "subject-token-type", Default: TokenTypeJWT,
			Doc: "subject_token_type of the CI token, the jwt or the id_token URN"},
			Set: input.ToString(func(c *Config) *string { return &c.SubjectTokenType })},
		{Spec: input.Spec{Name: "broker-request-format", Flag: "request-format", Default: string(FormatForm),
			Doc: "form (RFC 8693), json (snake_case JSON body) or json-camel (camelCase JSON body)"},
			Set: func(c *Config, v string) error { c.RequestFormat = RequestFormat(v); return nil }},
		{Spec: input.Spec{Name: "broker-client-id", Flag: "client-id",
			Doc: "client id, when the broker authenticates clients"},
			Set: input.ToString(func(c *Config) *string { return &c.ClientID })},
		{Spec: input.Spec{Name: "broker-client-secret", FileFlag: "client-secret-file", Env: []string{EnvClientSecret}, Secret: true,
			Doc: "client secret, sent as client_secret_basic (default) or client_secret_post; masked"},
			Set: func(c *Config, v string) error { c.ClientSecret = exchange.NewSecret(v); return nil }},
		{Spec: input.Spec{Name: "broker-client-auth", Flag: "client-auth",
			Doc: "client_secret_basic (default with a secret), client_secret_post or none"},
			Set: func(c *Config, v string) error { c.ClientAuth = ClientAuth(v); return nil }},
		{Spec: input.Spec{Name: "broker-extra-params", Flag: "extra-param", Kind: input.Lines,
			Doc: "extra key=value parameters, one per line, e.g. connector_id=github-actions"},
			Set: input.ToString(func(c *Config) *string { return &c.ExtraParams })},
		{Spec: input.Spec{Name: "export-env", Flag: "export-env", Default: DefaultExportEnv,
			Doc: "name of the environment variable that carries the token to later steps (and --format env)"},
			Set: input.ToString(func(c *Config) *string { return &c.ExportEnv })},
	}, upstream.RetryInputs("5xx, 408, 429, network",
		func(c *Config) *int { return &c.RetryMaxAttempts },
		func(c *Config) *bool { return &c.DisableRetry })...)
}
