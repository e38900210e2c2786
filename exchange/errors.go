package exchange

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is. Each has one row in the outcome table
// ([OutcomeOf]): its [Class], audit code, exit code and hint.
var (
	// ErrInvalidInput: a setting is missing, malformed or out of range.
	ErrInvalidInput = errors.New("invalid input")
	// ErrTokenUnavailable: the CI platform offers no OIDC token to this job.
	ErrTokenUnavailable = errors.New("no OIDC token available")
	// ErrTokenPermission: the job may not request a token at all (GitHub:
	// no ACTIONS_ID_TOKEN_REQUEST_* variables, which `permissions:
	// id-token: write` provides). It wraps [ErrTokenUnavailable]; only
	// it earns the permission hint, which would mislead for a token file
	// that is missing or an endpoint that refused a request.
	ErrTokenPermission = fmt.Errorf("%w: the job may not request one", ErrTokenUnavailable)
	// ErrTokenInvalid: the token is malformed, badly signed or lacks claims.
	ErrTokenInvalid = errors.New("OIDC token is invalid")
	// ErrTokenExpired: the token's exp has passed.
	ErrTokenExpired = errors.New("OIDC token has expired")
	// ErrAudienceMismatch: the token's aud is not the requested audience.
	ErrAudienceMismatch = errors.New("OIDC token audience mismatch")
	// ErrIssuerMismatch: the token's iss is not the configured issuer.
	ErrIssuerMismatch = errors.New("OIDC token issuer mismatch")
	// ErrPolicyDenied: the token's claims do not meet the expectations.
	ErrPolicyDenied = errors.New("token claims do not meet the expectations")
	// ErrProviderDenied: the provider refused to trust this identity.
	ErrProviderDenied = errors.New("provider denied the exchange")
	// ErrProviderRejected: the provider rejected the request as malformed
	// (bad ARN, duration over the role maximum, bad policy).
	ErrProviderRejected = errors.New("provider rejected the request")
	// ErrProviderAnswer: the provider answered, successfully by its status,
	// with something that is not usable credentials: a value too short to
	// be a secret, a field missing, an identity that cannot be checked. It
	// repeats on every attempt, so it is permanent; the fix is the
	// endpoint or its configuration.
	ErrProviderAnswer = errors.New("provider's answer is not usable credentials")
	// ErrProviderUnavailable: the provider kept failing transiently.
	ErrProviderUnavailable = errors.New("provider unavailable")
	// ErrUpstreamUnavailable: the token endpoint, discovery or JWKS kept
	// failing transiently.
	ErrUpstreamUnavailable = errors.New("upstream service unavailable")
	// ErrTimedOut: the run's time budget ran out (action-timeout-s, or
	// [DefaultRunBudget]) while a service had not answered.
	ErrTimedOut = errors.New("the run's time budget ran out")
	// ErrExport: writing credentials to the CI platform failed.
	ErrExport = errors.New("exporting credentials failed")
)

// Class groups failures by what the user must do about them.
type Class string

// Classes, also written to the audit record's error_class.
const (
	ClassNone        Class = ""
	ClassInput       Class = "input"
	ClassToken       Class = "token"
	ClassDenied      Class = "denied"
	ClassUnavailable Class = "unavailable"
	ClassInternal    Class = "internal"
)

// Classify maps an error to its class through [OutcomeOf]; unknown errors
// are internal.
func Classify(err error) Class {
	return OutcomeOf(err).Class
}

// Explainer is implemented by errors that carry a multi-line explanation for
// the user: a claims table, a suggested trust-policy condition.
type Explainer interface {
	Explain() string
}

// Explain returns the explanation of the first Explainer in err's tree.
func Explain(err error) string {
	var e Explainer
	if errors.As(err, &e) {
		return e.Explain()
	}
	return ""
}

// InputError builds an ErrInvalidInput error naming the setting. Other
// settings the message names are passed as [Setting] arguments, so that
// renaming (the CLI shows flags, not input names) reaches them too.
func InputError(setting, format string, args ...any) error {
	return &SettingError{Setting: setting, format: format, args: args}
}

