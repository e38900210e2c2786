package layout_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/oidc-exchange/oidc-exchange"

type pkg struct {
	ImportPath string
	Imports    []string
}

// rule forbids packages matching from (a prefix) to import anything whose
// path has one of the deny prefixes, unless the import is allowed.
type rule struct {
	from string
	// exceptFrom are prefixes of packages the rule does not apply to.
	exceptFrom []string
	deny       []string
	allow      []string
	why        string
}

var rules = []rule{
	{from: module + "/exchange", deny: []string{module + "/providers", module + "/ci", module + "/cmd",
		"github.com/sethvargo/go-githubactions", "github.com/aws/", "cloud.google.com/"},
		why: "exchange owns the types; providers and CI edges depend on it, never the reverse"},
	{from: module + "/providers/", deny: []string{module + "/ci", module + "/providers", module + "/cmd", "github.com/sethvargo/go-githubactions"},
		allow: []string{module + "/providers/aws/stsfake", module + "/providers/internal/upstream"},
		why:   "a provider must not know which CI ran it, nor other providers; what they share is providers/internal/upstream"},
	{from: module + "/providers/internal/", deny: []string{"github.com/aws/", "cloud.google.com/", "golang.org/x/oauth2", "google.golang.org/"},
		why: "the plumbing every provider shares knows no cloud SDK"},
	{from: module + "/ci/", deny: []string{module + "/providers", module + "/ci", module + "/cmd"},
		why: "a CI edge must not know which provider ran, nor other edges"},
	{from: module + "/trust", deny: []string{module + "/providers", module + "/ci", module + "/cmd"},
		why: "trust tooling works on files; it must not depend on providers or CI edges"},
	{from: module + "/internal/", exceptFrom: []string{module + "/internal/sharedini"}, deny: []string{module + "/"},
		allow: []string{module + "/internal/version"}, why: "internal packages are leaves"},
	{from: module + "/internal/sharedini", deny: []string{module + "/"}, allow: []string{module + "/exchange"},
		why: "the shared-file merge works on exchange's sections and serves the CI edges; it knows nothing else"},
	{from: module, exceptFrom: []string{module + "/cmd/"}, deny: []string{module + "/cmd"},
		why: "nothing imports cmd; the commands share cmd/internal"},
	{from: module, deny: []string{module + "/exchange/exchangetest", module + "/ci/github/githubtest"},
		why: "test helpers are imported only by _test.go files"},
}

func TestDependencyDirection(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-json", module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		for _, imp := range p.Imports {
			for _, r := range rules {
				if violates(r, p.ImportPath, imp) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list found only %d packages", seen)
	}
}

func violates(r rule, from, imp string) bool {
	if !strings.HasPrefix(from, r.from) || imp == from {
		return false
	}
	for _, e := range r.exceptFrom {
		if strings.HasPrefix(from, e) {
			return false
		}
	}
	// A package may import its own children (the registries do).
	if strings.HasPrefix(imp, from+"/") {
		return false
	}
	for _, a := range r.allow {
		if imp == a {
			return false
		}
	}
	for _, d := range r.deny {
		if strings.HasPrefix(imp, d) {
			return true
		}
	}
	return false
}

