package input_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
)

type config struct {
	Name    string
	Items   []string
	On      bool
	Ptr     *bool
	N       int
	Lines   string
	Secret  string
	Timeout time.Duration
}

// errf is the error every setting failure is.
func errf(setting, format string, args ...any) error {
	return exchange.InputError(setting, format, args...)
}

func table() []input.Input[config] {
	return []input.Input[config]{
		{Spec: input.Spec{Name: "name", Flag: "n", Env: []string{"NAME_A", "NAME_B"}, Default: "def"},
			Set: input.ToString(func(c *config) *string { return &c.Name })},
		{Spec: input.Spec{Name: "items", Flag: "item", Kind: input.List},
			Set: input.ToList(func(c *config) *[]string { return &c.Items })},
		{Spec: input.Spec{Name: "on", Flag: "on", Kind: input.Bool, Default: "false"},
			Set: input.ToBool(func(c *config) *bool { return &c.On })},
		{Spec: input.Spec{Name: "ptr", Kind: input.Bool, Default: "true"},
			Set: input.ToBoolPtr(func(c *config) **bool { return &c.Ptr })},
		{Spec: input.Spec{Name: "n", Flag: "count", Kind: input.Int, Default: "3"},
			Set: input.ToInt(func(c *config) *int { return &c.N })},
		{Spec: input.Spec{Name: "lines", Flag: "line", Kind: input.Lines},
			Set: func(c *config, v string) error {
				if strings.Contains(v, "bad") {
					return errf("lines", "line 2: bad")
				}
				c.Lines = v
				return nil
			}},
		{Spec: input.Spec{Name: "secret", FileFlag: "secret-file", Env: []string{"SECRET"}, Secret: true},
			Set: input.ToString(func(c *config) *string { return &c.Secret })},
		{Spec: input.Spec{Flag: "timeout", Kind: input.Duration},
			Set: func(c *config, v string) (err error) { c.Timeout, err = input.ParseDuration(v); return err }},
	}
}

