package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// providerName is the registry name written into errors and credentials.
const providerName = "aws"

// DefaultSessionNameTemplate renders the session name from the token's
// claims when none is configured. The run id and attempt make every
// CloudTrail entry lead back to one workflow run; a constant name would
// make all runs of all workflows look alike.
const DefaultSessionNameTemplate = "GitHubActions-{{.run_id}}-{{.run_attempt}}"

// FallbackSessionName is used when the template names a claim the token
// lacks, e.g. a token from a CI platform other than GitHub Actions.
const FallbackSessionName = "oidc-exchange"

// appID is added to the SDK's User-Agent ("app/oidc-exchange"), so
// CloudTrail's userAgent field attributes the call.
const appID = "oidc-exchange"

// Names of the exported variables and outputs.
const (
	EnvRegion          = "AWS_REGION"
	EnvDefaultRegion   = "AWS_DEFAULT_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"

	OutputAccountID       = "aws-account-id"
	OutputAuthenticated   = "authenticated-arn"
	OutputAccessKeyID     = "aws-access-key-id"
	OutputSecretAccessKey = "aws-secret-access-key"
	OutputSessionToken    = "aws-session-token"
	OutputExpiration      = "aws-expiration"
)

// CleanupVariables returns the environment variables that
// configure-aws-credentials' post step blanks, so a post step of ours can
// do the same and later steps do not inherit a session by accident.
func CleanupVariables() []string {
	return []string{EnvAccessKeyID, EnvSecretAccessKey, EnvSessionToken, EnvRegion, EnvDefaultRegion}
}

// stsAPI is the STS calls the provider makes. Declaring it here, on the
// consumer side, lets tests pass small func-type fakes.
type stsAPI interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
	// AssumeRole is role chaining: signed with the credentials of
	// another role's session, passed per call.
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Provider exchanges a CI job's OIDC token for temporary AWS credentials
// with STS AssumeRoleWithWebIdentity.
type Provider struct {
	cfg     Config
	client  stsAPI
	logger  *slog.Logger
	retrier *upstream.Retrier
	session *template.Template
	inline  string
	// target is the role ARN as logs, errors and the audit record show
	// it: with mask-aws-account-id, its account masked.
	target      string
	envCreds    bool
	allowedAcct []string
	// chain are the roles assumed after the first (role chaining), and
	// chainTargets how they are shown, like target.
	chain        []string
	chainTargets []string
}

var _ exchange.Provider = (*Provider)(nil)

// New validates cfg and returns a provider that calls the real STS.
func New(cfg Config) (*Provider, error) {
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = httpclient.New(httpclient.Options{})
	}
	opts := sts.Options{
		Region: cfg.Region,
		// AssumeRoleWithWebIdentity is unsigned: the token is the
		// credential. Anonymous credentials also keep the SDK from ever
		// picking up ambient keys (env, profile, IMDS) on its own.
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  httpClient,
		// Our loop owns retries: it classifies errors by type, refreshes
		// the token between attempts and is capped in time. The SDK's
		// standard retryer (3 attempts, plus IDPCommunicationError for
		// STS) would multiply with ours: 3 × 3 calls for one throttle.
		Retryer: aws.NopRetryer{},
		AppID:   appID,
	}
	if cfg.STSEndpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.STSEndpoint)
	}
	return newProvider(cfg, sts.New(opts))
}

