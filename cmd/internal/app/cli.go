package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci"
	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
)

// tokenFlags are shared by every command that needs a token.
type tokenFlags struct {
	issuer    string
	slug      string
	audience  string
	tokenFile string
	logLevel  string
}

func (t *tokenFlags) register(fs interface {
	StringVar(p *string, name, value, usage string)
}) {
	fs.StringVar(&t.issuer, "oidc-issuer", "", "expected token issuer (default: derived from GITHUB_SERVER_URL, else github.com's)")
	fs.StringVar(&t.slug, "oidc-enterprise-slug", "", "enterprise slug of a GHEC/GHE.com unique issuer")
	fs.StringVar(&t.tokenFile, "token-file", "", "read the token from this file, or - for stdin (default: ask the CI platform)")
	fs.StringVar(&t.logLevel, "log-level", "info", "debug, info, warn or error; logs go to stderr")
}

// cliEdge is what a CLI run takes from its surroundings: where the token
// comes from and how secrets are masked. Inside GitHub Actions masks go to
// stderr, because stdout carries credentials into a pipe or eval.
type cliEdge struct {
	tokens exchange.TokenSource
	masker exchange.Masker
	ci     string
}

func (t *tokenFlags) edge(ctx context.Context, e *env, logger *slog.Logger, client *http.Client) (*cliEdge, error) {
	var masker exchange.Masker = exchange.NoopMasker{}
	var platformEdge *ci.Edge
	platform, inCI := ci.Detect(e.getenv)
	if inCI {
		pe, err := ci.New(ctx, platform, ci.Config{
			Getenv: e.getenv, Stdout: e.stderr, HTTPClient: client, Retry: e.retryPolicy(), Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		platformEdge = &pe
		masker = pe.Masker
	}
	switch {
	case t.tokenFile == "-":
		return &cliEdge{tokens: &shell.ReaderTokenSource{R: e.stdin, Masker: masker}, masker: masker, ci: "cli"}, nil
	case t.tokenFile != "":
		return &cliEdge{tokens: &shell.FileTokenSource{Path: t.tokenFile, Masker: masker}, masker: masker, ci: "cli"}, nil
	case platformEdge != nil:
		return &cliEdge{tokens: platformEdge.Tokens, masker: masker, ci: string(platform)}, nil
	default:
		return nil, exchange.InputError("token-file", "no token source: pass --token-file (or - for stdin), or run inside GitHub Actions with `permissions: id-token: write`")
	}
}

// setup resolves the issuer and builds the token edge and the verifier
// every token-taking command needs.
func (t *tokenFlags) setup(ctx context.Context, e *env, logger *slog.Logger, client *http.Client) (*cliEdge, *exchange.Verifier, error) {
	issuer, err := t.resolveIssuer(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	edge, err := t.edge(ctx, e, logger, client)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: issuer, Audience: t.audience, HTTPClient: client, Now: e.now(), Retry: e.retryPolicy(),
	})
	if err != nil {
		return nil, nil, err
	}
	return edge, verifier, nil
}

// resolveIssuer picks the expected issuer: the flag, else the CI
// platform's default.
func (t *tokenFlags) resolveIssuer(getenv func(string) string) (string, error) {
	if t.issuer != "" {
		return t.issuer, exchange.ValidateIssuer(t.issuer)
	}
	return github.DefaultIssuer(getenv("GITHUB_SERVER_URL"), t.slug)
}

func runAWS(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "aws", "Exchange the CI token for AWS credentials with sts:AssumeRoleWithWebIdentity and print them.\nExample: eval \"$(oidc-exchange aws --role-arn arn:aws:iam::111122223333:role/deploy --region eu-west-1)\"")
	var tf tokenFlags
	tf.register(fs)
	var c aws.Config
	var managed, expect multiFlag
	var format, allowed, policy, auditLog string
	var timeout time.Duration
	fs.StringVar(&c.RoleARN, "role-arn", "", "ARN of the role to assume (required)")
	fs.StringVar(&c.Region, "region", e.getenv("AWS_REGION"), "AWS region (required; default $AWS_REGION)")
	fs.StringVar(&tf.audience, "audience", "", "audience to request (default sts.amazonaws.com, .com.cn in cn-* regions)")
	fs.StringVar(&format, "format", string(shell.FormatEnv), "output format: env, json or credential-process")
	fs.StringVar(&c.SessionName, "session-name", "", "role session name (default GitHubActions-<run_id>-<run_attempt>)")
	fs.IntVar(&c.DurationSeconds, "duration-seconds", aws.DefaultDurationSeconds, "session duration, 900 to 43200")
	fs.StringVar(&policy, "inline-session-policy", "", "inline session policy JSON, or @FILE")
	fs.Var(&managed, "managed-session-policy", "managed policy ARN limiting the session (repeatable)")
	fs.StringVar(&allowed, "allowed-account-ids", "", "comma-separated account ids the role must belong to")
	fs.StringVar(&c.STSEndpoint, "sts-endpoint", "", "STS endpoint URL (default regional; also $AWS_ENDPOINT_URL_STS)")
	fs.IntVar(&c.RetryMaxAttempts, "retry-max-attempts", aws.DefaultRetryMaxAttempts, "attempts for transient STS failures")
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
	if strings.HasPrefix(policy, "@") {
		b, err := os.ReadFile(policy[1:])
		if err != nil {
			return exchange.InputError("inline-session-policy", "reading %s: %v", policy[1:], err)
		}
		policy = string(b)
	}
	c.InlineSessionPolicy = policy
	c.ManagedSessionPolicies = managed
	c.AllowedAccountIDs = splitList(allowed)
	if c.STSEndpoint == "" {
		c.STSEndpoint = firstNonEmpty(e.getenv("AWS_ENDPOINT_URL_STS"), e.getenv("AWS_ENDPOINT_URL"))
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return runProvider(ctx, e, &tf, expect, timeout, auditLog, providers.AWS, providers.Config{AWS: c},
		&shell.Renderer{Format: sf, W: e.stdout})
}

// runProvider is the common tail of the provider commands: parse the
// expectations, build the provider from the registry, and run the pipeline
// with exporter.
func runProvider(ctx context.Context, e *env, tf *tokenFlags, expect []string, timeout time.Duration, auditLog string,
	pt providers.Type, cfg providers.Config, exporter exchange.Exporter,
) error {
	expectations, err := exchange.ParseExpectations(strings.Join(expect, "\n"))
	if err != nil {
		return err
	}
	logger, err := cliLogger(e.stderr, tf.logLevel)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := e.httpClient()
	cfg.HTTPClient, cfg.Logger = client, logger
	if tf.audience == "" {
		tf.audience = providers.DefaultAudience(pt, cfg)
	}
	provider, err := providers.New(ctx, pt, cfg)
	if err != nil {
		return err
	}
	return runCLIPipeline(ctx, e, client, logger, tf, expectations, pt, provider, exporter, auditLog)
}

func runCLIPipeline(ctx context.Context, e *env, client *http.Client, logger *slog.Logger, tf *tokenFlags, expectations exchange.Expectations,
	pt providers.Type, provider exchange.Provider, exporter exchange.Exporter, auditLog string,
) error {
	edge, verifier, err := tf.setup(ctx, e, logger, client)
	if err != nil {
		return err
	}
	reporters := []exchange.Reporter{&exchange.AuditLine{W: e.stderr}}
	if auditLog != "" {
		reporters = append(reporters, &exchange.AuditFile{Path: auditLog})
	}
	p := &exchange.Pipeline{
		Platform: edge.ci, Tokens: edge.tokens, Verifier: verifier, Expectations: expectations,
		ProviderName: string(pt), Provider: provider, Masker: edge.masker, Exporter: exporter,
		Reporters: reporters, Logger: logger, Now: e.now(),
	}
	_, err = p.Run(ctx)
	return err
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify", "Verify a CI OIDC token (signature, issuer, audience, expiry) and print its claims as JSON.")
	var tf tokenFlags
	tf.register(fs)
	fs.StringVar(&tf.audience, "audience", "", "audience the token must carry (default inside GitHub Actions: https://github.com/<owner>)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := cliLogger(e.stderr, tf.logLevel)
	if err != nil {
		return err
	}
	if tf.audience == "" {
		owner := e.getenv("GITHUB_REPOSITORY_OWNER")
		if owner == "" {
			return exchange.InputError("audience", "--audience is required outside GitHub Actions")
		}
		tf.audience = strings.TrimSuffix(firstNonEmpty(e.getenv("GITHUB_SERVER_URL"), "https://github.com"), "/") + "/" + owner
	}
	edge, verifier, err := tf.setup(ctx, e, logger, e.httpClient())
	if err != nil {
		return err
	}
	raw, err := edge.tokens.Token(ctx, tf.audience)
	if err != nil {
		return err
	}
	id, err := verifier.Verify(ctx, raw.Reveal())
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(id.Claims, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding claims: %w", errors.Join(err, exchange.ErrTokenInvalid))
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}
