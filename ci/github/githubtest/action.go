package githubtest

import (
	"os"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// Action is the part of a container action's action.yml that the runner
// reads to start it: the declared inputs, whose defaults become
// INPUT_<NAME> for every stage, and the container's args and post
// entrypoint.
type Action struct {
	Inputs map[string]ActionInput `yaml:"inputs"`
	Runs   struct {
		Args           []string `yaml:"args"`
		PostEntrypoint string   `yaml:"post-entrypoint"`
	} `yaml:"runs"`
}

// ActionInput is one declared input.
type ActionInput struct {
	Default  string `yaml:"default"`
	Required bool   `yaml:"required"`
}

// LoadAction reads the action.yml at path.
func LoadAction(t testing.TB, path string) Action {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	var a Action
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("githubtest: parsing %s: %v", path, err)
	}
	return a
}

// InputDefaults maps every declared input to its default ("" when it has
// none), for [Options.InputDefaults].
func (a Action) InputDefaults() map[string]string {
	defaults := make(map[string]string, len(a.Inputs))
	for name, in := range a.Inputs {
		defaults[name] = in.Default
	}
	return defaults
}
