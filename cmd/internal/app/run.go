package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci"
	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/version"
)

// postEntrypointName is the argv[0] the image's post-entrypoint symlink
// gives; the runner starts the post step with the same args as main.
const postEntrypointName = "oidc-exchange-post"

// hooks are infrastructure seams for tests, benchmarks and the demo.
type hooks struct {
	now       func() time.Time
	retry     *httpclient.Policy
	transport http.RoundTripper
	// executable replaces os.Executable as what refresh installs: tests
	// run in-process, where that is the test binary.
	executable string
}

// executable is the program refresh copies for later steps.
func (e *env) executable() (string, error) {
	if e.hooks != nil && e.hooks.executable != "" {
		return e.hooks.executable, nil
	}
	return os.Executable()
}

func (e *env) now() func() time.Time {
	if e.hooks != nil && e.hooks.now != nil {
		return e.hooks.now
	}
	return time.Now
}

func (e *env) retryPolicy() httpclient.Policy {
	if e.hooks != nil && e.hooks.retry != nil {
		return *e.hooks.retry
	}
	return httpclient.DefaultPolicy()
}

// httpClient builds the client of every request of a run, through proxy.
func (e *env) httpClient(proxy *httpclient.Proxy) *http.Client {
	opts := httpclient.Options{Proxy: proxy}
	if e.hooks != nil {
		opts.Transport = e.hooks.transport
	}
	return httpclient.New(opts)
}

const usageText = `oidc-exchange trades a CI job's OIDC token for short-lived cloud credentials.

Usage:
  oidc-exchange                      run as a GitHub Action (GITHUB_ACTIONS=true)
  oidc-exchange aws [flags]          print AWS credentials for shells and SDKs
  oidc-exchange gcp [flags]          print a GCP token, or an external_account credentials file
  oidc-exchange broker [flags]       exchange the token at any RFC 8693 broker and print the result
  oidc-exchange verify [flags]       verify a token and print its claims as JSON
  oidc-exchange lint [flags] FILE…   lint AWS, GCP and Azure trust configurations (exit 1 on findings)
  oidc-exchange plan [flags]         write the least-privilege trust configuration for one workflow
  oidc-exchange migrate [flags] [DIR] find stored cloud keys in workflows; --write moves AWS ones to oidc-exchange
  oidc-exchange version              print the version

Run 'oidc-exchange <command> --help' for a command's flags.
`

// usage is the program's help: usageText, then the exit codes as
// exchange's outcome table gives them, so the two cannot drift.
func usage() string {
	var b strings.Builder
	b.WriteString(usageText + "Exit codes:")
	for i, c := range exchange.ExitCodes() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %d %s", c.Code, c.Summary)
	}
	b.WriteString(".\n")
	return b.String()
}

func run(ctx context.Context, e *env) error {
	args := e.args[1:]
	if filepath.Base(e.args[0]) == postEntrypointName {
		return runAction(ctx, e, true)
	}
	// The action passes only flags (the host runner temp), never a
	// subcommand, so "no subcommand" inside GitHub Actions selects action
	// mode.
	if platform, inCI := ci.Detect(e.getenv); inCI && platform == ci.GitHubActions && (len(args) == 0 || strings.HasPrefix(args[0], "--")) {
		return runAction(ctx, e, github.IsPost(e.getenv))
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return &usageError{msg: "no command given"}
	}
	switch args[0] {
	case "aws":
		return runAWS(ctx, e, args[1:])
	case "gcp":
		return runGCP(ctx, e, args[1:])
	case "broker":
		return runBroker(ctx, e, args[1:])
	case "lint":
		return runLint(e, args[1:])
	case "plan":
		return runPlan(e, args[1:])
	case "migrate":
		return runMigrate(e, args[1:])
	case "verify":
		return runVerify(ctx, e, args[1:])
	case "demo":
		// The sandbox's fakes stay out of the binary that handles real
		// credentials; say where the demo went.
		return &usageError{msg: "the demo is a command of its own: go run github.com/oidc-exchange/oidc-exchange/cmd/oidc-exchange-demo@latest (or ./cmd/oidc-exchange-demo in a checkout)"}
	case "version", "--version":
		return runVersion(e, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage())
		return nil
	default:
		fmt.Fprint(e.stderr, usage())
		return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
	}
}

func runVersion(e *env, args []string) error {
	fs := newFlagSet(e, "version", "Print the build's name, version and commit.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	i := version.Get()
	fmt.Fprintf(e.stdout, "%s %s (commit %s, %s)\n", i.Name, i.Version, i.Commit, i.Go)
	return nil
}

// newFlagSet builds a flag set whose usage lists flags sorted, on stderr.
func newFlagSet(e *env, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: oidc-exchange %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		input.PrintDefaults(fs)
	}
	return fs
}

// parseArgs parses args. --help comes back as flag.ErrHelp, which the
// program ends on successfully (the usage is printed by then); anything
// else wrong is a usage error.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}

// parseFlags is parseArgs for commands that take no positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}
