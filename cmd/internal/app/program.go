package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Exit codes, one per failure class, so scripts and the troubleshooting
// table in the README can branch on them.
const (
	exitOK          = 0
	exitInternal    = 1
	exitInput       = 2
	exitToken       = 3
	exitDenied      = 4
	exitUnavailable = 5
)

// Main runs the program with what it takes from its process, and returns
// the error that decides its exit code (see [ExitCode]); it has already
// been shown to the user. cmd/oidc-exchange passes the real process;
// cmd/oidc-exchange-demo runs it in-process against its sandbox.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return realMain(ctx, &env{args: args, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
}

// ExitCode maps the error [Main] returned to the process exit code: 0, or
// one per failure class, as the README's troubleshooting table lists them.
func ExitCode(err error) int { return exitCode(err) }

// env is everything the program takes from its process, injected so tests
// and the demo can run it in-process.
type env struct {
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// hooks lets the demo and tests tune infrastructure; nil in production.
	hooks *hooks
}

// reportedError marks an error that was already shown to the user, so main
// only turns it into an exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// usageError is a command-line mistake; its message is the usage hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return exitInput
	}
	var fe *findingsError
	if errors.As(err, &fe) {
		return exitFindings
	}
	switch exchange.Classify(err) {
	case exchange.ClassInput:
		return exitInput
	case exchange.ClassToken:
		return exitToken
	case exchange.ClassDenied:
		return exitDenied
	case exchange.ClassUnavailable:
		return exitUnavailable
	default:
		return exitInternal
	}
}

// realMain runs the program and prints any error not yet reported.
func realMain(ctx context.Context, e *env) error {
	err := run(ctx, e)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	var re *reportedError
	if err != nil && !errors.As(err, &re) {
		fmt.Fprintf(e.stderr, "oidc-exchange: %v\n", err)
		if explain := exchange.Explain(err); explain != "" {
			fmt.Fprintln(e.stderr, explain)
		}
		if hint := hintFor(err); hint != "" {
			fmt.Fprintln(e.stderr, "hint: "+hint)
		}
	}
	return err
}

// hintFor gives the one-line next step for each failure class; the
// README's troubleshooting table repeats them by exit code.
func hintFor(err error) string {
	switch {
	case errors.Is(err, exchange.ErrTokenPermission):
		return "add `permissions: id-token: write` to the job; pull requests from forks never receive an OIDC token"
	case errors.Is(err, exchange.ErrAudienceMismatch):
		return "request the audience the cloud expects (input audience), and check the token source"
	case errors.Is(err, exchange.ErrIssuerMismatch):
		return "set oidc-issuer (or oidc-enterprise-slug) to the issuer of your GitHub deployment"
	case errors.Is(err, exchange.ErrTokenExpired):
		return "the token expired before it was used; check the runner's clock and retry the job"
	case errors.Is(err, exchange.ErrPolicyDenied):
		return "the job does not match expect-claims; run it from the expected repository, ref or environment"
	case errors.Is(err, exchange.ErrTimedOut):
		return "a service did not answer before the run's time budget (action-timeout-s, or --timeout; 30 s by default) ran out; retry the job later, or raise the budget"
	case errors.Is(err, exchange.ErrProviderUnavailable), errors.Is(err, exchange.ErrUpstreamUnavailable):
		return "a service kept failing transiently; retry the job later"
	}
	return ""
}
