package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/ci"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
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
func (c *providerCommand) run(ctx context.Context, adjust func(*providers.Config), exporter exchange.Exporter) error {
	return c.runWith(ctx, adjust, func(*providers.Config) (exchange.Exporter, error) { return exporter, nil })
}

// runWith is run with the exporter picked for the settings read. When the
// settings name several roles, the exchanges run as a batch that shares
// one token and exports only when all succeeded, each with its own audit
// record.
func (c *providerCommand) runWith(ctx context.Context, adjust func(*providers.Config),
	exporter func(*providers.Config) (exchange.Exporter, error)) (err error) {
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
	impls, err := providers.NewAll(ctx, c.pt, cfg)
	errs = append(errs, err)
	exp, err := exporter(&cfg)
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
	p := exchange.Pipeline{
		Platform: edge.ci, Tokens: edge.tokens, Verifier: verifier, Expectations: cm.expectations,
		ProviderName: string(c.pt), Provider: impls[0], Masker: edge.masker, Exporter: exp,
		Reporters: reporters, Logger: logger, Now: e.now(),
	}
	_, err = runExchanges(ctx, p, impls)
	return err
}

func runAWS(ctx context.Context, e *env, args []string) error {
	c := newProviderCommand(e, providers.AWS, "Exchange the CI token for AWS credentials with sts:AssumeRoleWithWebIdentity and print them,\n"+
		"or, with --profile or --role, write them as profiles into AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE\n"+
		"(default ~/.aws/config and ~/.aws/credentials) and print nothing on stdout.\n"+
		"Example: eval \"$(oidc-exchange aws --role-arn arn:aws:iam::111122223333:role/deploy --region eu-west-1)\"\n"+
		"Example: oidc-exchange aws --region eu-west-1 --role build=arn:aws:iam::111122223333:role/build --role prod=arn:aws:iam::444455556666:role/deploy",
		shell.FormatEnv, "env, json or credential-process; not with --profile or --role, which write profiles instead")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(c.format)
	if err != nil {
		return err
	}
	formatSet := false
	c.fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
	return c.runWith(ctx, nil, func(cfg *providers.Config) (exchange.Exporter, error) {
		if cfg.AWS.Profile == "" && len(cfg.AWS.Roles) == 0 {
			return &shell.Renderer{Format: sf, W: e.stdout}, nil
		}
		if formatSet {
			// Profiles go to files and stdout stays empty; a format would
			// print nothing, so asking for one is a mistake to point out.
			return nil, fmt.Errorf("--format %s prints credentials and --profile/--role writes them into profiles instead; "+
				"remove --format, or --profile and --role: %w", sf, exchange.ErrInvalidInput)
		}
		return &profileExporter{w: &shell.ProfileWriter{Getenv: e.getenv, Home: homeDir(e.getenv), Notices: e.stderr}}, nil
	})
}

// profileExporter names the CLI's flag in the error about a profile that
// is already there.
type profileExporter struct{ w *shell.ProfileWriter }

var _ exchange.Exporter = (*profileExporter)(nil)

func (p *profileExporter) Export(ctx context.Context, c *exchange.Credentials) error {
	err := p.w.Export(ctx, c)
	if exists, ok := errors.AsType[*sharedini.SectionExistsError](err); ok {
		exists.Allow = "--overwrite-profile"
	}
	return err
}

// homeDir is the user's home directory as the AWS SDKs find it, from the
// environment; "" when unknown.
func homeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	if runtime.GOOS == "windows" {
		return getenv("USERPROFILE")
	}
	return ""
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
