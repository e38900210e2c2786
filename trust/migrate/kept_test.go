package migrate

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestKeptInputsMatchTheREADME holds the inputs the rewrite keeps against
// the README's answer for every configure-aws-credentials input (which the
// action's own test holds against its input tables): a supported input is
// kept, a refused one is dropped. Two exceptions: keys used with
// sts-endpoint belong to S3-compatible storage, and such jobs are not
// rewritten at all; role-external-id goes with the key-signed AssumeRole
// that the rewrite replaces by web identity.
func TestKeptInputsMatchTheREADME(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "### Every configure-aws-credentials input")
	if !ok {
		t.Fatal("README has no configure-aws-credentials table")
	}
	names := regexp.MustCompile("`([a-z0-9-]+)`")
	supported := map[string]bool{}
	rows := 0
	for _, l := range strings.Split(table, "\n")[1:] {
		l = strings.TrimSpace(l)
		if l == "" && rows > 0 {
			break
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		if len(cells) < 2 || strings.HasPrefix(cells[0], " Input") || strings.HasPrefix(cells[0], " ---") {
			continue
		}
		rows++
		for _, m := range names.FindAllStringSubmatch(cells[0], -1) {
			supported[m[1]] = strings.HasPrefix(strings.TrimSpace(cells[1]), "Supported")
		}
	}
	if len(supported) < 30 {
		t.Fatalf("read %d inputs from the README table, want the peer's ~32", len(supported))
	}
	for name, ok := range supported {
		kept := slices.Contains(awsKeptInputs, name)
		switch {
		case name == "sts-endpoint", name == "role-external-id":
		case ok && !kept:
			t.Errorf("%s is supported, but the rewrite drops it", name)
		case !ok && kept:
			t.Errorf("%s is refused, but the rewrite keeps it", name)
		}
	}
	for _, name := range awsKeptInputs {
		if _, ok := supported[name]; !ok {
			t.Errorf("the rewrite keeps %s, which the README does not list", name)
		}
	}
}