// TestRulesCatchViolations proves the rules would fail on the imports they
// exist to forbid.
func TestRulesCatchViolations(t *testing.T) {
	t.Parallel()
	bad := [][2]string{
		{module + "/exchange", module + "/providers/aws"},
		{module + "/exchange", "github.com/aws/aws-sdk-go-v2/service/sts"},
		{module + "/exchange", "github.com/sethvargo/go-githubactions"},
		{module + "/providers/aws", module + "/ci/github"},
		{module + "/providers/aws", module + "/providers"},
		{module + "/ci/github", module + "/providers/aws"},
		{module + "/internal/httpclient", module + "/exchange"},
		{module + "/providers", module + "/exchange/exchangetest"},
		{module + "/providers/internal/upstream", module + "/providers/aws"},
		{module + "/providers/internal/upstream", "github.com/aws/aws-sdk-go-v2/service/sts"},
		{module + "/ci", module + "/cmd/oidc-exchange"},
		{module + "/exchange", module + "/cmd/internal/app"},
		{module + "/trust/plan", module + "/providers/aws"},
		{module + "/internal/githubfacts", module + "/exchange"},
	}
	for _, b := range bad {
		caught := false
		for _, r := range rules {
			caught = caught || violates(r, b[0], b[1])
		}
		if !caught {
			t.Errorf("%s importing %s is not caught", b[0], b[1])
		}
	}
	if violates(rules[0], module+"/exchange", module+"/internal/httpclient") {
		t.Error("exchange may import the httpclient leaf")
	}
	// The providers' denial suggestions come from the planner, which sits
	// on exchange and the facts leaf beside them.
	for _, r := range rules {
		if violates(r, module+"/providers/aws", module+"/trust/plan") || violates(r, module+"/providers/gcp", module+"/internal/githubfacts") {
			t.Errorf("a provider may import trust/plan and the facts leaf: %s", r.why)
		}
	}
	for _, r := range rules {
		if violates(r, module+"/cmd/oidc-exchange", module+"/cmd/internal/app") {
			t.Errorf("the command may import the program: %s", r.why)
		}
		if violates(r, module+"/providers/gcp", module+"/providers/internal/upstream") {
			t.Error("a provider may import the shared plumbing")
		}
	}
}

// releaseCommand is the binary that handles real credentials.
const releaseCommand = module + "/cmd/oidc-exchange"

// TestReleaseBinaryLinksNoDoubles keeps every test double out of the
// binary that handles real credentials: no fake server, no httptest, no
// oidctest, no test helper, not even transitively. The demo, which needs
// them, is cmd/oidc-exchange-demo.
func TestReleaseBinaryLinksNoDoubles(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", releaseCommand).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps found only %d packages", len(deps))
	}
	for _, d := range deps {
		if isDouble(d) {
			t.Errorf("%s links the test double %s", releaseCommand, d)
		}
	}
}

// isDouble tells test doubles by the project's naming scheme (<pkg>test
// helpers, <thing>fake wire-level fakes) and by the standard ones.
func isDouble(path string) bool {
	switch path {
	case "testing", "net/http/httptest", "github.com/coreos/go-oidc/v3/oidc/oidctest":
		return true
	}
	if !strings.HasPrefix(path, module+"/") {
		return false
	}
	last := path[strings.LastIndex(path, "/")+1:]
	return strings.HasSuffix(last, "test") || strings.HasSuffix(last, "fake")
}

func TestIsDouble(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"net/http/httptest": true,
		"testing":           true,
		"github.com/coreos/go-oidc/v3/oidc/oidctest": true,
		module + "/providers/aws/stsfake":            true,
		module + "/internal/httpfake":                true,
		module + "/internal/oidcfake":                true,
		module + "/exchange/exchangetest":            true,
		module + "/cmd/internal/apptest":             true,
		module + "/exchange":                         false,
		module + "/cmd/internal/app":                 false,
		"internal/testlog":                           false,
		"net/http":                                   false,
	} {
		if got := isDouble(path); got != want {
			t.Errorf("isDouble(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestNoRegexpCompiledAtStart keeps package init small: a package-level
// regexp.MustCompile runs before the program reads its first input,
// whatever the run then needs. Production packages use internal/lazyre;
// test doubles may compile theirs at start.
func TestNoRegexpCompiledAtStart(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-f", "{{.ImportPath}} {{.Dir}} {{join .GoFiles \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) < 2 || isDouble(fields[0]) || strings.HasSuffix(fields[0], "/cmd/internal/apptest") {
			continue
		}
		for _, name := range fields[2:] {
			path := filepath.Join(fields[1], name)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				ast.Inspect(gd, func(n ast.Node) bool {
					if sel, ok := n.(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "regexp" && strings.HasPrefix(sel.Sel.Name, "MustCompile") {
							t.Errorf("%s: a package-level regexp.%s runs at program start; use lazyre.New", path, sel.Sel.Name)
						}
					}
					// A function literal's body runs when it is called.
					_, isFunc := n.(*ast.FuncLit)
					return !isFunc
				})
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d files", checked)
	}
}
