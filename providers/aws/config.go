package aws

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
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
	// Profile (aws-profile) writes the credentials into this named profile
	// of an AWS config/credentials file pair instead of the environment
	// (keys are exported too only when OutputEnvCredentials is set to
	// true). Several steps and roles share the pair, so a job can hold
	// sessions of several roles side by side.
	Profile string
	// OverwriteProfile (overwrite-aws-profile) lets Profile replace a
	// profile of the same name that is already in the files; without it
	// an existing profile is an error, so one step cannot silently take
	// over another's profile.
	OverwriteProfile bool
	// Roles (roles) assumes several roles from one token in one step,
	// one profile each: lines "profile=role-arn", where the ARN may be
	// followed by "> role-arn" hops assumed from it (role chaining). It
	// replaces RoleARN and Profile; [Config.Parts] splits it.
	Roles []string
	// RoleChaining (role-chaining) assumes RoleARN with sts:AssumeRole
	// from SourceCredentials, the session an earlier step exported,
	// instead of with the token. The token is still verified: it names
	// the session and is what the audit record attributes the run to.
	RoleChaining bool
	// RoleExternalID (role-external-id) is sent with every sts:AssumeRole
	// call; web identity has no external id, so it needs role chaining.
	RoleExternalID string
	// SkipSessionTagging (role-skip-session-tagging) is accepted for
	// workflows that set it: this provider tags no session, which is what
	// it asks for.
	SkipSessionTagging bool
	// Refresh (refresh) writes a profile whose credential_process runs
	// CredentialProcess, so SDKs fetch fresh credentials whenever theirs
	// expire, for jobs that outlive any session. No keys are exported:
	// the profile holds no secret. The exchange still runs once in the
	// step, so a setup that cannot work fails there, not mid-job.
	Refresh bool
	// CredentialProcess renders the command line that refreshes the
	// profile of a role: a copy of this program and the settings of this
	// run as flags. cmd renders it; the provider only writes it.
	// Infrastructure.
	CredentialProcess func(roleARN string) string
	// SourceCredentials is the session role chaining starts from: the
	// keys an earlier step exported, which only cmd may read from the
	// environment. Infrastructure, not a user setting.
	SourceCredentials *SourceCredentials
	// UnsetCurrentCredentials (unset-current-credentials) blanks the
	// variables of [CleanupVariables] for later steps, also when the
	// exchange fails. The CI edge does it; the provider ignores it.
	UnsetCurrentCredentials bool

	// chain are the roles assumed after RoleARN with its session, from a
	// line of Roles.
	chain []string
	// ofRoles marks a part of Roles: one of several profiles, none of
	// which may claim AWS_PROFILE.
	ofRoles bool

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

// SourceCredentials are the keys of an existing session.
type SourceCredentials struct {
	AccessKeyID     exchange.Secret
	SecretAccessKey exchange.Secret
	SessionToken    exchange.Secret
}

// DefaultRefreshProfile is the profile refresh writes when neither
// aws-profile nor roles names one.
const DefaultRefreshProfile = "oidc-exchange"

// outputEnvCredentials resolves the nil default: true, unless the
// credentials go to a profile.
func (c *Config) outputEnvCredentials() bool {
	if c.OutputEnvCredentials != nil {
		return *c.OutputEnvCredentials
	}
	return c.Profile == "" && !c.Refresh
}

// profile is the profile written: the named one, or refresh's default.
func (c *Config) profile() string {
	if c.Profile == "" && c.Refresh {
		return DefaultRefreshProfile
	}
	return c.Profile
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
	// chain holds the roles assumed, in order, after role: role chaining.
	chain []arn.ARN
	// parts are the per-profile configs of Roles.
	parts []Config
}

