package aws

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Defaults and limits. The numbers are STS's own, so that a bad value fails
// in Validate, before a token is fetched, rather than as a ValidationError
// after a round trip.
const (
	// DefaultDurationSeconds is the session length when none is given,
	// as in configure-aws-credentials and IAM's default MaxSessionDuration.
	DefaultDurationSeconds = 3600
	// MinDurationSeconds and MaxDurationSeconds are STS's bounds; a role's
	// MaxSessionDuration may lower the upper one, which only STS knows.
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
	// DefaultRetryMaxAttempts counts the first call; every provider
	// shares it.
	DefaultRetryMaxAttempts = httpclient.DefaultMaxAttempts
	// MaxManagedSessionPolicies is STS's limit on PolicyArns.
	MaxManagedSessionPolicies = 10
	// MaxInlineSessionPolicyLength is STS's limit on the Policy
	// parameter, in characters of the compacted JSON we send.
	MaxInlineSessionPolicyLength = 2048
)

// Config holds the settings of the AWS provider. The user settings are
// named after the inputs of aws-actions/configure-aws-credentials, so a
// workflow can switch actions without renaming anything; each field's
// comment names its input.
//
// Zero values mean the documented defaults. OutputEnvCredentials is a
// pointer because its default, true, is not Go's zero value: nil means
// true, so a Config{} filled with only the required fields exports the
// credentials, as workflows written for that action expect. A pointer was chosen over a
// DefaultConfig constructor because a forgotten constructor call would
// silently export nothing.
type Config struct {
	// Region (aws-region) is required. It selects the regional STS
	// endpoint and is exported as AWS_REGION and AWS_DEFAULT_REGION.
	Region string
	// RoleARN (role-to-assume) is the full ARN of the role. A bare role
	// name is refused: web identity has no source credentials whose
	// account could complete it.
	RoleARN string
	// SessionName (role-session-name) is used as given; it must be 2–64
	// characters of [\w+=,.@-]. When empty, the name is rendered from the
	// token's claims with [DefaultSessionNameTemplate], so CloudTrail
	// entries lead back to the workflow run.
	SessionName string
	// DurationSeconds (role-duration-seconds) is the session length,
	// 900–43200; 0 means [DefaultDurationSeconds].
	DurationSeconds int
	// InlineSessionPolicy (inline-session-policy) is an optional IAM policy
	// JSON object further restricting the session. It is sent compacted.
	InlineSessionPolicy string
	// ManagedSessionPolicies (managed-session-policies) are up to ten
	// managed policy ARNs further restricting the session.
	ManagedSessionPolicies []string
	// MaskAccountID (mask-aws-account-id) marks the account id and the
	// session ARN as sensitive, so they are masked and kept out of logs.
	MaskAccountID bool
	// OutputCredentials (output-credentials) also sets the credentials
	// and their expiration as step outputs.
	OutputCredentials bool
	// OutputEnvCredentials (output-env-credentials) exports the
	// credentials as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN. nil means true.
	OutputEnvCredentials *bool
	// AllowedAccountIDs (allowed-account-ids) lists the 12-digit accounts
	// the role may belong to; empty allows any. The check runs before
	// anything is exported, so a wrong account's session never reaches a
	// later step.
	AllowedAccountIDs []string
	// STSEndpoint (sts-endpoint) replaces the regional endpoint, e.g. for
	// a VPC endpoint. It must be https (plain http only on loopback).
	STSEndpoint string
	// RetryMaxAttempts (retry-max-attempts) bounds the calls to STS for
	// transient failures, the first included; 0 means
	// [DefaultRetryMaxAttempts]. The whole loop is also capped at about
	// 20 seconds, so a large value cannot outlive the OIDC token.
	RetryMaxAttempts int
	// DisableRetry (disable-retry) makes exactly one call.
	DisableRetry bool
	// UnsetCurrentCredentials (unset-current-credentials) blanks the
	// variables of [CleanupVariables] for later steps, also when the
	// exchange fails. The CI edge does it; the provider ignores it.
	UnsetCurrentCredentials bool

	// HTTPClient is the hardened client from internal/httpclient; nil
	// means a new one with the default limits. Infrastructure, not a user
	// setting.
	HTTPClient *http.Client
	// Logger receives debug and retry messages, never secrets; nil
	// discards them. Infrastructure, not a user setting.
	Logger *slog.Logger
	// Now is the clock that judges the answer's Expiration; nil means
	// time.Now.
	Now func() time.Time
}

