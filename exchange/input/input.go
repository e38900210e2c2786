package input

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Kind is how a value is written and parsed; the same in the action and
// the CLI, so both accept exactly the same spellings.
type Kind int

// Kinds of values.
const (
	// String is one line, trimmed.
	String Kind = iota
	// Text is a multi-line document (a JSON policy, a boundary), trimmed
	// as a whole. In the CLI, @FILE reads it from a file.
	Text
	// Lines is one entry per line, passed as given so that messages can
	// number the lines. The CLI flag repeats, one line per use.
	Lines
	// List is items separated by commas or newlines, each trimmed. The
	// CLI flag repeats, and each use may hold several items.
	List
	// Bool is true or false in the spellings of [ParseBool].
	Bool
	// Int is a whole number.
	Int
	// Duration is whole seconds ("30") or a Go duration ("45s", "2m").
	Duration
)

// Spec is the declaration of one setting, without its setter: what the
// action reader, the flags, the help and the tests need.
type Spec struct {
	// Name is the action input, kebab-case; "" for a CLI-only setting.
	Name string
	// Flag is the CLI flag without dashes; "" when the CLI has none.
	Flag string
	// FileFlag is a CLI flag naming a file whose trimmed content is the
	// value. Secrets have one instead of Flag: argv is visible to every
	// process on the machine.
	FileFlag string
	// Env lists environment variables read, in order, when the input or
	// flag is empty.
	Env []string
	// Default applies when the input, the flag and Env are all empty. It
	// is the default action.yml declares.
	Default string
	// Doc is the one-line help: of the flag, and of the README row.
	Doc string
	// Kind is how the value is written.
	Kind Kind
	// Secret values are masked before anything else happens in the action
	// and never have a Flag.
	Secret bool
	// Required says the provider cannot run without it; the config's
	// own validation reports it, with an example.
	Required bool
	// Refused, when not empty, says why the setting is not supported and
	// what to do instead. A value other than Default is then an error that
	// names the setting. Declaring a peer action's input this way makes a
	// workflow that switches actions fail loudly instead of silently
	// losing a setting it relied on.
	Refused string
}

// Label is the setting's name for errors and help: the input's name, or
// for a CLI-only setting its flag.
func (s *Spec) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Flag
}

// CLILabel is how the CLI user sets it: --flag, --file-flag or $ENV.
func (s *Spec) CLILabel() string {
	switch {
	case s.Flag != "":
		return "--" + s.Flag
	case s.FileFlag != "":
		return "--" + s.FileFlag
	case len(s.Env) > 0:
		return "$" + s.Env[0]
	default:
		return s.Label()
	}
}

// Input is one setting of config C: its declaration and its setter.
type Input[C any] struct {
	Spec
	// Set stores a non-empty value into c. Errors that do not name a
	// setting are reported under Label.
	Set func(c *C, v string) error
}

// Specs returns the declarations of ins.
func Specs[C any](ins []Input[C]) []Spec {
	out := make([]Spec, len(ins))
	for i := range ins {
		out[i] = ins[i].Spec
	}
	return out
}

// Source gives the raw value of a setting; ok is false when this source
// does not offer the setting at all, so that neither Env nor Default
// applies (the CLI has no flag for action-only inputs).
type Source func(s *Spec) (v string, ok bool, err error)

