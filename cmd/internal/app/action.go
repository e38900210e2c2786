package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/ci"
	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
)

// actionConfig is everything action mode reads from its inputs, validated
// and resolved into a provider before any network call.
type actionConfig struct {
	common
	providerCfg providers.Config
	// impls are the exchanges: one, or one per role of roles.
	impls []exchange.Provider
}

// unsetCurrent is unset-current-credentials, an AWS input the edge acts on.
func (c *actionConfig) unsetCurrent() bool {
	return c.provider == providers.AWS && c.providerCfg.AWS.UnsetCurrentCredentials
}

// readActionConfig reads the common inputs and the provider's through
// their tables, and builds the provider, which validates its settings
// once; every bad input is reported at once. prepare, when not nil, may
// complete the provider's settings first (refresh's command line).
func readActionConfig(ctx context.Context, getenv func(string) string, client *http.Client, logger *slog.Logger,
	prepare func(*actionConfig, *providers.Config) error) (*actionConfig, error) {
	src := actionSource(getenv)
	cfg := &actionConfig{}
	errs := []error{input.Apply(&cfg.common, commonInputs(), src, getenv)}
	errs = append(errs, cfg.resolveIssuer(getenv), cfg.resolveProxy(getenv))
	if cfg.provider != "" {
		pc, err := providers.ReadConfig(cfg.provider, src, getenv)
		errs = append(errs, err)
		pc.HTTPClient, pc.Logger = client, logger
		if cfg.provider == providers.AWS && pc.AWS.RoleChaining {
			pc.AWS.SourceCredentials = sourceCredentials(getenv)
		}
		cfg.audience, err = providers.Audience(cfg.provider, pc, cfg.audience)
		errs = append(errs, err)
		if prepare != nil && errors.Join(errs...) == nil {
			errs = append(errs, prepare(cfg, &pc))
		}
		cfg.providerCfg = pc
		cfg.impls, err = providers.NewAll(ctx, cfg.provider, pc)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// sourceCredentials are the AWS keys in the environment, which
// role-chaining starts from; nil when they are not all there.
func sourceCredentials(getenv func(string) string) *aws.SourceCredentials {
	id, secret, token := getenv(aws.EnvAccessKeyID), getenv(aws.EnvSecretAccessKey), getenv(aws.EnvSessionToken)
	if id == "" || secret == "" || token == "" {
		return nil
	}
	return &aws.SourceCredentials{
		AccessKeyID: exchange.NewSecret(id), SecretAccessKey: exchange.NewSecret(secret), SessionToken: exchange.NewSecret(token),
	}
}

// secretValues are the values of every secret input, masked before
// anything else happens in action mode, so no later message, not even a
// validation error, can show them.
func secretValues(getenv func(string) string) []string {
	var out []string
	for _, t := range providers.Types() {
		for _, s := range providers.Inputs(t) {
			if !s.Secret {
				continue
			}
			if v, _, _ := input.Value(&s, actionSource(getenv), getenv); v != "" {
				out = append(out, v)
			}
		}
	}
	// role-chaining signs with the keys an earlier step exported; they
	// were masked there, but this step's log is masked on its own terms.
	if b, err := input.ParseBool(strings.TrimSpace(getenv(inputEnvName("role-chaining")))); err == nil && b {
		if sc := sourceCredentials(getenv); sc != nil {
			out = append(out, sc.AccessKeyID.Reveal(), sc.SecretAccessKey.Reveal(), sc.SessionToken.Reveal())
		}
	}
	return out
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
	workspace := fs.String("github-workspace", "", "host path of the workspace (set by action.yml)")
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
	client := e.httpClient(actionProxy(e.getenv))
	// The GitHub edge itself, not the ci registry's Edge: this mode is
	// GitHub's action protocol (INPUT_*, STATE_* and the post step, file
	// commands, the container's mounts), which no other platform has. The
	// registry serves the CLI, which runs the same way on any platform.
	edge, err := github.New(github.Config{
		Getenv:         e.getenv,
		Stdout:         e.stdout,
		HTTPClient:     client,
		Retry:          e.retryPolicy(),
		Logger:         logger,
		HostRunnerTemp: *runnerTemp,
		HostWorkspace:  *workspace,
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
	for _, v := range append(secretValues(e.getenv), proxySecrets(e.getenv)...) {
		for _, form := range exchange.MaskForms(exchange.NewSecret(v)) {
			if err := edge.Mask(form); err != nil {
				return reportAction(e, logger, err)
			}
		}
	}

	var refresh *refreshPlan
	cfg, err := readActionConfig(ctx, e.getenv, client, logger, func(cfg *actionConfig, pc *providers.Config) (err error) {
		if cfg.provider == providers.AWS && pc.AWS.Refresh {
			refresh, err = planRefresh(e, edge, logger, cfg, &pc.AWS)
		}
		return err
	})
	if err != nil {
		return reportAction(e, logger, err)
	}
	if refresh != nil {
		if err := refresh.install(); err != nil {
			return reportAction(e, logger, err)
		}
	}
	var tokens exchange.TokenSource = edge
	platform := string(ci.GitHubActions)
	if cfg.tokenFile != "" {
		if tokens, err = tokenFileSource(edge, cfg.tokenFile); err != nil {
			return reportAction(e, logger, err)
		}
		// The audit record must not credit the runner with a token it
		// did not issue.
		platform = platformTokenFile
	}
	// One budget for the whole run: every attempt's deadline is the
	// smaller of its own timeout and what is left of it.
	ctx, cancel := context.WithTimeout(ctx, cfg.budget())
	defer cancel()
	verifier, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: cfg.issuer, Audience: cfg.audience, HTTPClient: client, Now: e.now(), Retry: e.retryPolicy(),
	})
	if err != nil {
		return reportAction(e, logger, err)
	}
	var exporter exchange.Exporter = edge
	if cfg.unsetCurrent() {
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
	p := exchange.Pipeline{
		Platform:     platform,
		Tokens:       tokens,
		Verifier:     verifier,
		Expectations: cfg.expectations,
		ProviderName: string(cfg.provider),
		Provider:     cfg.impls[0],
		Masker:       edge,
		Exporter:     exporter,
		Reporters:    reporters,
		Logger:       logger,
		Now:          e.now(),
	}
	results, err := runExchanges(ctx, p, cfg.impls)
	if err != nil {
		if cfg.unsetCurrent() && !errors.Is(err, exchange.ErrExport) {
			// The user asked for stale credentials to go: blanking them is
			// not an export of anything, and later steps then fail clearly
			// instead of running as a previous identity.
			if uerr := edge.Export(ctx, &exchange.Credentials{Env: blankVariables(aws.CleanupVariables())}); uerr != nil {
				logger.Warn("unsetting current credentials failed", "error", uerr)
			}
		}
		return reportAction(e, logger, err)
	}
	for _, res := range results {
		until := res.Audit.ExpiresAt
		if until == "" {
			until = "an expiry the issuer did not state"
		}
		logger.Info(fmt.Sprintf("oidc-exchange: %s credentials for %s, valid until %s", cfg.provider, res.Audit.Target, until))
	}
	return nil
}

// runExchanges runs p, or, for several providers, a batch of exchanges
// from p's token that exports only when all succeeded.
func runExchanges(ctx context.Context, p exchange.Pipeline, impls []exchange.Provider) ([]*exchange.Result, error) {
	if len(impls) == 1 {
		res, err := p.Run(ctx)
		return []*exchange.Result{res}, err
	}
	b := &exchange.Batch{Pipeline: p, Providers: impls, Exporter: p.Exporter}
	return b.Run(ctx)
}

// platformTokenFile is the audit record's ci when the action read its
// token from web-identity-token-file rather than from the runner.
const platformTokenFile = "token-file"

// tokenFileSource reads the token from web-identity-token-file instead of
// the runner's token endpoint, whose variables the job then need not have.
// The edge resolves the path within the container's mounts and masks the
// token before anything can print it.
func tokenFileSource(edge *github.Edge, p string) (*shell.FileTokenSource, error) {
	if p == "-" {
		return nil, exchange.InputError(shell.TokenFileSetting, "- (standard input) is for the CLI's --token-file; give the path of a file")
	}
	open, host, err := edge.TokenFile(p)
	if err != nil {
		return nil, err
	}
	return &shell.FileTokenSource{Path: open, SharedPath: host, Masker: edge}, nil
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

// unsettingExporter implements unset-current-credentials: every AWS
// credential variable an earlier step may have exported is written, empty
// unless this exchange sets it, so no stale key outlives this step.
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
