package httpclient

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/version"
)

// TestNewDefaults checks the wiring that no black-box test can observe
// cheaply: the zero Options give the documented timeouts and cap, and the
// base transport is a clone, never http.DefaultTransport itself.
func TestNewDefaults(t *testing.T) {
	t.Parallel()
	custom := &http.Transport{}
	tests := []struct {
		name        string
		opts        Options
		wantTimeout time.Duration
		wantLimit   int64
		wantCustom  bool
	}{
		{name: "zero value", opts: Options{}, wantTimeout: DefaultTimeout, wantLimit: DefaultMaxResponseSize},
		{name: "negative values", opts: Options{Timeout: -1, MaxResponseSize: -1}, wantTimeout: DefaultTimeout, wantLimit: DefaultMaxResponseSize},
		{name: "explicit values", opts: Options{Timeout: time.Second, MaxResponseSize: 100}, wantTimeout: time.Second, wantLimit: 100},
		{name: "custom transport", opts: Options{Transport: custom}, wantTimeout: DefaultTimeout, wantLimit: DefaultMaxResponseSize, wantCustom: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := New(tt.opts)
			if c == http.DefaultClient {
				t.Fatal("New returned http.DefaultClient")
			}
			if c.Timeout != tt.wantTimeout {
				t.Errorf("Timeout = %v, want %v", c.Timeout, tt.wantTimeout)
			}
			if c.CheckRedirect == nil {
				t.Error("CheckRedirect is nil, want the re-validating policy")
			}
			tr, ok := c.Transport.(*transport)
			if !ok {
				t.Fatalf("Transport is %T, want *transport", c.Transport)
			}
			if tr.limit != tt.wantLimit {
				t.Errorf("limit = %d, want %d", tr.limit, tt.wantLimit)
			}
			if tr.userAgent != version.UserAgent() {
				t.Errorf("userAgent = %q, want %q", tr.userAgent, version.UserAgent())
			}
			if tt.wantCustom {
				if tr.base != custom {
					t.Errorf("base transport = %p, want the injected %p", tr.base, custom)
				}
				return
			}
			base, ok := tr.base.(*http.Transport)
			if !ok {
				t.Fatalf("base transport is %T, want *http.Transport", tr.base)
			}
			if base == http.DefaultTransport {
				t.Fatal("base transport is http.DefaultTransport itself, want a clone")
			}
			got := struct {
				TLSHandshake, ResponseHeader                    time.Duration
				HasDialer, HasProxy, HasConnectHook, NamesProxy bool
				MaxIdleConnsPerHost                             int
			}{base.TLSHandshakeTimeout, base.ResponseHeaderTimeout, base.DialContext != nil, base.Proxy != nil,
				base.OnProxyConnectResponse != nil, tr.proxy != nil, base.MaxIdleConnsPerHost}
			want := got
			want.TLSHandshake, want.ResponseHeader = tlsHandshakeTimeout, responseHeaderTimeout
			want.HasDialer, want.HasProxy, want.HasConnectHook, want.NamesProxy, want.MaxIdleConnsPerHost = true, true, true, true, 4
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("base transport settings (-want +got):\n%s", diff)
			}
			// The per-phase timeouts fit inside the default overall one.
			if DefaultTimeout < responseHeaderTimeout || responseHeaderTimeout < tlsHandshakeTimeout || tlsHandshakeTimeout < dialTimeout {
				t.Errorf("timeouts out of order: overall %v, header %v, TLS %v, dial %v", DefaultTimeout, responseHeaderTimeout, tlsHandshakeTimeout, dialTimeout)
			}
		})
	}
}

func TestDefaultMaxResponseSizeInDocumentedRange(t *testing.T) {
	t.Parallel()
	// Convention 6: a response-size cap between 64 KiB and 1 MiB.
	if DefaultMaxResponseSize < 64<<10 || DefaultMaxResponseSize > 1<<20 {
		t.Errorf("DefaultMaxResponseSize = %d, want within [64 KiB, 1 MiB]", DefaultMaxResponseSize)
	}
	if DefaultTimeout != 10*time.Second {
		t.Errorf("DefaultTimeout = %v, want 10s", DefaultTimeout)
	}
}

// chunkReader returns its data n bytes per Read, then err.
type chunkReader struct {
	data   []byte
	n      int
	err    error
	closed bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n, len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func (r *chunkReader) Close() error { r.closed = true; return nil }

// TestLimitedBody exercises the cap without a network, including short
// reads and an underlying reader that returns an error of its own.
func TestLimitedBody(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		size    int
		chunk   int
		limit   int64
		srcErr  error
		wantLen int
		wantErr error
	}{
		{name: "under", size: 5, chunk: 2, limit: 10, srcErr: io.EOF, wantLen: 5},
		{name: "exactly at the limit in one read", size: 10, chunk: 100, limit: 10, srcErr: io.EOF, wantLen: 10},
		{name: "exactly at the limit in short reads", size: 10, chunk: 3, limit: 10, srcErr: io.EOF, wantLen: 10},
		{name: "one over", size: 11, chunk: 100, limit: 10, srcErr: io.EOF, wantErr: ErrResponseTooLarge},
		{name: "one over in short reads", size: 11, chunk: 1, limit: 10, srcErr: io.EOF, wantErr: ErrResponseTooLarge},
		{name: "zero limit, empty body", size: 0, chunk: 1, limit: 0, srcErr: io.EOF, wantLen: 0},
		{name: "zero limit, one byte", size: 1, chunk: 1, limit: 0, srcErr: io.EOF, wantErr: ErrResponseTooLarge},
		{name: "source error under the limit is passed through", size: 3, chunk: 1, limit: 10, srcErr: errBoom, wantErr: errBoom},
		{name: "source error at the limit is passed through", size: 10, chunk: 4, limit: 10, srcErr: errBoom, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &chunkReader{data: []byte(strings.Repeat("x", tt.size)), n: tt.chunk, err: tt.srcErr}
			b := &limitedBody{rc: src, remaining: tt.limit}
			got, err := io.ReadAll(b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadAll error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if tt.wantErr == nil && len(got) != tt.wantLen {
				t.Errorf("read %d bytes, want %d", len(got), tt.wantLen)
			}
			if int64(len(got)) > tt.limit {
				t.Errorf("read %d bytes, more than the limit %d", len(got), tt.limit)
			}
			if err := b.Close(); err != nil || !src.closed {
				t.Errorf("Close = %v, closed %v; want nil, true", err, src.closed)
			}
		})
	}
}