// newProvider validates cfg once and builds a provider around any stsAPI; tests
// pass fakes.
func newProvider(cfg Config, client stsAPI) (*Provider, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	// Claims are data: they fill the template, they never become one.
	tmpl, err := template.New("session").Option("missingkey=error").Parse(DefaultSessionNameTemplate)
	if err != nil {
		return nil, fmt.Errorf("parsing the session name template: %w", err)
	}
	if cfg.DurationSeconds == 0 {
		cfg.DurationSeconds = DefaultDurationSeconds
	}
	if cfg.RetryMaxAttempts == 0 {
		cfg.RetryMaxAttempts = DefaultRetryMaxAttempts
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Provider{
		cfg:         cfg,
		client:      client,
		logger:      logger,
		retrier:     upstream.NewRetrier("STS", cfg.RetryMaxAttempts, cfg.DisableRetry, logger),
		session:     tmpl,
		inline:      r.inline,
		target:      cfg.RoleARN,
		envCreds:    cfg.outputEnvCredentials(),
		allowedAcct: slices.Clone(cfg.AllowedAccountIDs),
	}
	show := func(a arn.ARN) string {
		if cfg.MaskAccountID {
			a.AccountID = "***"
		}
		return a.String()
	}
	p.target = show(r.role)
	for _, a := range r.chain {
		p.chain = append(p.chain, a.String())
		p.chainTargets = append(p.chainTargets, show(a))
	}
	return p, nil
}

// Exchange implements [exchange.Provider]. It calls AssumeRoleWithWebIdentity,
// retrying only failures STS marks as transient, and returns the session's
// credentials once the account passed allowed-account-ids.
func (p *Provider) Exchange(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error) {
	if p == nil || p.client == nil {
		return nil, errors.New("aws provider is not initialised; use New")
	}
	if id == nil {
		return nil, errors.New("aws provider: no identity")
	}
	if req == nil {
		return nil, errors.New("aws provider: no request")
	}
	session := p.sessionName(id)
	// The session policies narrow what is exported: the last hop's.
	last := len(p.chain)
	var src *types.Credentials
	var user *types.AssumedRoleUser
	var err error
	if p.cfg.RoleChaining {
		sc := p.cfg.SourceCredentials
		src = &types.Credentials{
			AccessKeyId:     aws.String(sc.AccessKeyID.Reveal()),
			SecretAccessKey: aws.String(sc.SecretAccessKey.Reveal()),
			SessionToken:    aws.String(sc.SessionToken.Reveal()),
		}
		src, user, err = p.assumeRole(ctx, src, p.cfg.RoleARN, p.target, session, last == 0)
	} else {
		src, user, err = p.assumeWithToken(ctx, id, req, session, last == 0)
	}
	for i, role := range p.chain {
		if err != nil {
			break
		}
		src, user, err = p.assumeRole(ctx, src, role, p.chainTargets[i], session, i == last-1)
	}
	if err != nil {
		return nil, err
	}
	return p.credentials(src, user, session)
}

// hopDuration is the session length of one call: the configured one for
// the session that is exported, the shortest STS grants for one that only
// signs the next hop of a chain.
func (p *Provider) hopDuration(final bool) *int32 {
	if !final {
		return aws.Int32(MinDurationSeconds)
	}
	return aws.Int32(int32(p.cfg.DurationSeconds)) //nolint:gosec // validated to 900–43200
}

// policies are the session policies, sent with the call whose session is
// exported.
func (p *Provider) policies(final bool) (*string, []types.PolicyDescriptorType) {
	if !final {
		return nil, nil
	}
	var inline *string
	if p.inline != "" {
		inline = aws.String(p.inline)
	}
	var arns []types.PolicyDescriptorType
	for _, a := range p.cfg.ManagedSessionPolicies {
		arns = append(arns, types.PolicyDescriptorType{Arn: aws.String(a)})
	}
	return inline, arns
}

// assumeWithToken is sts:AssumeRoleWithWebIdentity on the first role.
func (p *Provider) assumeWithToken(ctx context.Context, id *exchange.Identity, req *exchange.Request, session string, final bool) (*types.Credentials, *types.AssumedRoleUser, error) {
	in := sts.AssumeRoleWithWebIdentityInput{
		RoleArn:         aws.String(p.cfg.RoleARN),
		RoleSessionName: aws.String(session),
		DurationSeconds: p.hopDuration(final),
	}
	in.Policy, in.PolicyArns = p.policies(final)
	p.logger.Debug("assuming role with web identity", "role", p.target, "session", session,
		"duration_seconds", aws.ToInt32(in.DurationSeconds), "managed_policies", len(in.PolicyArns), "inline_policy", in.Policy != nil)

	var out *sts.AssumeRoleWithWebIdentityOutput
	err := p.retrier.Do(ctx, fmt.Sprintf("assuming role %q", p.target), func(actx context.Context) error {
		// Asked for on every attempt: the identity swaps in a fresh token
		// when the held one is about to expire.
		token, err := id.SubjectToken(actx)
		if err != nil {
			return fmt.Errorf("getting the OIDC token: %w", err)
		}
		call := in
		call.WebIdentityToken = aws.String(token.Reveal())
		o, err := p.client.AssumeRoleWithWebIdentity(actx, &call)
		if err != nil {
			return p.classify(ctx, err, id, req)
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if out == nil {
		return nil, nil, p.invalidAnswer("the answer holds no credentials", nil)
	}
	return out.Credentials, out.AssumedRoleUser, nil
}

// assumeRole is sts:AssumeRole on role, signed with the credentials of
// the previous session: one hop of role chaining.
func (p *Provider) assumeRole(ctx context.Context, from *types.Credentials, role, shown, session string, final bool) (*types.Credentials, *types.AssumedRoleUser, error) {
	if from == nil {
		return nil, nil, p.invalidAnswer("the answer holds no credentials", nil)
	}
	in := sts.AssumeRoleInput{
		RoleArn:         aws.String(role),
		RoleSessionName: aws.String(session),
		DurationSeconds: p.hopDuration(final),
	}
	if p.cfg.RoleExternalID != "" {
		in.ExternalId = aws.String(p.cfg.RoleExternalID)
	}
	in.Policy, in.PolicyArns = p.policies(final)
	signer := aws.Credentials{
		AccessKeyID:     aws.ToString(from.AccessKeyId),
		SecretAccessKey: aws.ToString(from.SecretAccessKey),
		SessionToken:    aws.ToString(from.SessionToken),
		Source:          "oidc-exchange role chaining",
	}
	withSource := func(o *sts.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return signer, nil })
	}
	p.logger.Debug("assuming role with the previous session", "role", shown, "session", session,
		"duration_seconds", aws.ToInt32(in.DurationSeconds), "external_id", in.ExternalId != nil)

	var out *sts.AssumeRoleOutput
	err := p.retrier.Do(ctx, fmt.Sprintf("assuming role %q", shown), func(actx context.Context) error {
		o, err := p.client.AssumeRole(actx, &in, withSource)
		if err != nil {
			return p.classifyHop(ctx, err, shown)
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if out == nil {
		return nil, nil, p.invalidAnswer("the answer holds no credentials", nil)
	}
	return out.Credentials, out.AssumedRoleUser, nil
}

// sessionName is the configured name, or the default rendered from the
// claims; either way it is made safe for STS.
func (p *Provider) sessionName(id *exchange.Identity) string {
	if p.cfg.SessionName != "" {
		return SanitizeSessionName(p.cfg.SessionName)
	}
	var b strings.Builder
	if err := p.session.Execute(&b, id.Claims); err != nil {
		p.logger.Debug("the token lacks a claim of the session name template; using the fallback",
			"template", DefaultSessionNameTemplate, "fallback", FallbackSessionName, "error", err)
		return FallbackSessionName
	}
	return SanitizeSessionName(b.String())
}

var sessionCharRE = lazyre.New(`[^\w+=,.@-]`)

// SanitizeSessionName replaces every character STS does not accept in a
// role session name with "-", truncates to 64 characters and pads names
// shorter than 2, so a claim value cannot make the call fail.
func SanitizeSessionName(s string) string {
	s = sessionCharRE().ReplaceAllLiteralString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// credentials turns STS's answer into exported variables, after checking
// the answer and the account.
//
// Every failure after STS answered returns, with the error, credentials
// that hold only the audit fields (session name, key hash, expiry): the
// session exists whether or not it is exported, and the audit record must
// be able to name it.
func (p *Provider) credentials(c *types.Credentials, user *types.AssumedRoleUser, session string) (*exchange.Credentials, error) {
	auditOnly := &exchange.Credentials{Provider: providerName, Audit: exchange.ProviderAudit{
		Target: p.Target(), SessionName: session, SessionPolicySHA256: exchange.SHA256Hex(p.inline),
		Scopes: slices.Clone(p.cfg.ManagedSessionPolicies),
	}}
	if c == nil {
		return auditOnly, p.invalidAnswer("the answer holds no credentials", nil)
	}
	auditOnly.Audit.CredentialSHA256 = exchange.NewSecret(aws.ToString(c.AccessKeyId)).SHA256()
	if c.Expiration != nil {
		auditOnly.Expiry = aws.ToTime(c.Expiration).UTC()
	}
	if err := plausibleCredentials(c, p.now()); err != nil {
		return auditOnly, p.invalidAnswer("the answer's credentials are not plausible", err)
	}

	caller := ""
	if user != nil {
		caller = aws.ToString(user.Arn)
	}
	assumed, err := ParseAssumedRoleARN(caller)
	known := err == nil
	switch {
	case known:
	case p.cfg.STSEndpoint == "":
		// AWS STS always names the session; an answer without it did not
		// come from AWS STS.
		return auditOnly, p.invalidAnswer("the answer has no valid assumed-role ARN", err)
	case len(p.allowedAcct) > 0:
		return auditOnly, &exchange.ProviderError{
			Provider: providerName, Code: "AccountUnknown", Kind: exchange.ErrProviderAnswer,
			Message: fmt.Sprintf("allowed-account-ids cannot be checked: the STS at %s names no AWS account (its answer has no assumed-role ARN)", p.cfg.STSEndpoint),
			Hint: "an STS other than AWS's (MinIO, SeaweedFS, …) has no AWS accounts: drop allowed-account-ids for it, " +
				"or point sts-endpoint at AWS STS",
			Err: err,
		}
	default:
		// An S3-compatible store's STS (MinIO sends an empty Arn,
		// SeaweedFS no AssumedRoleUser at all) issues working credentials
		// without an AWS account: export them, without the account
		// outputs.
		p.logger.Info("the STS at sts-endpoint names no AWS account; exporting the credentials without aws-account-id and authenticated-arn",
			"sts_endpoint", p.cfg.STSEndpoint)
	}
	if known && len(p.allowedAcct) > 0 && !slices.Contains(p.allowedAcct, assumed.AccountID) {
		// The session exists and stays valid until it expires (STS cannot
		// revoke it), but nothing of it leaves this function.
		msg := "the role's account is not in allowed-account-ids"
		if !p.cfg.MaskAccountID {
			msg = fmt.Sprintf("the role's account %s is not in allowed-account-ids", assumed.AccountID)
		}
		return auditOnly, &exchange.ProviderError{
			Provider: providerName, Code: "AccountNotAllowed", Kind: exchange.ErrProviderDenied,
			Message: msg,
			Hint:    "role-to-assume belongs to an account that allowed-account-ids does not list; fix whichever is wrong",
		}
	}

	keyID := exchange.NewSecret(aws.ToString(c.AccessKeyId))
	secret := exchange.NewSecret(aws.ToString(c.SecretAccessKey))
	token := exchange.NewSecret(aws.ToString(c.SessionToken))
	expiry := aws.ToTime(c.Expiration).UTC()

	creds := &exchange.Credentials{
		Provider: providerName,
		Expiry:   expiry,
		Audit: exchange.ProviderAudit{
			Target:              p.Target(),
			SessionName:         session,
			SessionPolicySHA256: exchange.SHA256Hex(p.inline),
			CredentialSHA256:    keyID.SHA256(),
			Scopes:              slices.Clone(p.cfg.ManagedSessionPolicies),
		},
	}
	profile := p.cfg.profile()
	switch {
	case p.cfg.Refresh:
		creds.Sections = p.processSections(profile)
		if !p.cfg.ofRoles {
			creds.Env = append(creds.Env, exchange.PlainVariable(EnvProfile, profile))
		}
	case profile != "":
		creds.Sections = p.profileSections(profile, keyID, secret, token)
	}
	if profile == "" || p.envCreds {
		creds.Env = append(creds.Env,
			exchange.PlainVariable(EnvRegion, p.cfg.Region),
			exchange.PlainVariable(EnvDefaultRegion, p.cfg.Region),
		)
	}
	if p.envCreds {
		if profile != "" {
			// Asked for both: the SDKs then also pick the profile by
			// default, as with configure-aws-credentials.
			creds.Env = append(creds.Env, exchange.PlainVariable(EnvProfile, profile))
		}
		// The key id is masked too: it is not a secret, but it identifies
		// the session in CloudTrail and with the secret forms a usable
		// pair in a leaked log.
		creds.Env = append(creds.Env,
			exchange.SecretVariable(EnvAccessKeyID, keyID),
			exchange.SecretVariable(EnvSecretAccessKey, secret),
			exchange.SecretVariable(EnvSessionToken, token),
		)
	}
	identity := func(name, value string) exchange.Variable {
		if p.cfg.MaskAccountID {
			return exchange.SecretVariable(name, exchange.NewSecret(value))
		}
		return exchange.PlainVariable(name, value)
	}
	// The parts of roles set no outputs: their names have one value per
	// step, and the profiles and audit records name every session.
	if known && !p.cfg.ofRoles {
		creds.Outputs = []exchange.Variable{
			identity(OutputAccountID, assumed.AccountID),
			identity(OutputAuthenticated, caller),
		}
	}
	if p.cfg.OutputCredentials {
		creds.Outputs = append(creds.Outputs,
			exchange.SecretVariable(OutputAccessKeyID, keyID),
			exchange.SecretVariable(OutputSecretAccessKey, secret),
			exchange.SecretVariable(OutputSessionToken, token),
			// Plain RFC 3339, without quotes, so a shell or date parser
			// reads it as it is.
			exchange.PlainVariable(OutputExpiration, expiry.Format(time.RFC3339)),
		)
	}
	p.logger.Debug("assumed role", "session_arn", p.display(caller), "expires_at", expiry.Format(time.RFC3339))
	return creds, nil
}

func (p *Provider) now() time.Time {
	if p.cfg.Now != nil {
		return p.cfg.Now()
	}
	return time.Now()
}

// invalidAnswer is the permanent failure of an answer that is not usable
// credentials; it names the endpoint that gave it. why never holds a
// credential value.
func (p *Provider) invalidAnswer(msg string, why error) error {
	endpoint := p.cfg.STSEndpoint
	hint := "AWS STS does not answer like this: retrying will not help; report it with the log"
	if endpoint != "" {
		hint = fmt.Sprintf("sts-endpoint %s does not answer AssumeRoleWithWebIdentity as AWS STS does; check the endpoint", endpoint)
	} else {
		endpoint = "STS"
	}
	if why != nil {
		msg += ": " + why.Error()
	}
	return &exchange.ProviderError{
		Provider: providerName, Code: "InvalidAnswer", Kind: exchange.ErrProviderAnswer,
		Message: fmt.Sprintf("%s answered, but %s", endpoint, msg), Hint: hint, Err: why,
	}
}

// Credential shapes, from the STS API reference (Credentials): an access
// key id of 16 to 128 word characters, a secret and a session token of
// printable characters without spaces. Other STS implementations (MinIO,
// SeaweedFS) issue the same shapes.
var accessKeyIDRE = lazyre.New(`^\w{16,128}$`)

// plausibleCredentials checks what a credential must look like before any
// of it is masked or exported: a value that breaks these is not a
// credential, and as a mask it could blank common text across the log.
// Errors name the field and its length, never its value.
func plausibleCredentials(c *types.Credentials, now time.Time) error {
	id, secret, token := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
	switch {
	case !accessKeyIDRE().MatchString(id):
		return fmt.Errorf("AccessKeyId has %d characters, not 16 to 128 letters and digits", len(id))
	case !printableToken(secret, 16, 1024):
		return fmt.Errorf("SecretAccessKey has %d characters, not 16 to 1024 printable ones without spaces", len(secret))
	case !printableToken(token, 16, 16<<10):
		return fmt.Errorf("SessionToken has %d characters, not 16 to 16384 printable ones without spaces", len(token))
	case c.Expiration == nil:
		return errors.New("the credentials have no Expiration")
	case !aws.ToTime(c.Expiration).After(now):
		return fmt.Errorf("the credentials expired at %s", aws.ToTime(c.Expiration).UTC().Format(time.RFC3339))
	}
	return nil
}

// printableToken reports whether s has min to max characters, all
// printable ASCII other than space.
func printableToken(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// display hides the account id of an ARN when mask-aws-account-id is set:
// logs and errors are written before the masker learns the account id.
func (p *Provider) display(s string) string {
	if !p.cfg.MaskAccountID {
		return s
	}
	a, err := arn.Parse(s)
	if err != nil {
		return exchange.Redacted
	}
	a.AccountID = "***"
	return a.String()
}

// AssumedRole is the parsed ARN of an STS session,
// arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
type AssumedRole struct {
	Partition   string
	AccountID   string
	RoleName    string
	SessionName string
}

// ParseAssumedRoleARN parses the AssumedRoleUser.Arn of an STS answer,
// which names the account without a GetCallerIdentity round trip. The
// answer is untrusted input: every part is checked.
func ParseAssumedRoleARN(s string) (AssumedRole, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return AssumedRole{}, fmt.Errorf("parsing assumed-role ARN: %w", err)
	}
	if a.Partition == "" || a.Service != "sts" || a.Region != "" {
		return AssumedRole{}, errors.New("not an STS ARN")
	}
	if !accountIDRE().MatchString(a.AccountID) {
		return AssumedRole{}, errors.New("assumed-role ARN has no 12-digit account id")
	}
	rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if !ok {
		return AssumedRole{}, errors.New("not an assumed-role ARN")
	}
	role, session, ok := strings.Cut(rest, "/")
	if !ok || !roleNameRE().MatchString(role) || !sessionNameRE().MatchString(session) {
		return AssumedRole{}, errors.New("assumed-role ARN has a malformed role or session name")
	}
	return AssumedRole{Partition: a.Partition, AccountID: a.AccountID, RoleName: role, SessionName: session}, nil
}

var roleNameRE = lazyre.New(`^[\w+=,.@-]{1,64}$`)

var _ exchange.Targeter = (*Provider)(nil)

// Target is the role ARN whose session is exported (the last of a chain),
// as the audit record shows it (account masked with mask-aws-account-id),
// also when the exchange fails.
func (p *Provider) Target() string {
	if n := len(p.chainTargets); n > 0 {
		return p.chainTargets[n-1]
	}
	return p.target
}

// Profile files: the shared config and credentials files the AWS SDKs and
// CLI read, and the variables that point them there.
const (
	EnvConfigFile      = "AWS_CONFIG_FILE"
	EnvCredentialsFile = "AWS_SHARED_CREDENTIALS_FILE"
	EnvProfile         = "AWS_PROFILE"
	configFile         = "aws-config"
	credentialsFile    = "aws-credentials"
)

// configSectionName is a profile's section in the config file, where
// only the default profile goes without the "profile " prefix.
func configSectionName(profile string) string {
	if profile == "default" {
		return profile
	}
	return "profile " + profile
}

// processSections is a refreshing profile: region and credential_process
// in the config file, nothing in the credentials file, which would take
// precedence with stale keys.
func (p *Provider) processSections(profile string) []exchange.Section {
	return []exchange.Section{
		{File: configFile, PathEnv: EnvConfigFile, Name: configSectionName(profile), Replace: p.cfg.OverwriteProfile,
			Keys: []exchange.Variable{
				exchange.PlainVariable("region", p.cfg.Region),
				exchange.PlainVariable("credential_process", p.cfg.CredentialProcess(p.cfg.RoleARN)),
			}},
	}
}

// profileSections are the profile's sections: the region in the config
// file, the keys in the credentials file, as the AWS CLI writes them.
func (p *Provider) profileSections(profile string, keyID, secret, token exchange.Secret) []exchange.Section {
	return []exchange.Section{
		{File: configFile, PathEnv: EnvConfigFile, Name: configSectionName(profile), Replace: p.cfg.OverwriteProfile,
			Keys: []exchange.Variable{exchange.PlainVariable("region", p.cfg.Region)}},
		{File: credentialsFile, PathEnv: EnvCredentialsFile, Name: profile, Replace: p.cfg.OverwriteProfile,
			Keys: []exchange.Variable{
				exchange.SecretVariable("aws_access_key_id", keyID),
				exchange.SecretVariable("aws_secret_access_key", secret),
				exchange.SecretVariable("aws_session_token", token),
			}},
	}
}
