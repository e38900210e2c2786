package app

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/providers"
)

// runnerOnlyInputs are declared in the container action.yml but are not
// settings: the runner fills them and action.yml passes them in args.
var runnerOnlyInputs = map[string]bool{
	// The host path of the runner's temp directory, passed as
	// --runner-temp because args, unlike the environment, are not
	// path-translated. The native action runs on the host and needs none.
	"runner-temp": true,
	// The host path of the workspace, passed as --github-workspace for
	// the same reason: a token file there is named by it.
	"github-workspace": true,
}

// declaration is one table's declaration of an input.
type declaration struct {
	table string
	spec  input.Spec
}

// declarations maps every action input to the tables that declare it.
// Provider tables are alternatives (the provider input picks one), so a
// name such as sts-endpoint may be in several of them, never in the
// common table and a provider's.
func declarations(t *testing.T) map[string][]declaration {
	t.Helper()
	out := map[string][]declaration{}
	add := func(table string, specs []input.Spec) {
		seen := map[string]bool{}
		for _, s := range specs {
			if seen[s.Label()] {
				t.Errorf("%s declares %s twice", table, s.Label())
			}
			seen[s.Label()] = true
			if s.Name != "" {
				out[s.Name] = append(out[s.Name], declaration{table, s})
			}
		}
	}
	add("common", input.Specs(commonInputs()))
	for _, pt := range providers.Types() {
		add(string(pt), providers.Inputs(pt))
	}
	for name, ds := range out {
		if len(ds) > 1 && slices.ContainsFunc(ds, func(d declaration) bool { return d.table == "common" }) {
			t.Errorf("%s is declared by the common table and a provider's", name)
		}
	}
	return out
}

// TestActionYAMLMatchesTables holds action.yml against the tables both
// ways: every declared input is read by exactly one table per provider,
// every table input is declared (the runner passes no other), and the
// defaults and required flags agree.
func TestActionYAMLMatchesTables(t *testing.T) {
	t.Parallel()
	a := githubtest.LoadAction(t, "../../../action.yml")
	decls := declarations(t)
	for name := range a.Inputs {
		if runnerOnlyInputs[name] {
			continue
		}
		if len(decls[name]) == 0 {
			t.Errorf("action.yml declares %s, which no table reads", name)
		}
	}
	for name, ds := range decls {
		in, ok := a.Inputs[name]
		if !ok {
			t.Errorf("%s (%s) is not declared in action.yml, so the runner never passes it", name, ds[0].table)
			continue
		}
		for _, d := range ds {
			if in.Default != d.spec.Default {
				t.Errorf("%s: action.yml default %q, %s table %q", name, in.Default, d.table, d.spec.Default)
			}
			// A provider's required input is required only when that
			// provider is chosen, which action.yml cannot say.
			if want := d.spec.Required && d.table == "common"; in.Required != want {
				t.Errorf("%s: action.yml required: %v, want %v", name, in.Required, want)
			}
		}
	}
	if a.Runs.PostEntrypoint != "/"+postEntrypointName {
		t.Errorf("post-entrypoint %q, want /%s", a.Runs.PostEntrypoint, postEntrypointName)
	}
}

// TestNativeActionDeclaresSameInputs: the native action takes the same
// inputs with the same defaults, less the container's runner-only ones.
func TestNativeActionDeclaresSameInputs(t *testing.T) {
	t.Parallel()
	container := githubtest.LoadAction(t, "../../../action.yml")
	native := githubtest.LoadAction(t, "../../../native/action.yml")
	for name, in := range container.Inputs {
		if runnerOnlyInputs[name] {
			continue
		}
		n, ok := native.Inputs[name]
		switch {
		case !ok:
			t.Errorf("native/action.yml lacks %s", name)
		case n != in:
			t.Errorf("%s: native/action.yml %+v, action.yml %+v", name, n, in)
		}
	}
	for name := range native.Inputs {
		if _, ok := container.Inputs[name]; !ok {
			t.Errorf("native/action.yml declares %s, action.yml does not", name)
		}
	}
}

// TestSecretsHaveNoFlag: argv is visible to every process on the machine.
func TestSecretsHaveNoFlag(t *testing.T) {
	t.Parallel()
	for name, ds := range declarations(t) {
		for _, d := range ds {
			if d.spec.Secret && d.spec.Flag != "" {
				t.Errorf("%s (%s) is a secret with a flag", name, d.table)
			}
		}
	}
}

// readmeTables returns, for each heading that starts a table of inputs,
// the rows of the first table after it.
func readmeTables(t *testing.T, headings ...string) map[string][][]string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	out := map[string][][]string{}
	for _, h := range headings {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, h) })
		if i < 0 {
			t.Fatalf("README has no %q", h)
		}
		for i < len(lines) && !strings.HasPrefix(lines[i], "|") {
			i++
		}
		for i += 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			cells := strings.Split(strings.Trim(lines[i], "|"), " | ")
			out[h] = append(out[h], cells)
		}
	}
	return out
}

var backticked = regexp.MustCompile("`([^`]+)`")

// TestREADMEInputTables: each provider's section lists every input of
// its table, the main table lists the common ones (and AWS's, the
// default provider), no row names an input that does not exist, and
// every default the table declares is written in the row.
func TestREADMEInputTables(t *testing.T) {
	t.Parallel()
	const mainTable, gcpTable, brokerTable = "## Inputs", "### Inputs (gcp)", "| Input (broker)"
	tables := readmeTables(t, mainTable, gcpTable, brokerTable)
	sections := map[string][]input.Spec{
		mainTable:   append(input.Specs(commonInputs()), providers.Inputs(providers.AWS)...),
		gcpTable:    providers.Inputs(providers.GCP),
		brokerTable: providers.Inputs(providers.Broker),
	}
	// The default column: the GCP table's second column is the name the
	// google-github-actions/auth input has.
	defaultColumn := map[string]int{mainTable: 1, gcpTable: 2, brokerTable: 1}
	all := declarations(t)
	for heading, rows := range tables {
		listed := map[string]bool{}
		for _, row := range rows {
			if len(row) <= defaultColumn[heading] {
				t.Errorf("%s: short row %q", heading, row)
				continue
			}
			for _, m := range backticked.FindAllStringSubmatch(row[0], -1) {
				name := m[1]
				listed[name] = true
				ds := all[name]
				if len(ds) == 0 {
					t.Errorf("%s lists %s, which is no input", heading, name)
					continue
				}
				if def := ds[0].spec.Default; def != "" && !strings.Contains(row[defaultColumn[heading]], "`"+def+"`") {
					t.Errorf("%s: the row of %s does not give its default `%s`", heading, name, def)
				}
			}
		}
		for _, s := range sections[heading] {
			if s.Name != "" && !listed[s.Name] {
				t.Errorf("%s does not list %s", heading, s.Name)
			}
		}
	}
}
