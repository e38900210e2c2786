package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// notRetryable implements Retryable and says no.
type notRetryable struct{ err error }

func (e *notRetryable) Error() string   { return "not retryable: " + e.err.Error() }
func (e *notRetryable) Unwrap() error   { return e.err }
func (e *notRetryable) Retryable() bool { return false }

// retryCall records one OnRetry call.
type retryCall struct {
	Attempt int
	Err     error
	Wait    time.Duration
}

// recorder is a concurrency-safe OnRetry.
type recorder struct {
	mu    sync.Mutex
	calls []retryCall
}

func (r *recorder) onRetry(attempt int, err error, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, retryCall{attempt, err, wait})
}

func (r *recorder) get() []retryCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]retryCall(nil), r.calls...)
}

func (r *recorder) attempts() []int {
	var a []int
	for _, c := range r.get() {
		a = append(a, c.Attempt)
	}
	return a
}

// fastPolicy keeps the backoff at about a millisecond.
func fastPolicy(attempts int) httpclient.Policy {
	return httpclient.Policy{MaxAttempts: attempts, MaxElapsed: 5 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	permanent := errors.New("400 bad request")
	transient := func(i int) error { return httpclient.MarkTransient(fmt.Errorf("503 number %d", i)) }
	tests := []struct {
		name        string
		maxAttempts int
		// results[i] is what attempt i+1 returns; attempts past the end
		// return a fresh transient error.
		results      []error
		wantCalls    int
		wantErrIndex int // index into results of the error Retry must return; -1 for nil
		wantOnRetry  []int
	}{
		{name: "success on the first try", maxAttempts: 3, results: []error{nil}, wantCalls: 1, wantErrIndex: -1},
		{name: "retryable then success", maxAttempts: 3, results: []error{transient(1), nil}, wantCalls: 2, wantErrIndex: -1, wantOnRetry: []int{1}},
		{name: "two retryable then success", maxAttempts: 3, results: []error{transient(1), transient(2), nil}, wantCalls: 3, wantErrIndex: -1, wantOnRetry: []int{1, 2}},
		{name: "non-retryable stops at once", maxAttempts: 3, results: []error{permanent, nil}, wantCalls: 1, wantErrIndex: 0},
		{name: "outer transient marker wins", maxAttempts: 3, results: []error{httpclient.MarkTransient(&notRetryable{permanent}), nil}, wantCalls: 2, wantErrIndex: -1, wantOnRetry: []int{1}},
		{name: "outer not-retryable marker wins", maxAttempts: 3, results: []error{&notRetryable{httpclient.MarkTransient(permanent)}, nil}, wantCalls: 1, wantErrIndex: 0},
		{name: "retryable then non-retryable", maxAttempts: 5, results: []error{transient(1), permanent, nil}, wantCalls: 2, wantErrIndex: 1, wantOnRetry: []int{1}},
		{name: "attempts are bounded", maxAttempts: 3, results: []error{transient(1), transient(2), transient(3), nil}, wantCalls: 3, wantErrIndex: 2, wantOnRetry: []int{1, 2}},
		{name: "one attempt disables retries", maxAttempts: 1, results: []error{transient(1), nil}, wantCalls: 1, wantErrIndex: 0},
		{name: "zero attempts behaves as one", maxAttempts: 0, results: []error{transient(1), nil}, wantCalls: 1, wantErrIndex: 0},
		{name: "negative attempts behaves as one", maxAttempts: -5, results: []error{transient(1), nil}, wantCalls: 1, wantErrIndex: 0},
		{name: "zero attempts, success", maxAttempts: 0, results: []error{nil}, wantCalls: 1, wantErrIndex: -1},
		{name: "joined transient is retried", maxAttempts: 3, results: []error{errors.Join(permanent, transient(1)), nil}, wantCalls: 2, wantErrIndex: -1, wantOnRetry: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			p := fastPolicy(tt.maxAttempts)
			p.OnRetry = rec.onRetry
			calls := 0
			err := httpclient.Retry(t.Context(), p, func(ctx context.Context, attempt int) error {
				calls++
				if attempt != calls {
					t.Errorf("attempt = %d on call %d", attempt, calls)
				}
				if ctx == nil {
					t.Error("fn got a nil context")
				}
				if attempt <= len(tt.results) {
					return tt.results[attempt-1]
				}
				return transient(attempt)
			})
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.wantErrIndex < 0 {
				if err != nil {
					t.Errorf("Retry = %v, want nil", err)
				}
			} else {
				want := tt.results[tt.wantErrIndex]
				if !errors.Is(err, want) {
					t.Errorf("Retry = %v, want an error matching %v", err, want)
				}
				if err == nil || err.Error() != want.Error() {
					t.Errorf("Retry error text = %v, want %q", err, want.Error())
				}
			}
			if diff := cmp.Diff(tt.wantOnRetry, rec.attempts()); diff != "" {
				t.Errorf("OnRetry attempts (-want +got):\n%s", diff)
			}
			for i, c := range rec.get() {
				if !errors.Is(c.Err, tt.results[i]) {
					t.Errorf("OnRetry call %d got error %v, want attempt %d's %v", i, c.Err, c.Attempt, tt.results[i])
				}
				if c.Wait <= 0 {
					t.Errorf("OnRetry call %d got wait %v, want > 0", i, c.Wait)
				}
			}
		})
	}
}

