package upstream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func fastRetrier(attempts int, disable bool) *Retrier {
	r := NewRetrier("STS", attempts, disable, nil)
	r.Policy.InitialDelay = time.Millisecond
	r.Policy.MaxDelay = 2 * time.Millisecond
	return r
}

func TestRetrierDo(t *testing.T) {
	t.Parallel()
	transient := func() error {
		return &exchange.ProviderError{Provider: "aws", Code: "Throttling", Kind: exchange.ErrProviderUnavailable, Temporary: true, Hint: "slow down"}
	}
	denied := &exchange.ProviderError{Provider: "aws", Code: "AccessDenied", Kind: exchange.ErrProviderDenied, Hint: "trust policy"}
	tests := []struct {
		name        string
		attempts    int
		disable     bool
		fails       int // failures before success; -1 always fails
		err         func() error
		wantCalls   int
		wantRetries int
		wantErr     string
		wantIs      error
		wantHint    string
	}{
		{name: "first call succeeds", attempts: 3, fails: 0, err: transient, wantCalls: 1},
		{name: "transient then success", attempts: 3, fails: 2, err: transient, wantCalls: 3, wantRetries: 2},
		{name: "transient every time", attempts: 3, fails: -1, err: transient, wantCalls: 3, wantRetries: 2,
			wantErr: `assuming role "r": aws: Throttling (provider unavailable)`, wantIs: exchange.ErrProviderUnavailable, wantHint: "slow down (3 attempts failed)"},
		{name: "0 keeps the default of three", attempts: 0, fails: -1, err: transient, wantCalls: 3, wantRetries: 2,
			wantErr: "Throttling", wantIs: exchange.ErrProviderUnavailable, wantHint: "slow down (3 attempts failed)"},
		{name: "disabled", attempts: 3, disable: true, fails: -1, err: transient, wantCalls: 1,
			wantErr: "Throttling", wantIs: exchange.ErrProviderUnavailable, wantHint: "slow down (1 attempts failed)"},
		{name: "permanent", attempts: 3, fails: -1, err: func() error { return denied }, wantCalls: 1,
			wantErr: `assuming role "r": aws: AccessDenied (provider denied the exchange)`, wantIs: exchange.ErrProviderDenied, wantHint: "trust policy"},
		{name: "unclassified", attempts: 3, fails: -1, err: func() error { return errors.New("getting the OIDC token: boom") }, wantCalls: 1,
			wantErr: `assuming role "r": getting the OIDC token: boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fastRetrier(tt.attempts, tt.disable)
			retries := 0
			r.Policy.OnRetry = func(int, error, time.Duration) { retries++ }
			calls := 0
			err := r.Do(t.Context(), `assuming role "r"`, func(context.Context) error {
				calls++
				if tt.fails < 0 || calls <= tt.fails {
					return tt.err()
				}
				return nil
			})
			if calls != tt.wantCalls || retries != tt.wantRetries {
				t.Errorf("calls %d, retries %d; want %d, %d", calls, retries, tt.wantCalls, tt.wantRetries)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Do() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Do() = %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Do() = %v, not %v", err, tt.wantIs)
			}
			var pe *exchange.ProviderError
			if errors.As(err, &pe) {
				if pe.Temporary {
					t.Error("the final error is still temporary; an outer retry would stack on ours")
				}
				if pe.Hint != tt.wantHint {
					t.Errorf("hint %q, want %q", pe.Hint, tt.wantHint)
				}
			}
		})
	}
}

// TestRetrierDoCancelled: when the caller's context ends the loop, its
// cause travels with the provider's error.
func TestRetrierDoCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("the signature check failed")
	r := fastRetrier(3, false)
	err := r.Do(ctx, "exchanging", func(context.Context) error {
		cancel(stop)
		return &exchange.ProviderError{Provider: "broker", Code: "server_error", Kind: exchange.ErrProviderUnavailable, Temporary: true}
	})
	if !errors.Is(err, stop) || !errors.Is(err, exchange.ErrProviderUnavailable) {
		t.Errorf("Do() = %v, want the cause and the provider's error", err)
	}
}
