package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Exit codes, one per failure class; exchange's outcome table holds them
// with the README's troubleshooting table.
const (
	exitOK          = exchange.ExitOK
	exitInternal    = exchange.ExitInternal
	exitInput       = exchange.ExitInput
	exitToken       = exchange.ExitToken
	exitDenied      = exchange.ExitDenied
	exitUnavailable = exchange.ExitUnavailable
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
	return exchange.OutcomeOf(err).Exit
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

// hintFor gives the one-line next step from exchange's outcome table.
func hintFor(err error) string {
	return exchange.OutcomeOf(err).Hint
}
