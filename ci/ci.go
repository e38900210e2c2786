package ci

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Type names a CI platform.
type Type string

// GitHubActions is GitHub Actions, implemented by package ci/github.
const GitHubActions Type = "github-actions"

// Types returns every supported platform, sorted.
func Types() []Type {
	return []Type{GitHubActions}
}

// Detect reports the platform the process runs on, judged from its
// environment: GitHub Actions sets GITHUB_ACTIONS=true in every step,
// container actions included.
func Detect(getenv func(string) string) (Type, bool) {
	if getenv("GITHUB_ACTIONS") == "true" {
		return GitHubActions, true
	}
	return "", false
}

// Config holds what every edge needs. Getenv and Stdout are required.
type Config struct {
	// Getenv reads the step's environment; edges never read the process
	// environment themselves.
	Getenv func(string) string
	// Stdout is where the platform reads workflow commands and logs.
	Stdout io.Writer
	// HTTPClient is the hardened client; nil means httpclient.New's
	// defaults.
	HTTPClient *http.Client
	// Retry bounds retries of the token request; zero means
	// httpclient.DefaultPolicy.
	Retry httpclient.Policy
	// Logger receives the edge's messages; nil discards them.
	Logger *slog.Logger
	// HostRunnerTemp is the host path of the runner's temp directory, for
	// edges that write credential files for later steps and must export
	// the path those steps see (GitHub: ${{ runner.temp }} passed through
	// the container action's args). Empty means the edge's fallbacks.
	HostRunnerTemp string
}

// Edge bundles a platform's implementations of the pipeline's seams.
type Edge struct {
	// Type is the platform, also recorded as the audit record's ci.
	Type Type
	// Tokens fetches the job's OIDC token and masks it before returning.
	// It also implements [exchange.CredentialSourcer] when the platform
	// lets other processes fetch tokens themselves (GitHub does).
	Tokens exchange.TokenSource
	// Masker registers secrets with the platform's log masking.
	Masker exchange.Masker
	// Exporter hands credentials to later steps.
	Exporter exchange.Exporter
	// Reporter prints the audit record (and, where the platform has one,
	// adds it to the job summary).
	Reporter exchange.Reporter
	// Cleanup is the post step: it undoes what Exporter left behind
	// (blanks exported variables, removes files). It returns nil when
	// there is nothing to clean.
	Cleanup func(ctx context.Context) error
}

// New builds the edge for platform t. An unknown t is an error naming the
// valid platforms, wrapping [exchange.ErrInvalidInput]; on error the
// returned Edge is the zero value and must not be used.
func New(_ context.Context, t Type, cfg Config) (Edge, error) {
	switch t {
	case GitHubActions:
		e, err := github.New(github.Config{
			Getenv:         cfg.Getenv,
			Stdout:         cfg.Stdout,
			HTTPClient:     cfg.HTTPClient,
			Retry:          cfg.Retry,
			Logger:         cfg.Logger,
			HostRunnerTemp: cfg.HostRunnerTemp,
		})
		if err != nil {
			return Edge{}, fmt.Errorf("creating the %s edge: %w", t, err)
		}
		return Edge{Type: t, Tokens: e, Masker: e, Exporter: e, Reporter: e, Cleanup: e.Cleanup}, nil
	default:
		return Edge{}, fmt.Errorf("unknown CI platform %q, valid platforms are %q: %w", t, Types(), exchange.ErrInvalidInput)
	}
}
