package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestGate(t *testing.T) {
	t.Parallel()
	const (
		config     = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck"}}`
		modOnly    = `{"finding":{"osv":"GO-2026-5932","fixed_version":"v0.58.1","trace":[{"module":"golang.org/x/crypto","version":"v0.58.0"}]}}`
		stdModule  = `{"finding":{"osv":"GO-2026-6599","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}`
		stdCalled  = `{"finding":{"osv":"GO-2026-6599","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"html/template","function":"Execute"},{"module":"example.com/m","function":"main"}]}}`
		thirdParty = `{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.2.4","trace":[{"module":"example.com/lib","version":"v1.2.3","package":"example.com/lib","function":"Parse"}]}}`
	)
	tests := []struct {
		name     string
		in       string
		wantCode int
		wantOut  []string
	}{
		{"nothing found", config, 0, []string{"0 called in third-party modules, 0 in the standard library, 0 imported"}},
		{"required but not called passes", config + modOnly, 0, []string{"0 called", "1 imported or required but not called"}},
		{"standard library is noted, counted once", config + stdModule + stdCalled, 0, []string{"note: GO-2026-6599", "1 in the standard library, 0 imported"}},
		{"a called third-party vulnerability fails", config + modOnly + thirdParty, 1, []string{"VULNERABLE: GO-2026-0001: example.com/lib@v1.2.3 calls into it, fixed in v1.2.4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			code, err := gate(strings.NewReader(tt.in), &out)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("code = %d, want %d\n%s", code, tt.wantCode, out.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
	if _, err := gate(strings.NewReader("{not json"), &bytes.Buffer{}); err == nil {
		t.Error("garbage input was accepted")
	}
}
