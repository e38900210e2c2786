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
	"github.com/oidc-exchange/oidc-exchange/trust/migrate"
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

// TestCheckDocs keeps docs/checks in step with the catalogue and with
// migrate's rules, which share the directory: one page per check or rule
// with its severity and the required sections, and an index row.
func TestCheckDocs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "docs", "checks")
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := func(s string) string { return strings.ReplaceAll(s, "*", `\*`) }
	type doc struct {
		id, title, fix, row string
		severity            trust.Severity
	}
	var docs []doc
	for _, c := range trust.Checks() {
		docs = append(docs, doc{c.ID, c.Title, c.Fix, fmt.Sprintf("| [`%s`](%s.md) | %s | %s | %s |", c.ID, c.ID, c.Severity, c.Platform, md(c.Title)), c.Severity})
	}
	for _, r := range migrate.Rules {
		if r.DocPath() != "docs/checks/"+r.ID+".md" {
			t.Errorf("%s: DocPath %s", r.ID, r.DocPath())
		}
		docs = append(docs, doc{r.ID, r.Title, r.Help, fmt.Sprintf("| [`%s`](%s.md) | %s | %s |", r.ID, r.ID, r.Severity, md(r.Title)), r.Severity})
	}
	pages := map[string]bool{}
	for _, c := range docs {
		pages[c.id+".md"] = true
		page, err := os.ReadFile(filepath.Join(dir, c.id+".md"))
		if err != nil {
			t.Errorf("%s: %v", c.id, err)
			continue
		}
		text := string(page)
		if first, _, _ := strings.Cut(text, "\n"); first != fmt.Sprintf("# `%s`: %s", c.id, md(c.title)) {
			t.Errorf("%s: first line %q", c.id, first)
		}
		for _, want := range []string{"| " + c.severity.String() + " |", "## What it catches", "## Bad", "## Good", "## Fix", "## Research", md(c.fix)} {
			if !strings.Contains(text, want) {
				t.Errorf("%s.md lacks %q", c.id, want)
			}
		}
		if !strings.Contains(string(index), c.row) {
			t.Errorf("README.md lacks the row %s", c.row)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "README.md" && !pages[e.Name()] {
			t.Errorf("docs/checks/%s documents no check", e.Name())
		}
	}
}