// Setting names a setting inside an [InputError] message.
type Setting string

// SettingError is an invalid setting: "setting: message: invalid input".
// It wraps [ErrInvalidInput].
type SettingError struct {
	// Setting is the name the user knows the setting by.
	Setting string
	format  string
	args    []any
}

func (e *SettingError) Error() string {
	return e.Setting + ": " + fmt.Sprintf(e.format, e.args...) + ": " + ErrInvalidInput.Error()
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *SettingError) Unwrap() error { return ErrInvalidInput }

// Message is what is wrong, without the setting's name, for a caller that
// reports it under another setting (a line of a list input).
func (e *SettingError) Message() string { return fmt.Sprintf(e.format, e.args...) }

// RenameSettings renames the setting and every [Setting] in the message,
// so that the CLI can name its flags.
func (e *SettingError) RenameSettings(rename func(string) string) {
	e.Setting = rename(e.Setting)
	for i, a := range e.args {
		if s, ok := a.(Setting); ok {
			e.args[i] = Setting(rename(string(s)))
		}
	}
}

// ProviderError is a classified failure reported by an upstream service.
type ProviderError struct {
	// Provider is the registry name, e.g. "aws".
	Provider string
	// Code is the upstream error code, e.g. "AccessDenied".
	Code string
	// Kind is the sentinel that classifies the error.
	Kind error
	// Message is the upstream's short message, sanitized. Never a raw body.
	Message string
	// Hint tells the user what to do, in one sentence.
	Hint string
	// Details is a multi-line explanation (claims, suggested condition).
	Details string
	// Temporary marks the failure as worth retrying.
	Temporary bool
	// Err is the underlying cause, for debug logs.
	Err error
}

// maxUpstreamMessage bounds, in characters, what an upstream message may
// add to a log line.
const maxUpstreamMessage = 300

func (e *ProviderError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	msg := Truncate(Sanitize(e.Message), maxUpstreamMessage)
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if e.Kind != nil {
		b.WriteString(" (" + e.Kind.Error() + ")")
	}
	return b.String()
}

// Unwrap exposes the sentinel and the cause to errors.Is and errors.As.
func (e *ProviderError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable implements the retry marker of internal/httpclient.
func (e *ProviderError) Retryable() bool { return e.Temporary }

// Explain implements [Explainer].
func (e *ProviderError) Explain() string {
	var parts []string
	if e.Hint != "" {
		parts = append(parts, e.Hint)
	}
	if e.Details != "" {
		parts = append(parts, e.Details)
	}
	return strings.Join(parts, "\n")
}

// Mismatch is one failed claim expectation.
type Mismatch struct {
	Claim    string
	Expected string
	Actual   string
}

// ExpectationError lists every claim that did not meet its expectation.
type ExpectationError struct {
	Mismatches []Mismatch
}

func (e *ExpectationError) Error() string {
	names := make([]string, 0, len(e.Mismatches))
	for _, m := range e.Mismatches {
		names = append(names, m.Claim)
	}
	return fmt.Sprintf("%s: %s", ErrPolicyDenied, strings.Join(names, ", "))
}

// Unwrap makes errors.Is(err, ErrPolicyDenied) true.
func (e *ExpectationError) Unwrap() error { return ErrPolicyDenied }

// Explain implements [Explainer] with a claim/expected/actual table.
func (e *ExpectationError) Explain() string {
	rows := make([][]string, 0, len(e.Mismatches))
	for _, m := range e.Mismatches {
		rows = append(rows, []string{m.Claim, m.Expected, m.Actual})
	}
	return "The token was not sent to any provider. Claims that did not match expect-claims:\n" +
		Table([]string{"claim", "expected", "actual"}, rows)
}

// ClaimsTable renders the named claims of id, for denial explanations.
func ClaimsTable(id *Identity, names ...string) string {
	rows := make([][]string, 0, len(names))
	for _, n := range names {
		v := id.Claim(n)
		if n == "aud" {
			v = strings.Join(id.Audience, ",")
		}
		rows = append(rows, []string{n, v})
	}
	return Table([]string{"claim", "value in this job's token"}, rows)
}
