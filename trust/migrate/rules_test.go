package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRuleDocs keeps docs/checks in step with [Rules]: a page per rule
// with its severity, the sections lint's pages have and the fix, an index
// row per rule, and no page without a rule.
func TestRuleDocs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "docs", "checks")
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	idRE := regexp.MustCompile(`^migrate-[a-z0-9]+(-[a-z0-9]+)*$`)
	pages := map[string]bool{}
	for _, r := range Rules {
		if !idRE.MatchString(r.ID) || r.Title == "" || r.Description == "" || r.Help == "" || strings.HasSuffix(r.Title, ".") {
			t.Errorf("rule %+v", r)
		}
		if r.DocPath() != "docs/checks/"+r.ID+".md" {
			t.Errorf("%s: DocPath %s", r.ID, r.DocPath())
		}
		pages[r.ID+".md"] = true
		page, err := os.ReadFile(filepath.Join(dir, r.ID+".md"))
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		text := string(page)
		if first, _, _ := strings.Cut(text, "\n"); first != fmt.Sprintf("# `%s`: %s", r.ID, r.Title) {
			t.Errorf("%s: first line %q", r.ID, first)
		}
		for _, want := range []string{"| " + r.Severity.String() + " |", "## What it catches", "## Bad", "## Good", "## Fix", "## Research", r.Help} {
			if !strings.Contains(text, want) {
				t.Errorf("%s.md lacks %q", r.ID, want)
			}
		}
		row := fmt.Sprintf("| [`%s`](%s.md) | %s | %s |", r.ID, r.ID, r.Severity, r.Title)
		if !strings.Contains(string(index), row) {
			t.Errorf("README.md lacks the row %s", row)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "migrate-") && !pages[e.Name()] {
			t.Errorf("docs/checks/%s documents no rule", e.Name())
		}
	}
}