// Apply fills c from src, falling back to each setting's Env and Default,
// and returns every failure at once, so one run reports every bad input.
func Apply[C any](c *C, ins []Input[C], src Source, getenv func(string) string) error {
	var errs []error
	for i := range ins {
		in := &ins[i]
		v, ok, err := Value(&in.Spec, src, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok || v == "" {
			continue
		}
		if in.Refused != "" {
			if !isDefault(&in.Spec, v) {
				// The value is never repeated: refused inputs include
				// stored keys.
				errs = append(errs, exchange.InputError(in.Label(), "not supported: %s", in.Refused))
			}
			continue
		}
		if err := in.Set(c, v); err != nil {
			if se := (*exchange.SettingError)(nil); !errors.As(err, &se) {
				err = exchange.InputError(in.Label(), "%s", err.Error())
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Value is the raw value of s: from src, else from its Env, else its
// Default. ok is false when src does not offer s at all.
func Value(s *Spec, src Source, getenv func(string) string) (v string, ok bool, err error) {
	v, ok, err = src(s)
	if err != nil || !ok {
		return "", ok, err
	}
	if v = normalize(s.Kind, v); v == "" {
		for _, name := range s.Env {
			if v = normalize(s.Kind, getenv(name)); v != "" {
				break
			}
		}
	}
	if v == "" {
		v = s.Default
	}
	return v, true, nil
}

// isDefault reports whether v means the same as s.Default; booleans
// compare by value, so "False" is the default "false".
func isDefault(s *Spec, v string) bool {
	if v == s.Default {
		return true
	}
	if s.Kind == Bool {
		got, err := ParseBool(v)
		def, derr := ParseBool(cmp.Or(s.Default, "false"))
		return err == nil && derr == nil && got == def
	}
	return false
}

func normalize(k Kind, v string) string {
	if k == Lines {
		if strings.TrimSpace(v) == "" {
			return ""
		}
		return v
	}
	return strings.TrimSpace(v)
}

// ParseBool accepts exactly true, True, TRUE, false, False and FALSE: the
// spellings the runner's own toolkit accepts, so a typo such as "yes"
// fails loudly instead of silently meaning false.
func ParseBool(v string) (bool, error) {
	switch v {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	default:
		return false, fmt.Errorf("want true or false, got %q", exchange.Truncate(v, maxQuoted))
	}
}

// ParseInt parses a whole number.
func ParseInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("want a whole number, got %q", exchange.Truncate(v, maxQuoted))
	}
	return n, nil
}

// maxDuration bounds [ParseDuration]: a day is far beyond any run, and the
// bound keeps seconds from overflowing a time.Duration.
const maxDuration = 24 * time.Hour

// ParseDuration reads whole seconds ("30") or a Go duration ("45s").
// Negative values are refused.
func ParseDuration(v string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(maxDuration/time.Second) {
			return 0, fmt.Errorf("%d is outside 0–%d seconds", n, int64(maxDuration/time.Second))
		}
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("want seconds like 30 or a duration like 45s, got %q", exchange.Truncate(v, maxQuoted))
	}
	if d < 0 || d > maxDuration {
		return 0, fmt.Errorf("%s is outside 0s–%s", d, maxDuration)
	}
	return d, nil
}

// SplitList splits on commas and newlines and drops empty items.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// maxQuoted bounds how much of a bad value an error repeats; %q escapes
// what would break the log line.
const maxQuoted = 64

// The setters below store a parsed value through a field accessor, so a
// table entry reads as its field: input.ToBool(func(c *Config) *bool {
// return &c.DisableRetry }).

// ToString stores the value as is.
func ToString[C any](field func(*C) *string) func(*C, string) error {
	return func(c *C, v string) error { *field(c) = v; return nil }
}

// ToList stores the items of a [List].
func ToList[C any](field func(*C) *[]string) func(*C, string) error {
	return func(c *C, v string) error { *field(c) = SplitList(v); return nil }
}

// ToBool stores a [Bool].
func ToBool[C any](field func(*C) *bool) func(*C, string) error {
	return func(c *C, v string) error {
		b, err := ParseBool(v)
		*field(c) = b
		return err
	}
}

// ToBoolPtr stores a [Bool] whose Go zero value (nil) means its default.
func ToBoolPtr[C any](field func(*C) **bool) func(*C, string) error {
	return func(c *C, v string) error {
		b, err := ParseBool(v)
		if err == nil {
			*field(c) = &b
		}
		return err
	}
}

// ToInt stores an [Int].
func ToInt[C any](field func(*C) *int) func(*C, string) error {
	return func(c *C, v string) error {
		n, err := ParseInt(v)
		*field(c) = n
		return err
	}
}