// TestRetryReturnsErrorAsIs checks that Retry hands back fn's own error
// value, not a wrapper, wherever the loop stops.
func TestRetryReturnsErrorAsIs(t *testing.T) {
	t.Parallel()
	permanent := errors.New("400 bad request")
	tr := httpclient.MarkTransient(errors.New("503"))
	tests := []struct {
		name        string
		maxAttempts int
		results     []error
		want        error
	}{
		{name: "non-retryable on the first of several attempts", maxAttempts: 3, results: []error{permanent}, want: permanent},
		{name: "retryable on the last attempt", maxAttempts: 2, results: []error{tr, tr}, want: tr},
		{
			name: "non-retryable with a single attempt", maxAttempts: 1, results: []error{permanent}, want: permanent,
		},
		{
			name: "non-retryable on the last attempt", maxAttempts: 2, results: []error{tr, permanent}, want: permanent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := httpclient.Retry(t.Context(), fastPolicy(tt.maxAttempts), func(_ context.Context, attempt int) error {
				return tt.results[attempt-1]
			})
			if err != tt.want { //nolint:errorlint // identity is the point of this test
				t.Errorf("Retry = %#v, want fn's own error %#v", err, tt.want)
			}
		})
	}
}

func TestRetryMaxElapsed(t *testing.T) {
	t.Parallel()
	const (
		retryAfter = 40 * time.Millisecond
		maxElapsed = 100 * time.Millisecond
	)
	// Each failure asks for 40 ms: sleeps start at about 0 and 40 ms; a
	// third would end at 120 ms, past the cap, so the loop stops without it.
	var last error
	calls := 0
	start := time.Now()
	err := httpclient.Retry(t.Context(), httpclient.Policy{
		MaxAttempts:  100,
		MaxElapsed:   maxElapsed,
		InitialDelay: time.Millisecond,
		MaxDelay:     time.Second,
	}, func(context.Context, int) error {
		calls++
		last = &httpclient.TransientError{Err: fmt.Errorf("429 number %d", calls), RetryAfter: retryAfter}
		return last
	})
	elapsed := time.Since(start)
	if calls < 1 || calls > 3 {
		t.Errorf("fn called %d times, want 1 to 3 within %v", calls, maxElapsed)
	}
	// The loop never starts a sleep that would end past the cap.
	if elapsed > maxElapsed+time.Second {
		t.Errorf("Retry took %v, want about %v", elapsed, maxElapsed)
	}
	if !errors.Is(err, last) {
		t.Errorf("Retry = %v, want the last error %v", err, last)
	}
	if err == nil || err.Error() != last.Error() {
		t.Errorf("Retry error text = %q, want fn's %q (not a backoff stand-in)", err, last)
	}
}

