package github

import (
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
)

// The checks below repeat the runner-facing assertions with githubtest, an
// independently written model of the runner, so a misreading of the
// runner shared by this package and its own test doubles cannot hide.

// crossCheckCommands asserts that githubtest sees in out exactly the
// commands named in want, in order.
func crossCheckCommands(t *testing.T, out string, want ...string) {
	t.Helper()
	var got []string
	for _, l := range githubtest.SplitLines([]byte(out)) {
		if c := githubtest.ParseCommand(l, nil); c != nil {
			got = append(got, c.Name)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("githubtest sees commands %q in %q, want %q", got, out, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("githubtest sees commands %q in %q, want %q", got, out, want)
		}
	}
}

// crossCheckEnvFile asserts that githubtest parses content into want.
func crossCheckEnvFile(t *testing.T, content string, want []pair) {
	t.Helper()
	got, err := githubtest.ParseEnvFile(content)
	if err != nil {
		t.Fatalf("githubtest cannot parse %q: %v", content, err)
	}
	if len(got) != len(want) {
		t.Fatalf("githubtest parses %q into %q, want %q", content, got, want)
	}
	for i := range want {
		if got[i].Key != want[i].Key || got[i].Value != want[i].Value {
			t.Fatalf("githubtest parses %q into %q, want %q", content, got, want)
		}
	}
}
