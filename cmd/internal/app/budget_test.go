package app

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// never is longer than any bound under test: an endpoint that waits this
// long never answers.
const never = time.Hour

// retryCap is the production retry loop's MaxElapsed
// (httpclient.DefaultPolicy): each service's attempts, in flight included,
// end by then.
const retryCap = 20 * time.Second

// boundSlack is what a run may add to a bound: reporting, the audit
// record, process bookkeeping.
const boundSlack = 2 * time.Second

// TestHangingEndpointsBounded runs the action with the production retry
// policy against endpoints that never answer, and measures when it ends:
// within the documented bound, with exit code 5 and a message that says
// what did not answer. The runs go side by side; the suite waits about 30 s
// for them.
func TestHangingEndpointsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		inputs  map[string]string
		hang    func(h *harness)
		bound   time.Duration
		wantLog []string
	}{
		{"token endpoint never answers", nil, func(h *harness) { h.runner.Token.SetFault(githubtest.Fault{Delay: never}) },
			retryCap, []string{"requesting the OIDC token from the runner failed"}},
		{"STS never answers", nil, func(h *harness) { h.sts.SetLatency(never) },
			retryCap, []string{"sts", "unavailable"}},
		{"discovery never answers", nil, func(h *harness) { h.issuer.SetLatency(never) },
			retryCap, []string{"fetching OIDC discovery"}},
		{"everything hangs, action-timeout-s 2", map[string]string{"action-timeout-s": "2"}, func(h *harness) {
			h.runner.Token.SetFault(githubtest.Fault{Delay: never})
			h.issuer.SetLatency(never)
			h.sts.SetLatency(never)
		}, 2 * time.Second, []string{"timed out after 2s", "Timeout"}},
		{"STS hangs, action-timeout-s 3", map[string]string{"action-timeout-s": "3"}, func(h *harness) { h.sts.SetLatency(never) },
			3 * time.Second, []string{"timed out after 3s"}},
		// The worst case of the defaults: a token endpoint that takes 14 s
		// to give a token (a slow 503, then a slow answer), then an STS
		// that never answers. STS's own 20 s would end at 34 s; the run's
		// budget ends it at 30.
		{"slow token endpoint, then STS never answers", nil, func(h *harness) {
			h.runner.Token.Enqueue(githubtest.Fault{Status: 503, Delay: 7 * time.Second}, githubtest.Fault{Delay: 7 * time.Second})
			h.sts.SetLatency(never)
		}, exchange.DefaultRunBudget, []string{"timed out after 30s"}},
	}
	// The cases mostly wait: run them side by side in one parallel slot
	// (30 s in all), then check each.
	type outcome struct {
		h              *harness
		step           *githubtest.StepEnv
		stdout, stderr []byte
		err            error
		elapsed        time.Duration
	}
	outcomes := make([]outcome, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		h := newHarness(t, harnessOptions{realRetry: true})
		tc.hang(h)
		outcomes[i] = outcome{h: h, step: h.runner.Step(githubtest.Main, tc.inputs)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outcomes[i]
			start := time.Now()
			o.stdout, o.stderr, o.err = o.h.exec(o.step)
			o.elapsed = time.Since(start)
		}()
	}
	wg.Wait()
	for i, tc := range tests {
		o := outcomes[i]
		res := o.h.runner.Finish(o.step, o.stdout, o.stderr)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Logf("%s: ended after %v (bound %v)", tc.name, o.elapsed.Round(10*time.Millisecond), tc.bound)
			if code := exitCode(o.err); code != exitUnavailable {
				t.Errorf("exit %d (%v), want %d", code, o.err, exitUnavailable)
			}
			if exchange.Classify(o.err) != exchange.ClassUnavailable {
				t.Errorf("class %s, want unavailable", exchange.Classify(o.err))
			}
			if o.elapsed > tc.bound+boundSlack {
				t.Errorf("the run took %v, more than the bound %v (+%v)", o.elapsed, tc.bound, boundSlack)
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			res.AssertNoProblems(t)
			res.AssertNoLeak(t, o.h.secrets()...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			if len(res.Env) != 0 {
				t.Errorf("exported %v", slices.Sorted(maps.Keys(res.Env)))
			}
		})
	}
}
