package httpfake

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Script is what a test scripts ahead of a fake's normal processing: a
// FIFO queue of failures of type F and a latency. Its zero value has no
// failures and no latency. It is safe for concurrent use.
//
// Its lock is its own and is never held while calling out, so a fake may
// call [Script.Next] while holding its own lock, to pop a failure and
// record the request in one step.
type Script[F any] struct {
	mu       sync.Mutex
	failures []F
	latency  time.Duration
}

// FailNext appends failures to the queue.
func (s *Script[F]) FailNext(f ...F) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f...)
}

// SetLatency sets the latency [Script.Next] reports.
func (s *Script[F]) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Next removes the first queued failure for which match reports true (the
// first of all when match is nil) and returns a copy of it, or nil when
// none matches, together with the current latency, in one atomic step.
func (s *Script[F]) Next(match func(F) bool) (*F, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.failures {
		if match == nil || match(f) {
			s.failures = slices.Delete(s.failures, i, i+1)
			return &f, s.latency
		}
	}
	return nil, s.latency
}

// Loopback reports whether r comes from a loopback address. When it does
// not, it answers 403 "<name> serves loopback clients only" and reports
// false: a fake hands out credentials-shaped tokens and keeps every token
// it sees, so it must not serve anyone beyond this machine even when bound
// to a wider address by mistake.
func Loopback(w http.ResponseWriter, r *http.Request, name string) bool {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		http.Error(w, name+" serves loopback clients only", http.StatusForbidden)
		return false
	}
	return true
}

// Pace waits until latency has passed since start, so that an answer takes
// latency in all, the fake's own work included: a benchmark with 20 ms per
// request then measures 20 ms per request. It reports true when the answer
// should be written: at once when that time has already passed, else when
// the wait is over. It reports false as soon as ctx is done during the
// wait: the client has gone, and there is no one to answer.
func Pace(ctx context.Context, start time.Time, latency time.Duration) bool {
	wait := latency - time.Since(start)
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// Issued returns issued(r) for every recorded request r where it is not
// empty, in order, or nil when there is none: the tokens a fake handed
// out, for leak checks. The caller holds the lock guarding reqs.
func Issued[R any](reqs []R, issued func(R) string) []string {
	var out []string
	for _, r := range reqs {
		if tok := issued(r); tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// CloneValues returns a deep copy of v, nil for nil, so a recorded form
// handed to a test cannot alias the fake's own.
func CloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
