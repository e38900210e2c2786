package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
)

// actionConfig is everything action mode reads from its inputs, validated
// before any network call.
type actionConfig struct {
	provider     providers.Type
	providerCfg  providers.Config
	issuer       string
	audience     string
	expectations exchange.Expectations
	auditLog     string
	timeout      time.Duration
	unsetCurrent bool
}

// readActionConfig maps the action's inputs (and the few environment
// variables configure-aws-credentials also honours) to a config.
func readActionConfig(in inputs, getenv func(string) string) (*actionConfig, error) {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	cfg := &actionConfig{}
	name := in.get("provider")
	if name == "" {
		name = string(providers.AWS)
	}
	pt, err := providers.ParseType(name)
	check(err)
	cfg.provider = pt

	switch pt {
	case providers.AWS:
		a, err := awsConfigFromInputs(in, getenv)
		check(err)
		cfg.providerCfg.AWS = a
		cfg.unsetCurrent, err = in.boolean("unset-current-credentials", false)
		check(err)
	case providers.GCP:
		g, err := gcpConfigFromInputs(in)
		check(err)
		cfg.providerCfg.GCP = g
	case providers.Broker:
		b, err := brokerConfigFromInputs(in)
		check(err)
		cfg.providerCfg.Broker = b
	}

	cfg.audience = in.get("audience")
	if cfg.audience == "" {
		cfg.audience = providers.DefaultAudience(pt, cfg.providerCfg)
	}
	if cfg.audience == "" && pt == providers.Broker {
		// A token minted for a cloud must not be replayable to a broker,
		// nor the reverse: the broker has to demand its own audience.
		check(exchange.InputError("audience", "is required with provider broker: request the broker's own audience, so a token minted for a cloud cannot be replayed to it"))
	}
	cfg.issuer = in.get("oidc-issuer")
	if cfg.issuer == "" {
		cfg.issuer, err = github.DefaultIssuer(getenv("GITHUB_SERVER_URL"), in.get("oidc-enterprise-slug"))
		check(err)
	} else {
		check(exchange.ValidateIssuer(cfg.issuer))
	}
	cfg.expectations, err = exchange.ParseExpectations(in.raw("expect-claims"))
	check(err)
	cfg.auditLog = in.get("audit-log")
	secs, err := in.integer("action-timeout-s", 0)
	check(err)
	if secs < 0 {
		check(exchange.InputError("action-timeout-s", "must not be negative"))
	}
	cfg.timeout = time.Duration(secs) * time.Second
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// awsConfigFromInputs reads configure-aws-credentials' input names.
func awsConfigFromInputs(in inputs, getenv func(string) string) (aws.Config, error) {
	var errs []error
	var c aws.Config
	c.Region = in.get("aws-region")
	if c.Region == "" {
		// configure-aws-credentials accepts a job-level AWS_REGION too.
		c.Region = strings.TrimSpace(getenv("AWS_REGION"))
	}
	c.RoleARN = in.get("role-to-assume")
	c.SessionName = in.get("role-session-name")
	var err error
	if c.DurationSeconds, err = in.integer("role-duration-seconds", c.DurationSeconds); err != nil {
		errs = append(errs, err)
	}
	c.InlineSessionPolicy = in.get("inline-session-policy")
	c.ManagedSessionPolicies = in.list("managed-session-policies")
	if c.MaskAccountID, err = in.boolean("mask-aws-account-id", false); err != nil {
		errs = append(errs, err)
	}
	if c.OutputCredentials, err = in.boolean("output-credentials", false); err != nil {
		errs = append(errs, err)
	}
	outputEnv, err := in.boolean("output-env-credentials", true)
	if err != nil {
		errs = append(errs, err)
	}
	c.OutputEnvCredentials = aws.Bool(outputEnv)
	c.AllowedAccountIDs = in.list("allowed-account-ids")
	c.STSEndpoint = firstNonEmpty(in.get("sts-endpoint"), getenv("AWS_ENDPOINT_URL_STS"), getenv("AWS_ENDPOINT_URL"))
	if c.RetryMaxAttempts, err = in.integer("retry-max-attempts", c.RetryMaxAttempts); err != nil {
		errs = append(errs, err)
	}
	if c.DisableRetry, err = in.boolean("disable-retry", false); err != nil {
		errs = append(errs, err)
	}
	// Validate even after a parse error, so one run reports every bad input.
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// gcpConfigFromInputs reads google-github-actions/auth's inputs in our
// kebab-case spelling.
func gcpConfigFromInputs(in inputs) (gcp.Config, error) {
	var errs []error
	boolean := func(name string, def bool) bool {
		v, err := in.boolean(name, def)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	c := gcp.Config{
		WorkloadIdentityProvider:   in.get("workload-identity-provider"),
		ServiceAccount:             in.get("service-account"),
		TokenFormat:                gcp.TokenFormat(in.get("token-format")),
		AccessTokenLifetime:        in.get("access-token-lifetime"),
		AccessTokenScopes:          in.list("access-token-scopes"),
		AccessTokenSubject:         in.get("access-token-subject"),
		IDTokenAudience:            in.get("id-token-audience"),
		IDTokenIncludeEmail:        boolean("id-token-include-email", false),
		AccessBoundary:             strings.TrimSpace(in.raw("access-boundary")),
		CreateCredentialsFile:      gcp.Bool(boolean("create-credentials-file", true)),
		ExportEnvironmentVariables: gcp.Bool(boolean("export-environment-variables", true)),
		ProjectID:                  in.get("project-id"),
		Universe:                   in.get("universe"),
		STSEndpoint:                in.get("sts-endpoint"),
		IAMCredentialsEndpoint:     in.get("iamcredentials-endpoint"),
		OAuth2Endpoint:             in.get("oauth2-endpoint"),
		Delegates:                  in.list("delegates"),
		DisableRetry:               boolean("disable-retry", false),
	}
	var err error
	if c.RetryMaxAttempts, err = in.integer("retry-max-attempts", 0); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// secretInputs are masked before anything else happens in action mode,
// so no later message, not even a validation error, can show them.
var secretInputs = []string{"broker-client-secret"}

// brokerConfigFromInputs reads the RFC 8693 broker inputs.
func brokerConfigFromInputs(in inputs) (broker.Config, error) {
	var errs []error
	extra, err := broker.ParseExtraParams(in.raw("broker-extra-params"))
	if err != nil {
		errs = append(errs, err)
	}
	c := broker.Config{
		URL:                in.get("broker-url"),
		Discovery:          in.get("broker-discovery"),
		Audiences:          in.list("broker-audience"),
		Resources:          in.list("broker-resource"),
		Scope:              in.get("broker-scope"),
		RequestedTokenType: in.get("requested-token-type"),
		SubjectTokenType:   in.get("subject-token-type"),
		RequestFormat:      broker.RequestFormat(in.get("broker-request-format")),
		ClientID:           in.get("broker-client-id"),
		ClientSecret:       exchange.NewSecret(in.get("broker-client-secret")),
		ClientAuth:         broker.ClientAuth(in.get("broker-client-auth")),
		ExtraParams:        extra,
		ExportEnv:          in.get("export-env"),
	}
	if c.RetryMaxAttempts, err = in.integer("retry-max-attempts", 0); err != nil {
		errs = append(errs, err)
	}
	if c.DisableRetry, err = in.boolean("disable-retry", false); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// runAction is the action: main step, or post step. The container action
// tells post from main by argv[0] or STATE_post; the native action, which
// runs the binary from a node action on any runner, passes --native and,
// in its post step, --post.
func runAction(ctx context.Context, e *env, post bool) error {
	fs := newFlagSet(e, "action", "GitHub Action mode; configured through INPUT_* variables.")
	// action.yml passes the host path of the runner's temp directory in
	// args, which the runner does not translate: credential files are
	// exported by their host path, so host steps can open them.
	runnerTemp := fs.String("runner-temp", "", "host path of the runner's temp directory (set by action.yml)")
	native := fs.Bool("native", false, "run as a step of its own on the runner or in the job container (set by native/action.yml)")
	postFlag := fs.Bool("post", false, "run the post step: clean up what the main step left (set by native/action.yml)")
	if err := parseFlags(fs, e.args[1:]); err != nil {
		return err
	}
	post = post || *postFlag
	level := slog.LevelInfo
	if e.getenv("RUNNER_DEBUG") == "1" {
		level = slog.LevelDebug
	}
	logger := slog.New(github.NewLogHandler(e.stdout, level))
	client := e.httpClient()
	edge, err := github.New(github.Config{
		Getenv:         e.getenv,
		Stdout:         e.stdout,
		HTTPClient:     client,
		Retry:          e.retryPolicy(),
		Logger:         logger,
		HostRunnerTemp: *runnerTemp,
		Native:         *native,
	})
	if err != nil {
		return reportAction(e, logger, fmt.Errorf("setting up the GitHub Actions edge: %w", err))
	}
	if post {
		return runPost(ctx, e, edge, logger)
	}
	// Mark the post step as ours first thing: the runner applies state
	// even when main fails, and post must never run the exchange again.
	if err := edge.MarkPost(); err != nil {
		return reportAction(e, logger, err)
	}
	in := inputs{getenv: e.getenv}
	for _, name := range secretInputs {
		for _, form := range exchange.MaskForms(exchange.NewSecret(in.get(name))) {
			if err := edge.Mask(form); err != nil {
				return reportAction(e, logger, err)
			}
		}
	}

	cfg, err := readActionConfig(in, e.getenv)
	if err != nil {
		return reportAction(e, logger, err)
	}
	// One budget for the whole run: every attempt's deadline is the
	// smaller of its own timeout and what is left of it.
	budget := cfg.timeout
	if budget == 0 {
		budget = exchange.DefaultRunBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	cfg.providerCfg.HTTPClient = client
	cfg.providerCfg.Logger = logger
	provider, err := providers.New(ctx, cfg.provider, cfg.providerCfg)
	if err != nil {
		return reportAction(e, logger, err)
	}
	verifier, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: cfg.issuer, Audience: cfg.audience, HTTPClient: client, Now: e.now(), Retry: e.retryPolicy(),
	})
	if err != nil {
		return reportAction(e, logger, err)
	}
	var exporter exchange.Exporter = edge
	if cfg.unsetCurrent {
		exporter = &unsettingExporter{next: edge, names: aws.CleanupVariables()}
	}
	reporters := []exchange.Reporter{edge}
	if cfg.auditLog != "" {
		audit, err := edge.AuditFile(cfg.auditLog)
		if err != nil {
			return reportAction(e, logger, err)
		}
		reporters = append(reporters, audit)
	}
	p := &exchange.Pipeline{
		Platform:     "github-actions",
		Tokens:       edge,
		Verifier:     verifier,
		Expectations: cfg.expectations,
		ProviderName: string(cfg.provider),
		Provider:     provider,
		Masker:       edge,
		Exporter:     exporter,
		Reporters:    reporters,
		Logger:       logger,
		Now:          e.now(),
	}
	res, err := p.Run(ctx)
	if err != nil {
		if cfg.unsetCurrent && !errors.Is(err, exchange.ErrExport) {
			// The user asked for stale credentials to go: blanking them is
			// not an export of anything, and later steps then fail clearly
			// instead of running as a previous identity.
			if uerr := edge.Export(ctx, &exchange.Credentials{Env: blankVariables(aws.CleanupVariables())}); uerr != nil {
				logger.Warn("unsetting current credentials failed", "error", uerr)
			}
		}
		return reportAction(e, logger, err)
	}
	until := res.Audit.ExpiresAt
	if until == "" {
		until = "an expiry the issuer did not state"
	}
	logger.Info(fmt.Sprintf("oidc-exchange: %s credentials for %s, valid until %s", cfg.provider, res.Audit.Target, until))
	return nil
}

// reportAction shows a failure the way the runner displays it: one
// ::error:: annotation, then the explanation in a stop-commands block so
// claim values cannot inject workflow commands.
func reportAction(e *env, logger *slog.Logger, err error) error {
	logger.Error(err.Error())
	var details []string
	if explain := exchange.Explain(err); explain != "" {
		details = append(details, explain)
	}
	if hint := hintFor(err); hint != "" {
		details = append(details, "hint: "+hint)
	}
	if len(details) > 0 {
		if perr := github.PrintUntrusted(e.stdout, strings.Join(details, "\n"), rand.Reader); perr != nil {
			logger.Warn("printing the explanation failed", "error", perr)
		}
	}
	return &reportedError{err: err}
}

// runPost removes what main left behind. It never fails the job.
func runPost(ctx context.Context, e *env, edge *github.Edge, logger *slog.Logger) error {
	if e.getenv("OIDC_EXCHANGE_SKIP_CLEANUP") == "true" || e.getenv("AWS_SKIP_CLEANUP_STEP") == "true" {
		logger.Info("oidc-exchange: cleanup skipped (OIDC_EXCHANGE_SKIP_CLEANUP or AWS_SKIP_CLEANUP_STEP is true)")
		return nil
	}
	if err := edge.Cleanup(ctx); err != nil {
		logger.Warn("oidc-exchange cleanup: " + err.Error())
	}
	return nil
}

func blankVariables(names []string) []exchange.Variable {
	vars := make([]exchange.Variable, 0, len(names))
	for _, n := range names {
		vars = append(vars, exchange.PlainVariable(n, ""))
	}
	return vars
}

// unsettingExporter implements unset-current-credentials: every variable
// the incumbent blanks is written, empty unless this exchange sets it.
type unsettingExporter struct {
	next  exchange.Exporter
	names []string
}

var _ exchange.Exporter = (*unsettingExporter)(nil)

func (u *unsettingExporter) Export(ctx context.Context, c *exchange.Credentials) error {
	set := map[string]bool{}
	for _, v := range c.Env {
		set[v.Name] = true
	}
	var blanks []string
	for _, n := range u.names {
		if !set[n] {
			blanks = append(blanks, n)
		}
	}
	cc := *c
	cc.Env = append(blankVariables(blanks), c.Env...)
	return u.next.Export(ctx, &cc)
}