// resolve validates c like [Config.Validate] and returns what it parsed.
func (c *Config) resolve() (resolved, error) {
	var r resolved
	var errs []error
	// errors.Join drops the nils: every check adds its result.
	add := func(err error) { errs = append(errs, err) }
	add(ValidateRegion(c.Region))
	var err error
	switch {
	case len(c.Roles) > 0:
		r.parts, err = c.parts()
		add(err)
		if c.RoleARN != "" || c.Profile != "" {
			add(exchange.InputError("roles", "names every role and its profile; remove %s and %s, or remove roles", exchange.Setting("role-to-assume"), exchange.Setting("aws-profile")))
		}
		if c.OutputCredentials {
			add(exchange.InputError("output-credentials", "has one set of outputs, and roles assumes several roles; the credentials are in the profiles"))
		}
		if c.RoleChaining {
			add(exchange.InputError("role-chaining", "starts from the session in the environment, which several roles cannot share with one token; chain inside roles with \"profile=first-role-arn > second-role-arn\""))
		}
	default:
		r.role, err = parseRoleARN(c.RoleARN)
		add(err)
		r.chain, err = parseChain(c.chain)
		add(err)
	}
	if c.Profile != "" {
		add(validateProfileName("aws-profile", c.Profile))
	}
	if c.OverwriteProfile && c.Profile == "" && len(c.Roles) == 0 {
		add(exchange.InputError("overwrite-aws-profile", "applies to the profile aws-profile names; set aws-profile, or remove it"))
	}
	chained := c.RoleChaining || len(r.chain) > 0 || slices.ContainsFunc(r.parts, func(p Config) bool { return len(p.chain) > 0 })
	if c.RoleExternalID != "" {
		if !chained {
			add(exchange.InputError("role-external-id", "is sent with sts:AssumeRole, and web identity has none; it applies with role-chaining or a chained role in roles (\"profile=role-arn > role-arn\"); remove it otherwise"))
		} else if n := len(c.RoleExternalID); n < 2 || n > 1224 || !externalIDRE().MatchString(c.RoleExternalID) {
			add(exchange.InputError("role-external-id", "must be 2–1224 characters of letters, digits and +=,.@:/-"))
		}
	}
	if chained && c.DurationSeconds > MaxChainedDurationSeconds {
		add(exchange.InputError("role-duration-seconds", "%d: AWS limits a session obtained by role chaining to 1 hour; set at most %d", c.DurationSeconds, MaxChainedDurationSeconds))
	}
	if c.Refresh {
		switch {
		case chained:
			add(exchange.InputError("refresh", "cannot refresh a chained session: each refresh would need the previous role's session, which expires; assume the role with the token instead"))
		case c.OutputCredentials:
			add(exchange.InputError("refresh", "exports no keys, so output-credentials has none to set; remove one of them"))
		case c.OutputEnvCredentials != nil && *c.OutputEnvCredentials:
			add(exchange.InputError("refresh", "exports no keys, which is its point; remove output-env-credentials"))
		case c.CredentialProcess == nil:
			add(exchange.InputError("refresh", "needs the command that refreshes the profile, which only the action can render"))
		}
	}
	if c.RoleChaining && c.SourceCredentials == nil {
		add(exchange.InputError("role-chaining", "needs the session of an earlier step in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and none is set; run the step that assumes the first role before this one"))
	}
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

// MaxChainedDurationSeconds is AWS's limit on a session obtained with the
// credentials of another role's session.
const MaxChainedDurationSeconds = 3600

var (
	// Profile names: what the AWS config format can hold as a section
	// name and a file-free name, as configure-aws-credentials accepts.
	profileNameRE = lazyre.New(`^[^\s\[\]/\\=>#;]{1,64}$`)
	// External ids are 2–1224 of these; RE2 bounds repetition at 1000,
	// so the length is checked apart.
	externalIDRE = lazyre.New(`^[\w+=,.@:/-]+$`)
)

func validateProfileName(input, name string) error {
	if !profileNameRE().MatchString(name) {
		return exchange.InputError(input, "profile name %q must be 1–64 characters without white space, brackets, slashes, =, >, # or ;", exchange.Sanitize(name))
	}
	return nil
}

// parseChain parses the ARNs of chained roles.
func parseChain(arns []string) ([]arn.ARN, error) {
	var out []arn.ARN
	var errs []error
	for _, s := range arns {
		a, err := parseRoleARN(s)
		errs = append(errs, err)
		out = append(out, a)
	}
	return out, errors.Join(errs...)
}

// Parts returns one config per profile of Roles, each with one role (and
// its chain) and its profile, or c alone when Roles is empty. Each part is
// exchanged on its own, from the same token.
func (c *Config) Parts() ([]Config, error) {
	r, err := c.resolve()
	if err != nil {
		return nil, err
	}
	if len(r.parts) == 0 {
		return []Config{*c}, nil
	}
	return r.parts, nil
}

// parts splits Roles: "profile=role-arn [> role-arn]…" per line.
func (c *Config) parts() ([]Config, error) {
	const input = "roles"
	var out []Config
	var errs []error
	seen := map[string]int{}
	for i, line := range c.Roles {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, chain, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok {
			errs = append(errs, exchange.InputError(input, "line %d: want profile=role-arn, e.g. deploy=arn:aws:iam::111122223333:role/deploy", i+1))
			continue
		}
		if err := validateProfileName(input, name); err != nil {
			errs = append(errs, exchange.InputError(input, "line %d: %s", i+1, settingMessages(err)))
			continue
		}
		if prev, dup := seen[name]; dup {
			errs = append(errs, exchange.InputError(input, "line %d: profile %s is already on line %d", i+1, name, prev))
			continue
		}
		seen[name] = i + 1
		hops := strings.Split(chain, ">")
		for j := range hops {
			hops[j] = strings.TrimSpace(hops[j])
		}
		part := *c
		part.Roles, part.RoleARN, part.Profile, part.chain, part.ofRoles = nil, hops[0], name, hops[1:], true
		if len(part.chain) == 0 {
			// Only chained hops call sts:AssumeRole, which takes it.
			part.RoleExternalID = ""
		}
		if _, err := part.resolve(); err != nil {
			errs = append(errs, exchange.InputError(input, "line %d (%s): %s", i+1, name, settingMessages(err)))
			continue
		}
		out = append(out, part)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, exchange.InputError(input, "lists no role; want one profile=role-arn per line"))
	}
	return out, errors.Join(errs...)
}

// settingMessages flattens the setting errors in err into one message,
// each part named by its setting, for reporting under another setting.
func settingMessages(err error) string {
	var parts []string
	var walk func(error)
	walk = func(e error) {
		// A join is taken apart; a wrapped setting error is reported as
		// its setting and message.
		if joined, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range joined.Unwrap() {
				walk(inner)
			}
			return
		}
		if se := (*exchange.SettingError)(nil); errors.As(e, &se) {
			parts = append(parts, se.Setting+" "+se.Message())
			return
		}
		parts = append(parts, e.Error())
	}
	walk(err)
	return strings.Join(parts, "; ")
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
