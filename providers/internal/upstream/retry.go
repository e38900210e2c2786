package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// MaxElapsed caps each retry loop, sleeps and attempts included. GitHub's
// tokens live about five minutes, and a job waiting on a service that is
// down should fail within the minute.
const MaxElapsed = 20 * time.Second

// Retrier runs one provider's calls under the bounded retry policy of
// internal/httpclient and shapes the error that leaves the loop.
type Retrier struct {
	// Policy bounds the loop; tests shorten its delays and may set
	// OnRetry, which is called after the retry is logged.
	Policy httpclient.Policy
	// service names who answers in log lines, e.g. "STS".
	service string
	logger  *slog.Logger
}

// NewRetrier returns a Retrier for service making at most maxAttempts
// attempts (0 keeps [httpclient.DefaultPolicy]'s), or one when disable is
// set. A nil logger discards the retry and failure messages.
func NewRetrier(service string, maxAttempts int, disable bool, logger *slog.Logger) *Retrier {
	policy := httpclient.DefaultPolicy()
	if maxAttempts > 0 {
		policy.MaxAttempts = maxAttempts
	}
	if disable {
		policy.MaxAttempts = 1
	}
	policy.MaxElapsed = MaxElapsed
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Retrier{Policy: policy, service: service, logger: logger}
}

// Do calls fn until it succeeds, fails permanently, or the policy or ctx
// ends the loop. fn gets the attempt's context, which the loop ends at its
// cap; it classifies its own failures against ctx, the run's context, whose
// end means the caller gave up rather than the service failing. what names
// the call in the returned error, e.g. `assuming role "arn:…"`.
func (r *Retrier) Do(ctx context.Context, what string, fn func(actx context.Context) error) error {
	policy := r.Policy
	onRetry := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		r.logger.Info(r.service+" call failed, retrying", "attempt", attempt, "max_attempts", policy.MaxAttempts,
			"wait", wait.Round(time.Millisecond), "error", err)
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
	}
	attempts := 0
	err := httpclient.Retry(ctx, policy, func(actx context.Context, attempt int) error {
		attempts = attempt
		return fn(actx)
	})
	if err != nil {
		return r.final(ctx, what, err, attempts)
	}
	return nil
}

// final shapes what the loop returned for the caller: a transient failure
// that outlived its attempts leaves as permanent, so an outer retry does
// not stack on ours, and its hint says how many attempts failed.
func (r *Retrier) final(ctx context.Context, what string, err error, attempts int) error {
	var pe *exchange.ProviderError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", what, err)
	}
	// The cause (status, request id) is for the debug log only: a request
	// id is what a cloud's support asks for, but it helps no one in the
	// job's error annotation.
	attrs := []any{"step", what, "code", pe.Code, "attempts", attempts, "cause", pe.Err}
	var withID interface{ ServiceRequestID() string }
	if errors.As(err, &withID) {
		attrs = append(attrs, "request_id", withID.ServiceRequestID())
	}
	r.logger.Debug(r.service+" call failed", attrs...)

	final := *pe
	if final.Temporary {
		final.Temporary = false
		final.Kind = exchange.ErrProviderUnavailable
		final.Hint = fmt.Sprintf("%s (%d attempts failed)", final.Hint, attempts)
	}
	if cause := context.Cause(ctx); cause != nil {
		final.Err = errors.Join(final.Err, cause)
	}
	return fmt.Errorf("%s: %w", what, &final)
}

// RetryInputs declares the two retry settings every provider takes:
// retry-max-attempts and disable-retry. transient says which failures
// that provider retries, for the help and the README.
func RetryInputs[C any](transient string, attempts func(*C) *int, disable func(*C) *bool) []input.Input[C] {
	return []input.Input[C]{
		{Spec: input.Spec{Name: "retry-max-attempts", Flag: "retry-max-attempts", Kind: input.Int, Default: strconv.Itoa(httpclient.DefaultMaxAttempts),
			Doc: "attempts for transient failures only (" + transient + ")"},
			Set: input.ToInt(attempts)},
		{Spec: input.Spec{Name: "disable-retry", Flag: "disable-retry", Kind: input.Bool, Default: "false",
			Doc: "never retry"},
			Set: input.ToBool(disable)},
	}
}
