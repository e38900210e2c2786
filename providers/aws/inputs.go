package aws

import (
	"strconv"

	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Inputs declares every setting of the provider once: the action reads
// its inputs from this table, the CLI builds its flags and help from it,
// and tests hold action.yml and the README against it. The names are
// configure-aws-credentials' inputs, so a workflow can switch actions
// without renaming anything.
//
// It is a function rather than a variable so that nothing is allocated
// at package init in runs that never read settings.
func Inputs() []input.Input[Config] {
	return append([]input.Input[Config]{
		{Spec: input.Spec{Name: "aws-region", Flag: "region", Env: []string{EnvRegion}, Required: true,
			Doc: "AWS region of the STS endpoint; exported as AWS_REGION and AWS_DEFAULT_REGION"},
			Set: input.ToString(func(c *Config) *string { return &c.Region })},
		{Spec: input.Spec{Name: "role-to-assume", Flag: "role-arn", Required: true,
			Doc: "ARN of the IAM role to assume, arn:aws:iam::<account>:role/<name>"},
			Set: input.ToString(func(c *Config) *string { return &c.RoleARN })},
		{Spec: input.Spec{Name: "role-session-name", Flag: "session-name",
			Doc: "role session name, 2-64 of [\\w+=,.@-] (default GitHubActions-<run_id>-<run_attempt>)"},
			Set: input.ToString(func(c *Config) *string { return &c.SessionName })},
		{Spec: input.Spec{Name: "role-duration-seconds", Flag: "duration-seconds", Kind: input.Int, Default: strconv.Itoa(DefaultDurationSeconds),
			Doc: "session duration in seconds, 900 to 43200 (the role's MaxSessionDuration caps it)"},
			Set: input.ToInt(func(c *Config) *int { return &c.DurationSeconds })},
		{Spec: input.Spec{Name: "inline-session-policy", Flag: "inline-session-policy", Kind: input.Text,
			Doc: "inline session policy JSON that narrows the role's permissions"},
			Set: input.ToString(func(c *Config) *string { return &c.InlineSessionPolicy })},
		{Spec: input.Spec{Name: "managed-session-policies", Flag: "managed-session-policy", Kind: input.List,
			Doc: "managed policy ARNs that narrow the session's permissions, at most 10"},
			Set: input.ToList(func(c *Config) *[]string { return &c.ManagedSessionPolicies })},
		{Spec: input.Spec{Name: "mask-aws-account-id", Kind: input.Bool, Default: "false",
			Doc: "also mask the account id and the assumed-role ARN"},
			Set: input.ToBool(func(c *Config) *bool { return &c.MaskAccountID })},
		{Spec: input.Spec{Name: "output-credentials", Kind: input.Bool, Default: "false",
			Doc: "also set the credentials and aws-expiration as step outputs (masked)"},
			Set: input.ToBool(func(c *Config) *bool { return &c.OutputCredentials })},
		{Spec: input.Spec{Name: "output-env-credentials", Kind: input.Bool, Default: "true",
			Doc: "export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to later steps"},
			Set: input.ToBoolPtr(func(c *Config) **bool { return &c.OutputEnvCredentials })},
		{Spec: input.Spec{Name: "unset-current-credentials", Kind: input.Bool, Default: "false",
			Doc: "blank the five AWS variables for later steps, also when the exchange fails"},
			Set: input.ToBool(func(c *Config) *bool { return &c.UnsetCurrentCredentials })},
		{Spec: input.Spec{Name: "allowed-account-ids", Flag: "allowed-account-ids", Kind: input.List,
			Doc: "12-digit account ids the role must belong to, checked before anything is exported"},
			Set: input.ToList(func(c *Config) *[]string { return &c.AllowedAccountIDs })},
		{Spec: input.Spec{Name: "sts-endpoint", Flag: "sts-endpoint", Env: []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"},
			Doc: "STS endpoint URL, https (http only on loopback); default regional"},
			Set: input.ToString(func(c *Config) *string { return &c.STSEndpoint })},
	}, upstream.RetryInputs("Throttling, IDPCommunicationError, 5xx, network",
		func(c *Config) *int { return &c.RetryMaxAttempts },
		func(c *Config) *bool { return &c.DisableRetry })...)
}
