package gcp

import (
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Inputs declares every setting of the provider once: the action reads
// its inputs from this table, the CLI builds its flags and help from it,
// and tests hold action.yml and the README against it. The names are
// google-github-actions/auth's inputs in kebab-case.
//
// It is a function rather than a variable so that nothing is allocated
// at package init in runs that never read settings.
func Inputs() []input.Input[Config] {
	return append([]input.Input[Config]{
		{Spec: input.Spec{Name: "workload-identity-provider", Flag: "workload-identity-provider", Required: true,
			Doc: "full resource name of the provider, projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>"},
			Set: input.ToString(func(c *Config) *string { return &c.WorkloadIdentityProvider })},
		{Spec: input.Spec{Name: "service-account", Flag: "service-account",
			Doc: "service account email to impersonate; without it the federated token is used directly"},
			Set: input.ToString(func(c *Config) *string { return &c.ServiceAccount })},
		{Spec: input.Spec{Name: "token-format", Flag: "token-format", Default: string(TokenFormatAccessToken),
			Doc: "access_token, id_token or none"},
			Set: func(c *Config, v string) error { c.TokenFormat = TokenFormat(v); return nil }},
		{Spec: input.Spec{Name: "access-token-lifetime", Flag: "access-token-lifetime", Default: "3600s",
			Doc: "lifetime of an impersonated access token, e.g. 3600s; above 1h the organisation policy iam.allowServiceAccountCredentialLifetimeExtension must allow it"},
			Set: input.ToString(func(c *Config) *string { return &c.AccessTokenLifetime })},
		{Spec: input.Spec{Name: "access-token-scopes", Flag: "access-token-scope", Kind: input.List, Default: DefaultScope,
			Doc: "OAuth scopes of the access token"},
			Set: input.ToList(func(c *Config) *[]string { return &c.AccessTokenScopes })},
		{Spec: input.Spec{Name: "access-token-subject", Flag: "access-token-subject",
			Doc: "user to act as through domain-wide delegation (signJwt plus a jwt-bearer grant)"},
			Set: input.ToString(func(c *Config) *string { return &c.AccessTokenSubject })},
		{Spec: input.Spec{Name: "id-token-audience", Flag: "id-token-audience",
			Doc: "audience of the ID token, for token-format id_token"},
			Set: input.ToString(func(c *Config) *string { return &c.IDTokenAudience })},
		{Spec: input.Spec{Name: "id-token-include-email", Flag: "id-token-include-email", Kind: input.Bool, Default: "false",
			Doc: "include the service account email in the ID token"},
			Set: input.ToBool(func(c *Config) *bool { return &c.IDTokenIncludeEmail })},
		{Spec: input.Spec{Name: "access-boundary", Flag: "access-boundary", Kind: input.Text,
			Doc: "Credential Access Boundary that downscopes the token, as JSON or lines bucket=NAME:role=ROLE[:condition=CEL]"},
			Set: input.ToString(func(c *Config) *string { return &c.AccessBoundary })},
		{Spec: input.Spec{Name: "create-credentials-file", Kind: input.Bool, Default: "true",
			Doc: "write an external_account credentials file so client libraries and gcloud refresh tokens by themselves"},
			Set: input.ToBoolPtr(func(c *Config) **bool { return &c.CreateCredentialsFile })},
		{Spec: input.Spec{Name: "export-environment-variables", Kind: input.Bool, Default: "true",
			Doc: "export the credentials file's path and the project id to later steps"},
			Set: input.ToBoolPtr(func(c *Config) **bool { return &c.ExportEnvironmentVariables })},
		{Spec: input.Spec{Name: "project-id", Flag: "project-id",
			Doc: "project id; default derived from the service account"},
			Set: input.ToString(func(c *Config) *string { return &c.ProjectID })},
		{Spec: input.Spec{Name: "universe", Flag: "universe", Default: DefaultUniverse,
			Doc: "universe domain, for sovereign clouds"},
			Set: input.ToString(func(c *Config) *string { return &c.Universe })},
		{Spec: input.Spec{Name: "delegates", Flag: "delegate", Kind: input.List,
			Doc: "impersonation chain of service account emails, each allowed to impersonate the next"},
			Set: input.ToList(func(c *Config) *[]string { return &c.Delegates })},
		{Spec: input.Spec{Name: "sts-endpoint", Flag: "sts-endpoint",
			Doc: "STS endpoint URL (default https://sts.<universe>)"},
			Set: input.ToString(func(c *Config) *string { return &c.STSEndpoint })},
		{Spec: input.Spec{Name: "iamcredentials-endpoint", Flag: "iamcredentials-endpoint",
			Doc: "IAM Credentials endpoint URL (default https://iamcredentials.<universe>)"},
			Set: input.ToString(func(c *Config) *string { return &c.IAMCredentialsEndpoint })},
		{Spec: input.Spec{Name: "oauth2-endpoint", Flag: "oauth2-endpoint",
			Doc: "OAuth 2.0 endpoint URL for domain-wide delegation (default https://oauth2.<universe>)"},
			Set: input.ToString(func(c *Config) *string { return &c.OAuth2Endpoint })},
	}, upstream.RetryInputs("5xx, 408, 429, network",
		func(c *Config) *int { return &c.RetryMaxAttempts },
		func(c *Config) *bool { return &c.DisableRetry })...)
}
