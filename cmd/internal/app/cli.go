package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/ci"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers"
)

// cliEdge is what a CLI run takes from its surroundings: where the token
// comes from and how secrets are masked. Inside GitHub Actions masks go to
// stderr, because stdout carries credentials into a pipe or eval.
type cliEdge struct {
	tokens exchange.TokenSource
	masker exchange.Masker
	ci     string
}

func newCLIEdge(ctx context.Context, e *env, tokenFile string, logger *slog.Logger, client *http.Client) (*cliEdge, error) {
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
	case tokenFile == "-":
		return &cliEdge{tokens: &shell.ReaderTokenSource{R: e.stdin, Masker: masker}, masker: masker, ci: "cli"}, nil
	case tokenFile != "":
		return &cliEdge{tokens: &shell.FileTokenSource{Path: tokenFile, Masker: masker}, masker: masker, ci: "cli"}, nil
	case platformEdge != nil:
		return &cliEdge{tokens: platformEdge.Tokens, masker: masker, ci: string(platform)}, nil
	default:
		return nil, exchange.InputError(shell.TokenFileSetting, "no token source: pass --token-file (or - for stdin), or run inside GitHub Actions with `permissions: id-token: write`")
	}
}

// setupToken resolves the issuer and builds the token edge and the
// verifier every token-taking command needs.
func setupToken(ctx context.Context, e *env, cm *common, logger *slog.Logger, client *http.Client) (*cliEdge, *exchange.Verifier, error) {
	if err := cm.resolveIssuer(e.getenv); err != nil {
		return nil, nil, err
	}
	edge, err := newCLIEdge(ctx, e, cm.tokenFile, logger, client)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: cm.issuer, Audience: cm.audience, HTTPClient: client, Now: e.now(), Retry: e.retryPolicy(),
	})
	if err != nil {
		return nil, nil, err
	}
	return edge, verifier, nil
}

// providerCommand is a CLI command that exchanges the token with one
// provider. Its flags come from the common table and the provider's, so
// they are the action's inputs under their CLI names; only how the output
// is written (--format, --output) is the CLI's own.
type providerCommand struct {
	e      *env
	fs     *flag.FlagSet
	pt     providers.Type
	flags  *input.FlagSet
	format string
}

func newProviderCommand(e *env, pt providers.Type, summary string, format shell.Format, formatDoc string) *providerCommand {
	c := &providerCommand{e: e, fs: newFlagSet(e, string(pt), summary), pt: pt}
	c.flags = input.Bind(c.fs, input.Specs(commonInputs()), providers.Inputs(pt))
	c.fs.StringVar(&c.format, "format", string(format), "output format: "+formatDoc)
	return c
}

// names renames settings to the flags the user typed.
func (c *providerCommand) names() func(string) string {
	return input.CLINames(input.Specs(commonInputs()), providers.Inputs(c.pt))
}

// run reads every setting, lets adjust derive what the CLI decides itself,
// builds the provider (which validates once) and runs the pipeline with
// exporter. Every bad setting is reported at once, named by its flag.
func (c *providerCommand) run(ctx context.Context, adjust func(*providers.Config), exporter exchange.Exporter) (err error) {
	defer func() { input.Rename(err, c.names()) }()
	e := c.e
	src := c.flags.Source()
	var cm common
	errs := []error{input.Apply(&cm, commonInputs(), src, e.getenv)}
	errs = append(errs, cm.resolveProxy(e.getenv))
	cfg, err := providers.ReadConfig(c.pt, src, e.getenv)
	errs = append(errs, err)
	if adjust != nil {
		adjust(&cfg)
	}
	cm.audience, err = providers.Audience(c.pt, cfg, cm.audience)
	errs = append(errs, err)
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: cm.logLevel}))
	client := e.httpClient(&cm.proxy)
	cfg.HTTPClient, cfg.Logger = client, logger
	provider, err := providers.New(ctx, c.pt, cfg)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cm.budget())
	defer cancel()
	edge, verifier, err := setupToken(ctx, e, &cm, logger, client)
	if err != nil {
		return err
	}
	reporters := []exchange.Reporter{&exchange.AuditLine{W: e.stderr}}
	if cm.auditLog != "" {
		reporters = append(reporters, &exchange.AuditFile{Path: cm.auditLog})
	}
	p := &exchange.Pipeline{
		Platform: edge.ci, Tokens: edge.tokens, Verifier: verifier, Expectations: cm.expectations,
		ProviderName: string(c.pt), Provider: provider, Masker: edge.masker, Exporter: exporter,
		Reporters: reporters, Logger: logger, Now: e.now(),
	}
	_, err = p.Run(ctx)
	return err
}

func runAWS(ctx context.Context, e *env, args []string) error {
	c := newProviderCommand(e, providers.AWS, "Exchange the CI token for AWS credentials with sts:AssumeRoleWithWebIdentity and print them.\n"+
		"Example: eval \"$(oidc-exchange aws --role-arn arn:aws:iam::111122223333:role/deploy --region eu-west-1)\"",
		shell.FormatEnv, "env, json or credential-process")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(c.format)
	if err != nil {
		return err
	}
	return c.run(ctx, nil, &shell.Renderer{Format: sf, W: e.stdout})
}

func runVerify(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet(e, "verify", "Verify a CI OIDC token (signature, issuer, audience, expiry) and print its claims as JSON.\n"+
		"The audience defaults, inside GitHub Actions, to https://github.com/<owner>.")
	ins := only(commonInputs(), "audience", "oidc-issuer", "oidc-enterprise-slug", shell.TokenFileSetting, "http-proxy", "no-proxy", "log-level")
	flags := input.Bind(fs, input.Specs(ins))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	defer func() { input.Rename(err, input.CLINames(input.Specs(ins))) }()
	var cm common
	if err := errors.Join(input.Apply(&cm, ins, flags.Source(), e.getenv), cm.resolveProxy(e.getenv)); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: cm.logLevel}))
	if cm.audience == "" {
		owner := e.getenv("GITHUB_REPOSITORY_OWNER")
		if owner == "" {
			return exchange.InputError("audience", "is required outside GitHub Actions")
		}
		server := strings.TrimSpace(e.getenv("GITHUB_SERVER_URL"))
		if server == "" {
			server = "https://github.com"
		}
		cm.audience = strings.TrimSuffix(server, "/") + "/" + owner
	}
	edge, verifier, err := setupToken(ctx, e, &cm, logger, e.httpClient(&cm.proxy))
	if err != nil {
		return err
	}
	raw, err := edge.tokens.Token(ctx, cm.audience)
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
