package aws

import (
	"strconv"
	"strings"

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
		{Spec: input.Spec{Name: "role-to-assume", Flag: "role-arn",
			Doc: "ARN of the IAM role to assume, arn:aws:iam::<account>:role/<name> (required unless roles is set)"},
			Set: input.ToString(func(c *Config) *string { return &c.RoleARN })},
		{Spec: input.Spec{Name: "roles", Flag: "role", Kind: input.Lines,
			Doc: "several roles from one token, one profile each: profile=role-arn per line, optionally > role-arn hops chained from it"},
			Set: func(c *Config, v string) error { c.Roles = strings.Split(v, "\n"); return nil }},
		{Spec: input.Spec{Name: "aws-profile", Flag: "profile",
			Doc: "write the credentials to this profile of an AWS config/credentials file pair (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) instead of the environment"},
			Set: input.ToString(func(c *Config) *string { return &c.Profile })},
		{Spec: input.Spec{Name: "overwrite-aws-profile", Flag: "overwrite-profile", Kind: input.Bool, Default: "false",
			Doc: "replace a profile of the same name that is already in the files (otherwise an error)"},
			Set: input.ToBool(func(c *Config) *bool { return &c.OverwriteProfile })},
		{Spec: input.Spec{Name: "refresh", Kind: input.Bool, Default: "false",
			Doc: "write a profile whose credential_process fetches fresh credentials whenever an SDK needs them, for jobs longer than any session; exports no keys"},
			Set: input.ToBool(func(c *Config) *bool { return &c.Refresh })},
		{Spec: input.Spec{Name: "role-chaining", Kind: input.Bool, Default: "false",
			Doc: "assume role-to-assume with sts:AssumeRole from the session an earlier step exported (AWS_ACCESS_KEY_ID…), at most 1 hour"},
			Set: input.ToBool(func(c *Config) *bool { return &c.RoleChaining })},
		{Spec: input.Spec{Name: "role-external-id", Flag: "external-id",
			Doc: "external id sent with sts:AssumeRole when chaining roles"},
			Set: input.ToString(func(c *Config) *string { return &c.RoleExternalID })},
		{Spec: input.Spec{Name: "role-skip-session-tagging", Kind: input.Bool, Default: "false",
			Doc: "accepted for compatibility: sessions are never tagged (web identity takes tags only from the token)"},
			Set: input.ToBool(func(c *Config) *bool { return &c.SkipSessionTagging })},
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
		{Spec: input.Spec{Name: "output-env-credentials", Kind: input.Bool,
			Doc: "export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to later steps (default true, unless the credentials go to profiles)"},
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
	}, append(upstream.RetryInputs("Throttling, IDPCommunicationError, 5xx, network",
		func(c *Config) *int { return &c.RetryMaxAttempts },
		func(c *Config) *bool { return &c.DisableRetry }),
		refusedInputs()...)...)
}

// refusedInputs are configure-aws-credentials inputs that this provider
// does not take. They are declared so that a workflow that sets one fails
// with the reason and what to do instead; left undeclared, the runner
// would only warn and the step would run without the setting.
func refusedInputs() []input.Input[Config] {
	const storedKeys = "oidc-exchange exchanges the job's OIDC token and never takes stored keys; " +
		"delete the secret, grant `permissions: id-token: write`, and let the role trust GitHub's OIDC provider " +
		"(`oidc-exchange plan` writes the trust policy)"
	const noTags = "a web-identity session takes tags only from the token's https://aws.amazon.com/tags claim, " +
		"which GitHub's token does not carry (configure-aws-credentials drops this input with OIDC too); " +
		"remove it, and scope the trust policy with the token's claims instead"
	refused := []input.Spec{
		{Name: "aws-access-key-id", Secret: true, Refused: storedKeys},
		{Name: "aws-secret-access-key", Secret: true, Refused: storedKeys},
		{Name: "aws-session-token", Secret: true, Refused: storedKeys},
		{Name: "custom-tags", Refused: noTags},
		{Name: "transitive-tag-keys", Kind: input.List, Refused: noTags},
		{Name: "use-existing-credentials", Kind: input.Bool, Default: "false",
			Refused: "every run exchanges a fresh, verified token, so a step never runs as whoever held the environment's keys before; remove it"},
		{Name: "special-characters-workaround", Kind: input.Bool, Default: "false",
			Refused: "credentials are exported with a random heredoc delimiter, so no character of a secret can break a later step; remove it"},
		{Name: "force-skip-oidc", Kind: input.Bool, Default: "false",
			Refused: "oidc-exchange always uses the job's OIDC token; for instance-profile or other ambient credentials, do not use this action"},
	}
	out := make([]input.Input[Config], 0, len(refused))
	for _, s := range refused {
		s.Doc = "not supported: " + s.Refused
		out = append(out, input.Input[Config]{Spec: s})
	}
	return out
}
