package httpclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Retryable is implemented by errors that know whether repeating the same
// request can succeed. Classification is by type, never by message text.
type Retryable interface {
	Retryable() bool
}

// IsRetryable reports whether any error in err's tree is marked retryable.
func IsRetryable(err error) bool {
	var r Retryable
	return errors.As(err, &r) && r.Retryable()
}

// TransientError marks a failure as worth another attempt.
type TransientError struct {
	Err error
	// RetryAfter, when positive, is the delay the server asked for.
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Retryable marks the error as worth another attempt, for [IsRetryable]
// and for libraries that look for the method.
func (e *TransientError) Retryable() bool { return true }

// MarkTransient wraps err so [IsRetryable] reports true.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// IsNetworkError reports whether err is a transport failure (refused,
// reset, DNS, timeout, a connection closed mid-answer) rather than an
// answer from the server or a refusal of our own. *url.Error implements
// net.Error whatever it wraps, so it is looked into: a refused redirect, an
// unsupported scheme or an over-size body inside one are not network
// errors. A context cancelled by the caller is not one either.
func IsNetworkError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrResponseTooLarge) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() || errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF) {
			return true
		}
		err = ue.Err
		if errors.As(err, &ue) {
			return false
		}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var netErr net.Error
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// IsTransientStatus reports whether an HTTP status is worth retrying:
// 408, 429 and every 5xx.
func IsTransientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// RetryAfter parses a Retry-After header given in seconds; HTTP dates are
// ignored since STS-style endpoints do not send them.
func RetryAfter(h http.Header) time.Duration {
	s, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || s <= 0 {
		return 0
	}
	// Clamp before converting: a huge value would overflow Duration.
	// Retry's MaxDelay caps it far lower anyway.
	return time.Duration(min(s, 3600)) * time.Second
}

// Policy bounds a retry loop.
type Policy struct {
	// MaxAttempts counts the first try; 1 disables retries.
	MaxAttempts int
	// MaxElapsed caps the whole loop, sleeps included.
	MaxElapsed time.Duration
	// InitialDelay is the first backoff, randomised by ±50 %.
	InitialDelay time.Duration
	// MaxDelay caps one backoff, including a server's Retry-After.
	MaxDelay time.Duration
	// OnRetry, when set, is told about every failure that will be retried.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// DefaultMaxAttempts counts the first call. Three attempts ride out a
// throttle or a brief 5xx; more would mostly wait on errors that are
// certain to repeat.
const DefaultMaxAttempts = 3

// DefaultPolicy gives [DefaultMaxAttempts] attempts within 20 seconds:
// enough to ride out a throttle or a brief 5xx, short enough that a
// five-minute ID token is still valid and a broken job fails within the
// minute.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: DefaultMaxAttempts, MaxElapsed: 20 * time.Second, InitialDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
}

// Retry calls fn until it succeeds, returns an error not marked retryable,
// the attempts are spent, the elapsed cap would be passed, or ctx ends. It
// never sleeps after the last attempt. The returned error is fn's last error,
// joined with the context's error when the context ended the loop.
//
// MaxElapsed bounds the attempts too, not only the sleeps between them: fn
// gets a context that ends when the cap is reached, so an attempt in flight
// (waiting on a server that never answers) ends there instead of running on
// to its own timeout. Each attempt's deadline is thus the smaller of its
// own timeout, what is left of MaxElapsed, and what is left of ctx (the
// run's budget).
func Retry(ctx context.Context, p Policy, fn func(ctx context.Context, attempt int) error) error {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	parent := ctx
	if p.MaxElapsed > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.MaxElapsed)
		defer cancel()
	}
	if p.InitialDelay <= 0 {
		p.InitialDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = p.InitialDelay
	exp.MaxInterval = p.MaxDelay
	exp.Multiplier = 2
	exp.RandomizationFactor = 0.5
	// The library caps the interval before adding jitter; cap after it so
	// MaxDelay really bounds each wait.
	b := &cappedBackOff{BackOff: exp, max: p.MaxDelay}

	attempt := 0
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := fn(ctx, attempt)
		if err == nil {
			return struct{}{}, nil
		}
		last = err
		if !IsRetryable(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		var te *TransientError
		if errors.As(err, &te) && te.RetryAfter > 0 {
			return struct{}{}, &backoff.RetryAfterError{Duration: min(te.RetryAfter, p.MaxDelay)}
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(p.MaxAttempts)),
		backoff.WithMaxElapsedTime(p.MaxElapsed),
		backoff.WithNotify(func(_ error, wait time.Duration) {
			if p.OnRetry != nil {
				p.OnRetry(attempt, last, wait)
			}
		}),
	)
	if err == nil {
		return nil
	}
	if last == nil {
		return err
	}
	// backoff may return the context's cause, a RetryAfterError standing in
	// for fn's error, or fn's error inside a PermanentError: report what fn
	// said, plus the caller's context error when that ended the loop (the
	// MaxElapsed cap ending it is the policy working, not a cancellation).
	if ctxErr := context.Cause(parent); ctxErr != nil && !errors.Is(last, ctxErr) {
		return errors.Join(last, ctxErr)
	}
	return last
}

// cappedBackOff bounds every wait of the wrapped backoff.
type cappedBackOff struct {
	backoff.BackOff
	max time.Duration
}

func (c *cappedBackOff) NextBackOff() time.Duration {
	next := c.BackOff.NextBackOff()
	if next == backoff.Stop {
		return next
	}
	return min(next, c.max)
}