func TestRetryMaxElapsedBoundsBackoff(t *testing.T) {
	t.Parallel()
	// With a 1 s first backoff and a 50 ms cap the loop must give up at
	// once instead of sleeping.
	calls := 0
	start := time.Now()
	err := httpclient.Retry(t.Context(), httpclient.Policy{
		MaxAttempts: 5, MaxElapsed: 50 * time.Millisecond, InitialDelay: time.Second, MaxDelay: time.Second,
	}, func(context.Context, int) error {
		calls++
		return httpclient.MarkTransient(errors.New("503"))
	})
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("Retry took %v, want an immediate stop", elapsed)
	}
	if calls != 1 || err == nil {
		t.Errorf("calls = %d, err = %v; want 1 call and an error", calls, err)
	}
}

// TestRetryMaxElapsedBoundsAttemptInFlight: an attempt that waits on a
// server that never answers ends when MaxElapsed is reached, not at its
// own (longer) timeout.
func TestRetryMaxElapsedBoundsAttemptInFlight(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	client := httpclient.New(httpclient.Options{})
	start := time.Now()
	calls := 0
	err := httpclient.Retry(t.Context(), httpclient.Policy{MaxAttempts: 3, MaxElapsed: 300 * time.Millisecond, InitialDelay: time.Millisecond},
		func(ctx context.Context, _ int) error {
			calls++
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return httpclient.MarkTransient(err)
			}
			return resp.Body.Close()
		})
	elapsed := time.Since(start)
	if err == nil || calls != 1 {
		t.Errorf("calls = %d, err = %v; want one attempt cut short", calls, err)
	}
	if elapsed < 300*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("Retry took %v, want about the 300ms cap (the client's own timeout is 10s)", elapsed)
	}
}

func TestRetryNoSleepAfterLastAttempt(t *testing.T) {
	t.Parallel()
	const long = 500 * time.Millisecond
	tests := []struct {
		name        string
		maxAttempts int
	}{
		{name: "single attempt", maxAttempts: 1},
		{name: "two attempts", maxAttempts: 2},
		{name: "three attempts", maxAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			start := time.Now()
			err := httpclient.Retry(t.Context(), httpclient.Policy{
				MaxAttempts: tt.maxAttempts, MaxElapsed: 10 * time.Second,
				InitialDelay: 20 * time.Millisecond, MaxDelay: time.Second,
				OnRetry: rec.onRetry,
			}, func(_ context.Context, attempt int) error {
				if attempt == tt.maxAttempts {
					// Only the last failure asks for a long wait: any
					// sleep after it would show in the elapsed time.
					return &httpclient.TransientError{Err: errors.New("429"), RetryAfter: long}
				}
				return httpclient.MarkTransient(errors.New("503"))
			})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Retry = nil, want the last error")
			}
			// Ordinary backoffs total under 100 ms here.
			if elapsed >= long-100*time.Millisecond {
				t.Errorf("Retry took %v; it slept after the last attempt", elapsed)
			}
			if got := len(rec.get()); got != tt.maxAttempts-1 {
				t.Errorf("OnRetry (one per sleep) called %d times, want %d", got, tt.maxAttempts-1)
			}
		})
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		maxDelay   time.Duration
		wantWait   time.Duration
		minElapsed time.Duration
	}{
		{name: "honoured", retryAfter: 60 * time.Millisecond, maxDelay: time.Second, wantWait: 60 * time.Millisecond, minElapsed: 55 * time.Millisecond},
		{name: "capped by MaxDelay", retryAfter: time.Hour, maxDelay: 30 * time.Millisecond, wantWait: 30 * time.Millisecond, minElapsed: 25 * time.Millisecond},
		{name: "equal to MaxDelay", retryAfter: 30 * time.Millisecond, maxDelay: 30 * time.Millisecond, wantWait: 30 * time.Millisecond, minElapsed: 25 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			start := time.Now()
			err := httpclient.Retry(t.Context(), httpclient.Policy{
				MaxAttempts: 2, MaxElapsed: 10 * time.Second, InitialDelay: time.Millisecond, MaxDelay: tt.maxDelay,
				OnRetry: rec.onRetry,
			}, func(_ context.Context, attempt int) error {
				if attempt == 1 {
					return fmt.Errorf("calling STS: %w", &httpclient.TransientError{Err: errors.New("429"), RetryAfter: tt.retryAfter})
				}
				return nil
			})
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("Retry: %v", err)
			}
			calls := rec.get()
			if len(calls) != 1 {
				t.Fatalf("OnRetry called %d times, want 1", len(calls))
			}
			if calls[0].Wait != tt.wantWait {
				t.Errorf("wait = %v, want %v", calls[0].Wait, tt.wantWait)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("Retry took %v, want at least %v", elapsed, tt.minElapsed)
			}
			if elapsed > 5*time.Second {
				t.Errorf("Retry took %v, the wait was not capped", elapsed)
			}
		})
	}
}

func TestRetryBackoffWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	const initial = 20 * time.Millisecond
	rec := &recorder{}
	err := httpclient.Retry(t.Context(), httpclient.Policy{
		MaxAttempts: 2, MaxElapsed: 10 * time.Second, InitialDelay: initial, MaxDelay: time.Second, OnRetry: rec.onRetry,
	}, func(_ context.Context, attempt int) error {
		if attempt == 1 {
			return httpclient.MarkTransient(errors.New("503"))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	calls := rec.get()
	if len(calls) != 1 {
		t.Fatalf("OnRetry called %d times, want 1", len(calls))
	}
	// InitialDelay randomised by ±50 %.
	if w := calls[0].Wait; w < initial/2 || w > initial*3/2+time.Millisecond {
		t.Errorf("first wait = %v, want within [%v, %v]", w, initial/2, initial*3/2)
	}
}

func TestRetryMaxDelayCapsBackoff(t *testing.T) {
	t.Parallel()
	const maxDelay = time.Millisecond
	rec := &recorder{}
	_ = httpclient.Retry(t.Context(), httpclient.Policy{
		MaxAttempts: 40, MaxElapsed: 10 * time.Second, InitialDelay: maxDelay, MaxDelay: maxDelay, OnRetry: rec.onRetry,
	}, func(context.Context, int) error {
		return httpclient.MarkTransient(errors.New("503"))
	})
	for _, c := range rec.get() {
		if c.Wait > maxDelay {
			t.Errorf("attempt %d waited %v, more than MaxDelay %v", c.Attempt, c.Wait, maxDelay)
		}
	}
}

func TestRetryOnRetry(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var errs []error
	err := httpclient.Retry(t.Context(), httpclient.Policy{
		MaxAttempts: 4, MaxElapsed: 10 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, OnRetry: rec.onRetry,
	}, func(_ context.Context, attempt int) error {
		e := httpclient.MarkTransient(fmt.Errorf("failure %d", attempt))
		errs = append(errs, e)
		return e
	})
	if !errors.Is(err, errs[len(errs)-1]) {
		t.Errorf("Retry = %v, want the last error", err)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, rec.attempts()); diff != "" {
		t.Errorf("OnRetry attempts (-want +got):\n%s", diff)
	}
	for i, c := range rec.get() {
		if c.Err != errs[i] { //nolint:errorlint // OnRetry must get fn's own error
			t.Errorf("OnRetry call %d got %v, want %v", i, c.Err, errs[i])
		}
	}
}

func TestRetryNilOnRetry(t *testing.T) {
	t.Parallel()
	calls := 0
	err := httpclient.Retry(t.Context(), fastPolicy(3), func(context.Context, int) error {
		calls++
		if calls < 3 {
			return httpclient.MarkTransient(errors.New("503"))
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("Retry = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryZeroPolicy(t *testing.T) {
	t.Parallel()
	// The zero Policy is one attempt, no sleep.
	calls := 0
	start := time.Now()
	err := httpclient.Retry(t.Context(), httpclient.Policy{}, func(context.Context, int) error {
		calls++
		return httpclient.MarkTransient(errors.New("503"))
	})
	if calls != 1 || err == nil {
		t.Errorf("calls = %d, err = %v; want 1 call and an error", calls, err)
	}
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("Retry took %v with a single attempt", elapsed)
	}
}

func TestRetryContextCancellation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run calls Retry with a cancelable context; it returns fn's last
		// error, the number of calls and Retry's error.
		run func(t *testing.T, ctx context.Context, cancel context.CancelFunc) (last error, calls int, err error)
	}{
		{
			name: "cancelled during the backoff sleep",
			run: func(t *testing.T, ctx context.Context, cancel context.CancelFunc) (error, int, error) {
				t.Helper()
				var last error
				calls := 0
				err := httpclient.Retry(ctx, httpclient.Policy{
					MaxAttempts: 5, MaxElapsed: time.Minute, InitialDelay: 10 * time.Second, MaxDelay: 10 * time.Second,
					OnRetry: func(int, error, time.Duration) { cancel() },
				}, func(context.Context, int) error {
					calls++
					last = httpclient.MarkTransient(errors.New("503"))
					return last
				})
				return last, calls, err
			},
		},
		{
			name: "cancelled by fn before it returns a retryable error",
			run: func(t *testing.T, ctx context.Context, cancel context.CancelFunc) (error, int, error) {
				t.Helper()
				var last error
				calls := 0
				err := httpclient.Retry(ctx, fastPolicy(5), func(context.Context, int) error {
					calls++
					cancel()
					last = httpclient.MarkTransient(errors.New("503"))
					return last
				})
				return last, calls, err
			},
		},
		{
			name: "already cancelled",
			run: func(t *testing.T, ctx context.Context, cancel context.CancelFunc) (error, int, error) {
				t.Helper()
				cancel()
				var last error
				calls := 0
				err := httpclient.Retry(ctx, fastPolicy(5), func(ctx context.Context, _ int) error {
					calls++
					if ctx.Err() == nil {
						t.Error("fn got a live context")
					}
					last = httpclient.MarkTransient(errors.New("503"))
					return last
				})
				return last, calls, err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			start := time.Now()
			last, calls, err := tt.run(t, ctx, cancel)
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Retry took %v after cancellation", elapsed)
			}
			if calls != 1 {
				t.Errorf("fn called %d times, want 1", calls)
			}
			if !errors.Is(err, last) {
				t.Errorf("Retry = %v, want it to wrap fn's last error %v", err, last)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Retry = %v, want it to wrap context.Canceled", err)
			}
			if !httpclient.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = false, want the transient marker preserved", err)
			}
		})
	}
}

// TestRetryContextErrorInsideFnError covers the common case where fn's
// error already wraps the context's error, e.g. an HTTP request cut by the
// deadline that caps the loop (the subject token's exp).
func TestRetryContextErrorInsideFnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctxFunc func(context.Context) (context.Context, context.CancelFunc)
		want    error
	}{
		{name: "deadline", ctxFunc: func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 20*time.Millisecond)
		}, want: context.DeadlineExceeded},
		{name: "cancel", ctxFunc: func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tt.ctxFunc(t.Context())
			defer cancel()
			var last error
			err := httpclient.Retry(ctx, fastPolicy(5), func(ctx context.Context, _ int) error {
				<-ctx.Done()
				last = httpclient.MarkTransient(&url.Error{Op: "Post", URL: "https://sts.example/", Err: ctx.Err()})
				return last
			})
			if !errors.Is(err, last) {
				t.Errorf("Retry = %v, want it to wrap fn's last error %v", err, last)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Retry = %v, want it to wrap %v", err, tt.want)
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	p := httpclient.DefaultPolicy()
	want := httpclient.Policy{MaxAttempts: 3, MaxElapsed: 20 * time.Second, InitialDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("DefaultPolicy (-want +got):\n%s", diff)
	}
	// Convention 7: at most 3-4 attempts.
	if p.MaxAttempts < 1 || p.MaxAttempts > 4 {
		t.Errorf("MaxAttempts = %d, want 1 to 4", p.MaxAttempts)
	}
	if p.MaxDelay > p.MaxElapsed {
		t.Errorf("MaxDelay %v exceeds MaxElapsed %v", p.MaxDelay, p.MaxElapsed)
	}
}

// refusedAddr returns a 127.0.0.1 address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "plain", err: base, want: false},
		{name: "marked", err: httpclient.MarkTransient(base), want: true},
		{name: "TransientError literal", err: &httpclient.TransientError{Err: base}, want: true},
		{name: "TransientError with Retry-After", err: &httpclient.TransientError{Err: base, RetryAfter: time.Second}, want: true},
		{name: "marked then wrapped", err: fmt.Errorf("calling STS: %w", httpclient.MarkTransient(base)), want: true},
		{name: "joined with a plain error", err: errors.Join(base, httpclient.MarkTransient(base)), want: true},
		{name: "type saying no", err: &notRetryable{base}, want: false},
		{name: "outer no wins over inner yes", err: &notRetryable{httpclient.MarkTransient(base)}, want: false},
		{name: "context canceled", err: context.Canceled, want: false},
		{name: "deadline exceeded", err: context.DeadlineExceeded, want: false},
		{name: "network error is not marked by itself", err: &net.OpError{Op: "dial", Net: "tcp", Err: base}, want: false},
		{name: "message saying transient does not count", err: errors.New("temporary failure, please retry"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := httpclient.IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestMarkTransient(t *testing.T) {
	t.Parallel()
	if got := httpclient.MarkTransient(nil); got != nil {
		t.Errorf("MarkTransient(nil) = %#v, want nil", got)
	}
	base := fmt.Errorf("status 503: %w", errors.New("unavailable"))
	err := httpclient.MarkTransient(base)
	if !httpclient.IsRetryable(err) {
		t.Error("IsRetryable(MarkTransient(err)) = false")
	}
	if !errors.Is(err, base) {
		t.Error("MarkTransient(err) does not wrap err")
	}
	if got, want := err.Error(), base.Error(); got != want {
		t.Errorf("Error() = %q, want the wrapped text %q", got, want)
	}
	var te *httpclient.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("MarkTransient returned %T, want *TransientError", err)
	}
	if te.RetryAfter != 0 || te.Err != base { //nolint:errorlint // identity of the wrapped error
		t.Errorf("TransientError = %+v, want Err = base and no RetryAfter", te)
	}
	if !te.Retryable() {
		t.Error("TransientError.Retryable() = false")
	}
}

func TestIsNetworkError(t *testing.T) {
	t.Parallel()
	addr := refusedAddr(t)
	_, dialErr := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(t.Context(), "tcp", addr)
	if dialErr == nil {
		t.Fatalf("dial %s succeeded, want connection refused", addr)
	}
	c := newClient(t, httpclient.Options{Timeout: 2 * time.Second})
	_, httpErr := get(t, c, "http://"+addr+"/") //nolint:bodyclose // the request fails

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	req, err := http.NewRequestWithContext(cancelled, http.MethodGet, "http://"+addr+"/", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	_, cancelErr := c.Do(req) //nolint:bodyclose // the request fails
	if cancelErr == nil {
		t.Fatal("request with a cancelled context succeeded")
	}

	// Errors of net/http that are answers, not transport failures.
	srv := newServer(t, sizedHandler(t))
	small := newClient(t, httpclient.Options{MaxResponseSize: 1})
	_, tooLargeErr := get(t, small, srv.URL+"/declared/10") //nolint:bodyclose // the request fails
	if !errors.Is(tooLargeErr, httpclient.ErrResponseTooLarge) {
		t.Fatalf("setup: got %v, want ErrResponseTooLarge", tooLargeErr)
	}
	redirSrv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "http://example.invalid/")
		w.WriteHeader(http.StatusFound)
	}))
	resp, redirectErr := get(t, c, redirSrv.URL)
	if resp != nil {
		resp.Body.Close()
	}
	if redirectErr == nil {
		t.Fatal("setup: insecure redirect was followed")
	}

	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "plain", err: errors.New("boom"), want: false},
		{name: "context canceled", err: context.Canceled, want: false},
		{name: "wrapped context canceled", err: fmt.Errorf("x: %w", context.Canceled), want: false},
		{name: "real refused dial", err: dialErr, want: true},
		{name: "real refused dial, wrapped", err: fmt.Errorf("calling STS: %w", dialErr), want: true},
		{name: "real refused HTTP request", err: httpErr, want: true},
		{name: "real HTTP request with a cancelled context", err: cancelErr, want: false},
		{name: "OpError", err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, want: true},
		{name: "DNS error", err: &net.DNSError{Err: "no such host", Name: "sts.example", IsNotFound: true}, want: true},
		{name: "marked transient network error", err: httpclient.MarkTransient(dialErr), want: true},
		{
			name: "HTTP request failed on the size cap", err: tooLargeErr, want: false,
		},
		{
			name: "HTTP request refused an insecure redirect", err: redirectErr, want: false,
		},
		{
			name: "url.Error wrapping a plain error", err: &url.Error{Op: "Get", URL: "https://x.example/", Err: errors.New("unsupported protocol scheme")}, want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := httpclient.IsNetworkError(tt.err); got != tt.want {
				t.Errorf("IsNetworkError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestIsTransientStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want bool
	}{
		{0, false},
		{http.StatusOK, false},
		{http.StatusNoContent, false},
		{http.StatusFound, false},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, false},
		{499, false},
		{http.StatusRequestTimeout, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusNotImplemented, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{599, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			if got := httpclient.IsTransientStatus(tt.code); got != tt.want {
				t.Errorf("IsTransientStatus(%d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string // nil: no header
		want   time.Duration
	}{
		{name: "absent", values: nil, want: 0},
		{name: "empty", values: []string{""}, want: 0},
		{name: "seconds", values: []string{"120"}, want: 120 * time.Second},
		{name: "one second", values: []string{"1"}, want: time.Second},
		{name: "zero", values: []string{"0"}, want: 0},
		{name: "negative", values: []string{"-5"}, want: 0},
		{name: "fraction", values: []string{"1.5"}, want: 0},
		{name: "HTTP date is ignored", values: []string{"Wed, 21 Oct 2015 07:28:00 GMT"}, want: 0},
		{name: "text", values: []string{"soon"}, want: 0},
		{name: "first of several values", values: []string{"2", "9"}, want: 2 * time.Second},
		{name: "larger than int", values: []string{"99999999999999999999999"}, want: 0},
		{
			name: "huge but parsable", values: []string{strconv.Itoa(math.MaxInt64 / int(time.Second) * 2)}, want: -1,
			// want -1: any non-negative answer (saturated, or ignored as 0).
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Retry-After", v)
			}
			got := httpclient.RetryAfter(h)
			if tt.want < 0 {
				if got < 0 {
					t.Errorf("RetryAfter(%q) = %v, want a non-negative duration", tt.values, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}
