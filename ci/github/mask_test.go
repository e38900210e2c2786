package github

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		value    string
		wantLine string
	}{
		{name: "simple", value: "FAKE-secret", wantLine: "::add-mask::FAKE-secret\n"},
		{name: "multi-line", value: "FAKE-line-1\nFAKE-line-2", wantLine: "::add-mask::FAKE-line-1%0AFAKE-line-2\n"},
		{name: "percent", value: "100%FAKE", wantLine: "::add-mask::100%25FAKE\n"},
		{name: "literal escape", value: "FAKE%0A", wantLine: "::add-mask::FAKE%250A\n"},
		{name: "cr and lf", value: "FAKE\r\nx\r", wantLine: "::add-mask::FAKE%0D%0Ax%0D\n"},
		{name: "looks like a command", value: "::set-env name=A::b", wantLine: "::add-mask::::set-env name=A::b\n"},
		{name: "empty is skipped", value: ""},
		{name: "white space is skipped", value: " \t\n "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, out := newTestEdge(t, env(nil))
			if err := e.Mask(tc.value); err != nil {
				t.Fatalf("Mask: %v", err)
			}
			if got := out.String(); got != tc.wantLine {
				t.Errorf("stdout = %q, want %q", got, tc.wantLine)
			}
			if tc.wantLine == "" {
				return
			}
			// The runner reads one add-mask command whose data is the value.
			want := []workflowCommand{{Name: "add-mask", Data: tc.value}}
			if diff := cmp.Diff(want, commands(out.String())); diff != "" {
				t.Errorf("runner sees (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskForms(t *testing.T) {
	t.Parallel()
	e, out := newTestEdge(t, env(nil))
	for _, f := range exchange.MaskForms(exchange.NewSecret("FAKE-a\n  FAKE-b  \n")) {
		if err := e.Mask(f); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range commands(out.String()) {
		got = append(got, c.Data)
	}
	want := []string{"FAKE-a\n  FAKE-b  \n", "FAKE-a", "FAKE-b", `FAKE-a\n  FAKE-b  \n`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("masks (-want +got):\n%s", diff)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestMaskWriteFailureIsAnError(t *testing.T) {
	t.Parallel()
	e, err := New(Config{Getenv: env(nil), Stdout: failingWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Mask("FAKE-secret")
	if err == nil {
		t.Fatal("Mask succeeded on a failing writer")
	}
	if strings.Contains(err.Error(), "FAKE-secret") {
		t.Errorf("error %q contains the value", err)
	}
	if !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("error %q does not carry the cause", err)
	}
	// The edge stays usable: the lock was released.
	if err := e.Mask("FAKE-other"); err == nil {
		t.Error("second Mask succeeded on a failing writer")
	}
}