// outputEnvCredentials resolves the nil default.
func (c *Config) outputEnvCredentials() bool {
	return c.OutputEnvCredentials == nil || *c.OutputEnvCredentials
}

// DefaultAudience is the audience AWS expects in the token for region:
// the one configure-aws-credentials requests, with the China partition's
// own domain for cn-* regions.
func DefaultAudience(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "sts.amazonaws.com.cn"
	}
	return "sts.amazonaws.com"
}

var (
	regionRE      = lazyre.New(`^[a-z0-9-]+$`)
	accountIDRE   = lazyre.New(`^[0-9]{12}$`)
	sessionNameRE = lazyre.New(`^[\w+=,.@-]{2,64}$`)
	// IAM role and policy names: 1–64 (roles) or 1–128 (policies)
	// characters of [\w+=,.@-], optionally under a /path/.
	roleResourceRE   = lazyre.New(`^role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)
	policyResourceRE = lazyre.New(`^policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,128}$`)
)

// Validate checks every user setting without any network call and reports
// every problem at once, so a workflow needs one fix-and-rerun, not one per
// input. Errors wrap [exchange.ErrInvalidInput] and name the input to fix.
func (c *Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolved holds what validation parsed, so that nothing parses it again.
type resolved struct {
	// role is the parsed RoleARN.
	role arn.ARN
	// inline is the compacted InlineSessionPolicy, as sent.
	inline string
}

// resolve validates c like [Config.Validate] and returns what it parsed.
func (c *Config) resolve() (resolved, error) {
	var r resolved
	var errs []error
	// errors.Join drops the nils: every check adds its result.
	add := func(err error) { errs = append(errs, err) }
	add(ValidateRegion(c.Region))
	var err error
	r.role, err = parseRoleARN(c.RoleARN)
	add(err)
	if c.SessionName != "" && !sessionNameRE().MatchString(c.SessionName) {
		add(exchange.InputError("role-session-name", "%q must be 2–64 characters of letters, digits and +=,.@_-; leave it empty to name the session after the workflow run", exchange.Sanitize(c.SessionName)))
	}
	if d := c.DurationSeconds; d != 0 && (d < MinDurationSeconds || d > MaxDurationSeconds) {
		add(exchange.InputError("role-duration-seconds", "%d is outside %d–%d; the role's MaxSessionDuration may lower the maximum further", d, MinDurationSeconds, MaxDurationSeconds))
	}
	r.inline, err = compactPolicy(c.InlineSessionPolicy)
	add(err)
	add(validatePolicyARNs(c.ManagedSessionPolicies))
	for _, id := range c.AllowedAccountIDs {
		if !accountIDRE().MatchString(id) {
			add(exchange.InputError("allowed-account-ids", "%q is not a 12-digit AWS account id", exchange.Sanitize(id)))
		}
	}
	if c.STSEndpoint != "" {
		_, err := upstream.ParseEndpoint("sts-endpoint", c.STSEndpoint, upstream.NoQuery)
		add(err)
	}
	if c.RetryMaxAttempts < 0 {
		add(exchange.InputError("retry-max-attempts", "%d must be at least 1 (use %s to make a single call)", c.RetryMaxAttempts, exchange.Setting("disable-retry")))
	}
	return r, errors.Join(errs...)
}

// ValidateRoleARN checks role-to-assume the way [Config.Validate] does,
// for callers that write the ARN somewhere instead of assuming it (migrate
// --role-arn).
func ValidateRoleARN(s string) error {
	_, err := parseRoleARN(s)
	return err
}

// ValidateRegion checks aws-region the way [Config.Validate] does.
func ValidateRegion(s string) error {
	switch {
	case s == "":
		return exchange.InputError("aws-region", "is required, e.g. us-east-1")
	case !regionRE().MatchString(s):
		return exchange.InputError("aws-region", "%q is not a region name; use lowercase letters, digits and dashes, e.g. us-east-1", exchange.Sanitize(s))
	}
	return nil
}

func parseRoleARN(s string) (arn.ARN, error) {
	const input = "role-to-assume"
	if s == "" {
		return arn.ARN{}, exchange.InputError(input, "is required, e.g. arn:aws:iam::111122223333:role/deploy")
	}
	if !arn.IsARN(s) {
		return arn.ARN{}, exchange.InputError(input, "%q is not an ARN; give the full role ARN (arn:aws:iam::<account>:role/<name>): with OIDC there are no source credentials whose account could complete a bare role name", s)
	}
	a, err := arn.Parse(s)
	switch {
	case err != nil:
		return arn.ARN{}, exchange.InputError(input, "%q is not a valid ARN: %v", s, err)
	case a.Partition == "" || a.Service != "iam" || a.Region != "":
		return arn.ARN{}, exchange.InputError(input, "%q is not an IAM ARN; want arn:<partition>:iam::<account>:role/<name>", s)
	case !accountIDRE().MatchString(a.AccountID):
		return arn.ARN{}, exchange.InputError(input, "%q does not have a 12-digit account id", s)
	case !roleResourceRE().MatchString(a.Resource):
		return arn.ARN{}, exchange.InputError(input, "%q does not name a role; want arn:%s:iam::%s:role/<name>", s, a.Partition, a.AccountID)
	}
	return a, nil
}

func validatePolicyARNs(arns []string) error {
	const input = "managed-session-policies"
	if len(arns) > MaxManagedSessionPolicies {
		return exchange.InputError(input, "%d policies given; STS accepts at most %d", len(arns), MaxManagedSessionPolicies)
	}
	seen := map[string]bool{}
	for _, s := range arns {
		a, err := arn.Parse(s)
		// AWS-managed policies have "aws" in place of an account id.
		if err != nil || a.Service != "iam" || a.Partition == "" || a.Region != "" ||
			(a.AccountID != "aws" && !accountIDRE().MatchString(a.AccountID)) || !policyResourceRE().MatchString(a.Resource) {
			return exchange.InputError(input, "%q is not a managed policy ARN; want e.g. arn:aws:iam::aws:policy/ReadOnlyAccess", s)
		}
		if seen[s] {
			return exchange.InputError(input, "%q is listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

// compactPolicy validates an inline session policy and returns it
// compacted, which is what is sent and fingerprinted: STS counts the
// characters, and whitespace in a YAML block scalar should not use them up.
func compactPolicy(policy string) (string, error) {
	const input = "inline-session-policy"
	if strings.TrimSpace(policy) == "" {
		return "", nil
	}
	if !json.Valid([]byte(policy)) {
		return "", exchange.InputError(input, "is not valid JSON")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(policy), &obj); err != nil {
		return "", exchange.InputError(input, `must be a JSON object like {"Version": "2012-10-17", "Statement": [...]}`)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(policy)); err != nil {
		return "", exchange.InputError(input, "is not valid JSON")
	}
	if buf.Len() > MaxInlineSessionPolicyLength {
		return "", exchange.InputError(input, "is %d characters once compacted; STS accepts at most %d", buf.Len(), MaxInlineSessionPolicyLength)
	}
	return buf.String(), nil
}

// WithInfrastructure returns c with the HTTP client and logger the program
// shares, for the registry.
func (c Config) WithInfrastructure(client *http.Client, logger *slog.Logger) Config {
	c.HTTPClient, c.Logger = client, logger
	return c
}
