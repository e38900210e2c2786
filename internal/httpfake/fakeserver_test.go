package httpfake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

type failure struct {
	endpoint string
	code     int
}

func TestScriptNext(t *testing.T) {
	t.Parallel()
	only := func(ep string) func(failure) bool {
		return func(f failure) bool { return f.endpoint == "" || f.endpoint == ep }
	}
	tests := []struct {
		name    string
		queued  []failure
		match   []func(failure) bool // one call of Next each
		want    []*failure
		wantEnd []failure // what the next nil-predicate calls pop afterwards
	}{
		{
			name:    "empty",
			match:   []func(failure) bool{nil},
			want:    []*failure{nil},
			wantEnd: nil,
		},
		{
			name:   "nil predicate pops in FIFO order",
			queued: []failure{{code: 1}, {code: 2}, {code: 3}},
			match:  []func(failure) bool{nil, nil, nil, nil},
			want:   []*failure{{code: 1}, {code: 2}, {code: 3}, nil},
		},
		{
			name:    "predicate skips others and leaves them queued in order",
			queued:  []failure{{endpoint: "sts", code: 1}, {endpoint: "iam", code: 2}, {endpoint: "sts", code: 3}},
			match:   []func(failure) bool{only("iam"), only("iam")},
			want:    []*failure{{endpoint: "iam", code: 2}, nil},
			wantEnd: []failure{{endpoint: "sts", code: 1}, {endpoint: "sts", code: 3}},
		},
		{
			name:    "predicate takes the first match, a wildcard included",
			queued:  []failure{{endpoint: "sts", code: 1}, {code: 2}, {endpoint: "iam", code: 3}},
			match:   []func(failure) bool{only("iam"), only("iam")},
			want:    []*failure{{code: 2}, {endpoint: "iam", code: 3}},
			wantEnd: []failure{{endpoint: "sts", code: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s httpfake.Script[failure]
			s.FailNext(tt.queued...)
			var got []*failure
			for _, m := range tt.match {
				f, _ := s.Next(m)
				got = append(got, f)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(failure{})); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
			var rest []failure
			for f, _ := s.Next(nil); f != nil; f, _ = s.Next(nil) {
				rest = append(rest, *f)
			}
			if diff := cmp.Diff(tt.wantEnd, rest, cmp.AllowUnexported(failure{})); diff != "" {
				t.Errorf("left in the queue (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScriptFailNextAppends(t *testing.T) {
	t.Parallel()
	var s httpfake.Script[int]
	s.FailNext(1, 2)
	s.FailNext(3)
	var got []int
	for f, _ := s.Next(nil); f != nil; f, _ = s.Next(nil) {
		got = append(got, *f)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, got); diff != "" {
		t.Errorf("popped (-want +got):\n%s", diff)
	}
}

func TestScriptLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  []time.Duration
		want time.Duration
	}{
		{name: "zero value", want: 0},
		{name: "set", set: []time.Duration{20 * time.Millisecond}, want: 20 * time.Millisecond},
		{name: "last set wins", set: []time.Duration{time.Second, 5 * time.Millisecond}, want: 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s httpfake.Script[int]
			s.FailNext(7)
			for _, d := range tt.set {
				s.SetLatency(d)
			}
			// The latency comes back with a failure and without one.
			if f, got := s.Next(nil); f == nil || got != tt.want {
				t.Errorf("Next() = %v, %v, want a failure and %v", f, got, tt.want)
			}
			if f, got := s.Next(nil); f != nil || got != tt.want {
				t.Errorf("Next() on an empty queue = %v, %v, want nil and %v", f, got, tt.want)
			}
		})
	}
}

func TestPace(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	tests := []struct {
		name    string
		elapsed time.Duration // how long before Pace the answer started
		cancel  bool
		want    bool
		minWait time.Duration
		maxWait time.Duration
		latency time.Duration
	}{
		{name: "no latency", latency: 0, want: true, maxWait: 10 * time.Millisecond},
		{name: "latency already spent", latency: latency, elapsed: time.Second, want: true, maxWait: 10 * time.Millisecond},
		{name: "latency already spent, cancelled", latency: latency, elapsed: time.Second, cancel: true, want: true, maxWait: 10 * time.Millisecond},
		{name: "waits the remainder", latency: latency, elapsed: 20 * time.Millisecond, want: true, minWait: 30 * time.Millisecond},
		{name: "waits it all", latency: latency, want: true, minWait: latency},
		{name: "cancelled returns at once", latency: time.Minute, cancel: true, want: false, maxWait: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			// One reading for both, so "at least the remainder" is exact.
			before := time.Now()
			start := before.Add(-tt.elapsed)
			got := httpfake.Pace(ctx, start, tt.latency)
			waited := time.Since(before)
			if got != tt.want {
				t.Errorf("Pace() = %v, want %v", got, tt.want)
			}
			if waited < tt.minWait {
				t.Errorf("Pace waited %v, want at least %v", waited, tt.minWait)
			}
			// Upper bounds are loose: a loaded machine may be slow to
			// return, but never a minute late.
			if tt.maxWait > 0 && waited > tt.maxWait {
				t.Errorf("Pace waited %v, want at most %v", waited, tt.maxWait)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		remote string
		want   bool
	}{
		{remote: "127.0.0.1:1234", want: true},
		{remote: "127.3.4.5:80", want: true},
		{remote: "[::1]:1234", want: true},
		{remote: "203.0.113.5:1234", want: false},
		{remote: "[2001:db8::1]:443", want: false},
		{remote: "localhost:1234", want: false}, // not an IP: refused, not resolved
		{remote: "127.0.0.1", want: false},      // no port
		{remote: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/token", strings.NewReader(url.Values{"a": {"b"}}.Encode()))
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			if got := httpfake.Loopback(w, r, "somefake"); got != tt.want {
				t.Errorf("Loopback(%q) = %v, want %v", tt.remote, got, tt.want)
			}
			if tt.want {
				if w.Code != http.StatusOK || w.Body.Len() != 0 {
					t.Errorf("Loopback wrote %d %q to a loopback client, want nothing", w.Code, w.Body)
				}
				return
			}
			if w.Code != http.StatusForbidden {
				t.Errorf("status = %d, want 403", w.Code)
			}
			if got, want := w.Body.String(), "somefake serves loopback clients only\n"; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
		})
	}
}

func TestIssued(t *testing.T) {
	t.Parallel()
	type rec struct{ issued string }
	tests := []struct {
		name string
		reqs []rec
		want []string
	}{
		{name: "none recorded", want: nil},
		{name: "none issued", reqs: []rec{{}, {}}, want: nil},
		{name: "in order, failures skipped", reqs: []rec{{"a"}, {}, {"b"}}, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := httpfake.Issued(tt.reqs, func(r rec) string { return r.issued })
			// nil, not empty: callers compare with cmp.Diff.
			if diff := cmp.Diff(tt.want, got); diff != "" || (tt.want == nil) != (got == nil) {
				t.Errorf("Issued (-want +got):\n%s (got nil: %v)", diff, got == nil)
			}
		})
	}
}

func TestCloneValues(t *testing.T) {
	t.Parallel()
	if got := httpfake.CloneValues(nil); got != nil {
		t.Errorf("CloneValues(nil) = %v, want nil", got)
	}
	orig := url.Values{"scope": {"a", "b"}}
	c := httpfake.CloneValues(orig)
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Errorf("CloneValues (-want +got):\n%s", diff)
	}
	c["scope"][0] = "changed"
	c.Add("new", "x")
	if orig["scope"][0] != "a" || orig.Has("new") {
		t.Errorf("changing the clone changed the original: %v", orig)
	}
}