func inputs(vars map[string]string) input.Source {
	return func(s *input.Spec) (string, bool, error) {
		if s.Name == "" {
			return "", false, nil
		}
		return vars["INPUT_"+s.Name], true, nil
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	yes := true
	tests := []struct {
		name    string
		vars    map[string]string
		want    config
		wantErr []string
	}{
		{name: "defaults", want: config{Name: "def", Ptr: &yes, N: 3}},
		{name: "env fallbacks in order", vars: map[string]string{"NAME_B": "b", "NAME_A": " "},
			want: config{Name: "b", Ptr: &yes, N: 3}},
		{name: "input wins and is trimmed", vars: map[string]string{"INPUT_name": " x \n", "NAME_A": "a"},
			want: config{Name: "x", Ptr: &yes, N: 3}},
		{name: "values", vars: map[string]string{"INPUT_items": "a, b\n\nc", "INPUT_on": "TRUE", "INPUT_ptr": "False", "INPUT_n": "7", "INPUT_lines": "\n k=v\n", "SECRET": "s"},
			want: config{Name: "def", Items: []string{"a", "b", "c"}, On: true, Ptr: new(bool), N: 7, Lines: "\n k=v\n", Secret: "s"}},
		{name: "every error at once, each named once", vars: map[string]string{"INPUT_on": "yes", "INPUT_n": "1h", "INPUT_lines": "a\nbad"},
			wantErr: []string{`on: want true or false, got "yes": invalid input`, `n: want a whole number, got "1h": invalid input`, "lines: line 2: bad: invalid input"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got config
			err := input.Apply(&got, table(), inputs(tc.vars), func(k string) string { return tc.vars[k] })
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, exchange.ErrInvalidInput) {
					t.Fatalf("Apply() = %v, want the domain's error", err)
				}
				if diff := cmp.Diff(strings.Join(tc.wantErr, "\n"), err.Error()); diff != "" {
					t.Error(diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestFlagSet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := input.Bind(fs, input.Specs(table()))
	if fs.Lookup("secret") != nil {
		t.Error("a secret has a flag")
	}
	args := []string{"--n", "x", "--item", "a,b", "--item", "c", "--on", "--count", "5", "--line", "p=1", "--line", "q=2", "--secret-file", secret, "--timeout", "45"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	var got config
	if err := input.Apply(&got, table(), flags.Source(), func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	want := config{Name: "x", Items: []string{"a", "b", "c"}, On: true, N: 5, Lines: "p=1\nq=2", Secret: "s3cret", Timeout: 45 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}

	// Action-only settings are not offered to the CLI: ptr keeps nil.
	if got.Ptr != nil {
		t.Errorf("ptr = %v, want unset in the CLI", *got.Ptr)
	}
}

// TestPrintDefaults: each setting's flag names its kind, and flags that
// are not settings print as the flag package prints them.
func TestPrintDefaults(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(&out)
	ins := append(table(), input.Input[config]{Spec: input.Spec{Flag: "policy", Kind: input.Text, Doc: "a policy"}})
	input.Bind(fs, input.Specs(ins))
	fs.String("format", "env", "output `format`")
	fs.Bool("v", false, "verbose")
	input.PrintDefaults(fs)
	var heads []string
	for line := range strings.Lines(out.String()) {
		if !strings.HasPrefix(line, "    \t") {
			heads = append(heads, strings.TrimSuffix(line, "\n"))
		}
	}
	want := []string{
		"  -count int", "  -format format", "  -item value", "  -line value", "  -n string", "  -on",
		"  -policy text|@file", "  -secret-file file", "  -timeout duration", "  -v\tverbose",
	}
	if diff := cmp.Diff(want, heads); diff != "" {
		t.Errorf("flag lines (-want +got):\n%s\n%s", diff, out.String())
	}
	if !strings.Contains(out.String(), "(default \"env\")") || !strings.Contains(out.String(), "(repeatable)") {
		t.Errorf("defaults or usage lost:\n%s", out.String())
	}
}

func TestTextFromFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte("{\"a\": 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ins := []input.Input[config]{{Spec: input.Spec{Name: "policy", Flag: "policy", Kind: input.Text},
		Set: input.ToString(func(c *config) *string { return &c.Name })}}
	for arg, want := range map[string]string{"@" + path: `{"a": 1}`, "@" + path + ".missing": "policy: reading "} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		flags := input.Bind(fs, input.Specs(ins))
		if err := fs.Parse([]string{"--policy", arg}); err != nil {
			t.Fatal(err)
		}
		var got config
		err := input.Apply(&got, ins, flags.Source(), func(string) string { return "" })
		if err != nil {
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Apply(%s) = %v, want %q", arg, err, want)
			}
			continue
		}
		if got.Name != want {
			t.Errorf("Apply(%s) = %q, want %q", arg, got.Name, want)
		}
	}
}

func TestRename(t *testing.T) {
	t.Parallel()
	a, b := errf("name", "is bad"), errf("secret", "is bad")
	err := errors.Join(a, &lazyWrap{"x", b}, errors.New("other"))
	input.Rename(err, input.CLINames(input.Specs(table())))
	want := "--n: is bad: invalid input\nx: --secret-file: is bad: invalid input\nother"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Error(diff)
	}
	input.Rename(nil, strings.ToUpper)
}

// lazyWrap is a wrapper that builds its message when asked, as
// errors.Join does; fmt.Errorf's message is fixed when it is built.
type lazyWrap struct {
	prefix string
	err    error
}

func (w *lazyWrap) Error() string { return w.prefix + ": " + w.err.Error() }
func (w *lazyWrap) Unwrap() error { return w.err }

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"30", 30 * time.Second, true}, {"45s", 45 * time.Second, true}, {"2m", 2 * time.Minute, true},
		{"-1", 0, false}, {"-1s", 0, false}, {"1y", 0, false}, {"99999999999999999999", 0, false}, {"25h", 0, false},
	}
	for _, tc := range tests {
		got, err := input.ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParsers: the values of INPUT_* and of flags are untrusted. No parser
// panics, a bool is exactly one of six spellings, a duration stays within
// its bounds and list items are trimmed, non-empty and free of separators.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"", "true", "FALSE", "yes", "30", "-1", "45s", "a, b\nc", "9223372036854775807", ",\r\n,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := input.ParseBool(s); err == nil && !slices.Contains([]string{"true", "True", "TRUE", "false", "False", "FALSE"}, s) {
			t.Errorf("ParseBool(%q) accepted", s)
		}
		_, _ = input.ParseInt(s)
		if d, err := input.ParseDuration(s); err == nil && (d < 0 || d > 24*time.Hour) {
			t.Errorf("ParseDuration(%q) = %v", s, d)
		}
		for _, item := range input.SplitList(s) {
			if item == "" || item != strings.TrimSpace(item) || strings.ContainsAny(item, ",\n\r") {
				t.Errorf("SplitList(%q) has item %q", s, item)
			}
		}
	})
}
