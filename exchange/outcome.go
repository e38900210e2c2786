package exchange

import (
	"context"
	"errors"
	"slices"

	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Exit codes of the program, one per [Class], so scripts can branch on
// them. The README's troubleshooting table documents them; a test holds
// it to the table.
const (
	ExitOK          = 0
	ExitInternal    = 1
	ExitInput       = 2
	ExitToken       = 3
	ExitDenied      = 4
	ExitUnavailable = 5
)

// Outcome is what one kind of failure means, for each audience: its class
// and error_code in the audit record, the process's exit code, and the
// one-line next step printed under the error.
type Outcome struct {
	// Err is the sentinel, matched with errors.Is; nil for success and for
	// the internal outcome of an error no row matches.
	Err error
	// Class groups the failure by what the user must do about it.
	Class Class
	// Code is the audit record's error_code when the upstream gave none.
	Code string
	// Exit is the process exit code; every row of a class has the same.
	Exit int
	// Hint is the next step, in one line; "" when the message says it.
	Hint string
}

// Hints shared by several rows.
const hintRetryLater = "a service kept failing transiently; retry the job later"

// outcomes maps every sentinel to its outcome. The first row whose Err
// matches wins, so:
//   - a sentinel that wraps another comes first (ErrTokenPermission wraps
//     ErrTokenUnavailable, and only it earns the permission hint);
//   - a definite answer (input, denied, token) outranks ErrTimedOut, which
//     the pipeline adds to whatever failed when the run's budget ran out;
//   - the context's own errors come last, after every sentinel a provider
//     may have joined them with;
//   - a proxy's refusal comes first: whichever call met it (the token,
//     discovery, the provider) and however that call classed it, the
//     proxy setting is what must change.
var outcomes = []Outcome{
	{Err: httpclient.ErrProxyRefused, Class: ClassInput, Code: "ProxyRefused", Exit: ExitInput,
		Hint: "the proxy refused the request: check the credentials in http-proxy or HTTPS_PROXY, and that the proxy allows this host"},
	{Err: ErrInvalidInput, Class: ClassInput, Code: "InvalidInput", Exit: ExitInput},
	{Err: ErrProviderRejected, Class: ClassInput, Code: "ProviderRejected", Exit: ExitInput},
	{Err: ErrProviderAnswer, Class: ClassInput, Code: "ProviderAnswer", Exit: ExitInput},

	{Err: ErrPolicyDenied, Class: ClassDenied, Code: "ClaimMismatch", Exit: ExitDenied,
		Hint: "the job does not match expect-claims; run it from the expected repository, ref or environment"},
	{Err: ErrProviderDenied, Class: ClassDenied, Code: "ProviderDenied", Exit: ExitDenied},

	{Err: ErrTokenPermission, Class: ClassToken, Code: "TokenUnavailable", Exit: ExitToken,
		Hint: "add `permissions: id-token: write` to the job (pull requests from forks never receive an OIDC token), or read a token from a file with web-identity-token-file"},
	{Err: ErrTokenExpired, Class: ClassToken, Code: "TokenExpired", Exit: ExitToken,
		Hint: "the token expired before it was used; check the runner's clock and retry the job"},
	{Err: ErrAudienceMismatch, Class: ClassToken, Code: "AudienceMismatch", Exit: ExitToken,
		Hint: "request the audience the cloud expects (input audience), and check the token source"},
	{Err: ErrIssuerMismatch, Class: ClassToken, Code: "IssuerMismatch", Exit: ExitToken,
		Hint: "set oidc-issuer to the token's issuer: your GitHub deployment's (or set oidc-enterprise-slug) or, with web-identity-token-file, the file's (an EKS cluster's, say)"},
	{Err: ErrTokenUnavailable, Class: ClassToken, Code: "TokenUnavailable", Exit: ExitToken},
	{Err: ErrTokenInvalid, Class: ClassToken, Code: "TokenInvalid", Exit: ExitToken},

	{Err: ErrTimedOut, Class: ClassUnavailable, Code: "Timeout", Exit: ExitUnavailable,
		Hint: "a service did not answer before the run's time budget (action-timeout-s, or --timeout; 30 s by default) ran out; retry the job later, or raise the budget"},
	{Err: ErrUpstreamUnavailable, Class: ClassUnavailable, Code: "UpstreamUnavailable", Exit: ExitUnavailable, Hint: hintRetryLater},
	{Err: ErrProviderUnavailable, Class: ClassUnavailable, Code: "ProviderUnavailable", Exit: ExitUnavailable, Hint: hintRetryLater},

	{Err: ErrExport, Class: ClassInternal, Code: "ExportFailed", Exit: ExitInternal},
	{Err: context.DeadlineExceeded, Class: ClassInternal, Code: "Timeout", Exit: ExitInternal},
	{Err: context.Canceled, Class: ClassInternal, Code: "Cancelled", Exit: ExitInternal},
}

// classSummaries says in a few words what each class's exit code means,
// for the usage text's line of exit codes ([ExitCodes]).
var classSummaries = map[Class]string{
	ClassNone:        "ok",
	ClassInternal:    "internal",
	ClassInput:       "bad input",
	ClassToken:       "token or verification",
	ClassDenied:      "denied",
	ClassUnavailable: "unavailable",
}

// ExitCode is one exit code of the program and what it means.
type ExitCode struct {
	Code    int
	Class   Class
	Summary string
}

// ExitCodes lists the exit codes the outcome table gives, success
// included, in ascending order: the usage text lists them from here, so
// it cannot drift from the table.
func ExitCodes() []ExitCode {
	codes := []ExitCode{{Code: ExitOK, Class: ClassNone, Summary: classSummaries[ClassNone]}}
	for _, o := range slices.Concat(outcomes, []Outcome{internal}) {
		if !slices.ContainsFunc(codes, func(c ExitCode) bool { return c.Code == o.Exit }) {
			codes = append(codes, ExitCode{Code: o.Exit, Class: o.Class, Summary: classSummaries[o.Class]})
		}
	}
	slices.SortFunc(codes, func(a, b ExitCode) int { return a.Code - b.Code })
	return codes
}

// internal is the outcome of an error no row matches: a bug, or a failure
// nothing classified yet.
var internal = Outcome{Class: ClassInternal, Code: "Internal", Exit: ExitInternal}

// OutcomeOf returns the outcome of err: the zero Outcome (ClassNone,
// ExitOK) for nil, the first matching row of the table, else the internal
// outcome. Its Code is the table's; [ErrorCode] prefers the upstream's.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Outcome{}
	}
	for _, o := range outcomes {
		if errors.Is(err, o.Err) {
			return o
		}
	}
	return internal
}
