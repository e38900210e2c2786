package trust_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/trust"
)

var idRE = regexp.MustCompile(`^(aws|gcp|azure|github|json)-[a-z0-9]+(-[a-z0-9]+)*$`)

func TestChecksCatalogue(t *testing.T) {
	t.Parallel()
	cs := trust.Checks()
	if !slices.IsSortedFunc(cs, func(a, b trust.Check) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Checks() is not sorted by ID")
	}
	seen := map[string]bool{}
	for _, c := range cs {
		switch {
		case seen[c.ID]:
			t.Errorf("duplicate ID %s", c.ID)
		case !idRE.MatchString(c.ID):
			t.Errorf("ID %q does not follow <scope>-<subject>[-<problem>]", c.ID)
		case c.Severity < trust.Info || c.Severity > trust.Critical:
			t.Errorf("%s: severity %v", c.ID, c.Severity)
		case !slices.Contains([]string{"aws", "gcp", "azure", "any"}, c.Platform):
			t.Errorf("%s: platform %q", c.ID, c.Platform)
		case c.Title == "" || c.Description == "" || c.Fix == "":
			t.Errorf("%s: empty title, description or fix", c.ID)
		case strings.HasSuffix(c.Title, "."):
			t.Errorf("%s: title ends with a period", c.ID)
		case c.DocPath() != "docs/checks/"+c.ID+".md":
			t.Errorf("%s: DocPath %s", c.ID, c.DocPath())
		}
		seen[c.ID] = true
		// The platform prefix and the Platform field agree.
		scope, _, _ := strings.Cut(c.ID, "-")
		if want := map[string]string{"github": "any", "json": "any"}[scope]; want != "" && c.Platform != want || want == "" && c.Platform != scope {
			t.Errorf("%s: platform %q does not match its scope %q", c.ID, c.Platform, scope)
		}
	}
	// Checks returns a fresh slice: changing it must not change the catalogue.
	cs[0].Title = "changed"
	if trust.Checks()[0].Title == "changed" {
		t.Error("Checks() shares its backing array")
	}
}

// TestCheckDocs keeps docs/checks in step with the catalogue: one page per
// check with its severity and the required sections, and an index row.
func TestCheckDocs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "docs", "checks")
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := func(s string) string { return strings.ReplaceAll(s, "*", `\*`) }
	pages := map[string]bool{}
	for _, c := range trust.Checks() {
		pages[c.ID+".md"] = true
		page, err := os.ReadFile(filepath.Join(dir, c.ID+".md"))
		if err != nil {
			t.Errorf("%s: %v", c.ID, err)
			continue
		}
		text := string(page)
		if first, _, _ := strings.Cut(text, "\n"); first != fmt.Sprintf("# `%s`: %s", c.ID, md(c.Title)) {
			t.Errorf("%s: first line %q", c.ID, first)
		}
		for _, want := range []string{"| " + c.Severity.String() + " |", "## What it catches", "## Bad", "## Good", "## Fix", "## Research", md(c.Fix)} {
			if !strings.Contains(text, want) {
				t.Errorf("%s.md lacks %q", c.ID, want)
			}
		}
		row := fmt.Sprintf("| [`%s`](%s.md) | %s | %s | %s |", c.ID, c.ID, c.Severity, c.Platform, md(c.Title))
		if !strings.Contains(string(index), row) {
			t.Errorf("README.md lacks the row %s", row)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// migrate's rules share the directory; trust/migrate checks theirs.
		if e.Name() != "README.md" && !pages[e.Name()] && !strings.HasPrefix(e.Name(), "migrate-") {
			t.Errorf("docs/checks/%s documents no check", e.Name())
		}
	}
}
